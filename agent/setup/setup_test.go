package setup

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/shared/cli"
)

func testConfig(t *testing.T, meterName string) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Device.ID = "test-device"
	cfg.Outbox.Dir = filepath.Join(t.TempDir(), "outbox")
	cfg.Meter.Name = meterName
	cfg.Meter.Estimate = config.Estimate{IdleW: 3, MaxW: 12}
	if err := cfg.FillDefaults(); err != nil {
		t.Fatal(err)
	}
	return &cfg
}

func TestNewWithoutMeterMeasuresLatencyOnly(t *testing.T) {
	a, err := New(context.Background(), testConfig(t, "none"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Meter != nil || a.Options.Profiler.Power != nil || len(a.Options.Meters) != 0 {
		t.Errorf("meter %v, power %v, meters %v: want none", a.Meter, a.Options.Profiler.Power, a.Options.Meters)
	}
	if _, ok := a.Options.Runners["builtin"]; !ok {
		t.Errorf("runners %v lack builtin", a.Options.Runners)
	}
	if _, err := a.Daemon(); err != nil {
		t.Errorf("daemon from the options: %v", err)
	}
}

func TestNewEstimateMeterIsLabelled(t *testing.T) {
	a, err := New(context.Background(), testConfig(t, "estimate"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if len(a.Options.Meters) != 1 {
		t.Fatalf("got %d meters, want 1", len(a.Options.Meters))
	}
	if m := a.Options.Meters[0]; m.Name != "estimate" || !m.Estimated {
		t.Errorf("meter %+v, want estimate labelled estimated", m)
	}
	if a.Options.Profiler.Power == nil {
		t.Error("profiler has no power meter")
	}
}

func TestNewUnknownMeterIsUsageError(t *testing.T) {
	_, err := New(context.Background(), testConfig(t, "no-such-meter"), slog.New(slog.DiscardHandler))
	var usage *cli.UsageError
	if !errors.As(err, &usage) {
		t.Errorf("error %v, want a usage error", err)
	}
}
