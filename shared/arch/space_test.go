package arch

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func smallSpace() Space {
	return Space{
		Layers:     []int{2, 4},
		Hidden:     []int{128, 256},
		FFWidths:   []int{512, 1024},
		FFDepthMax: 2,
		HeadCounts: []int{2, 4},
		HeadTypes:  []HeadType{ScaledDotProduct, Convolution9},
	}
}

func TestNewSpaceRejectsBadLists(t *testing.T) {
	cases := []struct {
		name string
		edit func(s *Space)
		want string
	}{
		{"empty layers", func(s *Space) { s.Layers = nil }, "layers: list is empty"},
		{"non-positive hidden", func(s *Space) { s.Hidden = []int{0, 128} }, "hidden[0] = 0: values must be positive"},
		{"unsorted widths", func(s *Space) { s.FFWidths = []int{1024, 512} }, "ff_widths[1] = 512: values must be strictly increasing"},
		{"repeated head count", func(s *Space) { s.HeadCounts = []int{2, 2} }, "head_counts[1] = 2: values must be strictly increasing"},
		{"stack depth zero", func(s *Space) { s.FFDepthMax = 0 }, "ff_depth_max = 0: must be between 1 and 4"},
		{"stack depth five", func(s *Space) { s.FFDepthMax = 5 }, "ff_depth_max = 5: must be between 1 and 4"},
		{"no head types", func(s *Space) { s.HeadTypes = nil }, "head_types: list is empty"},
		{"unknown head type", func(s *Space) { s.HeadTypes = []HeadType{"sa_lsh"} }, `head_types[0] = "sa_lsh": unknown head type`},
		{"head type twice", func(s *Space) { s.HeadTypes = []HeadType{"c_9", "c_9"} }, `head_types[1] = "c_9": listed twice`},
		{"too many multisets", func(s *Space) {
			s.HeadTypes = slices.Clone(knownHeadTypes)
			s.HeadCounts = []int{64}
		}, "head multisets exceed the limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sp := smallSpace()
			c.edit(&sp)
			_, err := NewSpace(sp)
			if err == nil {
				t.Fatalf("NewSpace = nil error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

// The small space has 2 + 2² = 6 stacks and C(3,2) + C(5,4) = 3 + 5 = 8
// head multisets over 2 types; its embedding has 1 + 3·4 = 13 entries.
func TestLoadSpaceReadsYAMLAndJSON(t *testing.T) {
	for _, name := range []string{"space-small.yaml", "space-small.json"} {
		t.Run(name, func(t *testing.T) {
			s, err := LoadSpace(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.Layers, []int{2, 4}) || !slices.Equal(s.HeadTypes, []HeadType{ScaledDotProduct, Convolution9}) || s.FFDepthMax != 2 {
				t.Errorf("space = %+v, want the lists of the file", s)
			}
			if s.NumStacks() != 6 || s.NumMultisets() != 8 || s.EmbeddingLen() != 13 {
				t.Errorf("stacks %d, multisets %d, embedding %d; want 6, 8, 13", s.NumStacks(), s.NumMultisets(), s.EmbeddingLen())
			}
		})
	}
}

func TestLoadSpaceRejectsBadFiles(t *testing.T) {
	cases := []struct {
		file  string
		wants []string
	}{
		{"space-unknown-field.yaml", []string{"space-unknown-field.yaml", "dropout"}},
		{"space-bad-values.json", []string{"layers[1] = 2", `"sa_lsh": unknown head type`}},
		{"space-malformed.yaml", []string{"parse design space space-malformed.yaml"}},
		{"space-missing.yaml", []string{"read design space"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			_, err := LoadSpace(filepath.Join("testdata", c.file))
			if err == nil {
				t.Fatal("LoadSpace = nil error, want one")
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestCustomSpaceValidatesAgainstItsLists(t *testing.T) {
	s, err := NewSpace(smallSpace())
	if err != nil {
		t.Fatal(err)
	}
	ok := Architecture{L: 2, H: []int{128, 256}, F: [][]int{{512, 1024}, {1024}}, O: [][]string{{"sa_sdp_64", "c_9_64"}, {"c_9_64", "c_9_64", "c_9_64", "c_9_64"}}}
	if err := s.Validate(ok); err != nil {
		t.Errorf("Validate(in-space architecture) = %v", err)
	}
	bad := tiny() // uses sa_wma and l_dft, which the small space lacks
	err = s.Validate(bad)
	if err == nil || !strings.Contains(err.Error(), `unknown head type "sa_wma"`) {
		t.Errorf("Validate(out-of-space heads) = %v, want unknown head type sa_wma", err)
	}
}
