package campaign

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/arch"
)

// PoolItem is one measured architecture of a pool.
type PoolItem struct {
	Key   string            // the record's key in its dataset, for messages
	Arch  arch.Architecture // must be valid in the pool's space
	Value float64           // the metric's value, in its unit
}

// Pool is an Evaluator that picks only from a fixed set of measured
// architectures and returns their recorded values. Campaigns replayed on a
// pool compare strategies offline by the measurements they need.
type Pool struct {
	space *arch.Space
	items []PoolItem
	ids   []string
	wide  []bool
	byID  map[string]int
}

var _ Evaluator = (*Pool)(nil)

// NewPool returns a pool over items. Items must be valid in space (nil means
// arch.Default()) with positive values; an architecture listed twice keeps
// its first value.
func NewPool(space *arch.Space, items []PoolItem) (*Pool, error) {
	if space == nil {
		space = arch.Default()
	}
	if len(items) == 0 {
		return nil, errNoPool
	}
	feat, err := surrogate.NewFeaturizer(space, surrogate.ArchFeatures, 0)
	if err != nil {
		return nil, err
	}
	p := &Pool{space: space, byID: map[string]int{}}
	for _, it := range items {
		if !(it.Value > 0) {
			return nil, fmt.Errorf("pool item %s: value %v must be positive", it.Key, it.Value)
		}
		row := make([]float64, feat.Len())
		if err := feat.Row(row, it.Arch); err != nil {
			return nil, fmt.Errorf("pool item %s: %w", it.Key, err)
		}
		id := space.ID(it.Arch)
		if _, dup := p.byID[id]; dup {
			continue
		}
		p.byID[id] = len(p.items)
		p.items = append(p.items, it)
		p.ids = append(p.ids, id)
		p.wide = append(p.wide, arch.IsWide(it.Arch))
	}
	return p, nil
}

// Len returns the number of distinct architectures in the pool.
func (p *Pool) Len() int { return len(p.items) }

// Candidates returns up to n unmeasured pool items in random order.
func (p *Pool) Candidates(rng *rand.Rand, n int, measured map[string]bool) ([]Candidate, error) {
	var out []Candidate
	for _, i := range rng.Perm(len(p.items)) {
		if len(out) == n {
			break
		}
		if !measured[p.ids[i]] {
			out = append(out, Candidate{Arch: p.items[i].Arch, Wide: p.wide[i]})
		}
	}
	return out, nil
}

// Initial draws a Latin-hypercube sample of n architectures from the space
// (half narrow, half wide). A pool contains only what was measured, so each
// sample is replaced by the nearest unmeasured pool item of the same width
// class in standardised cost-feature space. When a class runs out, items of
// the other class are used.
func (p *Pool) Initial(rng *rand.Rand, n int, measured map[string]bool) ([]Candidate, error) {
	feat, err := surrogate.NewFeaturizer(p.space, surrogate.ArchFeatures, 0)
	if err != nil {
		return nil, err
	}
	lhs := p.space.LatinHypercube(rng, n)
	targets := make([][]float64, len(lhs))
	for i, a := range lhs {
		targets[i] = make([]float64, feat.Len())
		if err := feat.Row(targets[i], a); err != nil {
			return nil, fmt.Errorf("latin hypercube sample %d: %w", i, err)
		}
	}
	// Put the samples on the pool's scale: standardise them with the pool.
	all := standardise(append(append([][]float64{}, p.rawRows(feat)...), targets...))
	poolRows, scaled := all[:len(p.items)], all[len(p.items):]

	taken := map[int]bool{}
	var out []Candidate
	for i, a := range lhs {
		wide := arch.IsWide(a)
		best := p.nearest(poolRows, scaled[i], wide, true, measured, taken)
		if best < 0 {
			best = p.nearest(poolRows, scaled[i], wide, false, measured, taken)
		}
		if best < 0 {
			break
		}
		taken[best] = true
		out = append(out, Candidate{Arch: p.items[best].Arch, Wide: p.wide[best]})
	}
	return out, nil
}

func (p *Pool) rawRows(feat *surrogate.Featurizer) [][]float64 {
	rows := make([][]float64, len(p.items))
	for i, it := range p.items {
		rows[i] = make([]float64, feat.Len())
		_ = feat.Row(rows[i], it.Arch) // checked by NewPool
	}
	return rows
}

// nearest returns the unmeasured, untaken item whose row in poolRows is
// closest to row; sameClass restricts it to items whose width class is
// wide. It returns -1 when none is left.
func (p *Pool) nearest(poolRows [][]float64, row []float64, wide, sameClass bool, measured map[string]bool, taken map[int]bool) int {
	best, bestD := -1, 0.0
	for j := range p.items {
		if taken[j] || measured[p.ids[j]] || (sameClass && p.wide[j] != wide) {
			continue
		}
		d := squaredDistance(row, poolRows[j])
		if best < 0 || d < bestD {
			best, bestD = j, d
		}
	}
	return best
}

// Evaluate returns the recorded values of archs; an architecture not in the
// pool gets an Outcome.Err.
func (p *Pool) Evaluate(_ context.Context, archs []arch.Architecture) ([]Outcome, error) {
	out := make([]Outcome, len(archs))
	for i, a := range archs {
		j, ok := p.byID[p.space.ID(a)]
		if !ok {
			out[i].Err = fmt.Errorf("architecture %s is not in the pool", p.space.ID(a))
			continue
		}
		out[i] = Outcome{Value: p.items[j].Value, MeasurementID: p.items[j].Key}
	}
	return out, nil
}
