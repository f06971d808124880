package surrogate

import (
	"fmt"
	"math"

	"github.com/edgetran/edgetran/shared/arch"
)

// FeatureSet selects the inputs of a regressor.
type FeatureSet string

// The feature sets. The zero value means the model's own default.
const (
	// RawFeatures is the 37-number embedding of the published data.
	RawFeatures FeatureSet = "raw"
	// ArchFeatures are cost features: multiply-accumulates per operation
	// class, element-wise work, parameters, activation memory and counts.
	ArchFeatures FeatureSet = "arch"
	// BothFeatures is the embedding followed by the cost features.
	BothFeatures FeatureSet = "both"
)

// DefaultSeqLen is the sequence length of the published measurements.
const DefaultSeqLen = 128

// Cost feature indices into the vector returned by costFeatures. The first
// numCostClasses entries are additive work terms: the linear model regresses
// the measure on them.
const (
	costDense       = iota // MACs of all dense projections (QKV, output, feed-forward, pooler)
	costScores             // MACs of attention scores Q·Kᵀ (sa heads) and Q·W (wma heads)
	costContext            // MACs of the softmax-weighted context P·V, computed for every head
	costTransform          // operations of the 2-D DFT and DCT heads, n·log2(n) per transform
	costConv               // MACs of the dynamic-span convolution heads
	costElementwise        // softmax, LayerNorm and GELU elements
	costParams             // parameters (weights read once per sequence)
	costLayers             // encoder layers (per-layer kernel launches)
	costHeads              // attention heads (per-head kernels)
	costFFLayers           // dense layers in all feed-forward stacks
	numCostClasses
)

// Further descriptive features after the additive ones.
const (
	costActivationBytes = numCostClasses + iota // fp32 activations of one sequence, summed over layers
	costMeanHidden                              // mean hidden size
	costMaxFF                                   // widest feed-forward layer
	costHeadTypes                               // first of 7 head-type counts in canonical order
	numCostFeatures     = costHeadTypes + 7
)

var costNames = [numCostFeatures]string{
	"macs_dense", "macs_scores", "macs_context", "ops_transform", "macs_conv",
	"elementwise", "params", "layers", "heads", "ff_layers",
	"activation_bytes", "mean_hidden", "max_ff",
	"heads_sa_sdp", "heads_sa_wma", "heads_l_dft", "heads_l_dct", "heads_c_5", "heads_c_9", "heads_c_13",
}

// headTypeIndex maps each head type to its column after costHeadTypes.
var headTypeIndex = map[arch.HeadType]int{
	arch.ScaledDotProduct: 0, arch.WeightedMultiply: 1, arch.FourierTransform: 2,
	arch.CosineTransform: 3, arch.Convolution5: 4, arch.Convolution9: 5, arch.Convolution13: 6,
}

// kernelSizes holds the convolution width per head-type column; it avoids
// HeadType.KernelSize, which parses the name on every call.
var kernelSizes = [7]float64{4: 5, 5: 9, 6: 13}

// Vocabulary, position and token-type table sizes of FlexiBERT 2.0, and the
// two SST-2 labels of the classifier.
const (
	vocabSize    = 50265
	maxPositions = 512
	tokenTypes   = 2
	labels       = 2
)

// costFeatures fills dst (length numCostFeatures) with the cost features of
// a for one sequence of seqLen tokens, following the forward pass of the
// design space: QKV projections, per-head work by type, output projection,
// feed-forward stack, inter-layer projection, pooler and classifier. Heads
// that do not parse count as scaled dot-product heads; validate first when
// that matters.
func costFeatures(dst []float64, a arch.Architecture, seqLen int) {
	clear(dst)
	s := float64(seqLen)
	if len(a.H) > 0 {
		h1 := float64(a.H[0])
		dst[costParams] += (vocabSize+maxPositions+tokenTypes)*h1 + 2*h1
		dst[costElementwise] += 2 * s * h1
	}
	var hiddenSum float64
	for i := 0; i < a.L && i < len(a.H) && i < len(a.F) && i < len(a.O); i++ {
		h := float64(a.H[i])
		n := float64(len(a.O[i]))
		if n == 0 {
			continue
		}
		d := math.Floor(h / n)
		nd := n * d
		hiddenSum += h
		dst[costLayers]++
		dst[costHeads] += n

		dst[costDense] += 3*s*h*nd + s*nd*h
		dst[costParams] += 3*(h*nd+nd) + nd*h + h + 4*h
		dst[costElementwise] += s*s*n + 4*s*h
		dst[costActivationBytes] += 4 * s * (3*nd + n*s + nd + 2*h)
		dst[costContext] += n * s * s * d

		for _, raw := range a.O[i] {
			hd, err := arch.ParseHead(raw)
			t, ok := headTypeIndex[hd.Type]
			if err != nil || !ok {
				t = 0
			}
			dst[costHeadTypes+t]++
			switch t {
			case 0:
				dst[costScores] += s * s * d
			case 1:
				dst[costScores] += s*d*d + s*s*d
				dst[costParams] += d * d
			case 2, 3:
				dst[costTransform] += s * d * math.Log2(s*d)
			default:
				k := kernelSizes[t]
				dst[costConv] += 3*s*d*k + 2*s*d*d + s*k*d
				dst[costParams] += 2*d*k + k + 2*d*d + d
			}
		}

		prev := h
		for _, w := range a.F[i] {
			fw := float64(w)
			dst[costDense] += s * prev * fw
			dst[costParams] += prev*fw + fw
			dst[costElementwise] += s * fw
			dst[costActivationBytes] += 4 * s * fw
			dst[costFFLayers]++
			dst[costMaxFF] = max(dst[costMaxFF], fw)
			prev = fw
		}
		dst[costDense] += s * prev * h
		dst[costParams] += prev*h + h

		if i+1 < a.L && i+1 < len(a.H) && a.H[i+1] != a.H[i] {
			next := float64(a.H[i+1])
			dst[costDense] += s * h * next
			dst[costParams] += h*next + next
		}
	}
	if a.L > 0 && len(a.H) >= a.L {
		hl := float64(a.H[a.L-1])
		dst[costDense] += hl*hl + hl*labels
		dst[costParams] += hl*hl + hl + hl*labels + labels
	}
	if dst[costLayers] > 0 {
		dst[costMeanHidden] = hiddenSum / dst[costLayers]
	}
}

// Featurizer turns architectures into feature rows for one feature set.
// Build one with NewFeaturizer; it is safe for concurrent use.
type Featurizer struct {
	space  *arch.Space
	set    FeatureSet
	seqLen int
}

// NewFeaturizer returns a featurizer for set over space at seqLen tokens per
// sequence. A nil space means arch.Default(), an empty set means
// BothFeatures, and seqLen 0 means DefaultSeqLen.
func NewFeaturizer(space *arch.Space, set FeatureSet, seqLen int) (*Featurizer, error) {
	if space == nil {
		space = arch.Default()
	}
	if set == "" {
		set = BothFeatures
	}
	if seqLen == 0 {
		seqLen = DefaultSeqLen
	}
	switch set {
	case RawFeatures, ArchFeatures, BothFeatures:
	default:
		return nil, fmt.Errorf("feature set %q: want raw, arch or both", set)
	}
	if seqLen < 1 {
		return nil, fmt.Errorf("sequence length %d: must be positive", seqLen)
	}
	return &Featurizer{space: space, set: set, seqLen: seqLen}, nil
}

// Len returns the length of a feature row.
func (f *Featurizer) Len() int {
	n := 0
	if f.set != ArchFeatures {
		n += f.space.EmbeddingLen()
	}
	if f.set != RawFeatures {
		n += numCostFeatures
	}
	return n
}

// Names returns the name of every entry of a feature row.
func (f *Featurizer) Names() []string {
	var names []string
	if f.set != ArchFeatures {
		for i := range f.space.EmbeddingLen() {
			names = append(names, fmt.Sprintf("embedding_%d", i))
		}
	}
	if f.set != RawFeatures {
		names = append(names, costNames[:]...)
	}
	return names
}

// Row fills dst (length f.Len()) with the features of a. Cost features enter
// as log(1+x), because costs span orders of magnitude and the measures are
// closer to power laws of them. It fails when a is not valid in the space.
func (f *Featurizer) Row(dst []float64, a arch.Architecture) error {
	return f.row(dst, nil, a)
}

// row is Row; when costs is not nil (length numCostClasses) it also receives
// the additive cost terms before the log transform.
func (f *Featurizer) row(dst, costs []float64, a arch.Architecture) error {
	if len(dst) != f.Len() {
		panic(fmt.Sprintf("surrogate: feature row has length %d, want %d", len(dst), f.Len()))
	}
	off := 0
	if f.set != ArchFeatures {
		e, err := f.space.Encode(a)
		if err != nil {
			return err
		}
		for i, v := range e {
			dst[i] = float64(v)
		}
		off = len(e)
	} else if err := f.space.Validate(a); err != nil {
		return err
	}
	if f.set != RawFeatures || costs != nil {
		var buf [numCostFeatures]float64
		costFeatures(buf[:], a, f.seqLen)
		if costs != nil {
			copy(costs, buf[:numCostClasses])
		}
		if f.set != RawFeatures {
			c := dst[off : off+numCostFeatures]
			for i, v := range buf {
				c[i] = math.Log1p(v)
			}
		}
	}
	return nil
}

// Rows returns the feature rows of archs, one per architecture.
func (f *Featurizer) Rows(archs []arch.Architecture) ([][]float64, error) {
	n := f.Len()
	flat := make([]float64, n*len(archs))
	rows := make([][]float64, len(archs))
	for i, a := range archs {
		rows[i] = flat[i*n : (i+1)*n : (i+1)*n]
		if err := f.Row(rows[i], a); err != nil {
			return nil, fmt.Errorf("architecture %d: %w", i, err)
		}
	}
	return rows, nil
}

// costRows returns the raw (not logged) additive cost terms of archs, the
// inputs of the linear model.
func costRows(archs []arch.Architecture, seqLen int) [][]float64 {
	rows := make([][]float64, len(archs))
	buf := make([]float64, numCostFeatures)
	for i, a := range archs {
		costFeatures(buf, a, seqLen)
		rows[i] = append([]float64(nil), buf[:numCostClasses]...)
	}
	return rows
}
