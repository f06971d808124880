package arch

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

const propertySeeds = 3000

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// spaces returns the default space and a small custom one, so that the
// properties also hold where lists are short.
func spaces(t *testing.T) map[string]*Space {
	t.Helper()
	small, err := NewSpace(smallSpace())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*Space{"default": Default(), "small": small}
}

func TestRandomIsAlwaysValid(t *testing.T) {
	for name, s := range spaces(t) {
		for seed := range uint64(propertySeeds) {
			a := s.Random(seeded(seed))
			if err := s.Validate(a); err != nil {
				t.Fatalf("%s space, seed %d: Random gave invalid %+v: %v", name, seed, a, err)
			}
		}
	}
}

func TestRandomIsDeterministicPerSeed(t *testing.T) {
	s := Default()
	for seed := range uint64(200) {
		if a, b := s.Random(seeded(seed)), s.Random(seeded(seed)); s.ID(a) != s.ID(b) {
			t.Fatalf("seed %d: Random gave %s then %s", seed, s.ID(a), s.ID(b))
		}
	}
}

func TestRandomCoversEveryChoice(t *testing.T) {
	s := Default()
	rng := seeded(1)
	depths, hidden, types := map[int]bool{}, map[int]bool{}, map[HeadType]bool{}
	for range 2000 {
		a := s.Random(rng)
		depths[a.L] = true
		for i := range a.L {
			hidden[a.H[i]] = true
			for _, raw := range a.O[i] {
				h, _ := ParseHead(raw)
				types[h.Type] = true
			}
		}
	}
	if len(depths) != len(s.Layers) || len(hidden) != len(s.Hidden) || len(types) != len(s.HeadTypes) {
		t.Errorf("2000 draws covered %d depths, %d hidden sizes, %d head types; want %d, %d, %d",
			len(depths), len(hidden), len(types), len(s.Layers), len(s.Hidden), len(s.HeadTypes))
	}
}

func TestLatinHypercubeIsAlwaysValid(t *testing.T) {
	for name, s := range spaces(t) {
		for seed := range uint64(propertySeeds / 10) {
			n := 1 + int(seed%23)
			sample := s.LatinHypercube(seeded(seed), n)
			if len(sample) != n {
				t.Fatalf("%s space, seed %d: got %d architectures, want %d", name, seed, len(sample), n)
			}
			for _, a := range sample {
				if err := s.Validate(a); err != nil {
					t.Fatalf("%s space, seed %d: invalid %+v: %v", name, seed, a, err)
				}
			}
		}
	}
}

func TestLatinHypercubeSplitsNarrowAndWide(t *testing.T) {
	s := Default()
	sample := s.LatinHypercube(seeded(7), 9)
	for i, a := range sample {
		if wantWide := i >= 5; IsWide(a) != wantWide {
			t.Errorf("architecture %d: wide = %v, want %v (first 5 narrow, last 4 wide)", i, IsWide(a), wantWide)
		}
	}
}

// With 60 members per group, each of the 6 depth strata of width 1/6 holds
// exactly 10 of the 60 equal strata, so every depth appears exactly 10
// times. Independent uniform draws would almost never be this even.
func TestLatinHypercubeStratifiesDepth(t *testing.T) {
	s := Default()
	sample := s.LatinHypercube(seeded(3), 120)
	for g, group := range [][]Architecture{sample[:60], sample[60:]} {
		counts := map[int]int{}
		for _, a := range group {
			counts[a.L]++
		}
		for _, l := range s.Layers {
			if counts[l] != 10 {
				t.Errorf("group %d: depth %d appears %d times, want 10 (counts %v)", g, l, counts[l], counts)
			}
		}
	}
}

func TestLatinHypercubeIsDeterministicPerSeed(t *testing.T) {
	s := Default()
	a, b := s.LatinHypercube(seeded(11), 16), s.LatinHypercube(seeded(11), 16)
	for i := range a {
		if s.ID(a[i]) != s.ID(b[i]) {
			t.Fatalf("architecture %d differs between runs with one seed", i)
		}
	}
}

func TestLatinHypercubeOfZeroIsEmpty(t *testing.T) {
	if got := Default().LatinHypercube(seeded(1), 0); len(got) != 0 {
		t.Errorf("LatinHypercube(0) returned %d architectures", len(got))
	}
}

// The published model_type labels are the reference for IsWide and IsDeep.
func TestModelTypeMatchesPublishedLabels(t *testing.T) {
	data, err := os.ReadFile(publishedDataPath(t, "codesign_dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	var records map[string]struct {
		ModelDict Architecture `json:"model_dict"`
		ModelType string       `json:"model_type"`
	}
	if err := json.Unmarshal(data, &records); err != nil {
		t.Fatal(err)
	}
	for key, r := range records {
		if got := ModelType(r.ModelDict); got != r.ModelType {
			t.Errorf("%s: ModelType = %s, published %s", key, got, r.ModelType)
		}
	}
}

func TestMutationOperatorsKeepValidity(t *testing.T) {
	ops := map[string]mutation{
		"MutateHidden": (*Space).MutateHidden,
		"MutateStack":  (*Space).MutateStack,
		"MutateHeads":  (*Space).MutateHeads,
		"AddLayer":     (*Space).AddLayer,
		"DropLayer":    (*Space).DropLayer,
	}
	for spaceName, s := range spaces(t) {
		for opName, op := range ops {
			changed := 0
			for seed := range uint64(propertySeeds) {
				rng := seeded(seed)
				a := s.Random(rng)
				before := s.ID(a)
				b, ok := op(s, rng, a)
				if err := s.Validate(b); err != nil {
					t.Fatalf("%s space, %s, seed %d: invalid result %+v: %v", spaceName, opName, seed, b, err)
				}
				if s.ID(a) != before {
					t.Fatalf("%s space, %s, seed %d: the input was modified", spaceName, opName, seed)
				}
				if ok {
					changed++
					if s.ID(b) == before {
						t.Fatalf("%s space, %s, seed %d: reported a change but returned the same architecture", spaceName, opName, seed)
					}
				} else if s.ID(b) != before {
					t.Fatalf("%s space, %s, seed %d: reported no change but changed the architecture", spaceName, opName, seed)
				}
			}
			if changed == 0 {
				t.Errorf("%s space, %s: never changed any of %d architectures", spaceName, opName, propertySeeds)
			}
		}
	}
}

func TestMutateAlwaysChangesArchitecture(t *testing.T) {
	for name, s := range spaces(t) {
		for seed := range uint64(propertySeeds) {
			rng := seeded(seed)
			a := s.Random(rng)
			b := s.Mutate(rng, a)
			if err := s.Validate(b); err != nil {
				t.Fatalf("%s space, seed %d: invalid %+v: %v", name, seed, b, err)
			}
			if s.ID(a) == s.ID(b) {
				t.Fatalf("%s space, seed %d: Mutate returned the same architecture", name, seed)
			}
		}
	}
}

func TestMutateIsDeterministicPerSeed(t *testing.T) {
	s := Default()
	a := s.Random(seeded(5))
	for seed := range uint64(200) {
		if x, y := s.Mutate(seeded(seed), a), s.Mutate(seeded(seed), a); s.ID(x) != s.ID(y) {
			t.Fatalf("seed %d: Mutate differs between runs", seed)
		}
	}
}

func TestAddAndDropLayerStepDepth(t *testing.T) {
	s := Default()
	a := tiny()
	b, ok := s.AddLayer(seeded(1), a)
	if !ok || b.L != 4 {
		t.Errorf("AddLayer(l=2) = l %d, ok %v; want l 4, true", b.L, ok)
	}
	c, ok := s.DropLayer(seeded(1), b)
	if !ok || c.L != 2 {
		t.Errorf("DropLayer(l=4) = l %d, ok %v; want l 2, true", c.L, ok)
	}
	if _, ok := s.DropLayer(seeded(1), a); ok {
		t.Error("DropLayer(l=2) reported a change, want none below the smallest depth")
	}
	base, _ := Preset("bert-base")
	if _, ok := s.AddLayer(seeded(1), base); ok {
		t.Error("AddLayer(l=12) reported a change, want none above the largest depth")
	}
}

func TestMutateInSingletonSpaceReturnsCopy(t *testing.T) {
	s, err := NewSpace(Space{
		Layers: []int{2}, Hidden: []int{128}, FFWidths: []int{512}, FFDepthMax: 1,
		HeadCounts: []int{2}, HeadTypes: []HeadType{ScaledDotProduct},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := s.Random(seeded(1))
	b := s.Mutate(seeded(1), a)
	if s.ID(a) != s.ID(b) {
		t.Errorf("Mutate changed the only architecture of the space")
	}
	b.H[0] = 999
	if a.H[0] == 999 {
		t.Error("Mutate returned an alias of its input, want a copy")
	}
	if !slices.Equal(a.F[0], []int{512}) {
		t.Errorf("architecture = %+v, want f [[512] [512]]", a)
	}
}
