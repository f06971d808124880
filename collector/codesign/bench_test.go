package codesign

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/edgetran/edgetran/shared/arch"
)

func publishedProblem(b *testing.B) *Problem {
	b.Helper()
	p, err := NewOfflineProblem(arch.Default(), publishedData(b), DefaultObjective(), nil, OracleOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkOracleEvaluate times one offline-oracle evaluation (the default
// gbdt per-target models) including accuracy, cost features and objective.
func BenchmarkOracleEvaluate(b *testing.B) {
	p := publishedProblem(b)
	rng := rand.New(rand.NewPCG(1, 2))
	ps := newPairSpace(p.Space, len(p.Targets))
	cands := make([]Candidate, 256)
	for i := range cands {
		cands[i] = ps.random(rng)
	}
	obj := p.effectiveObjective()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := evaluate(context.Background(), p, obj, cands[i%len(cands)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJointRefit times one BOSHCODE refit (a forest per modelled
// measure) on 1000 observations, the largest of a 1000-evaluation run.
func BenchmarkJointRefit(b *testing.B) {
	p := publishedProblem(b)
	s, err := newStrategy(StrategyRandom, p, Options{}, 1)
	if err != nil {
		b.Fatal(err)
	}
	cands, _ := s.Propose(context.Background(), 1000)
	evals, errs := evaluateBatch(context.Background(), p, p.effectiveObjective(), cands, 2)
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	bo := newBOSHCODE(newPairSpace(p.Space, len(p.Targets)), rand.New(rand.NewPCG(1, 1)), p, BOSHCODEOptions{}, 1)
	if err := bo.Observe(evals); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		bo.models = nil
		if err := bo.refit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearch times whole runs of 300 evaluations per strategy on the
// published oracle and reports the time per evaluation.
func BenchmarkSearch(b *testing.B) {
	p := publishedProblem(b)
	for _, name := range StrategyNames() {
		b.Run(name, func(b *testing.B) {
			const budget = 300
			for b.Loop() {
				if _, err := Run(context.Background(), p, Options{Strategies: []string{name}, Budget: budget, Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*budget), "s/eval")
		})
	}
}

// BenchmarkParetoIndices times the front of 1000 random points in four
// measures.
func BenchmarkParetoIndices(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	points := make([][]float64, 1000)
	for i := range points {
		points[i] = []float64{rng.Float64(), rng.Float64(), rng.Float64(), rng.Float64()}
	}
	for b.Loop() {
		ParetoIndices(points)
	}
}
