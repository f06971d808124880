package surrogate

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// GBDT is an ensemble of gradient-boosted regression tree models (J. H.
// Friedman, "Greedy Function Approximation: A Gradient Boosting Machine",
// Annals of Statistics 29(5), 2001) with squared loss, histogram splits,
// shrinkage and row subsampling.
//
// Each of Members boosters is fitted independently on its own random subset
// of BagFraction of the rows, with its own seed. Booster m predicts
// f_m(x) = ȳ + Σ_t ν·tree_t(x). The ensemble predicts the mean of the f_m,
// and its variance is the variance of the f_m plus the mean squared
// out-of-bag residual, so the standard deviation covers the noise of the
// measurements as well as disagreement between boosters.
//
// Zero-valued settings take the defaults stated on each field. On the
// published data, 100 rounds at ν = 0.15 score as well as 300 at ν = 0.05
// in 5-fold cross-validation and predict three times faster.
type GBDT struct {
	Members     int     `json:"members"`      // boosters; 0 means 5
	Rounds      int     `json:"rounds"`       // trees per booster; 0 means 100
	MaxDepth    int     `json:"max_depth"`    // 0 means 3
	Shrinkage   float64 `json:"shrinkage"`    // ν; 0 means 0.15
	Subsample   float64 `json:"subsample"`    // share of a booster's rows drawn per tree; 0 means 0.8
	BagFraction float64 `json:"bag_fraction"` // share of rows per booster; 0 means 0.8
	Bins        int     `json:"bins"`         // histogram bins per feature; 0 means 64
	MinLeaf     int     `json:"min_leaf"`     // minimum rows per leaf; 0 means 3

	// Fitted state, set by Fit.
	Boosters    []Booster `json:"boosters"`
	ResidualVar float64   `json:"residual_var"` // mean squared out-of-bag residual
}

// Booster is one fitted boosted model: Base + Σ trees.
type Booster struct {
	Base  float64 `json:"base"`
	Trees []*Tree `json:"trees"`
}

func (b *Booster) predict(x []float64) float64 {
	v := b.Base
	for _, t := range b.Trees {
		v += t.Predict(x)
	}
	return v
}

func (m *GBDT) defaults() GBDT {
	c := *m
	c.Members = orInt(c.Members, 5)
	c.Rounds = orInt(c.Rounds, 100)
	c.MaxDepth = orInt(c.MaxDepth, 3)
	c.Shrinkage = orFloat(c.Shrinkage, 0.15)
	c.Subsample = orFloat(c.Subsample, 0.8)
	c.BagFraction = orFloat(c.BagFraction, 0.8)
	c.Bins = orInt(c.Bins, 64)
	c.MinLeaf = orInt(c.MinLeaf, 3)
	return c
}

// Fit fits the ensemble to rows x and targets y with randomness from rng.
func (m *GBDT) Fit(x [][]float64, y []float64, rng *rand.Rand) error {
	if err := checkData(x, y); err != nil {
		return err
	}
	c := m.defaults()
	n, d := len(y), len(x[0])
	h := newHistogramData(x, c.Bins)

	m.Boosters = make([]Booster, c.Members)
	oobSum := make([]float64, n)
	oobCount := make([]int, n)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for k := range c.Members {
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		nBag := max(min(n, int(math.Round(c.BagFraction*float64(n)))), min(n, 2))
		bag := slices.Clone(perm[:nBag])
		m.Boosters[k] = c.fitBooster(h, y, bag, d, rng)
		for _, i := range perm[nBag:] {
			oobSum[i] += m.Boosters[k].predict(x[i])
			oobCount[i]++
		}
	}

	var ss float64
	var cnt int
	for i := range n {
		if oobCount[i] > 0 {
			r := y[i] - oobSum[i]/float64(oobCount[i])
			ss += r * r
			cnt++
		}
	}
	m.ResidualVar = 0
	if cnt > 0 {
		m.ResidualVar = ss / float64(cnt)
	}
	return nil
}

// Predict returns the ensemble mean and standard deviation at x.
func (m *GBDT) Predict(x []float64) (mean, std float64) {
	var s, ss float64
	for k := range m.Boosters {
		v := m.Boosters[k].predict(x)
		s += v
		ss += v * v
	}
	n := float64(len(m.Boosters))
	mean = s / n
	spread := max(ss/n-mean*mean, 0)
	return mean, math.Sqrt(spread + m.ResidualVar)
}

// histogramData holds the bin of every row and feature, with thresholds in
// feature units: bin b of feature j holds values <= edges[j][b] (and above
// edges[j][b-1]).
type histogramData struct {
	x     [][]float64
	bins  [][]uint16 // bins[i][j]
	edges [][]float64
}

func newHistogramData(x [][]float64, maxBins int) *histogramData {
	n, d := len(x), len(x[0])
	h := &histogramData{x: x, bins: make([][]uint16, n), edges: make([][]float64, d)}
	col := make([]float64, n)
	for j := range d {
		for i := range n {
			col[i] = x[i][j]
		}
		slices.Sort(col)
		uniq := slices.Compact(slices.Clone(col))
		var edges []float64
		if len(uniq) <= maxBins {
			for k := 0; k+1 < len(uniq); k++ {
				edges = append(edges, uniq[k]+(uniq[k+1]-uniq[k])/2)
			}
		} else {
			for b := 1; b < maxBins; b++ {
				q := col[b*n/maxBins]
				if len(edges) == 0 || q > edges[len(edges)-1] {
					edges = append(edges, q)
				}
			}
		}
		h.edges[j] = edges
	}
	for i := range n {
		row := make([]uint16, d)
		for j := range d {
			row[j] = uint16(sort.SearchFloat64s(h.edges[j], x[i][j]))
		}
		h.bins[i] = row
	}
	return h
}

func (c *GBDT) fitBooster(h *histogramData, y []float64, rows []int, d int, rng *rand.Rand) Booster {
	base := 0.0
	for _, i := range rows {
		base += y[i]
	}
	base /= float64(len(rows))
	b := Booster{Base: base}
	resid := make([]float64, len(y))
	for _, i := range rows {
		resid[i] = y[i] - base
	}
	nSub := max(min(len(rows), int(math.Round(c.Subsample*float64(len(rows))))), 1)
	sub := slices.Clone(rows)
	g := &histGrower{h: h, resid: resid, maxDepth: c.MaxDepth, minLeaf: c.MinLeaf, shrink: c.Shrinkage, d: d}
	for range c.Rounds {
		rng.Shuffle(len(sub), func(i, j int) { sub[i], sub[j] = sub[j], sub[i] })
		t := &Tree{}
		g.tree = t
		g.grow(slices.Clone(sub[:nSub]), 0)
		t.Compile()
		for _, i := range rows {
			resid[i] -= t.Predict(h.x[i])
		}
		b.Trees = append(b.Trees, t)
	}
	return b
}

type histGrower struct {
	h        *histogramData
	resid    []float64
	maxDepth int
	minLeaf  int
	shrink   float64
	d        int
	tree     *Tree
}

func (g *histGrower) grow(rows []int, depth int) int {
	var sum float64
	for _, i := range rows {
		sum += g.resid[i]
	}
	n := float64(len(rows))
	node := g.tree.addNode(g.shrink * sum / n)
	if depth >= g.maxDepth || len(rows) < 2*g.minLeaf {
		return node
	}

	bestGain, bestFeature, bestBin := 1e-12, -1, 0
	var gs [256]float64
	var cs [256]int
	for j := range g.d {
		nb := len(g.h.edges[j]) + 1
		if nb < 2 {
			continue
		}
		gsum, cnt := gs[:0], cs[:0]
		if nb > len(gs) {
			gsum, cnt = make([]float64, nb), make([]int, nb)
		} else {
			gsum, cnt = gs[:nb], cs[:nb]
			clear(gsum)
			clear(cnt)
		}
		for _, i := range rows {
			b := g.h.bins[i][j]
			gsum[b] += g.resid[i]
			cnt[b]++
		}
		var lg float64
		var lc int
		for b := 0; b < nb-1; b++ {
			lg += gsum[b]
			lc += cnt[b]
			rc := len(rows) - lc
			if lc < g.minLeaf || rc < g.minLeaf {
				continue
			}
			rg := sum - lg
			gain := lg*lg/float64(lc) + rg*rg/float64(rc) - sum*sum/n
			if gain > bestGain {
				bestGain, bestFeature, bestBin = gain, j, b
			}
		}
	}
	if bestFeature < 0 {
		return node
	}
	var left, right []int
	for _, i := range rows {
		if int(g.h.bins[i][bestFeature]) <= bestBin {
			left = append(left, i)
		} else {
			right = append(right, i)
		}
	}
	g.tree.Feature[node] = bestFeature
	g.tree.Threshold[node] = g.h.edges[bestFeature][bestBin]
	l := g.grow(left, depth+1)
	r := g.grow(right, depth+1)
	g.tree.Left[node] = l
	g.tree.Right[node] = r
	return node
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orFloat(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}
