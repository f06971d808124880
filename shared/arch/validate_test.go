package arch

import (
	"strings"
	"testing"
)

// tiny returns a fresh valid two-layer architecture for tests to break.
func tiny() Architecture {
	return Architecture{
		L: 2,
		H: []int{128, 256},
		F: [][]int{{512}, {1024, 256}},
		O: [][]string{{"sa_sdp_64", "c_9_64"}, {"sa_wma_64", "l_dft_64", "l_dct_64", "c_13_64"}},
	}
}

func TestValidateRejectsEachErrorClass(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(a *Architecture)
		wants []string // substrings of the error
	}{
		{"depth not allowed", func(a *Architecture) { a.L = 3 }, []string{"l = 3", "not an allowed depth"}},
		{"zero depth", func(a *Architecture) { a.L = 0 }, []string{"l = 0"}},
		{"hidden list too short", func(a *Architecture) { a.H = a.H[:1] }, []string{"h has 1 entries but l = 2"}},
		{"stack list too long", func(a *Architecture) { a.F = append(a.F, []int{512}) }, []string{"f has 3 entries but l = 2"}},
		{"head list too short", func(a *Architecture) { a.O = a.O[:1] }, []string{"o has 1 entries but l = 2"}},
		{"hidden size not in space", func(a *Architecture) {
			a.H[0] = 192
			a.O[0] = []string{"sa_sdp_96", "c_9_96"}
		}, []string{"layer 1: hidden size 192 not in"}},
		{"feed-forward width not in space", func(a *Architecture) { a.F[1][1] = 300 }, []string{"layer 2: feed-forward width 300 (position 2) not in"}},
		{"empty stack", func(a *Architecture) { a.F[0] = nil }, []string{"layer 1: feed-forward stack is empty"}},
		{"oversized stack", func(a *Architecture) { a.F[0] = []int{512, 512, 512, 512} }, []string{"layer 1: feed-forward stack has 4 layers, more than the maximum 3"}},
		{"head count not in space", func(a *Architecture) { a.O[0] = []string{"sa_sdp_42", "sa_sdp_42", "sa_sdp_42"} }, []string{"layer 1: 3 heads, not an allowed head count"}},
		{"unknown head type", func(a *Architecture) { a.O[0][1] = "sa_lsh_64" }, []string{`layer 1, head 2: unknown head type "sa_lsh"`}},
		{"size suffix not hidden/heads", func(a *Architecture) { a.O[1][2] = "l_dct_32" }, []string{`layer 2, head 3: size 32 in "l_dct_32", want hidden/heads = 256/4 = 64`}},
		{"head without size", func(a *Architecture) { a.O[0][0] = "sa_sdp" }, []string{`layer 1, head 1: head "sa_sdp": size "sdp" is not a positive integer`}},
		{"head size zero", func(a *Architecture) { a.O[0][0] = "sa_sdp_0" }, []string{`size "0" is not a positive integer`}},
		{"head ends in underscore", func(a *Architecture) { a.O[0][0] = "sa_sdp_" }, []string{"want the form type_size"}},
	}
	s := Default()
	if err := s.Validate(tiny()); err != nil {
		t.Fatalf("base architecture is invalid: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := tiny()
			c.edit(&a)
			err := s.Validate(a)
			if err == nil {
				t.Fatalf("Validate(%+v) = nil, want an error", a)
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidateReportsEveryViolation(t *testing.T) {
	a := tiny()
	a.F[0][0] = 300
	a.O[1][0] = "sa_lsh_64"
	err := Default().Validate(a)
	if err == nil {
		t.Fatal("Validate = nil, want two errors")
	}
	for _, w := range []string{"width 300", `unknown head type "sa_lsh"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func TestParseArchitectureRejectsBadJSON(t *testing.T) {
	cases := map[string]string{
		"unknown field":  `{"l":2,"h":[128,128],"f":[[512],[512]],"o":[["sa_sdp_64","sa_sdp_64"],["sa_sdp_64","sa_sdp_64"]],"x":1}`,
		"trailing data":  `{"l":2,"h":[],"f":[],"o":[]} {}`,
		"wrong type":     `{"l":"two"}`,
		"not an object":  `[1,2]`,
		"truncated":      `{"l":2,"h":[128`,
		"empty document": ``,
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseArchitecture([]byte(doc)); err == nil {
				t.Errorf("ParseArchitecture(%q) = nil error, want one", doc)
			}
		})
	}
}

func TestIDIgnoresHeadOrder(t *testing.T) {
	s := Default()
	a := tiny()
	b := tiny()
	b.O[1] = []string{"c_13_64", "l_dct_64", "sa_wma_64", "l_dft_64"}
	b.O[0] = []string{"c_9_64", "sa_sdp_64"}
	if s.ID(a) != s.ID(b) {
		t.Errorf("ID differs for permuted heads: %s vs %s", s.ID(a), s.ID(b))
	}
	if got := s.Canonical(b).O[1]; strings.Join(got, ",") != "sa_wma_64,l_dft_64,l_dct_64,c_13_64" {
		t.Errorf("canonical heads = %v, want sa_wma, l_dft, l_dct, c_13 order", got)
	}
}

func TestIDChangesWithArchitecture(t *testing.T) {
	s := Default()
	a, b := tiny(), tiny()
	b.F[1] = []int{256, 1024}
	if s.ID(a) == s.ID(b) {
		t.Errorf("reordered feed-forward stack has the same id %s; stack order matters", s.ID(a))
	}
}

// The id input is the documented compact JSON; this digest was computed
// with `printf %s '<json>' | sha256sum | cut -c1-32`.
func TestIDOfDocumentedExample(t *testing.T) {
	a := Architecture{
		L: 2, H: []int{128, 128}, F: [][]int{{512}, {512}},
		O: [][]string{{"sa_sdp_64", "sa_sdp_64"}, {"sa_sdp_64", "sa_sdp_64"}},
	}
	const want = "cb151bed50ccce7dd523da7bfa9fc7e1"
	if got := Default().ID(a); got != want {
		t.Errorf("ID = %s, want %s", got, want)
	}
}

func TestPresetsAreValid(t *testing.T) {
	s := Default()
	for _, name := range PresetNames() {
		a, err := Preset(name)
		if err != nil {
			t.Errorf("Preset(%q): %v", name, err)
			continue
		}
		if err := s.Validate(a); err != nil {
			t.Errorf("preset %s is invalid: %v", name, err)
		}
	}
}

func TestPresetBERTBaseShape(t *testing.T) {
	a, err := Preset("BERT-Base")
	if err != nil {
		t.Fatal(err)
	}
	if a.L != 12 || a.H[11] != 768 || a.F[0][0] != 3072 || len(a.O[0]) != 12 || a.O[5][3] != "sa_sdp_64" {
		t.Errorf("bert-base = %+v, want 12 layers of 768 with 12 sa_sdp_64 heads and f 3072", a)
	}
}

func TestPresetUnknownNameListsValid(t *testing.T) {
	_, err := Preset("bert-huge")
	if err == nil {
		t.Fatal("Preset(bert-huge) = nil error, want one")
	}
	for _, name := range PresetNames() {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not list %s", err, name)
		}
	}
}
