package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/setup/setuptest"
	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/collector/campaign"
	"github.com/edgetran/edgetran/collector/service"
	"github.com/edgetran/edgetran/shared/cli"
)

// startCollectorWithAgent runs a collector in-process and an agent for
// device on it (builtin runner, estimate meter), and returns the API URL
// once the collector knows the device.
func startCollectorWithAgent(t *testing.T, device string) string {
	t.Helper()
	discard := slog.New(slog.DiscardHandler)
	c, err := service.New(service.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0"}, discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(context.Background()) })

	cfg := config.Default()
	cfg.Device.ID = device
	cfg.NATS.Servers = []string{c.NATSURL()}
	cfg.Outbox.Dir = t.TempDir()
	cfg.Meter.Name = "estimate"
	cfg.Meter.Estimate = config.Estimate{IdleW: 10, MaxW: 65}
	cfg.Meter.IdleWindow = config.Duration(200 * time.Millisecond)
	cfg.HeartbeatInterval = config.Duration(time.Second)
	if err := cfg.FillDefaults(); err != nil {
		t.Fatal(err)
	}
	setuptest.Start(t, &cfg, discard)

	client, err := api.NewClient("http://"+c.HTTPAddr(), "")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := c.Store().Device(context.Background(), device); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("device %s never announced itself", device)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return client.BaseURL
}

func TestCampaignStartWaitThenStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("profiles architectures on a live agent")
	}
	url := startCollectorWithAgent(t, "cmdhost")

	code, stdout, stderr := runSubcommand(t, campaignStartCommand(), "--collector", url, "--device", "cmdhost",
		"--budget", "5", "--initial", "2", "--test-size", "2", "--seq", "16", "--model", "ensemble", "--id", "cli",
		"--space", "testdata/tiny-space.yaml", "--warmup", "1", "--min-iters", "2", "--min-seconds", "0.1", "--runs", "1", "--wait")
	if code != 0 {
		t.Fatalf("campaign start exit %d: %s", code, stderr)
	}
	for _, want := range []string{"campaign cli started on cmdhost/cpu/builtin/b1/s16/fp32", "5/5 measured", "campaign cli stopped: budget"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("campaign start output lacks %q:\n%s", want, stdout)
		}
	}

	code, stdout, stderr = runSubcommand(t, campaignStatusCommand(), "--collector", url, "cli", "--json")
	if code != 0 {
		t.Fatalf("campaign status exit %d: %s", code, stderr)
	}
	var st api.CampaignStatus
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("campaign status --json: %v\n%s", err, stdout)
	}
	if st.Status != campaign.Budget || st.Measured != 5 || len(st.RoundList) != 2 {
		t.Errorf("status = %s, %d measured, %d rounds; want budget, 5, 2", st.Status, st.Measured, len(st.RoundList))
	}

	code, stdout, _ = runSubcommand(t, campaignStatusCommand(), "--collector", url)
	if code != 0 || !strings.Contains(stdout, "cli") || !strings.Contains(stdout, "5/5") {
		t.Errorf("campaign status list exit %d:\n%s", code, stdout)
	}
}

func TestCampaignCommandsRejectBadFlags(t *testing.T) {
	cases := []struct {
		cmd  cli.Command
		args []string
	}{
		{campaignStartCommand(), []string{"--budget", "10"}},
		{campaignStartCommand(), []string{"--device", "pi5"}},
		{campaignStartCommand(), []string{"--device", "pi5", "--budget", "-3"}},
		{campaignStartCommand(), []string{"--device", "pi5", "--budget", "40", "--metric", "speed"}},
		{campaignStartCommand(), []string{"--device", "pi5", "--budget", "40", "--strategy", "greedy"}},
		{campaignStartCommand(), []string{"--device", "pi5", "--budget", "40", "--seq", "0"}},
		{campaignStartCommand(), []string{"--device", "pi5", "--budget", "10"}}, // below initial + test size
		{campaignStartCommand(), []string{"--device", "pi5", "--budget", "40", "--space", "testdata/missing.yaml"}},
		{campaignStartCommand(), []string{"--device", "pi5", "--budget", "40", "--collector", "ftp://host"}},
		{campaignStartCommand(), []string{"--device", "pi5", "--budget", "40", "extra"}},
		{campaignStatusCommand(), []string{"one", "two"}},
		{campaignStatusCommand(), []string{"--jsn"}},
	}
	for _, c := range cases {
		if code, _, _ := runSubcommand(t, c.cmd, c.args...); code != cli.ExitUsage {
			t.Errorf("%s %v: exit %d, want %d", c.cmd.Name, c.args, code, cli.ExitUsage)
		}
	}
}

func TestCampaignStartUnknownDeviceFails(t *testing.T) {
	c, err := service.New(service.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(context.Background()) })

	code, _, stderr := runSubcommand(t, campaignStartCommand(), "--collector", "http://"+c.HTTPAddr(), "--device", "nosuchdevice", "--budget", "40")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stderr, `"nosuchdevice"`) || !strings.Contains(stderr, "400") {
		t.Errorf("stderr does not name the device and the 400 status:\n%s", stderr)
	}
}
