package arch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Architecture is one FlexiBERT 2.0 encoder in the published JSON format.
// Layer i has hidden size H[i], feed-forward stack F[i] and heads O[i].
type Architecture struct {
	L int        `json:"l"`
	H []int      `json:"h"`
	F [][]int    `json:"f"`
	O [][]string `json:"o"`
}

// Head is one parsed attention head: its type and width.
type Head struct {
	Type HeadType
	Size int
}

// String returns the head in the "type_size" form.
func (h Head) String() string { return string(h.Type) + "_" + strconv.Itoa(h.Size) }

// ParseHead parses a head written "type_size", such as "sa_sdp_64".
func ParseHead(s string) (Head, error) {
	i := strings.LastIndexByte(s, '_')
	if i <= 0 || i == len(s)-1 {
		return Head{}, fmt.Errorf("head %q: want the form type_size, for example sa_sdp_64", s)
	}
	size, err := strconv.Atoi(s[i+1:])
	if err != nil || size <= 0 {
		return Head{}, fmt.Errorf("head %q: size %q is not a positive integer", s, s[i+1:])
	}
	return Head{Type: HeadType(s[:i]), Size: size}, nil
}

// ParseArchitecture decodes one architecture from JSON, rejecting unknown
// fields and trailing data. It checks the JSON shape only; call
// Space.Validate for the design-space rules.
func ParseArchitecture(data []byte) (Architecture, error) {
	var a Architecture
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return Architecture{}, fmt.Errorf("parse architecture JSON: %w", err)
	}
	if dec.More() {
		return Architecture{}, errors.New("parse architecture JSON: unexpected data after the object")
	}
	return a, nil
}

// HeadsPerLayer returns n_i, the number of heads of layer i.
func (a Architecture) HeadsPerLayer(i int) int { return len(a.O[i]) }

// HeadSize returns d_i = floor(h_i / n_i), the width of every head of layer i.
func (a Architecture) HeadSize(i int) int { return a.H[i] / len(a.O[i]) }

// Clone returns a deep copy of a.
func (a Architecture) Clone() Architecture {
	c := Architecture{L: a.L, H: slices.Clone(a.H)}
	c.F = make([][]int, len(a.F))
	for i, f := range a.F {
		c.F[i] = slices.Clone(f)
	}
	c.O = make([][]string, len(a.O))
	for i, o := range a.O {
		c.O[i] = slices.Clone(o)
	}
	return c
}

// Validate checks a against the design space and returns every violation
// found, joined, each naming the layer, head and value involved. Layers are
// numbered from 1 in messages, as people count them.
func (s *Space) Validate(a Architecture) error {
	var errs []error
	if !slices.Contains(s.Layers, a.L) {
		errs = append(errs, fmt.Errorf("l = %d: not an allowed depth %v", a.L, s.Layers))
	}
	if a.L <= 0 {
		return errors.Join(errs...)
	}
	for name, n := range map[string]int{"h": len(a.H), "f": len(a.F), "o": len(a.O)} {
		if n != a.L {
			errs = append(errs, fmt.Errorf("%s has %d entries but l = %d: give one entry per layer", name, n, a.L))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for i := range a.L {
		errs = append(errs, s.validateLayer(a, i)...)
	}
	return errors.Join(errs...)
}

func (s *Space) validateLayer(a Architecture, i int) []error {
	var errs []error
	layer := i + 1
	h := a.H[i]
	if !slices.Contains(s.Hidden, h) {
		errs = append(errs, fmt.Errorf("layer %d: hidden size %d not in %v", layer, h, s.Hidden))
	}

	f := a.F[i]
	switch {
	case len(f) == 0:
		errs = append(errs, fmt.Errorf("layer %d: feed-forward stack is empty; give 1 to %d widths", layer, s.FFDepthMax))
	case len(f) > s.FFDepthMax:
		errs = append(errs, fmt.Errorf("layer %d: feed-forward stack has %d layers, more than the maximum %d", layer, len(f), s.FFDepthMax))
	}
	for j, w := range f {
		if !slices.Contains(s.FFWidths, w) {
			errs = append(errs, fmt.Errorf("layer %d: feed-forward width %d (position %d) not in %v", layer, w, j+1, s.FFWidths))
		}
	}

	heads := a.O[i]
	n := len(heads)
	if !slices.Contains(s.HeadCounts, n) {
		errs = append(errs, fmt.Errorf("layer %d: %d heads, not an allowed head count %v", layer, n, s.HeadCounts))
	}
	want := 0
	if n > 0 {
		want = h / n
	}
	for j, raw := range heads {
		hd, err := ParseHead(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("layer %d, head %d: %w", layer, j+1, err))
			continue
		}
		if s.typeIndex(hd.Type) < 0 {
			errs = append(errs, fmt.Errorf("layer %d, head %d: unknown head type %q in %q (allowed: %s)", layer, j+1, hd.Type, raw, joinTypes(s.HeadTypes)))
		}
		if hd.Size != want {
			errs = append(errs, fmt.Errorf("layer %d, head %d: size %d in %q, want hidden/heads = %d/%d = %d", layer, j+1, hd.Size, raw, h, n, want))
		}
	}
	return errs
}

// Canonical returns a copy of a with each layer's heads sorted in the
// space's head-type order. Heads that do not parse or have a type outside the
// space sort last, in their original relative order, so Canonical never
// fails; validate first when that matters.
func (s *Space) Canonical(a Architecture) Architecture {
	c := a.Clone()
	for _, heads := range c.O {
		slices.SortStableFunc(heads, func(x, y string) int {
			return s.headRank(x) - s.headRank(y)
		})
	}
	return c
}

func (s *Space) headRank(raw string) int {
	h, err := ParseHead(raw)
	if err != nil {
		return len(s.HeadTypes)
	}
	if i := s.typeIndex(h.Type); i >= 0 {
		return i
	}
	return len(s.HeadTypes)
}

// ID returns the stable id of a: the first 32 hex digits of the SHA-256 of
// its canonical compact JSON (see the package documentation).
func (s *Space) ID(a Architecture) string {
	c := s.Canonical(a)
	// encoding/json writes struct fields in declaration order (l, h, f, o)
	// without spaces, which is the documented id input.
	data, err := json.Marshal(c)
	if err != nil {
		panic("arch: marshal architecture: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}
