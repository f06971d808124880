package surrogate

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// rusageThread is RUSAGE_THREAD of getrusage(2): the calling thread only.
const rusageThread = 1

// threadCPU returns the CPU time the calling OS thread has used. Benchmarks
// report it beside wall time because the shared build machine is often
// oversubscribed, which inflates wall time but not CPU time.
func threadCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU runs loop on a locked thread and reports its CPU time per
// iteration and the implied predictions per CPU second.
func reportCPU(b *testing.B, loop func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU(b)
	loop()
	cpu := threadCPU(b) - start
	perOp := float64(cpu.Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp, "cpu-ns/op")
	if perOp > 0 {
		b.ReportMetric(1e9/perOp, "pred/cpu-s")
	}
}
