package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/setup/setuptest"
	"github.com/edgetran/edgetran/collector/service"
	"github.com/edgetran/edgetran/collector/store/storetest"
	"github.com/edgetran/edgetran/shared/wire"
)

func TestDevicesAddRejectsBadArguments(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "taken.nk")
	if err := os.WriteFile(existing, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"missing id", []string{"devices", "add"}, 2, "--id is missing"},
		{"invalid id", []string{"devices", "add", "--id", "pi 7"}, 2, `device id "pi 7"`},
		{"existing file", []string{"devices", "add", "--id", "pi-7", "--out", existing}, 1, "already exists"},
	}
	for _, tc := range cases {
		code, stdout, stderr := runCollector(t, tc.args...)
		if code != tc.wantCode {
			t.Errorf("%s: exit %d, want %d (stderr %q)", tc.name, code, tc.wantCode, stderr)
		}
		if !strings.Contains(stderr, tc.wantErr) {
			t.Errorf("%s: stderr %q, want it to contain %q", tc.name, stderr, tc.wantErr)
		}
		if stdout != "" {
			t.Errorf("%s: stdout %q, want nothing", tc.name, stdout)
		}
	}
	if data, _ := os.ReadFile(existing); string(data) != "keep me\n" {
		t.Errorf("existing seed file was changed to %q", data)
	}
}

func TestDevicesAddDefaultOutFile(t *testing.T) {
	t.Chdir(t.TempDir())
	code, _, stderr := runCollector(t, "devices", "add", "--id", "pi-7")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat("pi-7.nk"); err != nil {
		t.Errorf("default seed file: %v", err)
	}
}

// TestDevicesAddSeedRunsAgentJob follows the documented steps: the printed
// entry goes into the collector configuration, the seed into the agent's,
// and a real agent then takes a job and its measurement is stored.
func TestDevicesAddSeedRunsAgentJob(t *testing.T) {
	const device = "seeded-dev"
	dir := t.TempDir()
	seedPath := filepath.Join(dir, device+".nk")
	code, stdout, stderr := runCollector(t, "devices", "add", "--id", device, "--out", seedPath)
	if code != 0 {
		t.Fatalf("devices add: exit %d: %s", code, stderr)
	}
	info, err := os.Stat(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("seed file mode %04o, want 0600", perm)
	}
	seed, err := os.ReadFile(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout, strings.TrimSpace(string(seed))) {
		t.Error("the printed entry contains the seed")
	}

	configPath := filepath.Join(dir, "collector.yaml")
	collectorYAML := stdout + "data_dir: " + filepath.Join(dir, "data") + "\nnats_listen: 127.0.0.1:0\nhttp: 127.0.0.1:0\n"
	if err := os.WriteFile(configPath, []byte(collectorYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := service.LoadConfig(configPath)
	if err != nil {
		t.Fatalf("load the printed entry: %v", err)
	}
	if len(cfg.Auth.Devices) != 1 || cfg.Auth.Devices[0].ID != device || !strings.HasPrefix(cfg.Auth.Devices[0].NKey, "U") {
		t.Fatalf("auth devices %+v, want one %s entry with a public key", cfg.Auth.Devices, device)
	}
	c, err := service.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(context.Background()) })

	if nc, err := nats.Connect(c.NATSURL(), nats.NoReconnect()); err == nil {
		nc.Close()
		t.Error("a client without credentials connected to the collector's NATS server")
	}

	runSeededAgent(t, c.NATSURL(), device, seedPath)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sj, err := c.Jobs().Submit(ctx, wire.Job{
		Device: device, Arch: storetest.Arch(0), Batch: 1, SeqLen: 16,
		Warmup: 1, MinIters: 2, MinSeconds: 0.3, Repeats: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Jobs().Wait(ctx, sj.Job.ID)
	if err != nil {
		t.Fatalf("job on the agent with the seed: %v", err)
	}
	if m.Target.Device != device {
		t.Errorf("measurement device %q, want %s", m.Target.Device, device)
	}
}

// runSeededAgent runs the agent daemon with the builtin runner and the
// estimate meter, signing in with the nkey seed file, until the test ends.
func runSeededAgent(t *testing.T, url, device, seedPath string) {
	t.Helper()
	cfg := config.Default()
	cfg.Device = config.Device{ID: device, Name: device, Root: "/"}
	cfg.NATS.Servers = []string{url}
	cfg.NATS.NKeySeedFile = seedPath
	cfg.Outbox.Dir = t.TempDir()
	cfg.Meter.Name = "estimate"
	cfg.Meter.IdleWindow = config.Duration(100 * time.Millisecond)
	cfg.Meter.Estimate = config.Estimate{IdleW: 5, MaxW: 15}
	if err := cfg.FillDefaults(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("agent config with the seed file: %v", err)
	}

	setuptest.Start(t, &cfg, slog.New(slog.DiscardHandler))
}

// TestServeRejectsOpenNATSListen checks only the configuration: serve
// exits before it binds any address.
func TestServeRejectsOpenNATSListen(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	code, _, stderr := runCollector(t, "serve", "--nats-listen", "0.0.0.0:4222", "--data-dir", dataDir)
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr, `nats_listen "0.0.0.0:4222" is not loopback`) || !strings.Contains(stderr, "auth.devices") {
		t.Errorf("stderr %q, want it to name the address and auth.devices", stderr)
	}
	if _, err := os.Stat(dataDir); err == nil {
		t.Error("serve created the data directory before rejecting the configuration")
	}
}
