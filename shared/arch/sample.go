package arch

import (
	"math/rand/v2"
	"slices"
)

// wideHeads is the head count above which a layer makes a model wide. It
// reproduces the model_type labels of all 552 architectures of the published
// EdgeTran data: narrow models have 2 or 4 heads in every layer.
const wideHeads = 4

// deepLayers is the smallest depth of a deep model in the published labels.
const deepLayers = 8

// IsWide reports whether some layer of a has more than 4 heads. Narrow
// models have 2 or 4 heads in every layer. With IsDeep this reproduces the
// published model_type labels (shallow/deep × narrow/wide).
func IsWide(a Architecture) bool {
	for _, heads := range a.O {
		if len(heads) > wideHeads {
			return true
		}
	}
	return false
}

// IsDeep reports whether a has 8 or more layers.
func IsDeep(a Architecture) bool { return a.L >= deepLayers }

// ModelType returns the published label of a: "shallow_narrow",
// "shallow_wide", "deep_narrow" or "deep_wide".
func ModelType(a Architecture) string {
	depth, width := "shallow", "narrow"
	if IsDeep(a) {
		depth = "deep"
	}
	if IsWide(a) {
		width = "wide"
	}
	return depth + "_" + width
}

// Random returns an architecture drawn uniformly over each choice in turn:
// the depth, then per layer the hidden size, the stack depth, each stack
// width, the head count and each head's type. It is always valid in s.
func (s *Space) Random(rng *rand.Rand) Architecture {
	a := Architecture{L: s.Layers[rng.IntN(len(s.Layers))]}
	for range a.L {
		h := s.Hidden[rng.IntN(len(s.Hidden))]
		stack := make([]int, 1+rng.IntN(s.FFDepthMax))
		for j := range stack {
			stack[j] = s.FFWidths[rng.IntN(len(s.FFWidths))]
		}
		types := make([]HeadType, s.HeadCounts[rng.IntN(len(s.HeadCounts))])
		for j := range types {
			types[j] = s.HeadTypes[rng.IntN(len(s.HeadTypes))]
		}
		a.H = append(a.H, h)
		a.F = append(a.F, stack)
		a.O = append(a.O, s.heads(types, h))
	}
	return a
}

// heads returns the head strings of a layer of hidden size h with the given
// types, in canonical order.
func (s *Space) heads(types []HeadType, h int) []string {
	types = slices.Clone(types)
	slices.SortStableFunc(types, func(x, y HeadType) int { return s.typeIndex(x) - s.typeIndex(y) })
	size := h / len(types)
	out := make([]string, len(types))
	for j, t := range types {
		out[j] = Head{Type: t, Size: size}.String()
	}
	return out
}

// LatinHypercube returns n architectures from a Latin hypercube sample of
// the space: the first ceil(n/2) narrow, the rest wide. Narrow layers draw
// their head count from the lower half of s.HeadCounts and wide layers from
// the upper half (both from the whole list when it has one entry), which for
// the default space is {2, 4} and {8, 12}, so IsWide agrees with the split.
//
// Each group is sampled on its own hypercube with one dimension per choice:
// the depth, and for every possible layer its hidden size, stack depth,
// stack widths, head count and head types. Each dimension is cut into as
// many equal strata as the group has members, each stratum is used once in a
// random order, and a point within it is drawn uniformly. A coordinate u in
// [0, 1) selects choice floor(u·k) of a k-entry list, the nearest valid
// value. Dimensions of layers or heads beyond the drawn depth or head count
// go unused.
func (s *Space) LatinHypercube(rng *rand.Rand, n int) []Architecture {
	if n <= 0 {
		return nil
	}
	half := len(s.HeadCounts) / 2
	narrow, wide := s.HeadCounts[:half], s.HeadCounts[half:]
	if half == 0 {
		narrow = s.HeadCounts
	}
	nNarrow := (n + 1) / 2
	out := s.latinGroup(rng, nNarrow, narrow)
	return append(out, s.latinGroup(rng, n-nNarrow, wide)...)
}

// latinGroup draws n architectures whose head counts come from counts.
func (s *Space) latinGroup(rng *rand.Rand, n int, counts []int) []Architecture {
	if n == 0 {
		return nil
	}
	maxL, maxHeads := s.MaxLayers(), slices.Max(counts)
	perLayer := 3 + s.FFDepthMax + maxHeads
	dims := 1 + maxL*perLayer

	// points[p][k] is coordinate k of sample p.
	points := make([][]float64, n)
	for p := range points {
		points[p] = make([]float64, dims)
	}
	for k := range dims {
		for p, stratum := range rng.Perm(n) {
			points[p][k] = (float64(stratum) + rng.Float64()) / float64(n)
		}
	}

	out := make([]Architecture, n)
	for p, u := range points {
		a := Architecture{L: pick(s.Layers, u[0])}
		for i := range a.L {
			c := u[1+i*perLayer:]
			h := pick(s.Hidden, c[0])
			stack := make([]int, 1+int(c[1]*float64(s.FFDepthMax)))
			for j := range stack {
				stack[j] = pick(s.FFWidths, c[2+j])
			}
			types := make([]HeadType, pick(counts, c[2+s.FFDepthMax]))
			for j := range types {
				types[j] = pick(s.HeadTypes, c[3+s.FFDepthMax+j])
			}
			a.H = append(a.H, h)
			a.F = append(a.F, stack)
			a.O = append(a.O, s.heads(types, h))
		}
		out[p] = a
	}
	return out
}

// pick returns entry floor(u·len(list)) of list for u in [0, 1).
func pick[T any](list []T, u float64) T {
	return list[min(int(u*float64(len(list))), len(list)-1)]
}
