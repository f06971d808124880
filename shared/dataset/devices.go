package dataset

import (
	"fmt"
	"slices"
	"strings"

	"github.com/edgetran/edgetran/shared/measure"
)

// SeqLen is the sequence length of every published run (SST-2 validation
// set, 128 tokens).
const SeqLen = 128

// device maps one published device name to an EdgeTran target and the power
// meter its authors used.
type device struct {
	name   string
	target measure.Target
	power  measure.PowerSource
}

// devices holds the seven published devices in the order of the one-hot
// embedding_device vector. Every run used float32 weights and sequence
// length 128.
//
//	published        device       unit  runtime           batch  power meter
//	a100             a100         gpu   pytorch           128    nvidia-smi
//	cpu_m1-pro       m1-pro       cpu   pytorch           32     powermetrics (CPU+GPU+DRAM)
//	gpu_m1-pro       m1-pro       gpu   tensorflow-metal  32     powermetrics (CPU+GPU+DRAM)
//	cpu_rpi          rpi4         cpu   pytorch           1      INA219 board sensor
//	npu_ncs          ncs2         npu   openvino          1      INA219 board sensor
//	cpu_jetson-nano  jetson-nano  cpu   pytorch           1      INA219 board sensor
//	gpu_jetson-nano  jetson-nano  gpu   pytorch           1      INA219 board sensor
//
// The published data names the runtime only for the A100 (PyTorch), the M1
// GPU (TensorFlow-metal) and the Neural Compute Stick (OpenVINO); the other
// CPU and GPU runs are recorded as pytorch, the framework of the published
// profiling code.
var devices = []device{
	{"a100", target("a100", "gpu", "pytorch", 128), meter("nvidia-smi")},
	{"cpu_m1-pro", target("m1-pro", "cpu", "pytorch", 32), meter("powermetrics", "cpu", "gpu", "dram")},
	{"gpu_m1-pro", target("m1-pro", "gpu", "tensorflow-metal", 32), meter("powermetrics", "cpu", "gpu", "dram")},
	{"cpu_rpi", target("rpi4", "cpu", "pytorch", 1), meter("ina219")},
	{"npu_ncs", target("ncs2", "npu", "openvino", 1), meter("ina219")},
	{"cpu_jetson-nano", target("jetson-nano", "cpu", "pytorch", 1), meter("ina219")},
	{"gpu_jetson-nano", target("jetson-nano", "gpu", "pytorch", 1), meter("ina219")},
}

func target(dev, unit, runtime string, batch int) measure.Target {
	return measure.Target{Device: dev, ComputeUnit: unit, Runtime: runtime, Batch: batch, SeqLen: SeqLen, Precision: "fp32"}
}

func meter(name string, rails ...string) measure.PowerSource {
	return measure.PowerSource{Meter: name, Rails: rails}
}

// DeviceNames returns the published device names in one-hot order.
func DeviceNames() []string {
	names := make([]string, len(devices))
	for i, d := range devices {
		names[i] = d.name
	}
	return names
}

// DeviceTarget returns the target of a published device name such as
// "gpu_m1-pro".
func DeviceTarget(name string) (measure.Target, error) {
	d, _, err := lookupDevice(name)
	return d.target, err
}

// lookupDevice returns the device and its one-hot index.
func lookupDevice(name string) (device, int, error) {
	i := slices.IndexFunc(devices, func(d device) bool { return d.name == name })
	if i < 0 {
		return device{}, -1, fmt.Errorf("unknown device %q: want one of %s", name, strings.Join(DeviceNames(), ", "))
	}
	return devices[i], i, nil
}
