package surrogate

import (
	"slices"
)

// Tree is a fitted binary regression tree stored as flat node arrays. Node 0
// is the root; a node with Left[i] < 0 is a leaf predicting Value[i].
// Otherwise rows with x[Feature[i]] <= Threshold[i] go to Left[i] and the
// others to Right[i].
//
// Call Compile after building or decoding a tree and before Predict.
type Tree struct {
	Feature   []int     `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Left      []int     `json:"left"`
	Right     []int     `json:"right"`
	Value     []float64 `json:"value"`

	nodes []node
}

// node packs one node into 24 bytes, so a walk touches one cache line per
// level instead of five slices. These loads bound the prediction speed.
type node struct {
	threshold float64 // split threshold, or the leaf value
	feature   int32   // -1 for a leaf
	left      int32
	right     int32
}

// Compile builds the packed node array Predict walks.
func (t *Tree) Compile() {
	t.nodes = make([]node, len(t.Value))
	for i := range t.Value {
		if t.Left[i] < 0 {
			t.nodes[i] = node{threshold: t.Value[i], feature: -1}
			continue
		}
		t.nodes[i] = node{threshold: t.Threshold[i], feature: int32(t.Feature[i]), left: int32(t.Left[i]), right: int32(t.Right[i])}
	}
}

// Predict returns the leaf value of row x.
func (t *Tree) Predict(x []float64) float64 {
	nodes := t.nodes
	i := int32(0)
	for {
		n := &nodes[i]
		if n.feature < 0 {
			return n.threshold
		}
		if x[n.feature] <= n.threshold {
			i = n.left
		} else {
			i = n.right
		}
	}
}

func (t *Tree) addNode(value float64) int {
	t.Feature = append(t.Feature, -1)
	t.Threshold = append(t.Threshold, 0)
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	t.Value = append(t.Value, value)
	return len(t.Value) - 1
}

// presorted holds, for every feature, the row indices sorted by that
// feature's value. It is computed once per data set and shared by every tree
// fitted on it, so a tree fit costs O(features · rows) per level instead of
// a sort per node.
type presorted struct {
	x     [][]float64
	order [][]int // order[j] lists rows by ascending x[.][j]
}

func newPresorted(x [][]float64) *presorted {
	p := &presorted{x: x}
	if len(x) == 0 {
		return p
	}
	d := len(x[0])
	p.order = make([][]int, d)
	for j := range d {
		idx := make([]int, len(x))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case x[a][j] < x[b][j]:
				return -1
			case x[a][j] > x[b][j]:
				return 1
			}
			return 0
		})
		p.order[j] = idx
	}
	return p
}

// cartBuilder grows one exact (not histogram) least-squares tree, the
// DecisionTreeRegressor of the published baseline. Every feature is
// considered at every node, and a split minimises the weighted sum of
// squared errors at the midpoint between two distinct values. Growth stops
// only at pure nodes, at nodes whose rows share one feature vector, or at
// maxDepth (0: unlimited).
type cartBuilder struct {
	p        *presorted
	y        []float64
	w        []float64 // per-row weight; rows with weight 0 are out of the sample
	maxDepth int

	tree   *Tree
	lists  [][]int // per feature: in-sample rows, segmented by node
	goLeft []bool
	buf    []int
}

// fitCART fits a tree to rows with positive weight w (bootstrap counts or
// sample weights).
func fitCART(p *presorted, y, w []float64, maxDepth int) *Tree {
	b := &cartBuilder{p: p, y: y, w: w, maxDepth: maxDepth, tree: &Tree{}}
	d := len(p.order)
	b.lists = make([][]int, d)
	n := 0
	for j := range d {
		l := make([]int, 0, len(y))
		for _, i := range p.order[j] {
			if w[i] > 0 {
				l = append(l, i)
			}
		}
		b.lists[j] = l
		n = len(l)
	}
	b.goLeft = make([]bool, len(y))
	b.buf = make([]int, n)
	b.grow(0, n, 0)
	b.tree.Compile()
	return b.tree
}

// grow builds the subtree over segment [lo, hi) of every feature list and
// returns its node index.
func (b *cartBuilder) grow(lo, hi, depth int) int {
	rows := b.lists[0][lo:hi]
	var sw, swy, swyy float64
	for _, i := range rows {
		w := b.w[i]
		sw += w
		swy += w * b.y[i]
		swyy += w * b.y[i] * b.y[i]
	}
	mean := swy / sw
	node := b.tree.addNode(mean)
	sse := swyy - swy*swy/sw
	if hi-lo < 2 || sse <= 1e-14*max(swyy, 1e-300) || (b.maxDepth > 0 && depth >= b.maxDepth) {
		return node
	}

	bestGain, bestFeature, bestPos := 0.0, -1, 0
	var bestThreshold float64
	for j, list := range b.lists {
		seg := list[lo:hi]
		var lw, lwy float64
		for k := 0; k < len(seg)-1; k++ {
			i := seg[k]
			lw += b.w[i]
			lwy += b.w[i] * b.y[i]
			xv, xn := b.p.x[i][j], b.p.x[seg[k+1]][j]
			if xv == xn {
				continue
			}
			rw, rwy := sw-lw, swy-lwy
			// Reduction of the sum of squared errors: Σwy²−(Σwy)²/Σw is
			// constant per node, so maximise the between-part term.
			gain := lwy*lwy/lw + rwy*rwy/rw - swy*swy/sw
			if gain > bestGain {
				bestGain, bestFeature, bestPos = gain, j, k
				bestThreshold = xv + (xn-xv)/2
			}
		}
	}
	if bestFeature < 0 {
		return node
	}

	split := b.lists[bestFeature][lo:hi]
	for k, i := range split {
		b.goLeft[i] = k <= bestPos
	}
	nLeft := bestPos + 1
	for _, list := range b.lists {
		partition(list[lo:hi], b.goLeft, b.buf)
	}
	b.tree.Feature[node] = bestFeature
	b.tree.Threshold[node] = bestThreshold
	left := b.grow(lo, lo+nLeft, depth+1)
	right := b.grow(lo+nLeft, hi, depth+1)
	b.tree.Left[node] = left
	b.tree.Right[node] = right
	return node
}

// partition reorders seg stably so rows with goLeft come first, keeping each
// side sorted.
func partition(seg []int, goLeft []bool, buf []int) {
	l := 0
	r := buf[:0]
	for _, i := range seg {
		if goLeft[i] {
			seg[l] = i
			l++
		} else {
			r = append(r, i)
		}
	}
	copy(seg[l:], r)
}
