package arch

import (
	"fmt"
	"slices"
	"strings"
)

// preset is a homogeneous BERT-style encoder: every layer has the same
// hidden size, one feed-forward layer of width ff and heads sa_sdp heads.
type preset struct {
	layers, hidden, ff, heads int
}

// presets are the sizes of Google's released BERT checkpoints, named as in
// that release. All of them lie in the default space.
var presets = map[string]preset{
	"bert-tiny":   {layers: 2, hidden: 128, ff: 512, heads: 2},
	"bert-mini":   {layers: 4, hidden: 256, ff: 1024, heads: 4},
	"bert-small":  {layers: 4, hidden: 512, ff: 2048, heads: 8},
	"bert-medium": {layers: 8, hidden: 512, ff: 2048, heads: 8},
	"bert-base":   {layers: 12, hidden: 768, ff: 3072, heads: 12},
}

// PresetNames returns the names Preset accepts, smallest model first.
func PresetNames() []string {
	return []string{"bert-tiny", "bert-mini", "bert-small", "bert-medium", "bert-base"}
}

// Preset returns the named standard BERT architecture with scaled
// dot-product heads only. Names are case-insensitive.
func Preset(name string) (Architecture, error) {
	p, ok := presets[strings.ToLower(name)]
	if !ok {
		return Architecture{}, fmt.Errorf("unknown preset %q: want one of %s", name, strings.Join(PresetNames(), ", "))
	}
	a := Architecture{L: p.layers}
	head := Head{Type: ScaledDotProduct, Size: p.hidden / p.heads}.String()
	for range p.layers {
		a.H = append(a.H, p.hidden)
		a.F = append(a.F, []int{p.ff})
		a.O = append(a.O, slices.Repeat([]string{head}, p.heads))
	}
	return a, nil
}
