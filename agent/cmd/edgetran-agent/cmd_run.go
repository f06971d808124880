package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/daemon"
	"github.com/edgetran/edgetran/agent/service"
	"github.com/edgetran/edgetran/agent/setup"
	"github.com/edgetran/edgetran/shared/cli"
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

	a, err := setup.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	d, err := a.Daemon()
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
