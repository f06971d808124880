package arch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"
)

// HeadType is an attention head type such as "sa_sdp" or "c_9".
type HeadType string

// The head types of the FlexiBERT 2.0 design space, in canonical order.
const (
	ScaledDotProduct HeadType = "sa_sdp" // scaled dot-product self-attention
	WeightedMultiply HeadType = "sa_wma" // weighted multiplicative attention
	FourierTransform HeadType = "l_dft"  // linear head: real part of the 2-D DFT
	CosineTransform  HeadType = "l_dct"  // linear head: orthonormal 2-D DCT-II
	Convolution5     HeadType = "c_5"    // dynamic-span convolution, kernel 5
	Convolution9     HeadType = "c_9"    // dynamic-span convolution, kernel 9
	Convolution13    HeadType = "c_13"   // dynamic-span convolution, kernel 13
)

// Kind returns the head family: "sa" (attention), "l" (linear transform) or
// "c" (convolution).
func (t HeadType) Kind() string {
	kind, _, _ := strings.Cut(string(t), "_")
	return kind
}

// KernelSize returns the convolution kernel width of a "c_K" head and 0 for
// every other head type.
func (t HeadType) KernelSize() int {
	if t.Kind() != "c" {
		return 0
	}
	var k int
	if _, err := fmt.Sscanf(string(t), "c_%d", &k); err != nil {
		return 0
	}
	return k
}

// knownHeadTypes are the head types the builtin engine and the cost model
// implement. A design space may use any subset of them, in any order.
var knownHeadTypes = []HeadType{
	ScaledDotProduct, WeightedMultiply, FourierTransform, CosineTransform,
	Convolution5, Convolution9, Convolution13,
}

// Space is a design space: the values each architecture parameter may take.
// The order of every list matters, because embedding indices refer to it.
// Build one with NewSpace or LoadSpace; Default returns the EdgeTran space.
type Space struct {
	Layers     []int      `json:"layers"`       // allowed encoder depths
	Hidden     []int      `json:"hidden"`       // allowed hidden sizes
	FFWidths   []int      `json:"ff_widths"`    // allowed feed-forward layer widths
	FFDepthMax int        `json:"ff_depth_max"` // maximum dense layers in one feed-forward stack (minimum is 1)
	HeadCounts []int      `json:"head_counts"`  // allowed numbers of heads per layer
	HeadTypes  []HeadType `json:"head_types"`   // allowed head types, in canonical order

	stacks    [][]int        // all feed-forward stacks in embedding order
	stackIdx  map[string]int // stack key → index in stacks
	multisets [][]uint8      // head-type counts per multiset, in embedding order
	multiIdx  map[string]int // count key → index in multisets
	typeIdx   map[HeadType]int
}

// defaultSpace is built once; a Space is immutable after NewSpace returns.
var defaultSpace = sync.OnceValue(func() *Space {
	s, err := NewSpace(Space{
		Layers:     []int{2, 4, 6, 8, 10, 12},
		Hidden:     []int{128, 256, 512, 768},
		FFWidths:   []int{256, 512, 1024, 2048, 3072, 4096},
		FFDepthMax: 3,
		HeadCounts: []int{2, 4, 8, 12},
		HeadTypes:  slices.Clone(knownHeadTypes),
	})
	if err != nil {
		panic("arch: default space is invalid: " + err.Error())
	}
	return s
})

// Default returns the EdgeTran FlexiBERT 2.0 design space. The returned value
// is shared and must not be modified.
func Default() *Space { return defaultSpace() }

// maxMultisets bounds the head-multiset table of a custom space, so a wide
// space file cannot make the process allocate without limit.
const maxMultisets = 1 << 22

// NewSpace checks the lists of s and returns a ready space with its embedding
// tables built. Lists must be non-empty, strictly increasing (head types:
// distinct and known) and positive.
func NewSpace(s Space) (*Space, error) {
	var errs []error
	checkInts := func(name string, v []int) {
		if len(v) == 0 {
			errs = append(errs, fmt.Errorf("%s: list is empty", name))
			return
		}
		for i, x := range v {
			if x <= 0 {
				errs = append(errs, fmt.Errorf("%s[%d] = %d: values must be positive", name, i, x))
			}
			if i > 0 && x <= v[i-1] {
				errs = append(errs, fmt.Errorf("%s[%d] = %d: values must be strictly increasing", name, i, x))
			}
		}
	}
	checkInts("layers", s.Layers)
	checkInts("hidden", s.Hidden)
	checkInts("ff_widths", s.FFWidths)
	checkInts("head_counts", s.HeadCounts)
	if s.FFDepthMax < 1 || s.FFDepthMax > 4 {
		errs = append(errs, fmt.Errorf("ff_depth_max = %d: must be between 1 and 4", s.FFDepthMax))
	}
	if len(s.HeadTypes) == 0 {
		errs = append(errs, errors.New("head_types: list is empty"))
	}
	seen := map[HeadType]bool{}
	for i, t := range s.HeadTypes {
		if !slices.Contains(knownHeadTypes, t) {
			errs = append(errs, fmt.Errorf("head_types[%d] = %q: unknown head type (known: %s)", i, t, joinTypes(knownHeadTypes)))
		}
		if seen[t] {
			errs = append(errs, fmt.Errorf("head_types[%d] = %q: listed twice", i, t))
		}
		seen[t] = true
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid design space: %w", errors.Join(errs...))
	}
	if n := countMultisets(len(s.HeadTypes), s.HeadCounts); n > maxMultisets {
		return nil, fmt.Errorf("invalid design space: %d head multisets exceed the limit of %d; use fewer head types or smaller head counts", n, maxMultisets)
	}

	out := &Space{
		Layers:     slices.Clone(s.Layers),
		Hidden:     slices.Clone(s.Hidden),
		FFWidths:   slices.Clone(s.FFWidths),
		FFDepthMax: s.FFDepthMax,
		HeadCounts: slices.Clone(s.HeadCounts),
		HeadTypes:  slices.Clone(s.HeadTypes),
	}
	out.buildTables()
	return out, nil
}

// LoadSpace reads a design space from a YAML or JSON file (YAML is a superset
// of JSON, so one parser reads both). Field names are those of Space's JSON
// tags.
func LoadSpace(path string) (*Space, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read design space: %w", err)
	}
	var s Space
	if err := yaml.UnmarshalStrict(data, &s); err != nil {
		return nil, fmt.Errorf("parse design space %s: %w", filepath.Base(path), err)
	}
	sp, err := NewSpace(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sp, nil
}

// MaxLayers returns the largest encoder depth of the space.
func (s *Space) MaxLayers() int { return s.Layers[len(s.Layers)-1] }

// EmbeddingLen returns the number of entries of an embedding in this space.
func (s *Space) EmbeddingLen() int { return 1 + 3*s.MaxLayers() }

// NumStacks returns the number of distinct feed-forward stacks.
func (s *Space) NumStacks() int { return len(s.stacks) }

// NumMultisets returns the number of distinct head multisets.
func (s *Space) NumMultisets() int { return len(s.multisets) }

// Stack returns a copy of the feed-forward stack with embedding index i.
func (s *Space) Stack(i int) []int { return slices.Clone(s.stacks[i]) }

// typeIndex returns the canonical position of t, or -1 when the space does
// not allow t.
func (s *Space) typeIndex(t HeadType) int {
	if i, ok := s.typeIdx[t]; ok {
		return i
	}
	return -1
}

func (s *Space) buildTables() {
	s.typeIdx = make(map[HeadType]int, len(s.HeadTypes))
	for i, t := range s.HeadTypes {
		s.typeIdx[t] = i
	}

	s.stackIdx = map[string]int{}
	for depth := 1; depth <= s.FFDepthMax; depth++ {
		idx := make([]int, depth)
		for {
			stack := make([]int, depth)
			for j, k := range idx {
				stack[j] = s.FFWidths[k]
			}
			s.stackIdx[intsKey(stack)] = len(s.stacks)
			s.stacks = append(s.stacks, stack)
			if !nextProduct(idx, len(s.FFWidths)) {
				break
			}
		}
	}

	s.multiIdx = map[string]int{}
	nt := len(s.HeadTypes)
	for _, n := range s.HeadCounts {
		// Combinations with replacement of n items over nt types, as
		// non-decreasing index sequences in lexicographic order.
		seq := make([]int, n)
		for {
			counts := make([]uint8, nt)
			for _, t := range seq {
				counts[t]++
			}
			s.multiIdx[string(counts)] = len(s.multisets)
			s.multisets = append(s.multisets, counts)
			if !nextCombination(seq, nt) {
				break
			}
		}
	}
}

// nextProduct advances idx to the next tuple of a Cartesian product in
// lexicographic order and reports false after the last one.
func nextProduct(idx []int, base int) bool {
	for j := len(idx) - 1; j >= 0; j-- {
		idx[j]++
		if idx[j] < base {
			return true
		}
		idx[j] = 0
	}
	return false
}

// nextCombination advances seq, a non-decreasing sequence over [0, base), to
// the next one in lexicographic order and reports false after the last one.
func nextCombination(seq []int, base int) bool {
	for j := len(seq) - 1; j >= 0; j-- {
		if seq[j] < base-1 {
			seq[j]++
			for k := j + 1; k < len(seq); k++ {
				seq[k] = seq[j]
			}
			return true
		}
	}
	return false
}

// countMultisets returns Σ_n C(types+n-1, n) without building the table.
func countMultisets(types int, counts []int) int {
	total := 0
	for _, n := range counts {
		c := 1
		for k := 1; k <= n; k++ {
			c = c * (types + k - 1) / k
			if c > maxMultisets {
				return maxMultisets + 1
			}
		}
		total += c
	}
	return total
}

func intsKey(v []int) string {
	var b strings.Builder
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, x)
	}
	return b.String()
}

func joinTypes(ts []HeadType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}
