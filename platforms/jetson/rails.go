// Package jetson reads the INA3221 power monitors of NVIDIA Jetson modules:
// through hwmon on JetPack 5 and later
// (/sys/bus/i2c/drivers/ina3221/*/hwmon/hwmonN), through the older
// ina3221x IIO layout on JetPack 4
// (/sys/bus/i2c/drivers/ina3221x/*/iio:deviceN), and from tegrastats
// output as a fallback.
//
// Rail names differ per module and release. The module input rail, where
// the module has one, is the device total; otherwise the total is the sum
// of the measured rails.
//
//	module            JetPack  rails (input rail first when present)
//	Nano              4        POM_5V_IN, POM_5V_GPU, POM_5V_CPU
//	TX2 / TX2 NX      4        VDD_IN, VDD_SYS_CPU, VDD_SYS_GPU, VDD_SYS_SOC, VDD_SYS_DDR, VDD_4V0_WIFI
//	Xavier NX         4, 5     VDD_IN, VDD_CPU_GPU_CV, VDD_SOC
//	AGX Xavier        4, 5     GPU, CPU, SOC, CV, VDDRQ, SYS5V (no input rail)
//	Orin Nano / NX    5, 6     VDD_IN, VDD_CPU_GPU_CV, VDD_SOC
//	AGX Orin          5, 6     VDD_GPU_SOC, VDD_CPU_CV, VIN_SYS_5V0, VDDQ_VDD2_1V8AO (no input rail)
//
// On AGX Orin, VIN_SYS_5V0 is the 5 V system supply of the carrier-side
// circuits, not the module input, so it is summed as one rail and never
// taken as the total; the resulting sum leaves out conversion losses the
// module input would include. Channels labelled NC (not connected) and the
// INA3221 shunt-sum channel are skipped.
package jetson

import "github.com/edgetran/edgetran/platforms/meter"

// inputRails are the names of module input rails, which measure the whole
// module; see the package table.
var inputRails = map[string]bool{
	"VDD_IN":    true,
	"POM_5V_IN": true,
}

// IsInputRail reports whether name is a module input rail.
func IsInputRail(name string) bool { return inputRails[name] }

// railsFor marks the input rail as the total. Without one, every rail is a
// part of the total, including VIN_SYS_5V0.
func railsFor(names []string, unit string) []meter.Rail {
	rails := make([]meter.Rail, len(names))
	for k, n := range names {
		rails[k] = meter.Rail{Name: n, Unit: unit, Total: IsInputRail(n)}
	}
	return rails
}
