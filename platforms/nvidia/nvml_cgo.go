//go:build cgo && nvml

package nvidia

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/edgetran/edgetran/platforms/meter"
)

// NVMLBuilt reports whether this binary was built with NVML support.
const NVMLBuilt = true

type nvmlGPU struct {
	dev     nvml.Device
	energy  bool // total energy counter supported (Volta and later)
	instant bool // FI_DEV_POWER_INSTANT supported
}

// NVMLMeter reads NVML power and energy.
type NVMLMeter struct {
	deps   meter.Deps
	info   meter.Info
	gpus   []nvmlGPU
	mu     sync.Mutex
	fields []nvml.FieldValue
}

// NewNVML initialises NVML and opens every GPU that reports power. A GPU
// whose power query returns "not supported" (Jetson's integrated GPU) is
// skipped; with none left it returns meter.ErrNotSupported, never a meter
// reading 0 W.
//
// NOTE: built only with cgo and -tags nvml, and not exercised by the tests
// in this repository, which have no NVIDIA GPU.
func NewNVML(deps meter.Deps) (*NVMLMeter, error) {
	deps = deps.Defaults()
	if ret := nvml.Init(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("nvml: init: %s: %w", nvml.ErrorString(ret), meter.ErrNotSupported)
	}
	n, ret := nvml.DeviceGetCount()
	if ret != nvml.SUCCESS {
		nvml.Shutdown()
		return nil, fmt.Errorf("nvml: count devices: %s: %w", nvml.ErrorString(ret), meter.ErrNotSupported)
	}
	m := &NVMLMeter{deps: deps, info: meter.Info{
		Name:          NVMLName,
		Description:   "NVIDIA GPU power and energy through NVML",
		EnergyCounter: true,
		// NVML refreshes power about every 20 ms on recent GPUs.
		MinInterval: 20 * time.Millisecond,
	}}
	for i := 0; i < n; i++ {
		dev, ret := nvml.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			continue
		}
		if _, ret := dev.GetPowerUsage(); ret != nvml.SUCCESS {
			deps.Logger.Debug("GPU reports no power", "meter", NVMLName, "index", i, "err", nvml.ErrorString(ret))
			continue
		}
		g := nvmlGPU{dev: dev}
		_, ret = dev.GetTotalEnergyConsumption()
		g.energy = ret == nvml.SUCCESS
		f := []nvml.FieldValue{{FieldId: nvml.FI_DEV_POWER_INSTANT}}
		g.instant = dev.GetFieldValues(f) == nvml.SUCCESS && f[0].NvmlReturn == uint32(nvml.SUCCESS)
		m.gpus = append(m.gpus, g)
		name, _ := dev.GetName()
		m.info.Rails = append(m.info.Rails, meter.Rail{Name: railName(i), Unit: "mW"})
		// The counter is a uint64 of mJ and does not wrap in practice.
		m.info.EnergyRangeJ = append(m.info.EnergyRangeJ, math.MaxUint64/1000)
		m.info.Description += fmt.Sprintf(", %d: %s", i, name)
		if !g.energy {
			m.info.EnergyCounter = false
		}
	}
	if len(m.gpus) == 0 {
		nvml.Shutdown()
		return nil, fmt.Errorf("nvml: no GPU reports power: %w", meter.ErrNotSupported)
	}
	m.fields = make([]nvml.FieldValue, 1)
	return m, nil
}

// Info describes the GPUs.
func (m *NVMLMeter) Info() meter.Info { return m.info }

// Read fills power (instantaneous where offered, else the driver's power
// reading, a one-second average on recent GPUs) and the total energy
// counter in joules.
func (m *NVMLMeter) Read(ctx context.Context, s *meter.Sample) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.Reset(len(m.gpus), m.info.EnergyCounter)
	s.Time = m.deps.Now()
	var errs []error
	for k, g := range m.gpus {
		if m.info.EnergyCounter {
			mj, ret := g.dev.GetTotalEnergyConsumption()
			if ret != nvml.SUCCESS {
				errs = append(errs, fmt.Errorf("nvml: gpu %d energy: %s", k, nvml.ErrorString(ret)))
			} else {
				s.EnergyJ[k] = float64(mj) / 1000
			}
		}
		if g.instant {
			m.fields[0] = nvml.FieldValue{FieldId: nvml.FI_DEV_POWER_INSTANT}
			if g.dev.GetFieldValues(m.fields) == nvml.SUCCESS && m.fields[0].NvmlReturn == uint32(nvml.SUCCESS) {
				if mw, ok := fieldUint(m.fields[0]); ok {
					s.PowerW[k] = float64(mw) / 1000
					continue
				}
			}
		}
		mw, ret := g.dev.GetPowerUsage()
		if ret != nvml.SUCCESS {
			errs = append(errs, fmt.Errorf("nvml: gpu %d power: %s", k, nvml.ErrorString(ret)))
			continue
		}
		s.PowerW[k] = float64(mw) / 1000
	}
	return errors.Join(errs...)
}

func fieldUint(f nvml.FieldValue) (uint64, bool) {
	switch nvml.ValueType(f.ValueType) {
	case nvml.VALUE_TYPE_UNSIGNED_INT:
		return uint64(binary.LittleEndian.Uint32(f.Value[:4])), true
	case nvml.VALUE_TYPE_UNSIGNED_LONG, nvml.VALUE_TYPE_UNSIGNED_LONG_LONG:
		return binary.LittleEndian.Uint64(f.Value[:]), true
	}
	return 0, false
}

// Close shuts NVML down.
func (m *NVMLMeter) Close() error {
	if ret := nvml.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("nvml: shutdown: %s", nvml.ErrorString(ret))
	}
	return nil
}
