package service

import (
	"fmt"
	"strings"

	"howett.net/plist"
)

// renderSystemd writes the unit. Values were checked by Validate, so
// quoting a path with double quotes is enough for systemd's parser.
//
// Hardening: the agent needs the network, read access to /sys and /proc,
// and write access to its outbox only. It gets no capabilities; read access
// to root-only power counters (RAPL energy_uj) comes from a udev rule that
// gives the agent's group read permission (see installers/udev).
func renderSystemd(s Settings) string {
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	line("[Unit]")
	line("Description=%s", description)
	line("Wants=network-online.target")
	line("After=network-online.target")
	line("ConditionFileIsExecutable=%s", s.Executable)
	line("")
	line("[Service]")
	line("Type=simple")
	line("ExecStart=%s", quoteCommand(append([]string{s.Executable}, s.Arguments()...)))
	if s.User != "" {
		line("User=%s", s.User)
	}
	if s.Group != "" {
		line("Group=%s", s.Group)
	}
	line("Restart=on-failure")
	line("RestartSec=5s")
	line("# SIGTERM lets the running job finish or abort, then flushes the outbox.")
	line("KillSignal=SIGTERM")
	line("TimeoutStopSec=60s")
	line("ReadWritePaths=%s", quoteArg(s.OutboxDir))
	line("UMask=0077")
	line("NoNewPrivileges=yes")
	line("CapabilityBoundingSet=")
	line("AmbientCapabilities=")
	line("ProtectSystem=strict")
	line("ProtectHome=yes")
	line("PrivateTmp=yes")
	line("ProtectKernelTunables=yes")
	line("ProtectKernelModules=yes")
	line("ProtectKernelLogs=yes")
	line("ProtectControlGroups=yes")
	line("ProtectClock=yes")
	line("ProtectHostname=yes")
	line("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6")
	line("RestrictNamespaces=yes")
	line("RestrictRealtime=yes")
	line("RestrictSUIDSGID=yes")
	line("LockPersonality=yes")
	line("MemoryDenyWriteExecute=yes")
	line("SystemCallArchitectures=native")
	line("SystemCallFilter=@system-service")
	line("")
	line("[Install]")
	line("WantedBy=multi-user.target")
	return b.String()
}

// quoteCommand joins argv for ExecStart, quoting words with spaces.
func quoteCommand(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = quoteArg(a)
	}
	return strings.Join(out, " ")
}

func quoteArg(a string) string {
	if strings.ContainsAny(a, " \t'") {
		return `"` + a + `"`
	}
	return a
}

// launchdJob is the property list of the launchd job.
type launchdJob struct {
	Label             string            `plist:"Label"`
	ProgramArguments  []string          `plist:"ProgramArguments"`
	UserName          string            `plist:"UserName,omitempty"`
	RunAtLoad         bool              `plist:"RunAtLoad"`
	KeepAlive         map[string]bool   `plist:"KeepAlive"`
	ThrottleInterval  int               `plist:"ThrottleInterval"`
	ExitTimeOut       int               `plist:"ExitTimeOut"`
	ProcessType       string            `plist:"ProcessType"`
	StandardOutPath   string            `plist:"StandardOutPath,omitempty"`
	StandardErrorPath string            `plist:"StandardErrorPath,omitempty"`
	Environment       map[string]string `plist:"EnvironmentVariables,omitempty"`
}

// renderLaunchd encodes the job with howett.net/plist. launchd restarts the
// agent when it exits with a failure (KeepAlive SuccessfulExit false), and
// waits ExitTimeOut seconds after SIGTERM before SIGKILL.
func renderLaunchd(s Settings) (string, error) {
	job := launchdJob{
		Label:             Name,
		ProgramArguments:  append([]string{s.Executable}, s.Arguments()...),
		UserName:          s.User,
		RunAtLoad:         true,
		KeepAlive:         map[string]bool{"SuccessfulExit": false},
		ThrottleInterval:  10,
		ExitTimeOut:       60,
		ProcessType:       "Background",
		StandardOutPath:   s.LogFile,
		StandardErrorPath: s.LogFile,
	}
	data, err := plist.MarshalIndent(job, plist.XMLFormat, "\t")
	if err != nil {
		return "", fmt.Errorf("encode launchd plist: %w", err)
	}
	return string(data) + "\n", nil
}
