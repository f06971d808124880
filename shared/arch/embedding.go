package arch

import (
	"fmt"
	"slices"
)

// Encode returns the embedding of a (see the package documentation). It
// fails when a is not valid in the space.
func (s *Space) Encode(a Architecture) ([]int, error) {
	if err := s.Validate(a); err != nil {
		return nil, err
	}
	e := make([]int, s.EmbeddingLen())
	e[0] = slices.Index(s.Layers, a.L)
	for i := range a.L {
		e[3*i+1] = slices.Index(s.Hidden, a.H[i])
		e[3*i+2] = s.stackIdx[intsKey(a.F[i])]
		counts := make([]uint8, len(s.HeadTypes))
		for _, raw := range a.O[i] {
			h, _ := ParseHead(raw) // valid: checked above
			counts[s.typeIndex(h.Type)]++
		}
		e[3*i+3] = s.multiIdx[string(counts)]
	}
	return e, nil
}

// Decode returns the canonical architecture of embedding e. It fails, naming
// the entry and value, when e has the wrong length, an index is out of range,
// a multiset's head count is not in the space, or an absent layer has a
// non-zero entry.
func (s *Space) Decode(e []int) (Architecture, error) {
	if len(e) != s.EmbeddingLen() {
		return Architecture{}, fmt.Errorf("embedding has %d entries, want %d", len(e), s.EmbeddingLen())
	}
	if e[0] < 0 || e[0] >= len(s.Layers) {
		return Architecture{}, fmt.Errorf("embedding entry 0 = %d: layer index out of range [0, %d)", e[0], len(s.Layers))
	}
	a := Architecture{L: s.Layers[e[0]]}
	a.H = make([]int, a.L)
	a.F = make([][]int, a.L)
	a.O = make([][]string, a.L)
	for i := range a.L {
		hi, fi, oi := e[3*i+1], e[3*i+2], e[3*i+3]
		if hi < 0 || hi >= len(s.Hidden) {
			return Architecture{}, fmt.Errorf("embedding entry %d = %d (layer %d hidden size): index out of range [0, %d)", 3*i+1, hi, i+1, len(s.Hidden))
		}
		if fi < 0 || fi >= len(s.stacks) {
			return Architecture{}, fmt.Errorf("embedding entry %d = %d (layer %d feed-forward stack): index out of range [0, %d)", 3*i+2, fi, i+1, len(s.stacks))
		}
		if oi < 0 || oi >= len(s.multisets) {
			return Architecture{}, fmt.Errorf("embedding entry %d = %d (layer %d heads): index out of range [0, %d)", 3*i+3, oi, i+1, len(s.multisets))
		}
		a.H[i] = s.Hidden[hi]
		a.F[i] = slices.Clone(s.stacks[fi])
		counts := s.multisets[oi]
		n := 0
		for _, c := range counts {
			n += int(c)
		}
		size := a.H[i] / n
		heads := make([]string, 0, n)
		for t, c := range counts {
			for range c {
				heads = append(heads, Head{Type: s.HeadTypes[t], Size: size}.String())
			}
		}
		a.O[i] = heads
	}
	for j := 1 + 3*a.L; j < len(e); j++ {
		if e[j] != 0 {
			return Architecture{}, fmt.Errorf("embedding entry %d = %d: entries past layer %d must be 0", j, e[j], a.L)
		}
	}
	return a, nil
}
