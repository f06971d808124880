package engine

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/shared/arch"
)

func newModel(t testing.TB, a arch.Architecture, batch, seq int, seed uint64) *Model {
	t.Helper()
	m, err := New(runner.Spec{Arch: a, Batch: batch, SeqLen: seq, Seed: seed}, Options{Threads: 2})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func forward(t testing.TB, m *Model) {
	t.Helper()
	if err := m.Forward(context.Background()); err != nil {
		t.Fatalf("Forward: %v", err)
	}
}

// heads writes n heads of width h/n with the given types repeated in turn.
func heads(h, n int, types ...arch.HeadType) []string {
	out := make([]string, n)
	for j := range out {
		out[j] = arch.Head{Type: types[j%len(types)], Size: h / n}.String()
	}
	return out
}

var allTypes = []arch.HeadType{
	arch.ScaledDotProduct, arch.WeightedMultiply, arch.FourierTransform, arch.CosineTransform,
	arch.Convolution5, arch.Convolution9, arch.Convolution13,
}

// mixedArch covers every head type in one layer, a hidden size that heads
// do not divide (128/12 gives d = 10), a projection between widths and
// feed-forward stacks of 1 to 3 layers.
func mixedArch() arch.Architecture {
	return arch.Architecture{
		L: 3,
		H: []int{128, 256, 128},
		F: [][]int{{256}, {512, 256}, {256, 512, 256}},
		O: [][]string{
			heads(128, 12, allTypes...),
			heads(256, 8, arch.Convolution13, arch.CosineTransform, arch.FourierTransform, arch.WeightedMultiply),
			heads(128, 4, arch.ScaledDotProduct, arch.Convolution5),
		},
	}
}

// paddedInput returns random tokens for batch sequences of seq positions
// where sequence b has lengths[b] real tokens.
func paddedInput(rng *rand.Rand, seq int, lengths []int) Input {
	n := seq * len(lengths)
	in := Input{TokenIDs: make([]int32, n), TypeIDs: make([]int32, n), Mask: make([]bool, n)}
	for b, length := range lengths {
		for t := range seq {
			r := b*seq + t
			in.TokenIDs[r] = int32(rng.IntN(arch.VocabSize))
			in.TypeIDs[r] = int32(rng.IntN(arch.TypeVocabSize))
			in.Mask[r] = t < length
		}
	}
	return in
}

func TestModelMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cases := []struct {
		name    string
		a       arch.Architecture
		batch   int
		seq     int
		lengths []int
	}{
		{name: "mixed heads padded", a: mixedArch(), batch: 2, seq: 9, lengths: []int{9, 5}},
		{name: "one token", a: mixedArch(), batch: 1, seq: 1, lengths: []int{1}},
		{name: "bert tiny", a: mustPreset(t, "bert-tiny"), batch: 1, seq: 16, lengths: []int{16}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newModel(t, tc.a, tc.batch, tc.seq, 7)
			if err := m.SetInput(paddedInput(rng, tc.seq, tc.lengths)); err != nil {
				t.Fatal(err)
			}
			forward(t, m)
			hidden, logits := refForward(t, m)

			// LayerNorm outputs are O(1); float32 against float64 over a few
			// layers agrees to about 1e-5, so 1e-3 leaves room without
			// hiding a wrong term.
			const tol = 1e-3
			h := m.hOut
			for r, row := range hidden {
				for f, want := range row {
					if got := float64(m.Hidden()[r*h+f]); math.Abs(got-want) > tol {
						t.Fatalf("hidden[%d][%d] = %g, want %g", r, f, got, want)
					}
				}
			}
			for b, row := range logits {
				for c, want := range row {
					if got := float64(m.Logits()[b*arch.NumLabels+c]); math.Abs(got-want) > tol {
						t.Fatalf("logits[%d][%d] = %g, want %g", b, c, got, want)
					}
				}
			}
		})
	}
}

func mustPreset(t testing.TB, name string) arch.Architecture {
	t.Helper()
	a, err := arch.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestModelIsDeterministicForSeed(t *testing.T) {
	a := mixedArch()
	first := newModel(t, a, 2, 8, 42)
	second := newModel(t, a, 2, 8, 42)
	other := newModel(t, a, 2, 8, 43)
	for _, m := range []*Model{first, second, other} {
		forward(t, m)
	}
	if !slices.Equal(first.Hidden(), second.Hidden()) {
		t.Error("same seed gave different hidden states")
	}
	if !slices.Equal(first.Logits(), second.Logits()) {
		t.Error("same seed gave different logits")
	}
	if slices.Equal(first.Logits(), other.Logits()) {
		t.Error("seeds 42 and 43 gave identical logits")
	}
	forward(t, first)
	if !slices.Equal(first.Logits(), second.Logits()) {
		t.Error("a second pass changed the logits")
	}
}

func TestPaddedTokensDoNotChangeOutputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	space := arch.Default()
	archs := []arch.Architecture{mixedArch()}
	for range 5 {
		archs = append(archs, space.Random(rng))
	}
	const seq = 16
	lengths := []int{11, 16, 1}
	for i, a := range archs {
		m := newModel(t, a, len(lengths), seq, uint64(i))
		in := paddedInput(rng, seq, lengths)
		if err := m.SetInput(in); err != nil {
			t.Fatal(err)
		}
		forward(t, m)
		hidden := slices.Clone(m.Hidden())
		logits := slices.Clone(m.Logits())

		for r, keep := range in.Mask {
			if !keep {
				in.TokenIDs[r] = int32(rng.IntN(arch.VocabSize))
				in.TypeIDs[r] = 1 - in.TypeIDs[r]
			}
		}
		if err := m.SetInput(in); err != nil {
			t.Fatal(err)
		}
		forward(t, m)
		h := m.hOut
		for r, keep := range in.Mask {
			if keep && !slices.Equal(hidden[r*h:(r+1)*h], m.Hidden()[r*h:(r+1)*h]) {
				t.Fatalf("arch %d (%s): hidden state of real token %d changed with the padding", i, space.ID(a), r)
			}
		}
		if !slices.Equal(logits, m.Logits()) {
			t.Fatalf("arch %d (%s): logits changed with the padding: %v then %v", i, space.ID(a), logits, m.Logits())
		}
	}
}

func TestRandomArchitecturesGiveFiniteOutputs(t *testing.T) {
	n := 200
	if testing.Short() || raceEnabled {
		n = 20
	}
	rng := rand.New(rand.NewPCG(31, 32))
	space := arch.Default()
	for i := range n {
		a := space.Random(rng)
		batch, seq := 1+rng.IntN(2), 1+rng.IntN(8)
		m, err := New(runner.Spec{Arch: a, Batch: batch, SeqLen: seq, Seed: uint64(i)}, Options{Threads: 2})
		if err != nil {
			t.Fatalf("arch %d (%s): New: %v", i, space.ID(a), err)
		}
		forward(t, m)
		if got, want := len(m.Logits()), batch*arch.NumLabels; got != want {
			t.Fatalf("arch %d: %d logits, want %d", i, got, want)
		}
		if got, want := len(m.Hidden()), batch*seq*a.H[a.L-1]; got != want {
			t.Fatalf("arch %d: %d hidden values, want %d", i, got, want)
		}
		for j, v := range append(slices.Clone(m.Logits()), m.Hidden()...) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("arch %d (%s): output %d is %g", i, space.ID(a), j, v)
			}
		}
		m.Close()
	}
}

func TestForwardAllocatesNothing(t *testing.T) {
	m := newModel(t, mixedArch(), 2, 12, 1)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(5, func() {
		if err := m.Forward(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Forward made %v allocations per pass, want 0", allocs)
	}
}

func TestWeightsMatchFeatureCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	space := arch.Default()
	for i := range 50 {
		a := space.Random(rng)
		shapes, err := shapeOf(a)
		if err != nil {
			t.Fatal(err)
		}
		p := newPlan(shapes, 1, 128, 2)
		if got, want := p.weightBytes(), space.Features(a, 1, 128).WeightBytes; got != want {
			t.Fatalf("arch %d (%s): engine weights %d bytes, features %d", i, space.ID(a), got, want)
		}
	}
}

func TestNewAllocatesItsPlan(t *testing.T) {
	a := mustPreset(t, "bert-mini")
	spec := runner.Spec{Arch: a, Batch: 2, SeqLen: 64, Seed: 1}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := New(spec, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	defer m.Close()
	allocated := int64(after.TotalAlloc - before.TotalAlloc)
	planned := m.MemoryBytes()
	// The plan leaves out maps, tensor headers and the input drawn at
	// New, all well under 1 MiB.
	if allocated < planned || allocated > planned+1<<20 {
		t.Errorf("New allocated %d bytes, plan says %d", allocated, planned)
	}
}

func TestNewRejectsOverMemoryLimit(t *testing.T) {
	spec := runner.Spec{Arch: mustPreset(t, "bert-base"), Batch: 1, SeqLen: 128, MaxMemoryBytes: 100 << 20}
	_, err := New(spec, Options{})
	if !errors.Is(err, runner.ErrTooLarge) {
		t.Fatalf("New = %v, want an error wrapping ErrTooLarge", err)
	}
	if !strings.Contains(err.Error(), "104857600") {
		t.Errorf("error %q does not name the limit", err)
	}
}

func TestNewRejectsBadSpecs(t *testing.T) {
	good := mixedArch()
	wrongSize := mixedArch()
	wrongSize.O[0][0] = "sa_sdp_64"
	unknown := mixedArch()
	unknown.O[1][0] = "lstm_32"
	short := mixedArch()
	short.H = short.H[:2]
	cases := []struct {
		name string
		spec runner.Spec
		is   error
		text string
	}{
		{name: "zero batch", spec: runner.Spec{Arch: good, Batch: 0, SeqLen: 8}, text: "batch size 0"},
		{name: "long sequence", spec: runner.Spec{Arch: good, Batch: 1, SeqLen: 513}, text: "sequence length 513"},
		{name: "half precision", spec: runner.Spec{Arch: good, Batch: 1, SeqLen: 8, Precision: "fp16"}, is: runner.ErrUnsupported},
		{name: "unknown head", spec: runner.Spec{Arch: unknown, Batch: 1, SeqLen: 8}, is: runner.ErrUnsupported},
		{name: "wrong head size", spec: runner.Spec{Arch: wrongSize, Batch: 1, SeqLen: 8}, text: "want floor(128/12) = 10"},
		{name: "missing layer", spec: runner.Spec{Arch: short, Batch: 1, SeqLen: 8}, text: "give one entry per layer"},
		{name: "empty", spec: runner.Spec{Batch: 1, SeqLen: 8}, text: "l = 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.spec, Options{})
			if err == nil {
				t.Fatal("New succeeded")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q does not mention %q", err, tc.text)
			}
		})
	}
}

func TestSetInputRejectsBadTokens(t *testing.T) {
	m := newModel(t, mixedArch(), 1, 4, 1)
	cases := []struct {
		name string
		in   Input
		text string
	}{
		{name: "short", in: Input{TokenIDs: []int32{1, 2}}, text: "2 token ids"},
		{name: "id too large", in: Input{TokenIDs: []int32{1, 2, 3, arch.VocabSize}}, text: "token id 50265"},
		{name: "negative type", in: Input{TokenIDs: []int32{1, 2, 3, 4}, TypeIDs: []int32{0, 0, -1, 0}}, text: "token type id -1"},
		{name: "short mask", in: Input{TokenIDs: []int32{1, 2, 3, 4}, Mask: []bool{true}}, text: "mask has 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := m.SetInput(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("SetInput = %v, want an error mentioning %q", err, tc.text)
			}
		})
	}
}

func TestRunnerRunsAndStopsOnCancel(t *testing.T) {
	r := NewRunner(Options{Threads: 2})
	info := r.Info()
	if info.Name != "builtin" || info.Runtime != "builtin" || info.ComputeUnit != "cpu" || !strings.HasPrefix(info.Version, Version) {
		t.Errorf("Info = %+v", info)
	}
	model, err := r.Prepare(context.Background(), runner.Spec{Arch: mustPreset(t, "bert-tiny"), Batch: 1, SeqLen: 32, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer model.Close()

	out := make([]runner.Iteration, 3)
	n, err := model.Run(context.Background(), out)
	if err != nil || n != 3 {
		t.Fatalf("Run = %d, %v; want 3, nil", n, err)
	}
	for i, it := range out {
		if it.Duration() <= 0 {
			t.Errorf("iteration %d lasted %v", i, it.Duration())
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err = model.Run(ctx, out)
	if n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Run = %d, %v; want 0, context.Canceled", n, err)
	}
	if err := model.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := model.Run(context.Background(), out); err == nil {
		t.Error("Run after Close succeeded")
	}
}

func TestTensorsAreNamedAndShaped(t *testing.T) {
	m := newModel(t, mixedArch(), 1, 4, 1)
	cases := []struct {
		name  string
		shape []int
	}{
		{"embeddings.word.weight", []int{arch.VocabSize, 128}},
		{"layer.0.attn.q.weight", []int{128, 120}},
		{"layer.0.attn.head.1.wma.weight", []int{10, 10}},
		{"layer.0.attn.head.6.conv.depthwise.weight", []int{13, 10}},
		{"layer.0.proj.weight", []int{128, 256}},
		{"layer.1.ffn.1.weight", []int{512, 256}},
		{"layer.2.ffn.out.weight", []int{256, 128}},
		{"classifier.bias", []int{arch.NumLabels}},
	}
	for _, tc := range cases {
		tn, ok := m.Tensor(tc.name)
		if !ok {
			t.Errorf("no tensor %q", tc.name)
			continue
		}
		if !slices.Equal(tn.Shape, tc.shape) {
			t.Errorf("%s: shape %v, want %v", tc.name, tn.Shape, tc.shape)
		}
	}
	if _, ok := m.Tensor("layer.1.proj.weight"); !ok {
		t.Error("no projection between layers 2 and 3 (256 → 128)")
	}
	if _, ok := m.Tensor("layer.2.proj.weight"); ok {
		t.Error("last layer has a projection")
	}
}
