package profile

import (
	"context"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/shared/arch"
)

// clockRunner prepares clockModels: models whose iterations take a fixed
// step on a clock of their own, so a run's length in iterations follows from
// MinDuration without waiting for it.
type clockRunner struct{ step time.Duration }

func (r clockRunner) Info() runner.Info {
	return runner.Info{Name: "clock", Runtime: "external", ComputeUnit: "cpu"}
}

func (r clockRunner) Prepare(context.Context, runner.Spec) (runner.Model, error) {
	return &clockModel{step: r.step, now: time.Now()}, nil
}

type clockModel struct {
	step time.Duration
	now  time.Time
	i    int
}

func (m *clockModel) Run(_ context.Context, out []runner.Iteration) (int, error) {
	for k := range out {
		// Every seventh pass is three steps long so the latencies vary.
		d := m.step
		if m.i%7 == 0 {
			d = 3 * m.step
		}
		m.i++
		out[k] = runner.Iteration{Start: m.now, End: m.now.Add(d)}
		m.now = m.now.Add(d)
	}
	return len(out), nil
}

func (m *clockModel) MemoryBytes() int64 { return 0 }
func (m *clockModel) Close() error       { return nil }

// profileAlloc returns the bytes allocated by one latency-only profile with
// s on the model's clock, and the iterations it timed.
func profileAlloc(t *testing.T, s Settings) (uint64, int) {
	t.Helper()
	a, err := arch.Preset("bert-tiny")
	if err != nil {
		t.Fatal(err)
	}
	p := &Profiler{Space: arch.Default(), SysRoot: "testdata/absent"}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rec, err := p.Profile(context.Background(), clockRunner{step: time.Microsecond}, runner.Spec{Arch: a, Batch: 1, SeqLen: 8}, s, Job{ID: "m#1", Device: "dev1"})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	return after.TotalAlloc - before.TotalAlloc, rec.Latency.N
}

func TestLongRunMemoryStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("times two million fake iterations")
	}
	short, nShort := profileAlloc(t, Settings{MinIters: 10, MinDuration: 100 * time.Millisecond, Repeats: 2})
	long, nLong := profileAlloc(t, Settings{MinIters: 10, MinDuration: time.Second, Repeats: 2})
	if nLong < 9*nShort {
		t.Fatalf("long profile timed %d iterations, short %d; want about ten times as many", nLong, nShort)
	}
	if ratio := float64(long) / float64(short); ratio > 2 {
		t.Errorf("long profile allocated %d bytes, short %d (×%.1f); want about the same", long, short, ratio)
	}
}

func TestLongWarmupMemoryStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a million fake iterations")
	}
	short, _ := profileAlloc(t, Settings{Warmup: 100_000, MinIters: 10})
	long, _ := profileAlloc(t, Settings{Warmup: 1_000_000, MinIters: 10})
	if ratio := float64(long) / float64(short); ratio > 2 {
		t.Errorf("long warm-up allocated %d bytes, short %d (×%.1f); want about the same", long, short, ratio)
	}
}

func TestLatencyAccMatchesExactStats(t *testing.T) {
	var v []float64
	acc := newLatencyAcc()
	for i := range 5000 {
		x := float64(i%97+1) / 1000
		v = append(v, x)
		acc.add(x)
	}
	want := LatencyStats(v)
	got := acc.stats()
	for name, pair := range map[string][2]float64{
		"mean": {got.Mean, want.Mean}, "std": {got.Std, want.Std}, "p50": {got.P50, want.P50},
		"p90": {got.P90, want.P90}, "p99": {got.P99, want.P99}, "min": {got.Min, want.Min}, "max": {got.Max, want.Max},
	} {
		if math.Abs(pair[0]-pair[1]) > 1e-12 {
			t.Errorf("%s = %v, want %v", name, pair[0], pair[1])
		}
	}
	if got.N != 5000 || len(acc.first) != MaxIterationsKept {
		t.Errorf("n = %d with %d kept, want 5000 with %d kept", got.N, len(acc.first), MaxIterationsKept)
	}
}

func TestLatencyAccSampleIsBounded(t *testing.T) {
	acc := newLatencyAcc()
	// Latencies 1..10 ms in equal shares: the sampled p50 lands near 5 ms.
	for i := range 3 * MaxLatencySample {
		acc.add(float64(i%10+1) / 1000)
	}
	got := acc.stats()
	if len(acc.sample) != MaxLatencySample || got.N != 3*MaxLatencySample {
		t.Fatalf("sample %d of n %d, want %d of %d", len(acc.sample), got.N, MaxLatencySample, 3*MaxLatencySample)
	}
	if got.P50 < 0.004 || got.P50 > 0.006 || got.Min != 0.001 || got.Max != 0.010 {
		t.Errorf("p50 %v min %v max %v, want p50 near 0.005, min 0.001, max 0.010", got.P50, got.Min, got.Max)
	}
}
