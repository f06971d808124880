package codesign

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// BOSHCODEOptions configures the surrogate-guided search. The zero value is
// usable; each field documents its default.
type BOSHCODEOptions struct {
	// Initial is the number of pairs sampled before the first fit, from a
	// Latin hypercube over the design space with targets in turn; 0 means 16.
	Initial int
	// Kappa weighs the uncertainty in the acquisition mean − Kappa·std
	// (a lower confidence bound, since the objective is minimised); 0 means 1.
	Kappa float64
	// Starts is the number of best observed pairs that seed the local
	// search each round; 0 means 8.
	Starts int
	// Restarts is the number of random pairs added to the seeds each round,
	// so the search keeps exploring far from the best points; 0 means 64.
	Restarts int
	// Neighbours is the number of mutations tried per pair in one local
	// search step; 0 means 8.
	Neighbours int
	// Steps is the number of local search steps per round; each step mutates
	// the best pairs found so far by the acquisition; 0 means 3.
	Steps int
	// Surrogate returns a fresh joint model; nil means a Forest with the
	// given seed.
	Surrogate func(seed uint64) Surrogate
}

// boshcode is the EdgeTran co-design search: a joint surrogate over
// architecture features and a one-hot target vector predicts the score
// with uncertainty; each round it is refitted on every evaluation and the
// batch to evaluate is chosen by minimising the lower confidence bound with
// mutation-based local search from the best pairs plus random restarts. Each
// architecture met in the local search is scored on every target, because
// changing the device is the cheapest move of all.
type boshcode struct {
	ps       *pairSpace
	rng      *rand.Rand
	p        *Problem
	opt      BOSHCODEOptions
	seed     uint64
	obj      Objective
	features *featureCache

	observed []*Evaluation
	x        [][]float64 // joint-model inputs of observed, in order
	y        []float64   // hardware part of the score of observed: score − prior offset
	fitted   int         // len(observed) at the last fit
	model    Surrogate
	initial  []Candidate // Latin hypercube pairs not yet proposed

	fitTime time.Duration
	refits  int
}

func newBOSHCODE(ps *pairSpace, rng *rand.Rand, p *Problem, opt BOSHCODEOptions, seed uint64) *boshcode {
	opt.Initial = cmp0(opt.Initial, 16)
	if opt.Kappa <= 0 {
		opt.Kappa = 1
	}
	opt.Starts = cmp0(opt.Starts, 8)
	opt.Restarts = cmp0(opt.Restarts, 64)
	opt.Neighbours = cmp0(opt.Neighbours, 8)
	opt.Steps = cmp0(opt.Steps, 3)
	if opt.Surrogate == nil {
		opt.Surrogate = func(seed uint64) Surrogate { return NewForest(seed) }
	}
	b := &boshcode{ps: ps, rng: rng, p: p, opt: opt, seed: seed, obj: p.effectiveObjective(), features: newFeatureCache(p)}
	for i, a := range p.Space.LatinHypercube(rng, opt.Initial) {
		b.initial = append(b.initial, ps.candidate(a, i%len(p.Targets)))
	}
	return b
}

func (b *boshcode) Name() string { return StrategyBOSHCODE }

// FitStats returns the time spent fitting the joint surrogate and the
// number of fits.
func (b *boshcode) FitStats() (time.Duration, int) { return b.fitTime, b.refits }

func (b *boshcode) Observe(evals []*Evaluation) error {
	for _, e := range evals {
		b.observed = append(b.observed, e)
		b.x = append(b.x, b.features.pair(e.Candidate))
		b.y = append(b.y, e.score()-priorOf(b.p, b.obj, e.Candidate).offset())
	}
	b.features.reset()
	return nil
}

func (b *boshcode) Propose(ctx context.Context, n int) ([]Candidate, error) {
	var out []Candidate
	for len(b.initial) > 0 && len(out) < n {
		c := b.initial[0]
		b.initial = b.initial[1:]
		if b.ps.claim(c) {
			out = append(out, c)
		}
	}
	if len(out) > 0 || len(b.observed) < 2 {
		// Fill a short first batch at random, so a small Initial still
		// yields a full batch.
		for draws := 0; len(out) < n && draws < maxDraws*n; draws++ {
			if c := b.ps.random(b.rng); b.ps.claim(c) {
				out = append(out, c)
			}
		}
		return out, nil
	}

	if err := b.refit(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.acquire(n), nil
}

// refit fits a fresh joint model on every observation, unless nothing new
// arrived since the last fit.
func (b *boshcode) refit() error {
	if b.fitted == len(b.observed) && b.model != nil {
		return nil
	}
	start := time.Now()
	model := b.opt.Surrogate(b.seed + uint64(b.refits))
	if err := model.Fit(b.x, b.y); err != nil {
		return err
	}
	b.model, b.fitted = model, len(b.observed)
	b.fitTime += time.Since(start)
	b.refits++
	return nil
}

// scored is a pair with its acquisition value.
type scored struct {
	c   Candidate
	lcb float64
}

// acquire returns up to n unproposed pairs with the lowest lower confidence
// bound found by local search.
func (b *boshcode) acquire(n int) []Candidate {
	defer b.features.reset()
	pool := map[string]scored{}
	add := func(c Candidate) {
		// Score the architecture on every target and keep each pair.
		for t := range b.p.Targets {
			ct := Candidate{Arch: c.Arch, ArchID: c.ArchID, Target: t}
			k := ct.key()
			if _, ok := pool[k]; ok {
				continue
			}
			mean, std := b.model.Predict(b.features.pair(ct))
			pool[k] = scored{c: ct, lcb: priorOf(b.p, b.obj, ct).offset() + mean - b.opt.Kappa*std}
		}
	}

	// Seeds: the best observed pairs and random restarts.
	best := slices.Clone(b.observed)
	sort.SliceStable(best, func(i, j int) bool { return best[i].score() < best[j].score() })
	for _, e := range best[:min(b.opt.Starts, len(best))] {
		add(e.Candidate)
	}
	for range b.opt.Restarts {
		add(b.ps.random(b.rng))
	}

	// Local search: mutate the pairs with the lowest bound so far.
	for range b.opt.Steps {
		for _, s := range b.ranked(pool)[:min(b.opt.Starts*2, len(pool))] {
			for range b.opt.Neighbours {
				add(b.ps.mutate(b.rng, s.c))
			}
		}
	}

	out := make([]Candidate, 0, n)
	for _, s := range b.ranked(pool) {
		if len(out) == n {
			break
		}
		if b.ps.claim(s.c) {
			out = append(out, s.c)
		}
	}
	for draws := 0; len(out) < n && draws < maxDraws*n; draws++ {
		if c := b.ps.random(b.rng); b.ps.claim(c) {
			out = append(out, c)
		}
	}
	return out
}

// ranked returns the pool sorted by bound, ties broken by key so the order
// does not depend on map iteration.
func (b *boshcode) ranked(pool map[string]scored) []scored {
	out := make([]scored, 0, len(pool))
	for _, s := range pool {
		if !math.IsNaN(s.lcb) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].lcb != out[j].lcb {
			return out[i].lcb < out[j].lcb
		}
		return out[i].c.key() < out[j].c.key()
	})
	return out
}
