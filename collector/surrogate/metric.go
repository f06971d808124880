package surrogate

import (
	"fmt"

	"github.com/edgetran/edgetran/shared/measure"
)

// Metric names a measure a surrogate predicts.
type Metric string

// The measures, each per sequence as stored in measure.Measurement.
const (
	Latency   Metric = "latency"    // LatencyPerSeqS, seconds per sequence
	Energy    Metric = "energy"     // EnergyPerSeqJ, joules per sequence
	PeakPower Metric = "peak_power" // PeakPowerW, watts
)

// Metrics lists the measures in a fixed order.
var Metrics = []Metric{Latency, Energy, PeakPower}

// ParseMetric returns the metric named s.
func ParseMetric(s string) (Metric, error) {
	switch m := Metric(s); m {
	case Latency, Energy, PeakPower:
		return m, nil
	}
	return "", fmt.Errorf("metric %q: want latency, energy or peak_power", s)
}

// Unit returns the SI unit of the metric's values.
func (m Metric) Unit() string {
	switch m {
	case Energy:
		return "J"
	case PeakPower:
		return "W"
	}
	return "s"
}

// Of returns the value of the metric in ms and whether ms has it. Energy
// and peak power are absent from records without a power meter.
func (m Metric) Of(ms *measure.Measurement) (float64, bool) {
	switch m {
	case Latency:
		return ms.LatencyPerSeqS, ms.LatencyPerSeqS > 0
	case Energy:
		if ms.EnergyPerSeqJ != nil {
			return *ms.EnergyPerSeqJ, *ms.EnergyPerSeqJ > 0
		}
	case PeakPower:
		if ms.PeakPowerW != nil {
			return *ms.PeakPowerW, *ms.PeakPowerW > 0
		}
	}
	return 0, false
}
