// Package setup builds an agent daemon from a configuration: it creates the
// configured runners, opens the power meter through the platforms registry
// and probes the machine's facts. The agent's run command and the
// collector's in-process demo both use it, so a demo agent takes the same
// code paths as a deployed one.
package setup

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime/debug"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/daemon"
	"github.com/edgetran/edgetran/agent/engine"
	"github.com/edgetran/edgetran/agent/profile"
	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/agent/runner/external"
	"github.com/edgetran/edgetran/platforms/detect"
	"github.com/edgetran/edgetran/platforms/estimate"
	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/platforms/probe"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/wire"
)

// Agent is a configured daemon together with the meter it must close.
type Agent struct {
	// Options are the daemon's dependencies as built by New.
	Options daemon.Options
	// Meter is the opened power meter, or nil when jobs report latency only.
	Meter meter.Meter
}

// Close releases the meter. It is safe on an Agent without a meter.
func (a *Agent) Close() {
	if a.Meter != nil {
		a.Meter.Close()
	}
}

// Daemon returns a daemon built from a.Options.
func (a *Agent) Daemon() (*daemon.Daemon, error) {
	return daemon.New(a.Options)
}

// New builds the runners, opens the meter and probes the machine. A runner
// or meter that the configuration names but that cannot be built is a
// usage error (cli.Usagef), because the fix is in the configuration.
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*Agent, error) {
	runners, err := BuildRunners(cfg)
	if err != nil {
		return nil, err
	}
	m, err := openMeter(ctx, cfg, logger.With("component", "meter"))
	if err != nil {
		return nil, err
	}
	a := &Agent{Meter: m}
	prof := &profile.Profiler{Space: arch.Default(), Logger: logger.With("component", "profile"), SysRoot: cfg.Device.Root}
	var meters []wire.MeterInfo
	if m != nil {
		info := m.Info()
		prof.Power = &profile.Power{Meter: m, Interval: max(cfg.Meter.Interval.D(), info.MinInterval)}
		mi := wire.MeterInfo{Name: info.Name, Estimated: info.Estimated, Energy: info.EnergyCounter}
		for _, r := range info.Rails {
			mi.Rails = append(mi.Rails, r.Name)
		}
		meters = append(meters, mi)
		logger.Info("power meter selected", "meter", info.Name, "estimated", info.Estimated, "interval", prof.Power.Interval)
	} else {
		logger.Warn("no power meter: jobs report latency only", "meter", cfg.Meter.Name)
	}
	a.Options = daemon.Options{
		Config:   cfg,
		Runners:  runners,
		Profiler: prof,
		Meters:   meters,
		Facts:    probeFacts(ctx, cfg, logger),
		Version:  Version(),
		Logger:   logger,
		AckWait:  cfg.NATS.AckWait.D(),
	}
	return a, nil
}

// BuildRunners returns the configured runners by name.
func BuildRunners(cfg *config.Config) (map[string]runner.Runner, error) {
	out := map[string]runner.Runner{}
	for _, rc := range cfg.Runners {
		switch rc.Type {
		case config.RunnerBuiltin:
			out[rc.Name] = engine.NewRunner(engine.Options{})
		case config.RunnerExternal:
			timeout := rc.Timeout.D()
			if timeout == 0 {
				timeout = cfg.Limits.MaxDuration.D()
			}
			r, err := external.New(external.Config{
				Name: rc.Name, Command: rc.Command, Runtime: rc.Runtime, ComputeUnit: rc.ComputeUnit, Timeout: timeout,
			})
			if err != nil {
				return nil, cli.Usagef("runner %q: %v", rc.Name, err)
			}
			out[rc.Name] = r
		}
	}
	return out, nil
}

// openMeter opens the configured meter through the platforms registry.
// "auto" takes the first available meter in the registry's priority order
// and returns nil (latency only) when none opens; "none" measures latency
// only; any other name must open.
func openMeter(ctx context.Context, cfg *config.Config, logger *slog.Logger) (meter.Meter, error) {
	opts := detect.Options{
		Deps:     meterDeps(cfg, logger),
		Estimate: estimate.Config{IdleW: cfg.Meter.Estimate.IdleW, MaxW: cfg.Meter.Estimate.MaxW},
		Interval: cfg.Meter.Interval.D(),
	}
	switch cfg.Meter.Name {
	case "none":
		return nil, nil
	case "auto":
		m, err := detect.Best(ctx, opts)
		if err != nil {
			logger.Warn("no power meter available", "err", err)
			return nil, nil
		}
		return m, nil
	default:
		m, err := detect.Open(ctx, cfg.Meter.Name, opts)
		if err != nil {
			return nil, cli.Usagef("meter.name %q: %v", cfg.Meter.Name, err)
		}
		return m, nil
	}
}

func meterDeps(cfg *config.Config, logger *slog.Logger) meter.Deps {
	return meter.NewDeps(filepath.Join(cfg.Device.Root, "sys"), filepath.Join(cfg.Device.Root, "proc"), logger)
}

// probeFacts returns the device facts for the announcement; an unreadable
// fact stays zero, which the announcement shows as unknown.
func probeFacts(ctx context.Context, cfg *config.Config, logger *slog.Logger) daemon.Facts {
	f := probe.Collect(ctx, meterDeps(cfg, logger))
	return daemon.Facts{CPUModel: f.CPUModel, Cores: f.CPUCores, MemoryBytes: f.MemoryBytes, Board: f.BoardModel, GPUs: f.GPUs}
}

// Version returns the module version stamped by the Go toolchain, or the
// VCS revision for a development build.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}
