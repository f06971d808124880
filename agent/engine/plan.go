package engine

import (
	"errors"
	"fmt"

	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/shared/arch"
)

// Sanity bounds that keep size arithmetic far from overflow for a spec that
// comes from a file or the network. The design space stays well inside them.
const (
	maxLayers = 64
	maxWidth  = 1 << 16
)

// layerShape is the validated shape of one encoder layer.
type layerShape struct {
	h, n, d int // hidden size, heads, head width floor(h/n)
	heads   []arch.HeadType
	ff      []int
}

// width returns n·d, the width of Q, K, V and the concatenated heads.
func (s layerShape) width() int { return s.n * s.d }

// shapeOf validates the parts of a that the engine relies on and returns the
// layer shapes. It does not require a to lie in a design space, so custom
// spaces work too.
func shapeOf(a arch.Architecture) ([]layerShape, error) {
	if a.L < 1 || a.L > maxLayers {
		return nil, fmt.Errorf("l = %d: want 1 to %d layers", a.L, maxLayers)
	}
	if len(a.H) != a.L || len(a.F) != a.L || len(a.O) != a.L {
		return nil, fmt.Errorf("l = %d but h, f and o have %d, %d and %d entries: give one entry per layer", a.L, len(a.H), len(a.F), len(a.O))
	}
	shapes := make([]layerShape, a.L)
	for i := range a.L {
		h, heads := a.H[i], a.O[i]
		if h < 1 || h > maxWidth {
			return nil, fmt.Errorf("layer %d: hidden size %d out of range [1, %d]", i+1, h, maxWidth)
		}
		if len(heads) < 1 || len(heads) > h {
			return nil, fmt.Errorf("layer %d: %d heads for hidden size %d: want 1 to %d heads", i+1, len(heads), h, h)
		}
		if len(a.F[i]) < 1 {
			return nil, fmt.Errorf("layer %d: feed-forward stack is empty: give at least one width", i+1)
		}
		for _, f := range a.F[i] {
			if f < 1 || f > maxWidth {
				return nil, fmt.Errorf("layer %d: feed-forward width %d out of range [1, %d]", i+1, f, maxWidth)
			}
		}
		s := layerShape{h: h, n: len(heads), d: h / len(heads), ff: a.F[i]}
		for j, raw := range heads {
			hd, err := arch.ParseHead(raw)
			if err != nil {
				return nil, fmt.Errorf("layer %d, head %d: %w", i+1, j+1, err)
			}
			if !knownHead(hd.Type) {
				return nil, fmt.Errorf("layer %d, head %d: head type %q: %w", i+1, j+1, hd.Type, runner.ErrUnsupported)
			}
			if hd.Size != s.d {
				return nil, fmt.Errorf("layer %d, head %d: size %d in %q, want floor(%d/%d) = %d", i+1, j+1, hd.Size, raw, h, s.n, s.d)
			}
			s.heads = append(s.heads, hd.Type)
		}
		shapes[i] = s
	}
	return shapes, nil
}

func knownHead(t arch.HeadType) bool {
	switch t {
	case arch.ScaledDotProduct, arch.WeightedMultiply, arch.FourierTransform, arch.CosineTransform:
		return true
	}
	k := t.KernelSize()
	return t.Kind() == "c" && k > 0 && k%2 == 1 && k <= maxKernel
}

// maxKernel bounds convolution kernels: a kernel wider than twice the
// longest sequence only multiplies zero padding.
const maxKernel = 2*arch.MaxPositions + 1

// plan is the memory plan of a model, in float32 elements unless named
// otherwise, computed before anything is allocated. New allocates exactly
// these buffers.
//
// NOTE: weights equal arch.Features.WeightBytes exactly, but activations
// differ from Features.ActivationBytes. Features counts the probabilities of
// all heads at once (batch·n·seq²), while the engine keeps one seq² score
// matrix per worker plus shared DFT/DCT matrices.
type plan struct {
	batch, seq, workers int
	maxD, maxK          int // widest head and largest convolution kernel

	weights int // all weight tensors

	hidden  int // each of the two batch·seq × max h buffers
	width   int // each of q, k, v, ctx: batch·seq × max n·d
	ff      int // each feed-forward buffer: batch·seq × max f
	ffBufs  int // 1 when every stack has one layer, else 2
	pooled  int // batch × h_L
	logits  int // batch × arch.NumLabels
	scratch int // per worker: scores seq×seq, three seq×max d, seq×max k
	tables  int // DFT and DCT matrices, shared by size
	rows    int // batch·seq: token ids and token types (int32) and mask (bool)
}

func newPlan(shapes []layerShape, batch, seq, workers int) plan {
	p := plan{batch: batch, seq: seq, workers: workers, rows: batch * seq}
	p.weights = countWeights(shapes)

	maxH, maxW, maxF, maxD, maxK := 0, 0, 0, 0, 0
	dft, dct := map[int]bool{}, map[int]bool{}
	for _, s := range shapes {
		maxH, maxW, maxD = max(maxH, s.h), max(maxW, s.width()), max(maxD, s.d)
		for _, f := range s.ff {
			maxF = max(maxF, f)
		}
		if len(s.ff) > 1 {
			p.ffBufs = 2
		}
		for _, t := range s.heads {
			switch t {
			case arch.FourierTransform:
				dft[seq], dft[s.d] = true, true
			case arch.CosineTransform:
				dct[seq], dct[s.d] = true, true
			}
			maxK = max(maxK, t.KernelSize())
		}
	}

	p.ffBufs = max(p.ffBufs, 1)
	p.maxD, p.maxK = maxD, maxK
	p.hidden = p.rows * maxH
	p.width = p.rows * maxW
	p.ff = p.rows * maxF
	p.pooled = batch * shapes[len(shapes)-1].h
	p.logits = batch * arch.NumLabels
	p.scratch = seq*seq + 3*seq*maxD + seq*maxK
	for n := range dft {
		p.tables += 2 * n * n
	}
	for n := range dct {
		p.tables += 2 * n * n
	}
	return p
}

// weightBytes returns the bytes of all weights.
func (p plan) weightBytes() int64 { return 4 * int64(p.weights) }

// activationBytes returns the bytes of every buffer other than the weights:
// activations, per-worker scratch, transform matrices and inputs.
func (p plan) activationBytes() int64 {
	floats := 2*p.hidden + 4*p.width + p.ffBufs*p.ff + p.pooled + p.logits + p.workers*p.scratch + p.tables
	return 4*int64(floats) + int64(p.rows)*(4+4+1)
}

func (p plan) totalBytes() int64 { return p.weightBytes() + p.activationBytes() }

// countWeights returns the number of weight floats by running the weight
// builder in counting mode, so the count cannot drift from what New
// allocates.
func countWeights(shapes []layerShape) int {
	ws := &weightSet{counting: true}
	buildWeights(ws, shapes)
	return ws.used
}

// checkSpec validates spec and returns its layer shapes and memory plan.
func checkSpec(spec runner.Spec, workers int) ([]layerShape, plan, error) {
	if spec.Precision != "" && spec.Precision != "fp32" {
		return nil, plan{}, fmt.Errorf("precision %q: %w (the builtin engine runs fp32 only)", spec.Precision, runner.ErrUnsupported)
	}
	if spec.Batch < 1 || spec.Batch > 1<<16 {
		return nil, plan{}, fmt.Errorf("batch size %d out of range [1, 65536]", spec.Batch)
	}
	if spec.SeqLen < 1 || spec.SeqLen > arch.MaxPositions {
		return nil, plan{}, fmt.Errorf("sequence length %d out of range [1, %d]", spec.SeqLen, arch.MaxPositions)
	}
	shapes, err := shapeOf(spec.Arch)
	if err != nil {
		return nil, plan{}, fmt.Errorf("architecture: %w", err)
	}
	p := newPlan(shapes, spec.Batch, spec.SeqLen, workers)
	if spec.MaxMemoryBytes > 0 && p.totalBytes() > spec.MaxMemoryBytes {
		return nil, plan{}, fmt.Errorf("estimated memory %d bytes (weights %d, activations %d) exceeds the limit of %d bytes: %w",
			p.totalBytes(), p.weightBytes(), p.activationBytes(), spec.MaxMemoryBytes, runner.ErrTooLarge)
	}
	return shapes, p, nil
}

// errClosed is returned by a closed model.
var errClosed = errors.New("engine: model is closed")
