package codesign

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/edgetran/edgetran/shared/arch"
)

// Strategy is a search algorithm in ask-and-tell form: Propose returns
// candidates to evaluate and Observe receives their evaluations, in any
// later call. A strategy never evaluates anything itself, so the same code
// drives the offline oracle and live measurements.
type Strategy interface {
	// Name returns the strategy's name as used by --strategy.
	Name() string
	// Propose returns up to n candidates that the strategy has not proposed
	// before. It may return fewer, and returns an error only when it cannot
	// go on.
	Propose(ctx context.Context, n int) ([]Candidate, error)
	// Observe records evaluations of proposed candidates.
	Observe(evals []*Evaluation) error
}

// Strategy names.
const (
	StrategyBOSHCODE  = "boshcode"
	StrategyRandom    = "random"
	StrategyEvolution = "evolution"
)

// StrategyNames returns the built-in strategies in report order.
func StrategyNames() []string {
	return []string{StrategyBOSHCODE, StrategyRandom, StrategyEvolution}
}

// pairSpace samples and mutates architecture × target pairs.
type pairSpace struct {
	space   *arch.Space
	targets int
	seen    map[string]bool // candidates proposed so far
}

func newPairSpace(space *arch.Space, targets int) *pairSpace {
	return &pairSpace{space: space, targets: targets, seen: map[string]bool{}}
}

func (ps *pairSpace) candidate(a arch.Architecture, target int) Candidate {
	a = ps.space.Canonical(a)
	return Candidate{Arch: a, ArchID: ps.space.ID(a), Target: target}
}

func (ps *pairSpace) random(rng *rand.Rand) Candidate {
	return ps.candidate(ps.space.Random(rng), rng.IntN(ps.targets))
}

// mutate changes the target of c with probability 1/6 when there is more than
// one target, which weighs the move like one of the five architecture
// mutation operators, and otherwise applies one architecture mutation.
func (ps *pairSpace) mutate(rng *rand.Rand, c Candidate) Candidate {
	if ps.targets > 1 && rng.IntN(6) == 0 {
		t := rng.IntN(ps.targets - 1)
		if t >= c.Target {
			t++
		}
		return Candidate{Arch: c.Arch, ArchID: c.ArchID, Target: t}
	}
	return ps.candidate(ps.space.Mutate(rng, c.Arch), c.Target)
}

// claim marks c as proposed and reports whether it was new.
func (ps *pairSpace) claim(c Candidate) bool {
	k := c.key()
	if ps.seen[k] {
		return false
	}
	ps.seen[k] = true
	return true
}

// maxDraws bounds the attempts to find a new candidate, so a tiny design
// space that is exhausted ends the search instead of looping.
const maxDraws = 1000

// randomSearch proposes pairs drawn uniformly: a random architecture from
// Space.Random and a uniformly chosen target.
type randomSearch struct {
	ps  *pairSpace
	rng *rand.Rand
}

func newRandomSearch(ps *pairSpace, rng *rand.Rand) *randomSearch {
	return &randomSearch{ps: ps, rng: rng}
}

func (r *randomSearch) Name() string { return StrategyRandom }

func (r *randomSearch) Propose(_ context.Context, n int) ([]Candidate, error) {
	out := make([]Candidate, 0, n)
	for draws := 0; len(out) < n && draws < maxDraws*n; draws++ {
		if c := r.ps.random(r.rng); r.ps.claim(c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (r *randomSearch) Observe([]*Evaluation) error { return nil }

// EvolutionOptions configures regularised evolution. The zero value is
// usable: a population of 32 and tournaments of 8.
type EvolutionOptions struct {
	Population int // pairs alive at once; the oldest dies when a child is born
	Tournament int // pairs sampled per tournament; the best becomes a parent
}

// evolution is regularised (aging) evolution, Real et al., "Regularized
// Evolution for Image Classifier Architecture Search", AAAI 2019: the
// population is a queue, each child is a mutation of the best of a random
// tournament, and the oldest member dies, whatever its score.
type evolution struct {
	ps         *pairSpace
	rng        *rand.Rand
	population []*Evaluation // oldest first
	size       int
	tournament int
	pending    int // proposals of the initial random population not yet observed
}

func newEvolution(ps *pairSpace, rng *rand.Rand, opt EvolutionOptions) *evolution {
	size := cmp0(opt.Population, 32)
	return &evolution{ps: ps, rng: rng, size: size, tournament: min(cmp0(opt.Tournament, 8), size)}
}

func (e *evolution) Name() string { return StrategyEvolution }

func (e *evolution) Propose(_ context.Context, n int) ([]Candidate, error) {
	out := make([]Candidate, 0, n)
	for draws := 0; len(out) < n && draws < maxDraws*n; draws++ {
		var c Candidate
		if len(e.population)+e.pending < e.size || len(e.population) == 0 {
			c = e.ps.random(e.rng)
		} else {
			c = e.ps.mutate(e.rng, e.parent().Candidate)
		}
		if e.ps.claim(c) {
			out = append(out, c)
			if len(e.population)+e.pending < e.size {
				e.pending++
			}
		}
	}
	return out, nil
}

// parent returns the best of a tournament drawn without replacement.
func (e *evolution) parent() *Evaluation {
	var best *Evaluation
	for _, i := range e.rng.Perm(len(e.population))[:min(e.tournament, len(e.population))] {
		if p := e.population[i]; best == nil || p.score() < best.score() {
			best = p
		}
	}
	return best
}

func (e *evolution) Observe(evals []*Evaluation) error {
	for _, ev := range evals {
		if e.pending > 0 {
			e.pending--
		}
		e.population = append(e.population, ev)
		if len(e.population) > e.size {
			e.population = slices.Delete(e.population, 0, 1)
		}
	}
	return nil
}

// newStrategy returns the named strategy for problem p.
func newStrategy(name string, p *Problem, opt Options, seed uint64) (Strategy, error) {
	rng := rand.New(rand.NewPCG(seed, strategySalt(name)))
	ps := newPairSpace(p.Space, len(p.Targets))
	switch name {
	case StrategyRandom:
		return newRandomSearch(ps, rng), nil
	case StrategyEvolution:
		return newEvolution(ps, rng, opt.Evolution), nil
	case StrategyBOSHCODE:
		return newBOSHCODE(ps, rng, p, opt.BOSHCODE, seed), nil
	}
	return nil, fmt.Errorf("unknown strategy %q: want boshcode, random, evolution or all", name)
}

// strategySalt gives each strategy its own random stream for one seed.
func strategySalt(name string) uint64 {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return h
}
