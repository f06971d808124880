package service

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"howett.net/plist"
)

func testSettings() Settings {
	return Settings{
		Executable: "/usr/local/bin/edgetran-agent",
		ConfigPath: "/etc/edgetran/agent.yaml",
		User:       "edgetran",
		Group:      "edgetran",
		OutboxDir:  "/var/lib/edgetran-agent/outbox",
		LogFile:    "/var/log/edgetran-agent.log",
	}
}

func TestRenderSystemdUnit(t *testing.T) {
	unit, err := Render(Systemd, testSettings())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ExecStart=/usr/local/bin/edgetran-agent run --config /etc/edgetran/agent.yaml\n",
		"User=edgetran\n",
		"Group=edgetran\n",
		"ReadWritePaths=/var/lib/edgetran-agent/outbox\n",
		"NoNewPrivileges=yes\n",
		"ProtectSystem=strict\n",
		"ProtectHome=yes\n",
		"PrivateTmp=yes\n",
		"CapabilityBoundingSet=\n",
		"KillSignal=SIGTERM\n",
		"WantedBy=multi-user.target\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	if strings.Contains(unit, "{{") {
		t.Error("unit contains a template action, so install would not write it verbatim")
	}
}

func TestRenderQuotesPathWithSpace(t *testing.T) {
	s := testSettings()
	s.ConfigPath = "/etc/edge tran/agent.yaml"
	unit, err := Render(Systemd, s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(unit, `--config "/etc/edge tran/agent.yaml"`) {
		t.Errorf("config path with a space is not quoted:\n%s", unit)
	}
}

func TestRenderLaunchdPlist(t *testing.T) {
	text, err := Render(Launchd, testSettings())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if _, err := plist.Unmarshal([]byte(text), &got); err != nil {
		t.Fatalf("rendered plist does not parse: %v\n%s", err, text)
	}
	if got["Label"] != Name {
		t.Errorf("Label = %v, want %s", got["Label"], Name)
	}
	args, _ := got["ProgramArguments"].([]any)
	want := []string{"/usr/local/bin/edgetran-agent", "run", "--config", "/etc/edgetran/agent.yaml"}
	if len(args) != len(want) {
		t.Fatalf("ProgramArguments = %v, want %v", args, want)
	}
	for i := range want {
		if args[i] != want[i] {
			t.Errorf("ProgramArguments[%d] = %v, want %s", i, args[i], want[i])
		}
	}
	if got["UserName"] != "edgetran" {
		t.Errorf("UserName = %v, want edgetran", got["UserName"])
	}
	if ka, _ := got["KeepAlive"].(map[string]any); ka["SuccessfulExit"] != false {
		t.Errorf("KeepAlive = %v, want SuccessfulExit false", got["KeepAlive"])
	}
	if !strings.HasPrefix(text, "<?xml") {
		t.Errorf("plist is not XML: %.40q", text)
	}
}

func TestRenderRejectsBadSettings(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Settings)
		want   string
	}{
		{"relative config", func(s *Settings) { s.ConfigPath = "agent.yaml" }, "must be absolute"},
		{"newline in user", func(s *Settings) { s.User = "a\nExecStartPre=/bin/sh" }, "newlines"},
		{"template braces", func(s *Settings) { s.OutboxDir = "/var/{{Path}}" }, "{{"},
		{"percent specifier", func(s *Settings) { s.Executable = "/opt/%h/agent" }, "'%'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSettings()
			tt.modify(&s)
			_, err := Render(Systemd, s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := Render("upstart", testSettings()); err == nil {
		t.Error("Render accepted platform upstart")
	}
}

func TestSystemdAnalyzeVerify(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed; unit syntax not verified")
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s := testSettings()
	s.Executable = exe
	s.User, s.Group = "root", "root"
	unit, err := Render(Systemd, s)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, Name+".service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", path).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze verify failed: %v\n%s\n%s", err, out, unit)
	}
}
