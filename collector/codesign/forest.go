package codesign

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Surrogate is a regressor with uncertainty: the joint model BOSHCODE fits
// over (architecture features, target) and the per-target models of the
// offline oracle. Fit may be called again with a larger data set; it
// replaces the previous fit. Predict must be safe for concurrent use after
// Fit returns.
type Surrogate interface {
	Fit(x [][]float64, y []float64) error
	Predict(x []float64) (mean, std float64)
}

// Forest is a randomised regression forest whose prediction spread across
// trees serves as the uncertainty, as in SMAC-style Bayesian optimisation.
// Each tree is grown on a bootstrap sample. Each node tries MaxFeatures
// random features with Thresholds random cut points each, as extremely
// randomised trees do, so a refit is cheap enough to run every search round.
//
// It is written here rather than imported because no pure-Go library in the
// module graph offers a regression forest that exposes per-tree
// predictions.
//
// The zero value is usable: 32 trees, features/3 per node, 4 thresholds,
// leaves of at least 2 samples, depth at most 24, seed 0.
type Forest struct {
	Trees       int
	MaxFeatures int // features tried per node; 0 means max(1, features/3)
	Thresholds  int // random cut points per feature; 0 means 4
	MinLeaf     int // minimum samples per leaf; 0 means 2
	MaxDepth    int // 0 means 24
	Seed        uint64

	trees [][]treeNode
}

type treeNode struct {
	feature   int // -1 for a leaf
	threshold float64
	left      int32
	right     int32
	value     float64
}

// NewForest returns a forest with the default settings and the given seed.
func NewForest(seed uint64) *Forest { return &Forest{Seed: seed} }

// Fit grows the forest on rows x (all of one length) and targets y. It
// fails on empty or ragged input and on non-finite values.
func (f *Forest) Fit(x [][]float64, y []float64) error {
	if len(x) == 0 || len(x) != len(y) {
		return fmt.Errorf("forest fit: %d rows and %d targets; want the same positive number", len(x), len(y))
	}
	d := len(x[0])
	if d == 0 {
		return errors.New("forest fit: rows have no features")
	}
	for i, row := range x {
		if len(row) != d {
			return fmt.Errorf("forest fit: row %d has %d features, row 0 has %d", i, len(row), d)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("forest fit: row %d feature %d is %v; features must be finite", i, j, v)
			}
		}
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return fmt.Errorf("forest fit: target %d is %v; targets must be finite", i, y[i])
		}
	}

	ntrees := cmp0(f.Trees, 32)
	b := builder{
		x: x, y: y,
		mtry:       cmp0(f.MaxFeatures, max(1, d/3)),
		thresholds: cmp0(f.Thresholds, 4),
		minLeaf:    cmp0(f.MinLeaf, 2),
		maxDepth:   cmp0(f.MaxDepth, 24),
		rng:        rand.New(rand.NewPCG(f.Seed, 0x9e3779b97f4a7c15)),
	}
	b.mtry = min(b.mtry, d)
	f.trees = make([][]treeNode, ntrees)
	idx := make([]int, len(x))
	for t := range f.trees {
		for i := range idx {
			idx[i] = b.rng.IntN(len(x))
		}
		b.nodes = nil
		b.grow(idx, 0)
		f.trees[t] = b.nodes
	}
	return nil
}

// Predict returns the mean of the trees' predictions and their standard
// deviation. It returns (NaN, NaN) before the first Fit.
func (f *Forest) Predict(x []float64) (mean, std float64) {
	if len(f.trees) == 0 {
		return math.NaN(), math.NaN()
	}
	var sum, sumSq float64
	for _, nodes := range f.trees {
		n := int32(0)
		for nodes[n].feature >= 0 {
			if x[nodes[n].feature] <= nodes[n].threshold {
				n = nodes[n].left
			} else {
				n = nodes[n].right
			}
		}
		v := nodes[n].value
		sum += v
		sumSq += v * v
	}
	k := float64(len(f.trees))
	mean = sum / k
	return mean, math.Sqrt(max(0, sumSq/k-mean*mean))
}

type builder struct {
	x          [][]float64
	y          []float64
	mtry       int
	thresholds int
	minLeaf    int
	maxDepth   int
	rng        *rand.Rand
	nodes      []treeNode
}

// grow appends the subtree over the samples idx and returns its index. It
// reorders idx in place.
func (b *builder) grow(idx []int, depth int) int32 {
	self := int32(len(b.nodes))
	sum := 0.0
	for _, i := range idx {
		sum += b.y[i]
	}
	b.nodes = append(b.nodes, treeNode{feature: -1, value: sum / float64(len(idx))})
	if len(idx) < 2*b.minLeaf || depth >= b.maxDepth {
		return self
	}

	feature, threshold, ok := b.bestSplit(idx, sum)
	if !ok {
		return self
	}
	// Partition idx so samples going left come first.
	l := 0
	for r := range idx {
		if b.x[idx[r]][feature] <= threshold {
			idx[l], idx[r] = idx[r], idx[l]
			l++
		}
	}
	left := b.grow(idx[:l], depth+1)
	right := b.grow(idx[l:], depth+1)
	b.nodes[self] = treeNode{feature: feature, threshold: threshold, left: left, right: right}
	return self
}

// bestSplit tries random cut points on random features and returns the one
// with the largest reduction of the squared error, or false when no cut
// leaves MinLeaf samples on both sides or reduces the error.
func (b *builder) bestSplit(idx []int, sum float64) (int, float64, bool) {
	n := float64(len(idx))
	base := sum * sum / n
	bestGain, bestFeature, bestThreshold := 1e-12*math.Abs(base), -1, 0.0
	for _, feature := range b.rng.Perm(len(b.x[0]))[:b.mtry] {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, i := range idx {
			v := b.x[i][feature]
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo == hi {
			continue
		}
		for range b.thresholds {
			threshold := lo + b.rng.Float64()*(hi-lo)
			var sumL float64
			nL := 0
			for _, i := range idx {
				if b.x[i][feature] <= threshold {
					sumL += b.y[i]
					nL++
				}
			}
			nR := len(idx) - nL
			if nL < b.minLeaf || nR < b.minLeaf {
				continue
			}
			sumR := sum - sumL
			gain := sumL*sumL/float64(nL) + sumR*sumR/float64(nR) - base
			if gain > bestGain {
				bestGain, bestFeature, bestThreshold = gain, feature, threshold
			}
		}
	}
	return bestFeature, bestThreshold, bestFeature >= 0
}

// cmp0 returns v, or def when v is zero or negative.
func cmp0(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}
