package arch

import (
	"math"
	"slices"
)

// Fixed sizes of the FlexiBERT 2.0 model around the encoder layers. They
// enter the parameter count, so an engine whose parameter count should match
// Features builds its embeddings and classifier with these sizes.
const (
	VocabSize     = 50265 // word-embedding rows (RoBERTa byte-level BPE vocabulary)
	MaxPositions  = 512   // position-embedding rows, the longest sequence
	TypeVocabSize = 2     // token-type embedding rows
	NumLabels     = 2     // classifier outputs (SST-2 is binary)
)

// OpClass groups the multiply-accumulates of a forward pass by operation.
type OpClass string

// Operation classes. Each counts the multiply-accumulates (MACs) described
// at Space.Features.
const (
	OpQKV        OpClass = "qkv"        // Q, K, V projections
	OpAttention  OpClass = "attention"  // score products of sa heads and P·V of every head
	OpWMA        OpClass = "wma"        // extra Q_j·W_j product of sa_wma heads
	OpDFT        OpClass = "dft"        // 2-D DFT (real part) of l_dft heads
	OpDCT        OpClass = "dct"        // 2-D DCT-II of l_dct heads
	OpConv       OpClass = "conv"       // dynamic-span convolution of c_k heads
	OpOutput     OpClass = "output"     // dense n·d → h after the heads
	OpFFN        OpClass = "ffn"        // feed-forward stacks
	OpProjection OpClass = "projection" // dense h_i → h_{i+1} between layers of different width
	OpEmbedding  OpClass = "embedding"  // table look-ups: parameters but no MACs
	OpHead       OpClass = "head"       // pooler and classifier
)

var opClasses = []OpClass{
	OpQKV, OpAttention, OpWMA, OpDFT, OpDCT, OpConv,
	OpOutput, OpFFN, OpProjection, OpEmbedding, OpHead,
}

// OpClasses returns every operation class in a fixed order.
func OpClasses() []OpClass { return slices.Clone(opClasses) }

// Features are the cost features of one architecture at one input shape.
// Build them with Space.Features.
type Features struct {
	Batch  int // sequences per forward pass
	SeqLen int // tokens per sequence

	// Params counts every parameter: weights, biases, embeddings, LayerNorm
	// scales and shifts, the pooler and the classifier.
	Params int64
	// MACs holds the multiply-accumulates per class for one forward pass of
	// Batch×SeqLen tokens. Every class of OpClasses has an entry.
	MACs map[OpClass]float64
	// WeightBytes is Params × 4 (float32).
	WeightBytes int64
	// ActivationBytes estimates the peak of live float32 activations; see
	// Space.Features for the formula.
	ActivationBytes int64

	Depth       int     // encoder layers l
	HiddenMin   float64 // smallest h_i
	HiddenMax   float64 // largest h_i
	HiddenMean  float64 // mean h_i over layers
	FFMean      float64 // mean width over every dense layer of every feed-forward stack
	FFMax       float64 // widest dense layer of any feed-forward stack
	FFDepthMean float64 // mean number of dense layers per feed-forward stack
	HeadsMean   float64 // mean heads per layer
	// HeadCounts holds the number of heads of each type summed over layers,
	// with an entry (possibly 0) for every head type the cost model knows.
	HeadCounts map[HeadType]int
}

// Features returns the cost features of a for batch sequences of seqLen
// tokens. a must be valid in s; for an invalid a the numbers are meaningless
// but Features does not panic.
//
// With T = batch·seqLen tokens, and for layer i with hidden size h, n heads
// of width d = floor(h/n) and m = n·d, the multiply-accumulates are:
//
//	qkv         3·T·h·m
//	attention   per sa_sdp or sa_wma head B·s²·d for the scores; per head of any type B·s²·d for P·V
//	wma         per sa_wma head T·d² for Q_j·W_j
//	dft         per l_dft head B·2·s·d·(s+d): Re(F_s V F_d) = C_s V C_d − S_s V S_d as dense matrix products
//	dct         per l_dct head B·s·d·(s+d): D_s V D_dᵀ as dense matrix products
//	conv        per c_k head T·(k·d + d² + d + d·k + d² + k·d): depthwise conv, pointwise d×d,
//	            K'⊙Q (one multiply per element), A·W_k, V·W_o and the k-way weighted sum
//	output      T·m·h
//	ffn         T·Σ in·out over the dense layers h → f_1 → … → f_last → h
//	projection  T·h_i·h_{i+1} where the widths differ
//	embedding   0
//	head        B·(h_L² + h_L·NumLabels) for the pooler on the first token and the classifier
//
// The transforms are counted as dense products because that is the work of
// a straightforward implementation; an FFT-based engine does fewer (order
// s·d·log(s·d)). Softmax, GELU, LayerNorm, scaling and residual additions are
// not counted.
//
// Parameters: Q, K, V, output, feed-forward, projection, pooler and
// classifier dense layers have weights and biases; each sa_wma head has a
// d×d matrix without bias; each c_k head has a depthwise kernel k·d (no
// bias), a pointwise d×d with bias, W_k d×k with bias and W_o d×d with bias;
// each encoder layer has two LayerNorms (2·h each) and the embeddings
// (VocabSize+MaxPositions+TypeVocabSize)·h_1 plus one LayerNorm. DFT and DCT
// matrices are fixed, not parameters.
//
// ActivationBytes = 4 · max over layers of
//
//	T·(2h + 4m + 2·f_max) + B·n·s²
//
// floats, where f_max is the larger of h and the widest dense layer of the
// stack: the layer input and output, Q, K, V and the concatenated context,
// two feed-forward buffers of at most f_max per token, and the attention
// probabilities of all heads at once. This is the buffer plan of a layer-at-a-time engine that frees each
// layer's buffers before the next; it ignores allocator overhead.
func (s *Space) Features(a Architecture, batch, seqLen int) Features {
	f := Features{
		Batch:      batch,
		SeqLen:     seqLen,
		MACs:       make(map[OpClass]float64, len(opClasses)),
		HeadCounts: make(map[HeadType]int, len(knownHeadTypes)),
		Depth:      a.L,
	}
	for _, c := range opClasses {
		f.MACs[c] = 0
	}
	for _, t := range knownHeadTypes {
		f.HeadCounts[t] = 0
	}
	layers := min(a.L, len(a.H), len(a.F), len(a.O))
	if layers <= 0 {
		return f
	}

	B, S := float64(batch), float64(seqLen)
	T := B * S
	var params int64
	var peakFloats float64

	h1 := int64(a.H[0])
	params += (VocabSize+MaxPositions+TypeVocabSize)*h1 + 2*h1

	f.HiddenMin, f.HiddenMax = math.Inf(1), math.Inf(-1)
	var ffSum, ffCount, ffDepthSum, headSum float64
	for i := range layers {
		h := int64(a.H[i])
		n := int64(len(a.O[i]))
		var d int64
		if n > 0 {
			d = h / n
		}
		m := n * d
		hf, df, mf := float64(h), float64(d), float64(m)

		f.HiddenMin = math.Min(f.HiddenMin, hf)
		f.HiddenMax = math.Max(f.HiddenMax, hf)
		f.HiddenMean += hf
		headSum += float64(n)

		// Q, K, V projections.
		f.MACs[OpQKV] += 3 * T * hf * mf
		params += 3 * (h*m + m)

		for _, raw := range a.O[i] {
			hd, err := ParseHead(raw)
			if err != nil {
				continue
			}
			if _, ok := f.HeadCounts[hd.Type]; ok {
				f.HeadCounts[hd.Type]++
			}
			// P·V for every head.
			f.MACs[OpAttention] += B * S * S * df
			switch hd.Type.Kind() {
			case "sa":
				f.MACs[OpAttention] += B * S * S * df
				if hd.Type == WeightedMultiply {
					f.MACs[OpWMA] += T * df * df
					params += d * d
				}
			case "l":
				switch hd.Type {
				case FourierTransform:
					f.MACs[OpDFT] += B * 2 * S * df * (S + df)
				case CosineTransform:
					f.MACs[OpDCT] += B * S * df * (S + df)
				}
			case "c":
				k := int64(hd.Type.KernelSize())
				kf := float64(k)
				f.MACs[OpConv] += T * (kf*df + df*df + df + df*kf + df*df + kf*df)
				params += k*d + (d*d + d) + (d*k + k) + (d*d + d)
			}
		}

		// Concatenated heads → h, then the first LayerNorm.
		f.MACs[OpOutput] += T * mf * hf
		params += m*h + h + 2*h

		// Feed-forward stack h → f_1 → … → f_last → h, then the second
		// LayerNorm.
		in := h
		fmax := h
		for _, w := range a.F[i] {
			out := int64(w)
			f.MACs[OpFFN] += T * float64(in) * float64(out)
			params += in*out + out
			in = out
			fmax = max(fmax, out)
			ffSum += float64(w)
			ffCount++
			f.FFMax = math.Max(f.FFMax, float64(w))
		}
		ffDepthSum += float64(len(a.F[i]))
		f.MACs[OpFFN] += T * float64(in) * hf
		params += in*h + h + 2*h

		if i+1 < layers && a.H[i+1] != a.H[i] {
			next := int64(a.H[i+1])
			f.MACs[OpProjection] += T * hf * float64(next)
			params += h*next + next
		}

		floats := T*(2*hf+4*mf+2*float64(fmax)) + B*float64(n)*S*S
		peakFloats = math.Max(peakFloats, floats)
	}

	hL := int64(a.H[layers-1])
	f.MACs[OpHead] += B * (float64(hL*hL) + float64(hL*NumLabels))
	params += hL*hL + hL + hL*NumLabels + NumLabels

	f.Params = params
	f.WeightBytes = 4 * params
	f.ActivationBytes = int64(4 * peakFloats)
	f.HiddenMean /= float64(layers)
	f.HeadsMean = headSum / float64(layers)
	f.FFDepthMean = ffDepthSum / float64(layers)
	if ffCount > 0 {
		f.FFMean = ffSum / ffCount
	}
	return f
}

// TotalMACs returns the multiply-accumulates of all classes.
func (f Features) TotalMACs() float64 {
	var t float64
	for _, c := range opClasses {
		t += f.MACs[c]
	}
	return t
}

// FLOPs returns the floating-point operations of one forward pass, counting
// two per multiply-accumulate.
func (f Features) FLOPs() float64 { return 2 * f.TotalMACs() }

// MemoryBytes returns WeightBytes + ActivationBytes.
func (f Features) MemoryBytes() int64 { return f.WeightBytes + f.ActivationBytes }

// FeatureNames returns the names of the entries of Features.Vector, in order.
func FeatureNames() []string {
	names := []string{"log1p_params"}
	for _, c := range opClasses {
		names = append(names, "log1p_macs_"+string(c))
	}
	names = append(names,
		"log1p_macs_total", "log1p_weight_bytes", "log1p_activation_bytes",
		"depth", "hidden_min", "hidden_max", "hidden_mean",
		"ff_mean", "ff_max", "ff_depth_mean", "heads_mean",
	)
	for _, t := range knownHeadTypes {
		names = append(names, "heads_"+string(t))
	}
	return append(names, "log2_batch", "log2_seq_len")
}

// Vector returns the features as numbers in the order of FeatureNames, for
// surrogate models. Counts that span orders of magnitude (parameters, MACs,
// bytes) enter as log(1+x) so that tree splits and kernel distances treat
// ratios evenly; widths, depths and head counts enter as they are; batch and
// sequence length enter as log2 so that one target-agnostic model can
// separate input shapes.
func (f Features) Vector() []float64 {
	v := make([]float64, 0, 36)
	v = append(v, math.Log1p(float64(f.Params)))
	for _, c := range opClasses {
		v = append(v, math.Log1p(f.MACs[c]))
	}
	v = append(v,
		math.Log1p(f.TotalMACs()),
		math.Log1p(float64(f.WeightBytes)),
		math.Log1p(float64(f.ActivationBytes)),
		float64(f.Depth), f.HiddenMin, f.HiddenMax, f.HiddenMean,
		f.FFMean, f.FFMax, f.FFDepthMean, f.HeadsMean,
	)
	for _, t := range knownHeadTypes {
		v = append(v, float64(f.HeadCounts[t]))
	}
	return append(v, math.Log2(float64(max(f.Batch, 1))), math.Log2(float64(max(f.SeqLen, 1))))
}
