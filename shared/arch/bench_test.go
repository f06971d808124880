package arch

import "testing"

func BenchmarkFeaturesBERTBase(b *testing.B) {
	s := Default()
	a, _ := Preset("bert-base")
	for b.Loop() {
		_ = s.Features(a, 1, 128)
	}
}

func BenchmarkFeatureVector(b *testing.B) {
	s := Default()
	a := s.Random(seeded(1))
	for b.Loop() {
		_ = s.Features(a, 32, 128).Vector()
	}
}

func BenchmarkRandom(b *testing.B) {
	s := Default()
	rng := seeded(1)
	for b.Loop() {
		_ = s.Random(rng)
	}
}

func BenchmarkLatinHypercube100(b *testing.B) {
	s := Default()
	rng := seeded(1)
	for b.Loop() {
		_ = s.LatinHypercube(rng, 100)
	}
}

func BenchmarkMutate(b *testing.B) {
	s := Default()
	rng := seeded(1)
	a := s.Random(rng)
	for b.Loop() {
		_ = s.Mutate(rng, a)
	}
}

func BenchmarkValidate(b *testing.B) {
	s := Default()
	a := s.Random(seeded(1))
	for b.Loop() {
		_ = s.Validate(a)
	}
}

func BenchmarkEncode(b *testing.B) {
	s := Default()
	a := s.Random(seeded(1))
	for b.Loop() {
		_, _ = s.Encode(a)
	}
}

func BenchmarkID(b *testing.B) {
	s := Default()
	a := s.Random(seeded(1))
	for b.Loop() {
		_ = s.ID(a)
	}
}
