// Package meter defines the power-meter interface that every platform
// package implements, the registry that detects meters in priority order,
// and the sampler that reads a meter at a fixed interval.
//
// Units: power in watts, energy in joules, times from the monotonic clock.
package meter

import (
	"context"
	"errors"
	"time"
)

// ErrNotSupported is returned (wrapped) by a detector when its hardware or
// the permission to read it is absent. Callers test it with errors.Is and log
// it at debug level.
var ErrNotSupported = errors.New("meter not supported on this machine")

// Rail is one measured power rail.
type Rail struct {
	Name string // e.g. "package-0", "VDD_IN", "cpu_power"
	// Total is true for the rail that measures the whole device input. When
	// no rail is marked, the total is the sum of all rails.
	Total bool
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

// Sample is one reading. PowerW and EnergyJ are indexed like Info.Rails;
// EnergyJ is nil for meters without an energy counter. A NaN power entry
// means that rail had no valid reading in this sample.
type Sample struct {
	Time    time.Time // when the reading was taken (monotonic)
	PowerW  []float64
	EnergyJ []float64
}

// Meter reads a power source. Read fills s, reusing its slices, so a sampler
// can read without allocating. Read must be safe to call from one goroutine
// while another calls Info.
type Meter interface {
	Info() Info
	Read(ctx context.Context, s *Sample) error
	Close() error
}
