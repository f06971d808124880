// Package detect is the meter registry: it opens a meter by name or finds
// the meters available on this machine, in priority order.
//
// Priority, most preferred first, is whole-device sensors before component
// sensors before the model:
//
//  1. jetson        Jetson INA3221 rails in sysfs (module input rail)
//  2. rpi5-pmic     Raspberry Pi 5 PMIC through vcgencmd
//  3. powermetrics  Apple Silicon CPU+GPU+ANE (root)
//  4. hwmon         INA219/INA226/INA3221 boards and other hwmon power sensors
//  5. rapl          Intel/AMD RAPL counters (CPU package, DRAM, psys)
//  6. nvml          NVIDIA GPUs through NVML (cgo builds with -tags nvml)
//  7. nvidia-smi    NVIDIA GPUs through nvidia-smi
//  8. tegrastats    Jetson rails through tegrastats, when sysfs is not readable
//  9. estimate      CPU-utilisation model, labelled as an estimate
package detect

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/edgetran/edgetran/platforms/apple"
	"github.com/edgetran/edgetran/platforms/estimate"
	"github.com/edgetran/edgetran/platforms/hwmon"
	"github.com/edgetran/edgetran/platforms/jetson"
	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/platforms/nvidia"
	"github.com/edgetran/edgetran/platforms/rapl"
	"github.com/edgetran/edgetran/platforms/rpi"
)

// Options configure every meter the registry can open.
type Options struct {
	Deps     meter.Deps
	Estimate estimate.Config // the estimate meter is unavailable while this is invalid
	Hwmon    hwmon.Config
	Apple    apple.Config
	// Interval is the sampling interval streaming tools are started with
	// (tegrastats, powermetrics, nvidia-smi); 0 means 100 ms.
	Interval time.Duration
}

type opener func(ctx context.Context, o Options) (meter.Meter, error)

type entry struct {
	name string
	open opener
}

// registry lists the meters in priority order; see the package comment.
func registry() []entry {
	return []entry{
		{jetson.Name, func(ctx context.Context, o Options) (meter.Meter, error) { return jetson.New(o.Deps) }},
		{rpi.Name, func(ctx context.Context, o Options) (meter.Meter, error) { return rpi.New(ctx, o.Deps) }},
		{apple.Name, func(ctx context.Context, o Options) (meter.Meter, error) {
			return apple.New(ctx, o.Deps, o.Apple, o.interval())
		}},
		{hwmon.Name, func(ctx context.Context, o Options) (meter.Meter, error) { return hwmon.New(o.Deps, o.Hwmon) }},
		{rapl.Name, func(ctx context.Context, o Options) (meter.Meter, error) { return rapl.New(o.Deps) }},
		{nvidia.NVMLName, func(ctx context.Context, o Options) (meter.Meter, error) { return nvidia.NewNVML(o.Deps) }},
		{nvidia.SMIName, func(ctx context.Context, o Options) (meter.Meter, error) {
			return nvidia.NewSMI(ctx, o.Deps, o.interval())
		}},
		{jetson.TegrastatsName, func(ctx context.Context, o Options) (meter.Meter, error) {
			return jetson.NewTegrastats(ctx, o.Deps, o.interval())
		}},
		{estimate.Name, func(ctx context.Context, o Options) (meter.Meter, error) {
			return estimate.New(o.Deps, o.Estimate)
		}},
	}
}

func (o Options) interval() time.Duration {
	if o.Interval <= 0 {
		return 100 * time.Millisecond
	}
	return o.Interval
}

// Names returns the registry names in priority order.
func Names() []string {
	var names []string
	for _, e := range registry() {
		names = append(names, e.name)
	}
	return names
}

// Open opens the meter called name. An unknown name is an error listing
// the known ones.
func Open(ctx context.Context, name string, o Options) (meter.Meter, error) {
	o.Deps = o.Deps.Defaults()
	for _, e := range registry() {
		if e.name == name {
			m, err := e.open(ctx, o)
			if err != nil {
				return nil, err
			}
			return m, nil
		}
	}
	return nil, fmt.Errorf("unknown meter %q: choose one of %s", name, strings.Join(Names(), ", "))
}

// Failure is one meter that could not be opened.
type Failure struct {
	Name string
	Err  error
}

// All opens every available meter in priority order. It returns the meters
// that opened and the failures of the others; the caller closes the meters.
func All(ctx context.Context, o Options) ([]meter.Meter, []Failure) {
	o.Deps = o.Deps.Defaults()
	var meters []meter.Meter
	var failures []Failure
	for _, e := range registry() {
		m, err := e.open(ctx, o)
		if err != nil {
			o.Deps.Logger.Debug("meter not available", "meter", e.name, "err", err)
			failures = append(failures, Failure{Name: e.name, Err: err})
			continue
		}
		meters = append(meters, m)
	}
	return meters, failures
}

// Best opens the first available meter in priority order. When none opens,
// it returns a *NoMeterError holding every attempt.
func Best(ctx context.Context, o Options) (meter.Meter, error) {
	o.Deps = o.Deps.Defaults()
	var failures []Failure
	for _, e := range registry() {
		m, err := e.open(ctx, o)
		if err == nil {
			return m, nil
		}
		o.Deps.Logger.Debug("meter not available", "meter", e.name, "err", err)
		failures = append(failures, Failure{Name: e.name, Err: err})
	}
	return nil, &NoMeterError{Failures: failures}
}

// NoMeterError reports that no meter opened. Its message is one short line
// naming the meters tried, because the joined reasons run to more than a
// thousand characters over several lines; Details returns them.
type NoMeterError struct {
	Failures []Failure // every attempt, in priority order
}

func (e *NoMeterError) Error() string {
	names := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		names[i] = f.Name
	}
	return fmt.Sprintf("no power meter found; tried %s: run `edgetran-agent probe` for details", strings.Join(names, ", "))
}

// Unwrap returns each attempt's error, so errors.Is finds
// meter.ErrNotSupported.
func (e *NoMeterError) Unwrap() []error {
	errs := make([]error, len(e.Failures))
	for i, f := range e.Failures {
		errs[i] = f.Err
	}
	return errs
}

// Details returns every attempt as "name: reason", one per line.
func (e *NoMeterError) Details() string {
	lines := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		lines[i] = f.Name + ": " + strings.ReplaceAll(f.Err.Error(), "\n", "; ")
	}
	return strings.Join(lines, "\n")
}
