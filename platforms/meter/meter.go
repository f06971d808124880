// Package meter defines the power-meter interface that every platform
// package implements, the dependencies a meter receives (filesystem roots,
// clock, logger, command runner), and the sampler that reads a meter at a
// fixed interval and summarises time windows.
//
// Units: power in watts, energy in joules, times from the monotonic clock.
// Raw sensor values stay integers in their native unit (µJ, µW, mA, mV)
// until a meter converts them.
package meter

import (
	"context"
	"errors"
	"math"
	"time"
)

// ErrNotSupported is returned (wrapped) by a detector when its hardware or
// the permission to read it is absent. Callers test it with errors.Is and log
// it at debug level.
var ErrNotSupported = errors.New("meter not supported on this machine")

// Rail is one measured power rail. Every rail reports watts, and joules when
// the meter has an energy counter; Unit names the raw sensor reading the
// meter converts from.
type Rail struct {
	Name string // e.g. "package-0", "VDD_IN", "cpu_power"
	// Unit is the native unit of the raw reading, e.g. "uJ" (RAPL), "uW"
	// (hwmon power), "mA*mV" (current times voltage), "mW" (tegrastats).
	Unit string
	// Total is true for a rail that measures the whole device input. When
	// no rail is marked, the total is the sum of all rails that are not Sub.
	Total bool
	// Sub is true for a rail contained in another rail, such as a RAPL core
	// zone inside its package. It is shown but never added into the total.
	Sub bool
}

// Info describes a meter.
type Info struct {
	Name        string // registry name, e.g. "rapl", "hwmon", "jetson", "estimate"
	Description string
	Rails       []Rail
	// EnergyCounter is true when Read fills EnergyJ with cumulative
	// counters, so window energy is a counter delta rather than an integral.
	EnergyCounter bool
	// Estimated is true when readings come from a model, not a sensor.
	Estimated bool
	// MinInterval is the fastest sampling interval that yields new values.
	MinInterval time.Duration
	// EnergyRangeJ is, per rail, the value at which the energy counter wraps
	// to zero; 0 when unknown (a window across an unknown wrap is flagged).
	EnergyRangeJ []float64
}

// TotalRails returns the indices of the rails whose sum is the device total:
// the rails marked Total when there is one, else every rail that is not Sub.
func (i Info) TotalRails() []int {
	var total, parts []int
	for k, r := range i.Rails {
		switch {
		case r.Total:
			total = append(total, k)
		case !r.Sub:
			parts = append(parts, k)
		}
	}
	if len(total) > 0 {
		return total
	}
	return parts
}

// Sample is one reading. PowerW and EnergyJ are indexed like Info.Rails;
// EnergyJ is nil for meters without an energy counter. A NaN power entry
// means that rail had no valid reading in this sample (for counter meters,
// the first read has no power because power is a delta over time).
type Sample struct {
	Time    time.Time // when the reading was taken (monotonic)
	PowerW  []float64
	EnergyJ []float64
}

// Reset sizes s for n rails, reusing its slices, and fills them with NaN.
// energy selects whether EnergyJ is kept.
func (s *Sample) Reset(n int, energy bool) {
	s.PowerW = fillNaN(s.PowerW, n)
	if energy {
		s.EnergyJ = fillNaN(s.EnergyJ, n)
	} else {
		s.EnergyJ = s.EnergyJ[:0]
	}
}

func fillNaN(v []float64, n int) []float64 {
	if cap(v) < n {
		v = make([]float64, n)
	}
	v = v[:n]
	for k := range v {
		v[k] = math.NaN()
	}
	return v
}

// SumPower returns the sum of PowerW over the given rails. It returns false
// when any of them is NaN, because a partial sum would understate the total.
func (s *Sample) SumPower(rails []int) (w float64, ok bool) {
	for _, k := range rails {
		if k >= len(s.PowerW) || math.IsNaN(s.PowerW[k]) {
			return math.NaN(), false
		}
		w += s.PowerW[k]
	}
	return w, len(rails) > 0
}

// Meter reads a power source. Read fills s, reusing its slices, so a sampler
// can read without allocating. Read must be safe to call from one goroutine
// while another calls Info. A streaming meter returns its latest reading;
// a Sample whose Time is zero or equals the previous one carries no new
// value.
type Meter interface {
	Info() Info
	Read(ctx context.Context, s *Sample) error
	Close() error
}
