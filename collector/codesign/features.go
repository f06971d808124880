package codesign

import (
	"strconv"

	"github.com/edgetran/edgetran/shared/arch"
)

// featureCache memoises what BOSHCODE computes per architecture: the cost
// features at each target's input shape, their vector followed by a one-hot
// target vector (the joint-model input), and the predicted accuracy. Local
// search scores one architecture on every target, so the memo saves most of
// the work; reset bounds its memory between rounds.
type featureCache struct {
	p        *Problem
	features map[string]arch.Features // archID|shape → features
	vectors  map[string][]float64     // archID|shape → Features.Vector
	accuracy map[string]Estimate      // archID → predicted accuracy
}

func newFeatureCache(p *Problem) *featureCache {
	return &featureCache{p: p, features: map[string]arch.Features{}, vectors: map[string][]float64{}, accuracy: map[string]Estimate{}}
}

func (f *featureCache) shapeKey(c Candidate) string {
	t := f.p.Targets[c.Target]
	return c.ArchID + "|" + strconv.Itoa(t.Batch) + "x" + strconv.Itoa(t.SeqLen)
}

// costFeatures returns the cost features of c's architecture at its
// target's input shape.
func (f *featureCache) costFeatures(c Candidate) arch.Features {
	k := f.shapeKey(c)
	if v, ok := f.features[k]; ok {
		return v
	}
	t := f.p.Targets[c.Target]
	v := f.p.Space.Features(c.Arch, t.Batch, t.SeqLen)
	f.features[k] = v
	return v
}

// pair returns a fresh slice: the architecture's feature vector at the
// target's shape, then the target's one-hot entries.
func (f *featureCache) pair(c Candidate) []float64 {
	k := f.shapeKey(c)
	v, ok := f.vectors[k]
	if !ok {
		v = f.costFeatures(c).Vector()
		f.vectors[k] = v
	}
	out := make([]float64, len(v)+len(f.p.Targets))
	copy(out, v)
	out[len(v)+c.Target] = 1
	return out
}

// static returns the measures of c that need no evaluation: params and
// memory at the target's shape and, with an accuracy model, accuracy.
func (f *featureCache) static(c Candidate) map[Measure]Estimate {
	cf := f.costFeatures(c)
	out := map[Measure]Estimate{
		Params: {Mean: float64(cf.Params)},
		Memory: {Mean: float64(cf.MemoryBytes())},
	}
	if f.p.Accuracy != nil {
		acc, ok := f.accuracy[c.ArchID]
		if !ok {
			acc = f.p.Accuracy.PredictAccuracy(c.Arch)
			f.accuracy[c.ArchID] = acc
		}
		out[Accuracy] = acc
	}
	return out
}

// reset drops every memoised value.
func (f *featureCache) reset() {
	clear(f.features)
	clear(f.vectors)
	clear(f.accuracy)
}

// archFeatures returns the cost-feature vector of a at one input shape, the
// input of the per-target and accuracy surrogates.
func archFeatures(s *arch.Space, a arch.Architecture, batch, seqLen int) []float64 {
	return s.Features(a, batch, seqLen).Vector()
}
