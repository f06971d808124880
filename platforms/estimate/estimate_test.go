package estimate

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/edgetran/edgetran/platforms/internal/fixture"
	"github.com/edgetran/edgetran/platforms/meter"
)

func TestParseStatFixture(t *testing.T) {
	root := fixture.Unpack(t, "testdata/proc-stat-4cpu.txtar")
	deps := meter.NewDeps(root, root, nil)
	m, err := New(deps, Config{IdleW: 3, MaxW: 12})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// cpu  2255 34 2290 22625563 6290 127 456 0 0 0
	wantTotal := float64(2255 + 34 + 2290 + 22625563 + 6290 + 127 + 456)
	wantBusy := float64(2255 + 34 + 2290 + 127 + 456)
	if m.prev.total != wantTotal || m.prev.busy != wantBusy {
		t.Errorf("times = %+v, want busy %v of total %v", m.prev, wantBusy, wantTotal)
	}
	info := m.Info()
	if !info.Estimated {
		t.Errorf("info = %+v, want it labelled as an estimate", info)
	}
	if !strings.Contains(info.Description, "CPU utilisation model") {
		t.Errorf("description %q does not name the model", info.Description)
	}
}

func TestParseStatRejectsGarbage(t *testing.T) {
	tests := map[string]string{
		"no cpu line":    "intr 1 2 3\n",
		"short line":     "cpu  1 2 3\n",
		"letters":        "cpu  1 2 x 4 5\n",
		"huge number":    "cpu  1 2 3 999999999999999999999999 5\n",
		"empty":          "",
		"cpu0 not total": "cpu0 1 2 3 4 5\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := parseStat([]byte(in), "/proc/stat"); err == nil {
				t.Errorf("parseStat(%q) succeeded", in)
			}
		})
	}
}

func TestEstimateFollowsUtilisation(t *testing.T) {
	root := fixture.Unpack(t, "testdata/proc-stat-4cpu.txtar")
	fixture.Write(t, root, "stat", "cpu  100 0 0 100 0 0 0 0 0 0")
	now := time.Unix(100, 0)
	deps := meter.NewDeps(root, root, nil)
	deps.Now = func() time.Time { return now }
	m, err := New(deps, Config{IdleW: 4, MaxW: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var s meter.Sample
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if !s.Time.IsZero() || !math.IsNaN(s.PowerW[0]) {
		t.Errorf("read before any tick = %v at %v, want no value", s.PowerW[0], s.Time)
	}
	// 300 busy of 400 ticks: 75% of the way from 4 W to 8 W.
	fixture.Write(t, root, "stat", "cpu  400 0 0 200 0 0 0 0 0 0")
	now = now.Add(50 * time.Millisecond)
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if s.PowerW[0] != 7 || !s.Time.Equal(now) {
		t.Errorf("power = %v W at %v, want 7 W at %v", s.PowerW[0], s.Time, now)
	}
}

func TestEstimateSkipsShortWindows(t *testing.T) {
	root := fixture.Unpack(t, "testdata/proc-stat-4cpu.txtar")
	fixture.Write(t, root, "stat", "cpu  100 0 0 100 0 0 0 0 0 0")
	start := time.Unix(100, 0)
	now := start
	deps := meter.NewDeps(root, root, nil)
	deps.Now = func() time.Time { return now }
	m, err := New(deps, Config{IdleW: 4, MaxW: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var s meter.Sample

	// 10 ms later the CPU was fully busy for one tick: too short a window
	// to turn into a value, so the read has none.
	fixture.Write(t, root, "stat", "cpu  101 0 0 100 0 0 0 0 0 0")
	now = start.Add(10 * time.Millisecond)
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if !s.Time.IsZero() {
		t.Errorf("read after 10 ms = %v W at %v, want no value", s.PowerW[0], s.Time)
	}

	// At 50 ms the window covers 1 busy of 4 ticks: 25% from 4 W to 8 W.
	fixture.Write(t, root, "stat", "cpu  101 0 0 103 0 0 0 0 0 0")
	now = start.Add(50 * time.Millisecond)
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if s.PowerW[0] != 5 || !s.Time.Equal(now) {
		t.Errorf("read after 50 ms = %v W at %v, want 5 W at %v", s.PowerW[0], s.Time, now)
	}

	// 10 ms after that value the read repeats it with its time.
	fixture.Write(t, root, "stat", "cpu  200 0 0 103 0 0 0 0 0 0")
	at := now
	now = now.Add(10 * time.Millisecond)
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if s.PowerW[0] != 5 || !s.Time.Equal(at) {
		t.Errorf("read 10 ms after a value = %v W at %v, want the previous 5 W at %v", s.PowerW[0], s.Time, at)
	}
}

func TestConfigRejectsBadWatts(t *testing.T) {
	for _, c := range []Config{{}, {IdleW: -1, MaxW: 5}, {IdleW: 5, MaxW: 5}, {IdleW: 1, MaxW: math.NaN()}, {IdleW: 1, MaxW: math.Inf(1)}} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) succeeded", c)
		}
	}
}

func TestEstimateFallsBackToGopsutil(t *testing.T) {
	root := t.TempDir() // no stat file: gopsutil reads the host
	m, err := New(meter.NewDeps(root, root, nil), Config{IdleW: 1, MaxW: 2})
	if err != nil {
		t.Skipf("gopsutil cannot read CPU times here: %v", err)
	}
	defer m.Close()
	if m.stat != nil {
		t.Error("meter opened a stat file that does not exist")
	}
	if m.prev.total <= 0 {
		t.Errorf("gopsutil total CPU time = %v, want positive", m.prev.total)
	}
}
