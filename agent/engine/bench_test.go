package engine

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/shared/arch"
)

// benchForward reports ns/op, allocations and GFLOP/s (design-space FLOP
// count per pass) of one forward pass of a at batch 1, sequence 128.
func benchForward(b *testing.B, a arch.Architecture) {
	const batch, seq = 1, 128
	m, err := New(runner.Spec{Arch: a, Batch: batch, SeqLen: seq, Seed: 1}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	flops := arch.Default().Features(a, batch, seq).FLOPs()
	ctx := context.Background()
	// Finish the garbage collection that New's allocations start, then run
	// one pass: each collection empties the runtime's cache of wait-queue
	// entries (sudogs), and the first blocking wait after it allocates one.
	runtime.GC()
	if err := m.Forward(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Forward(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkPresets(b *testing.B) {
	for _, name := range []string{"bert-tiny", "bert-mini", "bert-base"} {
		b.Run(name, func(b *testing.B) { benchForward(b, mustPreset(b, name)) })
	}
}

// BenchmarkSampled runs a fixed set of 20 architectures drawn from the
// default space with seed 2026.
func BenchmarkSampled(b *testing.B) {
	rng := rand.New(rand.NewPCG(2026, 0))
	space := arch.Default()
	for i := range 20 {
		a := space.Random(rng)
		b.Run(strconv.Itoa(i)+"-"+space.ID(a)[:8], func(b *testing.B) { benchForward(b, a) })
	}
}

func BenchmarkGEMM(b *testing.B) {
	shapes := []struct{ m, n, k int }{{128, 768, 768}, {128, 3072, 768}, {128, 768, 3072}}
	for _, s := range shapes {
		b.Run(strconv.Itoa(s.m)+"x"+strconv.Itoa(s.k)+"x"+strconv.Itoa(s.n), func(b *testing.B) {
			a, w, c := make([]float32, s.m*s.k), make([]float32, s.k*s.n), make([]float32, s.m*s.n)
			for i := range a {
				a[i] = 1
			}
			p := newPool(Options{}.threads())
			defer p.close()
			g := gemm{m: s.m, n: s.n, k: s.k, a: a, lda: s.k, b: w, ldb: s.n, c: c, ldc: s.n}
			b.ReportAllocs()
			for b.Loop() {
				p.parallel(&g, g.tiles(), 1)
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
