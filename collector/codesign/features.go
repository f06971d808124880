package codesign

import (
	"strconv"

	"github.com/edgetran/edgetran/shared/arch"
)

// featureCache builds surrogate inputs: the cost-feature vector of an
// architecture at a target's input shape (arch.Features.Vector), followed by
// a one-hot vector of the target for the joint model. Vectors are memoised
// per architecture and input shape until reset, because local search scores
// one architecture on every target.
type featureCache struct {
	p    *Problem
	memo map[string][]float64
}

func newFeatureCache(p *Problem) *featureCache {
	return &featureCache{p: p, memo: map[string][]float64{}}
}

// archVector returns the cost features of a at the shape of target t.
func (f *featureCache) archVector(c Candidate) []float64 {
	t := f.p.Targets[c.Target]
	k := c.ArchID + "|" + shapeKey(t.Batch, t.SeqLen)
	if v, ok := f.memo[k]; ok {
		return v
	}
	v := f.p.Space.Features(c.Arch, t.Batch, t.SeqLen).Vector()
	f.memo[k] = v
	return v
}

// pair returns a fresh slice: the architecture's features then the target's
// one-hot entries.
func (f *featureCache) pair(c Candidate) []float64 {
	v := f.archVector(c)
	out := make([]float64, len(v)+len(f.p.Targets))
	copy(out, v)
	out[len(v)+c.Target] = 1
	return out
}

// reset drops memoised vectors, bounding memory across search rounds.
func (f *featureCache) reset() { clear(f.memo) }

func shapeKey(batch, seqLen int) string {
	return strconv.Itoa(batch) + "x" + strconv.Itoa(seqLen)
}

// archFeatures returns the cost-feature vector of a at one input shape, the
// input of the per-target and accuracy surrogates.
func archFeatures(s *arch.Space, a arch.Architecture, batch, seqLen int) []float64 {
	return s.Features(a, batch, seqLen).Vector()
}
