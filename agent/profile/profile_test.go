package profile

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/edgetran/edgetran/agent/engine"
	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/platforms/estimate"
	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

func TestLatencyStatsPercentiles(t *testing.T) {
	// 1..100 ms: the empirical quantile at p is the ceil(p·n)-th value.
	var v []float64
	for i := 100; i >= 1; i-- {
		v = append(v, float64(i)/1000)
	}
	got := LatencyStats(v)
	want := measure.LatencyStats{Mean: 0.0505, P50: 0.050, P90: 0.090, P99: 0.099, Min: 0.001, Max: 0.100, N: 100}
	for name, pair := range map[string][2]float64{
		"mean": {got.Mean, want.Mean}, "p50": {got.P50, want.P50}, "p90": {got.P90, want.P90},
		"p99": {got.P99, want.P99}, "min": {got.Min, want.Min}, "max": {got.Max, want.Max},
	} {
		if math.Abs(pair[0]-pair[1]) > 1e-12 {
			t.Errorf("%s = %v, want %v", name, pair[0], pair[1])
		}
	}
	if got.N != 100 {
		t.Errorf("n = %d, want 100", got.N)
	}
	// Sample standard deviation of 1..100 is sqrt(841.666...) ≈ 29.0115 ms.
	if math.Abs(got.Std-0.0290115) > 1e-6 {
		t.Errorf("std = %v, want 0.0290115", got.Std)
	}
}

func TestLatencyStatsOneSample(t *testing.T) {
	got := LatencyStats([]float64{0.02})
	if got.Std != 0 || got.P99 != 0.02 || got.N != 1 {
		t.Errorf("stats = %+v, want std 0, p99 0.02, n 1", got)
	}
}

func TestSpreadOfRunMeans(t *testing.T) {
	tests := []struct {
		name  string
		means []float64
		want  float64
	}{
		{"single run", []float64{0.01}, 0},
		{"equal runs", []float64{0.01, 0.01, 0.01}, 0},
		{"ten percent", []float64{0.010, 0.0105, 0.011}, 0.001 / 0.0105},
		{"two runs", []float64{0.02, 0.01}, 0.01 / 0.015},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Spread(tt.means); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Spread = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestThermalWatch(t *testing.T) {
	tests := []struct {
		root      string
		throttled *bool
		temps     map[string]float64
	}{
		{"testdata/hot", ptr(true), map[string]float64{"x86_pkg_temp": 97}},
		{"testdata/cool", ptr(false), map[string]float64{"cpu-thermal": 48.312, "cpu-thermal-2": 51}},
		{"testdata/notrip", nil, map[string]float64{"acpitz": 27.8}},
		{"testdata/absent", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.root, func(t *testing.T) {
			w := newThermalWatch(tt.root)
			w.sample()
			temps, throttled := w.result()
			if (throttled == nil) != (tt.throttled == nil) || (throttled != nil && *throttled != *tt.throttled) {
				t.Errorf("throttled = %v, want %v", fmtBool(throttled), fmtBool(tt.throttled))
			}
			if len(temps) != len(tt.temps) {
				t.Fatalf("temperatures = %v, want %v", temps, tt.temps)
			}
			for k, v := range tt.temps {
				if math.Abs(temps[k]-v) > 1e-9 {
					t.Errorf("temperature %s = %v, want %v", k, temps[k], v)
				}
			}
		})
	}
}

func ptr(b bool) *bool { return &b }

func fmtBool(b *bool) string {
	if b == nil {
		return "nil"
	}
	if *b {
		return "true"
	}
	return "false"
}

func TestProfileBertTinyWithEstimate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs BERT-Tiny for about a second")
	}
	m, err := estimate.New(meter.NewDeps("/sys", "/proc", nil), estimate.Config{IdleW: 3, MaxW: 12})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, err := arch.Preset("bert-tiny")
	if err != nil {
		t.Fatal(err)
	}
	p := &Profiler{Space: arch.Default(), Power: &Power{Meter: m, Interval: 50 * time.Millisecond}, Logger: slog.New(slog.DiscardHandler), SysRoot: "testdata/cool"}
	var calls int
	p.Progress = func(run, iters int, elapsed time.Duration) { calls++ }
	s := Settings{Warmup: 2, MinIters: 4, MinDuration: 300 * time.Millisecond, Repeats: 2, IdleWindow: 200 * time.Millisecond}
	rec, err := p.Profile(context.Background(), engine.NewRunner(engine.Options{Threads: 1}), runner.Spec{Arch: a, Batch: 2, SeqLen: 16}, s, Job{ID: "t#1", Device: "dev1"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Provenance != measure.Estimated || rec.Power == nil || !rec.Power.Estimated || rec.Power.Meter != "estimate" {
		t.Errorf("provenance %q power %+v, want an estimate labelled as such", rec.Provenance, rec.Power)
	}
	if rec.Runs != 2 {
		t.Errorf("runs = %d, want 2", rec.Runs)
	}
	if rec.Latency.N < 8 || len(rec.IterationsS) != rec.Latency.N {
		t.Errorf("n = %d with %d kept iterations, want at least 8 and all kept", rec.Latency.N, len(rec.IterationsS))
	}
	timed := 0.0
	for _, v := range rec.IterationsS {
		timed += v
	}
	if timed < 2*s.MinDuration.Seconds() {
		t.Errorf("timed %.3fs in total, want at least %.3fs", timed, 2*s.MinDuration.Seconds())
	}
	if math.Abs(rec.LatencyPerSeqS-rec.Latency.Mean/2) > 1e-15 {
		t.Errorf("latency per sequence %v, want mean/batch = %v", rec.LatencyPerSeqS, rec.Latency.Mean/2)
	}
	if rec.EnergyPerSeqJ == nil || rec.MeanPowerW == nil || rec.PeakPowerW == nil || rec.IdlePowerW == nil {
		t.Fatalf("power figures missing: energy %v mean %v peak %v idle %v; note %q", rec.EnergyPerSeqJ, rec.MeanPowerW, rec.PeakPowerW, rec.IdlePowerW, rec.Power.Note)
	}
	// The model bounds every reading to [3, 12] W.
	for name, v := range map[string]float64{"mean": *rec.MeanPowerW, "peak": *rec.PeakPowerW, "idle": *rec.IdlePowerW} {
		if v < 3-1e-9 || v > 12+1e-9 {
			t.Errorf("%s power %v W outside the model's 3..12 W", name, v)
		}
	}
	// Gross energy per sequence = mean power × timed seconds / sequences.
	seqs := float64(rec.Latency.N * 2)
	if want := *rec.MeanPowerW * timed / seqs; math.Abs(*rec.EnergyPerSeqJ-want)/want > 0.05 {
		t.Errorf("energy per sequence %v J, want mean power × time / sequences ≈ %v J", *rec.EnergyPerSeqJ, want)
	}
	if rec.NetEnergyPerSeqJ == nil || *rec.NetEnergyPerSeqJ >= *rec.EnergyPerSeqJ+1e-12 && *rec.IdlePowerW > 0 {
		t.Errorf("net energy %v, want below gross %v", rec.NetEnergyPerSeqJ, *rec.EnergyPerSeqJ)
	}
	if rec.WindowStartS < 0.19 || rec.WindowEndS <= rec.WindowStartS {
		t.Errorf("window %v..%v s, want it to start after the 0.2 s idle baseline", rec.WindowStartS, rec.WindowEndS)
	}
	if len(rec.Trace) < 5 {
		t.Errorf("trace has %d points, want the idle and timed samples", len(rec.Trace))
	}
	if rec.Throttled == nil || *rec.Throttled {
		t.Errorf("throttled = %v, want false from the cool fixture", fmtBool(rec.Throttled))
	}
	if calls < 2 {
		t.Errorf("progress called %d times, want once per chunk of each run", calls)
	}
}

func TestProfileWithoutMeterIsLatencyOnly(t *testing.T) {
	a, err := arch.Preset("bert-tiny")
	if err != nil {
		t.Fatal(err)
	}
	p := &Profiler{Space: arch.Default(), SysRoot: "testdata/absent"}
	rec, err := p.Profile(context.Background(), engine.NewRunner(engine.Options{Threads: 1}), runner.Spec{Arch: a, Batch: 1, SeqLen: 8}, Settings{MinIters: 3}, Job{ID: "x#1", Device: "dev1"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Provenance != measure.Measured || rec.Power != nil || rec.EnergyPerSeqJ != nil || rec.PeakPowerW != nil {
		t.Errorf("record %q power %+v energy %v, want measured latency without power figures", rec.Provenance, rec.Power, rec.EnergyPerSeqJ)
	}
	if rec.Throttled != nil || rec.TemperaturesC != nil {
		t.Errorf("throttled %v temps %v, want nil without thermal sources", fmtBool(rec.Throttled), rec.TemperaturesC)
	}
}

func TestProfileCancelled(t *testing.T) {
	a, err := arch.Preset("bert-tiny")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := &Profiler{Space: arch.Default()}
	_, err = p.Profile(ctx, engine.NewRunner(engine.Options{}), runner.Spec{Arch: a, Batch: 1, SeqLen: 8}, Settings{MinIters: 3}, Job{ID: "x#1", Device: "d"})
	if err == nil {
		t.Error("Profile with a cancelled context succeeded")
	}
}

func TestProfileSmallRingLeavesEnergyOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs BERT-Tiny for about a second")
	}
	m, err := estimate.New(meter.NewDeps("/sys", "/proc", nil), estimate.Config{IdleW: 3, MaxW: 12})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, err := arch.Preset("bert-tiny")
	if err != nil {
		t.Fatal(err)
	}
	// Six samples at 50 ms hold 0.3 s; the run lasts at least 0.5 s, so the
	// ring has lost the start of the run when its window is read.
	p := &Profiler{Space: arch.Default(), Power: &Power{Meter: m, Interval: 50 * time.Millisecond, Capacity: 6}, SysRoot: "testdata/absent"}
	s := Settings{MinIters: 2, MinDuration: 500 * time.Millisecond, Repeats: 1}
	rec, err := p.Profile(context.Background(), engine.NewRunner(engine.Options{Threads: 1}), runner.Spec{Arch: a, Batch: 1, SeqLen: 8}, s, Job{ID: "r#1", Device: "dev1"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.EnergyPerSeqJ != nil {
		t.Errorf("energy per sequence %v J, want none from a partly overwritten window", *rec.EnergyPerSeqJ)
	}
	if rec.Power == nil || !strings.Contains(rec.Power.Note, "no longer holds") {
		t.Errorf("power %+v, want a note that the ring lost the window's start", rec.Power)
	}
}

func TestRingCapacityCoversDeadline(t *testing.T) {
	p := &Profiler{Power: &Power{Interval: 100 * time.Millisecond}}
	s := Settings{MinDuration: time.Second, Repeats: 3}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	tests := []struct {
		name string
		ctx  context.Context
		min  int
	}{
		// 6 s of runs plus 10 min of headroom at 10 samples a second.
		{"no deadline", context.Background(), 6060},
		// An hour to the deadline plus 10 min of headroom.
		{"hour deadline", ctx, 41990},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.ringCapacity(tt.ctx, s)
			if got < tt.min || got > MaxRingSamples {
				t.Errorf("capacity = %d, want %d to %d", got, tt.min, MaxRingSamples)
			}
		})
	}
}

func TestRateAveragesRunsWithWindows(t *testing.T) {
	if testing.Short() {
		t.Skip("runs BERT-Tiny for about a second")
	}
	m, err := estimate.New(meter.NewDeps("/sys", "/proc", nil), estimate.Config{IdleW: 3, MaxW: 12})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, err := arch.Preset("bert-tiny")
	if err != nil {
		t.Fatal(err)
	}
	// Six samples at 50 ms hold 0.3 s: the first 0.5 s run has no samples
	// left when the windows are read, the second has its last 0.25 s.
	p := &Profiler{Space: arch.Default(), Power: &Power{Meter: m, Interval: 50 * time.Millisecond, Capacity: 6}, SysRoot: "testdata/absent"}
	s := Settings{MinIters: 2, MinDuration: 500 * time.Millisecond, Repeats: 2}
	rec, err := p.Profile(context.Background(), engine.NewRunner(engine.Options{Threads: 1}), runner.Spec{Arch: a, Batch: 1, SeqLen: 8}, s, Job{ID: "r#1", Device: "dev1"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Power == nil || !strings.Contains(rec.Power.Note, "run 1") {
		t.Fatalf("power %+v, want a note that run 1 has no window", rec.Power)
	}
	// 20 Hz is asked for; halving it over both runs would give about 10 Hz.
	if rec.Power.RateHz < 14 {
		t.Errorf("rate = %v Hz, want near 20 Hz from the one run with samples", rec.Power.RateHz)
	}
}
