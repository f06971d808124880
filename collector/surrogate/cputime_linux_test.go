package surrogate

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// Scopes of getrusage(2).
const (
	rusageProcess = 0 // RUSAGE_SELF: every thread of the process
	rusageThread  = 1 // RUSAGE_THREAD: the calling thread only
)

// cpuTime returns the CPU time used so far in scope. Benchmarks report it
// beside wall time because the shared build machine is often
// oversubscribed, which inflates wall time but not CPU time.
func cpuTime(tb testing.TB, scope int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(scope, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU runs loop and reports its CPU time per iteration, and the
// iterations per CPU second under the name perSecond. Single-threaded work
// is measured on a locked thread; work that starts goroutines (gonum's
// optimize does) is measured over the whole process, which also counts the
// garbage collector.
func reportCPU(b *testing.B, scope int, perSecond string, loop func()) {
	if scope == rusageThread {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	start := cpuTime(b, scope)
	loop()
	cpu := cpuTime(b, scope) - start
	perOp := float64(cpu.Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp, "cpu-ns/op")
	if perOp > 0 {
		b.ReportMetric(1e9/perOp, perSecond)
	}
}
