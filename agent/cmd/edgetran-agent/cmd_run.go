package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/daemon"
	"github.com/edgetran/edgetran/agent/engine"
	"github.com/edgetran/edgetran/agent/profile"
	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/agent/runner/external"
	"github.com/edgetran/edgetran/agent/service"
	"github.com/edgetran/edgetran/platforms/detect"
	"github.com/edgetran/edgetran/platforms/estimate"
	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/platforms/probe"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/wire"
)

func runCommand() cli.Command {
	return cli.Command{
		Name:    "run",
		Summary: "serve profiling jobs from the collector in the foreground",
		Run:     runDaemon,
	}
}

func runDaemon(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "run", "run --config FILE", `
Run the agent daemon in the foreground: connect to NATS, announce this
device, send heartbeats and take profile jobs until SIGINT or SIGTERM.
This is the command the service manager starts. Logs go to stderr.`)
	path := fs.String("config", "/etc/edgetran/agent.yaml", "configuration `file` (YAML; see installers/agent.example.yaml)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	logger, err := newLogger(env.Stderr, cfg.Log)
	if err != nil {
		return cli.Usagef("%v", err)
	}

	a, err := newAgent(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.close()
	d, err := daemon.New(a.options)
	if err != nil {
		return err
	}
	if runtime.GOOS == "windows" && service.Managed() {
		// The Windows service manager talks to the process through the
		// service API; systemd and launchd only send signals, which ctx
		// already carries.
		return runManaged(d, *path, cfg)
	}
	return d.Run(ctx)
}

// runManaged runs d under the Windows service manager until it stops the
// service.
func runManaged(d *daemon.Daemon, configPath string, cfg *config.Config) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(configPath)
	if err != nil {
		return err
	}
	svc, err := service.New(service.Settings{Executable: exe, ConfigPath: abs, OutboxDir: cfg.Outbox.Dir}, d.Run)
	if err != nil {
		return err
	}
	return svc.Run()
}

// newLogger returns the configured slog logger writing to w.
func newLogger(w io.Writer, c config.Log) (*slog.Logger, error) {
	level, err := c.SlogLevel()
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// agent holds what the daemon needs from the machine and must close.
type agent struct {
	options daemon.Options
	meter   meter.Meter
}

func (a *agent) close() {
	if a.meter != nil {
		a.meter.Close()
	}
}

// newAgent builds the runners, opens the meter and probes the machine.
func newAgent(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*agent, error) {
	runners, err := buildRunners(cfg)
	if err != nil {
		return nil, err
	}
	m, err := openMeter(ctx, cfg, logger.With("component", "meter"))
	if err != nil {
		return nil, err
	}
	a := &agent{meter: m}
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
	a.options = daemon.Options{
		Config:   cfg,
		Runners:  runners,
		Profiler: prof,
		Meters:   meters,
		Facts:    probeFacts(ctx, cfg, logger),
		Version:  agentVersion(),
		Logger:   logger,
		AckWait:  cfg.NATS.AckWait.D(),
	}
	return a, nil
}

// buildRunners returns the configured runners by name.
func buildRunners(cfg *config.Config) (map[string]runner.Runner, error) {
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

// agentVersion returns the module version stamped by the Go toolchain, or
// the VCS revision for a development build.
func agentVersion() string {
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
