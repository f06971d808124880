package engine

import (
	"math/rand/v2"
	"time"
)

// GEMMThroughput measures the engine's own matrix product of an m×k by k×n
// matrix and returns GFLOP/s, counting 2·m·n·k operations per product. The
// product is gonum's serial Sgemm kernel on tiles spread over threads
// goroutines (0 means runtime.GOMAXPROCS(0)). It repeats the product at
// least twice and until minDuration has passed. The result is the ceiling
// against which a whole model's speed can be judged.
func GEMMThroughput(m, n, k, threads int, minDuration time.Duration) float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(x []float32) {
		// Non-zero values: gonum skips zero entries of A.
		for i := range x {
			x[i] = rng.Float32() + 0.5
		}
	}
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	fill(a)
	fill(b)
	p := newPool(Options{Threads: threads}.threads())
	defer p.close()
	g := gemm{m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n}
	p.parallel(&g, g.tiles(), 1) // warm caches and the pool
	reps := 0
	start := time.Now()
	for reps < 2 || time.Since(start) < minDuration {
		p.parallel(&g, g.tiles(), 1)
		reps++
	}
	return 2 * float64(m) * float64(n) * float64(k) * float64(reps) / time.Since(start).Seconds() / 1e9
}
