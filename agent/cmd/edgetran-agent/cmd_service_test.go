package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/edgetran/edgetran/shared/cli"
)

func runAgentArgs(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := cli.Env{Stdin: bytes.NewReader(nil), Stdout: &out, Stderr: &errOut, Program: "edgetran-agent"}
	code = cli.Main(context.Background(), env, commands(), args)
	return out.String(), errOut.String(), code
}

func TestServiceRenderSystemdUsesConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(cfg, []byte("device: {id: d1}\noutbox: {dir: /srv/edgetran/outbox}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runAgentArgs(t, "service", "render", "--platform", "systemd", "--config", cfg,
		"--binary", "/opt/edgetran/edgetran-agent", "--user", "edge", "--group", "power")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"ExecStart=/opt/edgetran/edgetran-agent run --config " + cfg + "\n",
		"ReadWritePaths=/srv/edgetran/outbox\n",
		"User=edge\n",
		"Group=power\n",
		"ProtectSystem=strict\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("unit lacks %q:\n%s", want, out)
		}
	}
}

func TestServiceRenderLaunchdParses(t *testing.T) {
	out, errOut, code := runAgentArgs(t, "service", "render", "--platform", "launchd",
		"--config", "/etc/edgetran/absent.yaml", "--binary", "/usr/local/bin/edgetran-agent", "--user", "root")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var job struct {
		Label            string   `plist:"Label"`
		ProgramArguments []string `plist:"ProgramArguments"`
		UserName         string   `plist:"UserName"`
	}
	if _, err := plist.Unmarshal([]byte(out), &job); err != nil {
		t.Fatalf("plist does not parse: %v\n%s", err, out)
	}
	if job.Label != "edgetran-agent" || job.UserName != "root" || len(job.ProgramArguments) != 4 || job.ProgramArguments[3] != "/etc/edgetran/absent.yaml" {
		t.Errorf("plist job = %+v", job)
	}
}

func TestServiceRenderRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("outbox: {dir: relative}\ndevice: {id: d1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing platform", []string{"service", "render"}, "missing --platform: want systemd or launchd"},
		{"unknown platform", []string{"service", "render", "--platform", "upstart"}, "upstart"},
		{"relative config path", []string{"service", "render", "--platform", "systemd", "--config", "agent.yaml"}, "must be absolute"},
		{"invalid config", []string{"service", "render", "--platform", "systemd", "--config", bad}, "outbox.dir"},
		{"extra argument", []string{"service", "render", "--platform", "systemd", "now"}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runAgentArgs(t, tt.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not mention %q", errOut, tt.want)
			}
		})
	}
}

func TestServiceHelpNamesDefaults(t *testing.T) {
	_, errOut, code := runAgentArgs(t, "install", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"/etc/edgetran/agent.yaml", "edgetran", "/var/log/edgetran-agent.log"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("install --help does not show default %q:\n%s", want, errOut)
		}
	}
}
