package profile

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"

	"github.com/edgetran/edgetran/shared/measure"
)

// Memory bounds of a profile, independent of how long it runs.
const (
	// MaxChunk is the most iterations handed to one Model.Run call; the
	// chunk buffer is allocated once and reused for every chunk of every run.
	MaxChunk = 65536
	// MaxLatencySample is the most per-iteration latencies kept for the
	// percentiles (800 KB). Up to this count the percentiles are exact;
	// beyond it they are estimates over a uniform reservoir sample of all
	// timed iterations. Mean, Std, Min, Max and N are always exact.
	MaxLatencySample = 100_000
)

// latencyAcc summarises timed iterations in bounded memory: streaming
// moments (Welford), extremes, the first MaxIterationsKept latencies in
// order, and a reservoir sample (Algorithm R) for the percentiles. No
// library in go.mod keeps a reservoir, so it is written here.
type latencyAcc struct {
	n        int
	mean, m2 float64
	min, max float64
	first    []float64
	sample   []float64
	rng      *rand.Rand
}

func newLatencyAcc() *latencyAcc {
	// A fixed seed keeps the sample, and so the estimated percentiles, the
	// same for the same latencies.
	return &latencyAcc{rng: rand.New(rand.NewPCG(1, 2)), min: math.Inf(1), max: math.Inf(-1)}
}

// add records one latency in seconds.
func (a *latencyAcc) add(v float64) {
	a.n++
	d := v - a.mean
	a.mean += d / float64(a.n)
	a.m2 += d * (v - a.mean)
	a.min = min(a.min, v)
	a.max = max(a.max, v)
	if len(a.first) < MaxIterationsKept {
		a.first = append(a.first, v)
	}
	if len(a.sample) < MaxLatencySample {
		a.sample = append(a.sample, v)
		return
	}
	if j := a.rng.IntN(a.n); j < MaxLatencySample {
		a.sample[j] = v
	}
}

// stats returns the summary; Std is the sample standard deviation, 0 for
// one sample. It needs at least one latency.
func (a *latencyAcc) stats() measure.LatencyStats {
	sorted := slices.Clone(a.sample)
	slices.Sort(sorted)
	std := 0.0
	if a.n > 1 {
		std = math.Sqrt(a.m2 / float64(a.n-1))
	}
	return measure.LatencyStats{
		Mean: a.mean,
		P50:  stat.Quantile(0.50, stat.Empirical, sorted, nil),
		P90:  stat.Quantile(0.90, stat.Empirical, sorted, nil),
		P99:  stat.Quantile(0.99, stat.Empirical, sorted, nil),
		Std:  std,
		Min:  a.min,
		Max:  a.max,
		N:    a.n,
	}
}
