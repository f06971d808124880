package meter_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgetran/edgetran/platforms/estimate"
	"github.com/edgetran/edgetran/platforms/hwmon"
	"github.com/edgetran/edgetran/platforms/internal/fixture"
	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/platforms/rapl"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var t0 = time.Unix(1_700_000_000, 0)

const energyFile = "class/powercap/intel-rapl:0/energy_uj"

// raplSampler returns a sampler over the RAPL fixture scenario, a 1 s
// interval and a test clock at t0.
func raplSampler(t *testing.T, scenario string, edits ...string) (*meter.Sampler, string, *clock) {
	t.Helper()
	root := fixture.Unpack(t, filepath.Join("..", "rapl", "testdata", scenario+".txtar"))
	for i := 0; i+1 < len(edits); i += 2 {
		fixture.Write(t, root, edits[i], edits[i+1])
	}
	c := &clock{t: t0}
	deps := meter.NewDeps(root, root, nil)
	deps.Now = c.now
	m, err := rapl.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	s := meter.NewSampler(m, time.Second, 16)
	s.SetClock(c.now)
	return s, root, c
}

// step writes counter values (µJ) one second apart and samples each.
func step(t *testing.T, s *meter.Sampler, root string, c *clock, values ...string) {
	t.Helper()
	for i, v := range values {
		if i > 0 {
			c.t = c.t.Add(time.Second)
		}
		fixture.Write(t, root, energyFile, v)
		s.ReadOnce(context.Background())
	}
}

func TestSamplerCounterWrapIsCorrected(t *testing.T) {
	s, root, c := raplSampler(t, "amd-zen")
	// The amd-zen range is 65532610987 µJ: 65000 J, wrap, 500 J, 1500 J.
	step(t, s, root, c, "65000000000", "500000000", "1500000000")
	sum, err := s.Window(t0, t0.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// (65532.610987 − 65000 + 500) + (1500 − 500) J.
	want := 65532.610987 - 65000 + 500 + 1000
	if math.Abs(sum.EnergyJ-want) > 1e-6 {
		t.Errorf("energy = %v J, want %v J", sum.EnergyJ, want)
	}
	if !sum.EnergyFromCounter {
		t.Error("EnergyFromCounter = false for a RAPL window")
	}
	if sum.Missing || sum.Failed {
		t.Errorf("window flagged: %+v", sum)
	}
	if math.Abs(sum.PeakW-1032.610987) > 1e-6 {
		t.Errorf("peak = %v W, want 1032.610987 W", sum.PeakW)
	}
}

func TestSamplerLargeWrapIsCorrected(t *testing.T) {
	s, root, c := raplSampler(t, "amd-zen", "class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850")
	step(t, s, root, c, "260000000000", "700000000")
	sum, err := s.Window(t0, t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// 262143328850 − 260000000000 + 700000000 µJ.
	if math.Abs(sum.EnergyJ-2843.32885) > 1e-6 {
		t.Errorf("energy = %v J, want 2843.32885 J", sum.EnergyJ)
	}
	if sum.EnergyJ < 0 || sum.Missing {
		t.Errorf("window flagged or negative: %+v", sum)
	}
}

func TestSamplerUnknownRangeFlagsWindow(t *testing.T) {
	s, root, c := raplSampler(t, "missing-range")
	step(t, s, root, c, "260000000000", "700000000", "900000000")
	sum, err := s.Window(t0, t0.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if sum.HasEnergy() {
		t.Errorf("energy = %v J across a wrap of unknown range, want none", sum.EnergyJ)
	}
	if !sum.Missing {
		t.Error("window not flagged Missing")
	}
	if !strings.Contains(sum.Note, "range is unknown") {
		t.Errorf("note = %q, want the unknown range named", sum.Note)
	}

	// A window after the wrap is unaffected.
	after, err := s.Window(t0.Add(time.Second), t0.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(after.EnergyJ-200) > 1e-9 {
		t.Errorf("energy after the wrap = %v J, want 200 J", after.EnergyJ)
	}
}

func TestSamplerEdgesAreInterpolated(t *testing.T) {
	s, root, c := raplSampler(t, "amd-zen")
	step(t, s, root, c, "1000000000", "3000000000", "5000000000")
	// 2000 J per second; a window from 0.5 s to 1.25 s holds 1500 J.
	sum, err := s.Window(t0.Add(500*time.Millisecond), t0.Add(1250*time.Millisecond))
	if !errors.Is(err, meter.ErrTooFewSamples) {
		t.Fatalf("err = %v, want ErrTooFewSamples for one sample inside", err)
	}
	if sum.Samples != 1 {
		t.Errorf("samples = %d, want 1", sum.Samples)
	}
	sum, err = s.Window(t0.Add(500*time.Millisecond), t0.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(sum.EnergyJ-3000) > 1e-6 {
		t.Errorf("energy = %v J, want 3000 J (1.5 s at 2000 W)", sum.EnergyJ)
	}
	if math.Abs(sum.MeanW-2000) > 1e-6 {
		t.Errorf("mean = %v W, want 2000 W", sum.MeanW)
	}
}

func TestSamplerFailedReadFlagsWindow(t *testing.T) {
	s, root, c := raplSampler(t, "amd-zen")
	step(t, s, root, c, "1000000000", "2000000000", "garbled", "4000000000")
	sum, err := s.Window(t0, t0.Add(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Failed {
		t.Error("window not flagged Failed after a garbled counter")
	}
	// The counter delta still spans the failed read: 3000 J.
	if math.Abs(sum.EnergyJ-3000) > 1e-6 {
		t.Errorf("energy = %v J, want 3000 J", sum.EnergyJ)
	}
	last, failures, reads := s.Err()
	if last == nil || failures != 1 || reads != 4 {
		t.Errorf("Err() = %v, %d failures, %d reads; want one failure in four reads", last, failures, reads)
	}
}

func TestSamplerGapFlagsMissing(t *testing.T) {
	s, root, c := raplSampler(t, "amd-zen")
	step(t, s, root, c, "1000000000", "2000000000")
	c.t = c.t.Add(5 * time.Second)
	step(t, s, root, c, "8000000000")
	sum, err := s.Window(t0, t0.Add(6*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Missing {
		t.Error("a 5 s gap at a 1 s interval is not flagged Missing")
	}
}

func TestSamplerEdgeGapFlagsMissing(t *testing.T) {
	tests := []struct {
		name     string
		from, to time.Duration // window edges after t0
	}{
		// Samples at 0, 5, 6, 7 and 12 s at a 1 s interval (gap 3 s).
		{"gap before the window", 4 * time.Second, 7 * time.Second},
		{"gap after the window", 5 * time.Second, 8 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, root, c := raplSampler(t, "amd-zen")
			step(t, s, root, c, "1000000000")
			c.t = c.t.Add(4 * time.Second)
			step(t, s, root, c, "2000000000", "3000000000", "4000000000")
			c.t = c.t.Add(4 * time.Second)
			step(t, s, root, c, "5000000000")
			sum, err := s.Window(t0.Add(tt.from), t0.Add(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if !sum.Missing || !strings.Contains(sum.Note, "gap") {
				t.Errorf("Missing = %v, note %q; want a 5 s edge gap flagged", sum.Missing, sum.Note)
			}
		})
	}
}

func TestSamplerRingOverwriteFlagsMissing(t *testing.T) {
	s, root, c := raplSampler(t, "amd-zen")
	for i := range 20 { // capacity is 16
		step(t, s, root, c, fmt.Sprint(1000000000+i*1000000))
		c.t = c.t.Add(time.Second)
	}
	sum, err := s.Window(t0, t0.Add(19*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Missing || sum.Samples != 16 {
		t.Errorf("Missing = %v, samples = %d; want flagged with 16 samples", sum.Missing, sum.Samples)
	}
	if !sum.Truncated {
		t.Error("window not flagged Truncated after the ring lost its start")
	}
	// The ring holds 4 s..19 s of the 19 s window.
	if math.Abs(sum.CoveredS-15) > 1e-9 {
		t.Errorf("covered = %v s, want 15 s", sum.CoveredS)
	}
}

func TestSamplerFullWindowIsCovered(t *testing.T) {
	s, root, c := raplSampler(t, "amd-zen")
	step(t, s, root, c, "1000000000", "3000000000", "5000000000")
	sum, err := s.Window(t0.Add(500*time.Millisecond), t0.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Truncated || math.Abs(sum.CoveredS-1.5) > 1e-9 {
		t.Errorf("truncated %v covered %v s, want false and 1.5 s", sum.Truncated, sum.CoveredS)
	}
}

// estimateSampler returns a sampler over the estimate meter between 10 W
// and 20 W, reading a /proc/stat fixture the test rewrites.
func estimateSampler(t *testing.T) (*meter.Sampler, string, *clock) {
	t.Helper()
	root := fixture.Unpack(t, "../estimate/testdata/proc-stat-4cpu.txtar")
	fixture.Write(t, root, "stat", statLine(0, 0))
	c := &clock{t: t0}
	deps := meter.NewDeps(root, root, nil)
	deps.Now = c.now
	m, err := estimate.New(deps, estimate.Config{IdleW: 10, MaxW: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	s := meter.NewSampler(m, time.Second, 16)
	s.SetClock(c.now)
	return s, root, c
}

// statLine returns a /proc/stat cpu line with the given busy (user) and
// idle ticks.
func statLine(user, idle int) string {
	return fmt.Sprintf("cpu  %d 0 0 %d 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0", user, idle)
}

func TestSamplerIntegratesEstimatedPower(t *testing.T) {
	s, root, c := estimateSampler(t)
	for _, u := range []struct{ user, idle int }{{0, 400}, {200, 600}, {600, 600}} {
		c.t = c.t.Add(time.Second)
		fixture.Write(t, root, "stat", statLine(u.user, u.idle))
		s.ReadOnce(context.Background())
	}
	// Utilisation 0, 0.5, 1 at t0+1, +2, +3 s: 10, 15, 20 W.
	sum, err := s.Window(t0.Add(time.Second), t0.Add(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"energy J", sum.EnergyJ, 12.5 + 17.5},
		{"peak W", sum.PeakW, 20},
		{"mean W", sum.MeanW, 15},
		{"rate Hz", sum.RateHz, 1},
		{"samples", float64(sum.Samples), 3},
	}
	for _, ch := range checks {
		if math.Abs(ch.got-ch.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if !sum.Estimated || sum.EnergyFromCounter {
		t.Errorf("Estimated = %v, EnergyFromCounter = %v; want an estimated integral", sum.Estimated, sum.EnergyFromCounter)
	}

	trace := s.Trace(t0.Add(time.Second), t0.Add(3*time.Second), 2)
	if len(trace) != 2 || trace[0].W != 10 || trace[1].W != 17.5 {
		t.Errorf("trace = %+v, want 10 W then the mean 17.5 W", trace)
	}
}

func TestSamplerSkipsUnchangedReading(t *testing.T) {
	s, _, c := estimateSampler(t)
	s.ReadOnce(context.Background()) // no tick since New: no new value
	c.t = c.t.Add(time.Second)
	s.ReadOnce(context.Background())
	if got := s.Since(nil, time.Time{}); len(got) != 0 {
		t.Errorf("stored %d points from unchanged /proc/stat, want 0", len(got))
	}
}

func TestSamplerEmptyWindowIsError(t *testing.T) {
	s, _, _ := raplSampler(t, "amd-zen")
	if _, err := s.Window(t0, t0); err == nil {
		t.Error("Window accepted an empty window")
	}
	_, err := s.Window(t0, t0.Add(time.Second))
	if !errors.Is(err, meter.ErrTooFewSamples) {
		t.Errorf("err = %v, want ErrTooFewSamples for a window with no samples", err)
	}
}

func TestSamplerRunsInBackground(t *testing.T) {
	root := fixture.Unpack(t, "../rapl/testdata/amd-zen.txtar")
	m, err := rapl.New(meter.NewDeps(root, root, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := meter.NewSampler(m, time.Millisecond, 1000)
	start := time.Now()
	s.Start(context.Background())
	for len(s.Since(nil, start)) < 5 {
		time.Sleep(5 * time.Millisecond)
	}
	s.Stop()
	n := len(s.Since(nil, start))
	time.Sleep(5 * time.Millisecond)
	if got := len(s.Since(nil, start)); got != n {
		t.Errorf("samples grew from %d to %d after Stop", n, got)
	}
}

func writeFile(root, rel, content string) error {
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(content + "\n")
	return err
}

func hwmonSampler(t *testing.T, root string) (*meter.Sampler, *clock) {
	t.Helper()
	c := &clock{t: t0}
	deps := meter.NewDeps(root, root, nil)
	deps.Now = c.now
	m, err := hwmon.New(deps, hwmon.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	s := meter.NewSampler(m, time.Second, 16)
	s.SetClock(c.now)
	return s, c
}
