// Package service installs and controls the agent as a system service
// through github.com/kardianos/service (systemd, launchd, Windows service
// manager) and renders the systemd unit and launchd property list itself.
//
// The rendered text is handed to kardianos/service as its SystemdScript or
// LaunchdConfig template. It contains no template actions, so the library's
// template engine copies it unchanged: `service render` prints exactly the
// file that `install` writes.
package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/kardianos/service"
)

// Name is the service name: the systemd unit edgetran-agent.service, the
// launchd label and plist /Library/LaunchDaemons/edgetran-agent.plist, and
// the Windows service name.
const Name = "edgetran-agent"

// Platforms that Render supports.
const (
	Systemd = "systemd"
	Launchd = "launchd"
)

// Settings describe the installed service.
type Settings struct {
	// Executable is the absolute path of the agent binary.
	Executable string
	// ConfigPath is the absolute path of the configuration file passed to
	// `run --config`.
	ConfigPath string
	// User runs the agent; empty means root (systemd) or the launchd
	// default, root. The default in the commands is "edgetran".
	User string
	// Group is the systemd group; empty means the user's primary group.
	Group string
	// OutboxDir is the outbox directory, the only path the agent writes;
	// the systemd unit makes it writable under ProtectSystem=strict.
	OutboxDir string
	// LogFile is the launchd log file for stdout and stderr.
	LogFile string
}

// Validate checks that the paths are absolute and that no value can break
// out of a rendered unit or plist (newlines, quotes, backslashes, systemd
// specifiers, template braces).
func (s Settings) Validate() error {
	return s.validate(true)
}

// validate checks s; unix adds the characters that systemd and launchd
// files cannot carry, which Windows paths need (backslashes).
func (s Settings) validate(unix bool) error {
	var errs []error
	for _, f := range []struct{ name, v string }{
		{"executable", s.Executable}, {"config", s.ConfigPath}, {"outbox", s.OutboxDir},
	} {
		if !filepath.IsAbs(f.v) {
			errs = append(errs, fmt.Errorf("%s path %q: must be absolute", f.name, f.v))
		}
	}
	bad := "\n\r"
	if unix {
		bad += "\"\\%$"
	}
	for _, f := range []struct{ name, v string }{
		{"executable", s.Executable}, {"config", s.ConfigPath}, {"outbox", s.OutboxDir},
		{"user", s.User}, {"group", s.Group}, {"log file", s.LogFile},
	} {
		if strings.ContainsAny(f.v, bad) || strings.Contains(f.v, "{{") {
			errs = append(errs, fmt.Errorf("%s %q: must not contain newlines, quotes, backslashes, '%%', '$' or '{{'", f.name, f.v))
		}
	}
	return errors.Join(errs...)
}

// Arguments returns the agent's command line after the executable.
func (s Settings) Arguments() []string { return []string{"run", "--config", s.ConfigPath} }

// Render returns the service file for platform (Systemd or Launchd).
func Render(platform string, s Settings) (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	switch platform {
	case Systemd:
		return renderSystemd(s), nil
	case Launchd:
		return renderLaunchd(s)
	default:
		return "", fmt.Errorf("platform %q: want %s or %s", platform, Systemd, Launchd)
	}
}

// New returns the kardianos service for s on this machine, with the
// rendered files as its templates. run is what the service manager runs; it
// may be nil for the control commands (install, start, ...).
func New(s Settings, run func(ctx context.Context) error) (service.Service, error) {
	if err := s.validate(runtime.GOOS != "windows"); err != nil {
		return nil, err
	}
	unit := renderSystemd(s)
	plist, err := renderLaunchd(s)
	if err != nil {
		return nil, err
	}
	cfg := &service.Config{
		Name:        Name,
		DisplayName: "EdgeTran agent",
		Description: description,
		Executable:  s.Executable,
		Arguments:   s.Arguments(),
		Option: service.KeyValue{
			"SystemdScript": unit,
			"LaunchdConfig": plist,
			"RunAtLoad":     true,
			"OnFailure":     "restart",
		},
	}
	if service.Platform() == "windows-service" {
		// Windows services run as LocalSystem unless a password is given;
		// a named user without one fails to install.
		cfg.UserName = ""
	} else {
		cfg.UserName = s.User
	}
	return service.New(&program{run: run}, cfg)
}

// Platform returns the service system kardianos/service detected, e.g.
// "linux-systemd", "darwin-launchd" or "windows-service".
func Platform() string { return service.Platform() }

// Managed reports whether the process was started by a service manager
// rather than from a terminal.
func Managed() bool { return !service.Interactive() }

const description = "EdgeTran agent: profiles transformer models on this device and reports latency and power over NATS"

// program adapts a run function to service.Interface: Start launches it,
// Stop cancels its context and waits for it to return.
type program struct {
	run    func(ctx context.Context) error
	cancel context.CancelFunc
	done   chan error
}

func (p *program) Start(service.Service) error {
	if p.run == nil {
		return errors.New("service: no run function")
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan error, 1)
	go func() { p.done <- p.run(ctx) }()
	return nil
}

func (p *program) Stop(service.Service) error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	return <-p.done
}
