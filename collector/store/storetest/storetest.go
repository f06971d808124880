// Package storetest builds valid records for the collector's tests: a small
// architecture of the default design space and measurements on it.
package storetest

import (
	"fmt"
	"time"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// Arch returns a valid two-layer architecture of arch.Default; variant picks
// one of several feed-forward widths so tests can make distinct arch ids.
func Arch(variant int) arch.Architecture {
	widths := []int{256, 512, 1024, 2048, 3072, 4096}
	w := widths[variant%len(widths)]
	return arch.Architecture{
		L: 2,
		H: []int{128, 256},
		F: [][]int{{w}, {256, 256}},
		O: [][]string{{"sa_sdp_64", "sa_sdp_64"}, {"sa_wma_64", "l_dct_64", "c_5_64", "c_5_64"}},
	}
}

// Target returns a CPU target on device.
func Target(device string) measure.Target {
	return measure.Target{Device: device, ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 128, Precision: "fp32"}
}

// Measurement returns a measured record with the id on device, measured at
// a fixed time; latency grows with n so records differ.
func Measurement(id, device string, n int) measure.Measurement {
	a := Arch(n)
	return measure.Measurement{
		ID:             id,
		ArchID:         arch.Default().ID(a),
		Arch:           a,
		Target:         Target(device),
		Provenance:     measure.Measured,
		LatencyPerSeqS: 0.001 * float64(n+1),
		EnergyPerSeqJ:  measure.Float(0.02),
		PeakPowerW:     measure.Float(12.5),
		Power:          &measure.PowerSource{Meter: "rapl", RateHz: 100},
		MeasuredAt:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

// ID returns the n-th distinct measurement id for tests. It has no
// "<job>#<attempt>" form, which only results of a job may use.
func ID(n int) string { return fmt.Sprintf("m-%06d", n) }
