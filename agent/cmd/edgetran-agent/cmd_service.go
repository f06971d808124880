package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	ksvc "github.com/kardianos/service"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/service"
	"github.com/edgetran/edgetran/shared/cli"
)

func installCommand() cli.Command {
	return cli.Command{Name: "install", Summary: "install the agent as a system service (systemd, launchd, Windows)", Run: runInstall}
}

func uninstallCommand() cli.Command {
	return controlCommand("uninstall", "remove the installed service",
		"Remove the edgetran-agent service from the detected service manager. Stop it first.\nThe configuration file and the outbox stay in place.")
}

func startCommand() cli.Command {
	return controlCommand("start", "start the installed service", "Start the installed edgetran-agent service.")
}

func stopCommand() cli.Command {
	return controlCommand("stop", "stop the installed service",
		"Stop the installed edgetran-agent service. The agent finishes or returns its running job and\nflushes its outbox before it exits.")
}

func statusCommand() cli.Command {
	return controlCommand("status", "print whether the service is running (exit 3 when not)",
		"Print running, stopped, unknown or not installed. The exit status is 0 when the service\nis running and 3 otherwise.")
}

func serviceRenderCommand() cli.Command {
	return cli.Command{Name: "service render", Summary: "print the systemd unit or launchd plist that install writes", Run: runRender}
}

func controlCommand(action, summary, description string) cli.Command {
	return cli.Command{Name: action, Summary: summary, Run: func(ctx context.Context, env cli.Env, args []string) error {
		return runControl(env, action, description, args)
	}}
}

// serviceFlags are the flags that shape the installed service.
type serviceFlags struct {
	config, binary, user, group, logFile *string
}

func addServiceFlags(fs *flag.FlagSet) serviceFlags {
	return serviceFlags{
		config:  fs.String("config", "/etc/edgetran/agent.yaml", "configuration `file` the service runs with (absolute path); its outbox.dir becomes the unit's only writable path"),
		binary:  fs.String("binary", "", "agent `path` the service starts (absolute); default: this executable"),
		user:    fs.String("user", "edgetran", "system `user` the agent runs as; it needs read access to the power sensors (see docs/agent.md)"),
		group:   fs.String("group", "edgetran", "systemd `group` of the agent; empty for the user's primary group"),
		logFile: fs.String("log-file", "/var/log/edgetran-agent.log", "launchd log `file` for the agent's output"),
	}
}

// settings builds the service settings from the flags, reading outbox.dir
// from the configuration file when it can be read (the default otherwise).
func (f serviceFlags) settings() (service.Settings, error) {
	binary := *f.binary
	if binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return service.Settings{}, fmt.Errorf("find this executable: %w; pass --binary", err)
		}
		binary = exe
	}
	outboxDir := config.DefaultOutboxDir
	if data, err := os.ReadFile(*f.config); err == nil {
		cfg, err := config.Parse(data)
		if err != nil {
			return service.Settings{}, cli.Usagef("config %s: %v", *f.config, err)
		}
		outboxDir = cfg.Outbox.Dir
	} else if !errors.Is(err, os.ErrNotExist) {
		return service.Settings{}, cli.Usagef("read config: %v", err)
	}
	s := service.Settings{
		Executable: filepath.Clean(binary),
		ConfigPath: *f.config,
		User:       *f.user,
		Group:      *f.group,
		OutboxDir:  outboxDir,
		LogFile:    *f.logFile,
	}
	if err := s.Validate(); err != nil {
		return service.Settings{}, cli.Usagef("%v", err)
	}
	return s, nil
}

func runRender(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "service render", "service render --platform systemd|launchd [flags]", `
Print the service file that install writes for the given platform, without
installing anything: the hardened systemd unit or the launchd property list.
The configuration file is read only for its outbox.dir; when it does not exist
the default outbox directory is used.`)
	platform := fs.String("platform", "", "service `platform`: systemd or launchd (required)")
	sf := addServiceFlags(fs)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	if *platform == "" {
		return cli.Usagef("missing --platform: want systemd or launchd")
	}
	if *platform != service.Systemd && *platform != service.Launchd {
		return cli.Usagef("--platform %q: want systemd or launchd", *platform)
	}
	s, err := sf.settings()
	if err != nil {
		return err
	}
	text, err := service.Render(*platform, s)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	_, err = fmt.Fprint(env.Stdout, text)
	return err
}

func runInstall(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "install", "install [flags]", `
Install the agent as a system service with the detected service manager
(systemd, launchd or the Windows service manager) and enable it at boot.
Run as root (Administrator on Windows). The user and the outbox directory
must exist; see docs/agent.md for the user, groups and udev rules.`)
	sf := addServiceFlags(fs)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	s, err := sf.settings()
	if err != nil {
		return err
	}
	svc, err := service.New(s, nil)
	if err != nil {
		return fmt.Errorf("service manager: %w", err)
	}
	if err := svc.Install(); err != nil {
		return fmt.Errorf("install %s (%s): %w", service.Name, service.Platform(), err)
	}
	fmt.Fprintf(env.Stdout, "installed %s (%s); start it with: %s start\n", service.Name, service.Platform(), env.Program)
	return nil
}

func runControl(env cli.Env, action, description string, args []string) error {
	fs := cli.NewFlagSet(env, action, action, description)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	// The control actions need only the service name; the settings below
	// satisfy validation and are not written anywhere.
	svc, err := service.New(service.Settings{Executable: "/usr/local/bin/" + service.Name, ConfigPath: "/etc/edgetran/agent.yaml", OutboxDir: config.DefaultOutboxDir}, nil)
	if err != nil {
		return fmt.Errorf("service manager: %w", err)
	}
	if action == "status" {
		st, err := svc.Status()
		if errors.Is(err, ksvc.ErrNotInstalled) {
			fmt.Fprintln(env.Stdout, "not installed")
			return &cli.ExitError{Code: 3}
		}
		if err != nil {
			return fmt.Errorf("status of %s (%s): %w", service.Name, service.Platform(), err)
		}
		fmt.Fprintln(env.Stdout, statusText(st))
		if st != ksvc.StatusRunning {
			return &cli.ExitError{Code: 3}
		}
		return nil
	}
	if err := ksvc.Control(svc, action); err != nil {
		return fmt.Errorf("%s %s (%s): %w", action, service.Name, service.Platform(), err)
	}
	fmt.Fprintf(env.Stdout, "%s: %s done\n", service.Name, action)
	return nil
}

func statusText(st ksvc.Status) string {
	switch st {
	case ksvc.StatusRunning:
		return "running"
	case ksvc.StatusStopped:
		return "stopped"
	default:
		return "unknown"
	}
}
