package arch

import (
	"math/rand/v2"
	"slices"
)

// The mutation operators below take a valid architecture of s and never
// modify it. Each returns a valid, different architecture and true. When the
// operator cannot change a in s, for example AddLayer on the deepest allowed
// model, it returns a copy of a and false. Heads of a changed layer are
// re-sized to floor(h/n) and kept in canonical order.

// mutation is one operator, for Mutate's random choice.
type mutation func(s *Space, rng *rand.Rand, a Architecture) (Architecture, bool)

var mutations = []mutation{
	(*Space).MutateHidden, (*Space).MutateStack, (*Space).MutateHeads,
	(*Space).AddLayer, (*Space).DropLayer,
}

// Mutate applies one operator chosen at random among MutateHidden,
// MutateStack, MutateHeads, AddLayer and DropLayer, trying the others in
// random order when the chosen one cannot change a. It returns a copy of a
// only when no operator can change it (a space with a single architecture).
func (s *Space) Mutate(rng *rand.Rand, a Architecture) Architecture {
	for _, i := range rng.Perm(len(mutations)) {
		if b, ok := mutations[i](s, rng, a); ok {
			return b
		}
	}
	return a.Clone()
}

// MutateHidden gives one random layer a different hidden size.
func (s *Space) MutateHidden(rng *rand.Rand, a Architecture) (Architecture, bool) {
	b := a.Clone()
	if len(s.Hidden) < 2 || a.L == 0 {
		return b, false
	}
	i := rng.IntN(a.L)
	b.H[i] = pickOther(rng, s.Hidden, a.H[i])
	b.O[i] = s.heads(s.headTypes(a.O[i]), b.H[i])
	return b, true
}

// MutateStack changes the feed-forward stack of one random layer: it
// replaces one width, appends a dense layer or removes one, whichever the
// space allows, chosen uniformly.
func (s *Space) MutateStack(rng *rand.Rand, a Architecture) (Architecture, bool) {
	b := a.Clone()
	if a.L == 0 {
		return b, false
	}
	i := rng.IntN(a.L)
	stack := b.F[i]

	const (
		replace = iota
		grow
		shrink
	)
	var options []int
	if len(s.FFWidths) > 1 {
		options = append(options, replace)
	}
	if len(stack) < s.FFDepthMax {
		options = append(options, grow)
	}
	if len(stack) > 1 {
		options = append(options, shrink)
	}
	if len(options) == 0 {
		return b, false
	}

	switch options[rng.IntN(len(options))] {
	case replace:
		j := rng.IntN(len(stack))
		stack[j] = pickOther(rng, s.FFWidths, stack[j])
	case grow:
		j := rng.IntN(len(stack) + 1)
		stack = slices.Insert(stack, j, s.FFWidths[rng.IntN(len(s.FFWidths))])
	case shrink:
		j := rng.IntN(len(stack))
		stack = slices.Delete(stack, j, j+1)
	}
	b.F[i] = stack
	return b, true
}

// MutateHeads changes the heads of one random layer: it gives one head a
// different type, or changes the head count to another allowed count,
// keeping a random subset of the old heads or adding heads of random types.
func (s *Space) MutateHeads(rng *rand.Rand, a Architecture) (Architecture, bool) {
	b := a.Clone()
	if a.L == 0 {
		return b, false
	}
	canRetype, canRecount := len(s.HeadTypes) > 1, len(s.HeadCounts) > 1
	if !canRetype && !canRecount {
		return b, false
	}
	i := rng.IntN(a.L)
	types := s.headTypes(a.O[i])
	if canRetype && (!canRecount || rng.IntN(2) == 0) {
		j := rng.IntN(len(types))
		types[j] = pickOther(rng, s.HeadTypes, types[j])
	} else {
		n := pickOther(rng, s.HeadCounts, len(types))
		rng.Shuffle(len(types), func(x, y int) { types[x], types[y] = types[y], types[x] })
		for len(types) < n {
			types = append(types, s.HeadTypes[rng.IntN(len(s.HeadTypes))])
		}
		types = types[:n]
	}
	b.O[i] = s.heads(types, b.H[i])
	return b, true
}

// AddLayer deepens a to the next allowed depth. Each new layer is a copy of
// a random existing layer, inserted right after it, so that the widths of
// neighbouring layers stay as they were.
func (s *Space) AddLayer(rng *rand.Rand, a Architecture) (Architecture, bool) {
	b := a.Clone()
	j := slices.Index(s.Layers, a.L)
	if j < 0 || j+1 >= len(s.Layers) || a.L == 0 {
		return b, false
	}
	for b.L < s.Layers[j+1] {
		i := rng.IntN(b.L)
		b.H = slices.Insert(b.H, i+1, b.H[i])
		b.F = slices.Insert(b.F, i+1, slices.Clone(b.F[i]))
		b.O = slices.Insert(b.O, i+1, slices.Clone(b.O[i]))
		b.L++
	}
	return b, true
}

// DropLayer makes a as shallow as the next smaller allowed depth by removing
// random layers.
func (s *Space) DropLayer(rng *rand.Rand, a Architecture) (Architecture, bool) {
	b := a.Clone()
	j := slices.Index(s.Layers, a.L)
	if j <= 0 {
		return b, false
	}
	for b.L > s.Layers[j-1] {
		i := rng.IntN(b.L)
		b.H = slices.Delete(b.H, i, i+1)
		b.F = slices.Delete(b.F, i, i+1)
		b.O = slices.Delete(b.O, i, i+1)
		b.L--
	}
	return b, true
}

// headTypes returns the types of a layer's heads. Heads that do not parse
// become the space's first type, which cannot happen for a valid layer.
func (s *Space) headTypes(heads []string) []HeadType {
	types := make([]HeadType, len(heads))
	for j, raw := range heads {
		types[j] = s.HeadTypes[0]
		if h, err := ParseHead(raw); err == nil {
			types[j] = h.Type
		}
	}
	return types
}

// pickOther returns a uniformly chosen entry of list other than current;
// list must hold at least one other value.
func pickOther[T comparable](rng *rand.Rand, list []T, current T) T {
	others := make([]T, 0, len(list))
	for _, v := range list {
		if v != current {
			others = append(others, v)
		}
	}
	return others[rng.IntN(len(others))]
}
