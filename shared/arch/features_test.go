package arch

import (
	"math"
	"slices"
	"testing"
)

// The expected parameter counts below are computed by hand from the layer
// shapes, with E = (VocabSize + MaxPositions + TypeVocabSize) = 50,779
// embedding rows:
//
//	embeddings  E·h + 2h (LayerNorm)
//	per layer   3(h² + h) [Q, K, V] + (h² + h) + 2h [output, LayerNorm]
//	            + (h·f + f) + (f·h + h) + 2h [feed-forward, LayerNorm]
//	head        (h² + h) [pooler] + (2h + 2) [classifier]
//
// bert-tiny (h 128, f 512, 2 layers):
//
//	6,499,712 + 256 + 2 × 198,272 + 16,512 + 258 = 6,913,282
//
// bert-mini (h 256, f 1024, 4 layers):
//
//	12,999,424 + 512 + 4 × 789,760 + 65,792 + 514 = 16,225,282
//
// bert-small (h 512, f 2048, 4 layers) and bert-medium (8 layers):
//
//	25,998,848 + 1,024 + 4 × 3,152,384 + 262,656 + 1,026 = 38,873,090
//	25,998,848 + 1,024 + 8 × 3,152,384 + 262,656 + 1,026 = 51,482,626
//
// bert-base (h 768, f 3072, 12 layers):
//
//	38,998,272 + 1,536 + 12 × 7,087,872 + 590,592 + 1,538 = 124,646,402
//
// The usual BERT-Base figure of 109,482,240 (BertModel with pooler, vocabulary
// 30,522) plus (50,265 − 30,522) × 768 = 15,162,624 more word embeddings plus
// the 1,538 classifier parameters gives the same 124,646,402.
func TestPresetParamsMatchHandCounts(t *testing.T) {
	want := map[string]int64{
		"bert-tiny":   6_913_282,
		"bert-mini":   16_225_282,
		"bert-small":  38_873_090,
		"bert-medium": 51_482_626,
		"bert-base":   124_646_402,
	}
	s := Default()
	for name, params := range want {
		a, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		f := s.Features(a, 1, 128)
		if f.Params != params {
			t.Errorf("%s: params = %d, want %d", name, f.Params, params)
		}
		if f.WeightBytes != 4*params {
			t.Errorf("%s: weight bytes = %d, want %d", name, f.WeightBytes, 4*params)
		}
	}
}

// bert-tiny at batch 1, sequence 128 (T = 128 tokens, h = 128, 2 heads of
// width 64, f = 512), per layer:
//
//	qkv        3 · 128 · 128 · 128            = 6,291,456
//	attention  2 heads · 2 · 128² · 64          = 4,194,304
//	output     128 · 128 · 128                = 2,097,152
//	ffn        128 · (128·512 + 512·128)       = 16,777,216
//
// and once: head 128² + 128·2 = 16,640.
func TestBERTTinyMACsByClass(t *testing.T) {
	a, err := Preset("bert-tiny")
	if err != nil {
		t.Fatal(err)
	}
	f := Default().Features(a, 1, 128)
	want := map[OpClass]float64{
		OpQKV:       12_582_912,
		OpAttention: 8_388_608,
		OpOutput:    4_194_304,
		OpFFN:       33_554_432,
		OpHead:      16_640,
	}
	checkMACs(t, f, want)
	if got := f.TotalMACs(); got != 58_736_896 {
		t.Errorf("total MACs = %v, want 58,736,896", got)
	}
	if got := f.FLOPs(); got != 117_473_792 {
		t.Errorf("FLOPs = %v, want 117,473,792", got)
	}
}

// mixedArch has every head family, a two-layer feed-forward stack and a
// projection between layers of different width.
var mixedArch = Architecture{
	L: 2,
	H: []int{128, 256},
	F: [][]int{{256, 512}, {1024}},
	O: [][]string{
		{"sa_wma_64", "l_dft_64"},
		{"l_dct_64", "c_5_64", "c_9_64", "sa_sdp_64"},
	},
}

// At batch 2 and sequence 16 (T = 32 tokens, d = 64 in both layers):
//
//	qkv         3·32·128·128 + 3·32·256·256                 = 1,572,864 + 6,291,456
//	attention   layer 1: P·V 2·(2·16²·64) + wma scores 2·16²·64 = 98,304
//	            layer 2: P·V 4·(2·16²·64) + sdp scores 2·16²·64 = 163,840
//	wma         32·64²                                      = 131,072
//	dft         2·2·16·64·(16+64)                           = 327,680
//	dct         2·16·64·(16+64)                             = 163,840
//	conv        c_5: 32·(320+4096+64+320+4096+320)          = 294,912
//	            c_9: 32·(576+4096+64+576+4096+576)          = 319,488
//	output      32·128·128 + 32·256·256                     = 524,288 + 2,097,152
//	ffn         32·(128·256+256·512+512·128) + 32·(256·1024+1024·256)
//	                                                        = 7,340,032 + 16,777,216
//	projection  32·128·256                                  = 1,048,576
//	head        2·(256² + 256·2)                            = 132,096
func TestMixedArchMACsByClass(t *testing.T) {
	s := Default()
	if err := s.Validate(mixedArch); err != nil {
		t.Fatal(err)
	}
	f := s.Features(mixedArch, 2, 16)
	checkMACs(t, f, map[OpClass]float64{
		OpQKV:        7_864_320,
		OpAttention:  262_144,
		OpWMA:        131_072,
		OpDFT:        327_680,
		OpDCT:        163_840,
		OpConv:       614_400,
		OpOutput:     2_621_440,
		OpFFN:        24_117_248,
		OpProjection: 1_048_576,
		OpEmbedding:  0,
		OpHead:       132_096,
	})
}

// Parameters of mixedArch:
//
//	embeddings  50,779·128 + 256                                   = 6,499,968
//	layer 1     Q,K,V 49,536 + W_wma 4,096 + output 16,512 + LN 256
//	            + ffn 33,024 + 131,584 + 65,664 + LN 256 + projection 33,024
//	                                                               = 333,952
//	layer 2     Q,K,V 197,376 + c_5 8,965 + c_9 9,481 + output 65,792 + LN 512
//	            + ffn 263,168 + 262,400 + LN 512                   = 808,206
//	head        65,792 + 514                                       = 66,306
//
// where a c_k head of width 64 has 64k + (64² + 64) + (64k + k) + (64² + 64).
func TestMixedArchParamsAndMemory(t *testing.T) {
	f := Default().Features(mixedArch, 2, 16)
	if f.Params != 7_708_432 {
		t.Errorf("params = %d, want 7,708,432", f.Params)
	}
	// Layer 2 is the peak: 32·(2·256 + 4·256 + 2·1024) + 2·4·16² = 116,736
	// floats.
	if f.ActivationBytes != 4*116_736 {
		t.Errorf("activation bytes = %d, want %d", f.ActivationBytes, 4*116_736)
	}
	if got, want := f.MemoryBytes(), int64(4*7_708_432+4*116_736); got != want {
		t.Errorf("memory bytes = %d, want %d", got, want)
	}
}

func TestMixedArchShapeFeatures(t *testing.T) {
	f := Default().Features(mixedArch, 2, 16)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"depth", float64(f.Depth), 2},
		{"hidden min", f.HiddenMin, 128},
		{"hidden max", f.HiddenMax, 256},
		{"hidden mean", f.HiddenMean, 192},
		{"ff mean", f.FFMean, (256 + 512 + 1024) / 3.0},
		{"ff max", f.FFMax, 1024},
		{"ff depth mean", f.FFDepthMean, 1.5},
		{"heads mean", f.HeadsMean, 3},
	} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	wantHeads := map[HeadType]int{
		ScaledDotProduct: 1, WeightedMultiply: 1, FourierTransform: 1, CosineTransform: 1,
		Convolution5: 1, Convolution9: 1, Convolution13: 0,
	}
	for typ, n := range wantHeads {
		if f.HeadCounts[typ] != n {
			t.Errorf("head count %s = %d, want %d", typ, f.HeadCounts[typ], n)
		}
	}
}

func TestMACsScaleWithBatch(t *testing.T) {
	s := Default()
	one := s.Features(mixedArch, 1, 64)
	eight := s.Features(mixedArch, 8, 64)
	for _, c := range OpClasses() {
		if eight.MACs[c] != 8*one.MACs[c] {
			t.Errorf("%s: MACs at batch 8 = %v, want 8 × %v", c, eight.MACs[c], one.MACs[c])
		}
	}
	if eight.Params != one.Params {
		t.Errorf("params depend on batch: %d vs %d", eight.Params, one.Params)
	}
}

func TestFeatureVectorMatchesNames(t *testing.T) {
	names := FeatureNames()
	v := Default().Features(mixedArch, 2, 16).Vector()
	if len(v) != len(names) {
		t.Fatalf("vector has %d entries, names %d", len(v), len(names))
	}
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(names) {
		t.Errorf("feature names repeat: %v", names)
	}
	at := func(name string) float64 { return v[slices.Index(names, name)] }
	if got := at("log1p_params"); math.Abs(got-math.Log1p(7_708_432)) > 1e-9 {
		t.Errorf("log1p_params = %v, want log1p(7,708,432)", got)
	}
	if got := at("log1p_macs_wma"); math.Abs(got-math.Log1p(131_072)) > 1e-9 {
		t.Errorf("log1p_macs_wma = %v, want log1p(131,072)", got)
	}
	if got := at("heads_c_9"); got != 1 {
		t.Errorf("heads_c_9 = %v, want 1", got)
	}
	if got := at("log2_seq_len"); got != 4 {
		t.Errorf("log2_seq_len = %v, want 4", got)
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Errorf("%s = %v, want a finite number", names[i], x)
		}
	}
}

func TestOpClassesListEveryClass(t *testing.T) {
	want := []OpClass{"qkv", "attention", "wma", "dft", "dct", "conv", "output", "ffn", "projection", "embedding", "head"}
	if got := OpClasses(); !slices.Equal(got, want) {
		t.Errorf("OpClasses() = %v, want %v", got, want)
	}
}

func TestFeaturesOfEmptyArchDoNotPanic(t *testing.T) {
	f := Default().Features(Architecture{L: 3}, 1, 128)
	if f.Params != 0 || f.TotalMACs() != 0 {
		t.Errorf("empty architecture: params %d, MACs %v, want 0 and 0", f.Params, f.TotalMACs())
	}
}

func checkMACs(t *testing.T, f Features, want map[OpClass]float64) {
	t.Helper()
	for _, c := range OpClasses() {
		if f.MACs[c] != want[c] {
			t.Errorf("MACs[%s] = %v, want %v", c, f.MACs[c], want[c])
		}
	}
}
