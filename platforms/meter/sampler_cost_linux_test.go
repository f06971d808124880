package meter_test

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/edgetran/edgetran/platforms/internal/fixture"
	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/platforms/rapl"
)

// TestSamplerCPUCost runs the sampler at 1 kHz on the intel-client RAPL
// fixture for EDGETRAN_SAMPLER_COST (e.g. "10s") and logs the process CPU
// time (user+system from getrusage) as a share of one core. It first runs
// a bare 1 kHz ticker for the same time, the floor any 1 kHz sampler pays
// for its wake-ups. It is a measurement for docs/benchmarks.md, not a
// check, so it is skipped unless the variable is set.
func TestSamplerCPUCost(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("EDGETRAN_SAMPLER_COST"))
	if err != nil {
		t.Skip("set EDGETRAN_SAMPLER_COST=10s to measure the sampler's CPU cost")
	}
	root := fixture.Unpack(t, "../rapl/testdata/intel-client.txtar")
	m, err := rapl.New(meter.NewDeps(root, root, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := meter.NewSampler(m, time.Millisecond, int(d/time.Millisecond)+1000)

	ticks, tickCPU, tickWall := bareTicker(t, d)
	t.Logf("bare 1 kHz ticker for %v: %d wake-ups, CPU %v = %.2f%% of one core",
		tickWall.Round(time.Millisecond), ticks, tickCPU.Round(time.Millisecond), 100*tickCPU.Seconds()/tickWall.Seconds())

	var before, after syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &before); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.Start(context.Background())
	time.Sleep(d)
	s.Stop()
	wall := time.Since(start)
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &after); err != nil {
		t.Fatal(err)
	}
	cpu := time.Duration(after.Utime.Nano()-before.Utime.Nano()) + time.Duration(after.Stime.Nano()-before.Stime.Nano())
	sum, err := s.Window(start, start.Add(wall))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sampler at 1 kHz for %v: %d samples (%.0f Hz achieved), CPU %v = %.2f%% of one core",
		wall.Round(time.Millisecond), sum.Samples, sum.RateHz, cpu.Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds())
}

// bareTicker wakes every millisecond for d doing nothing else and returns
// the wake-ups, the process CPU time and the wall time.
func bareTicker(t *testing.T, d time.Duration) (int, time.Duration, time.Duration) {
	var before, after syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &before); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ticker := time.NewTicker(time.Millisecond)
	n := 0
	for time.Since(start) < d {
		<-ticker.C
		n++
	}
	ticker.Stop()
	wall := time.Since(start)
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &after); err != nil {
		t.Fatal(err)
	}
	cpu := time.Duration(after.Utime.Nano()-before.Utime.Nano()) + time.Duration(after.Stime.Nano()-before.Stime.Nano())
	return n, cpu, wall
}
