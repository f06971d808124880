package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/shared/arch"
)

// Options tune the engine. The zero value is ready to use.
type Options struct {
	// Threads is the number of goroutines a forward pass uses; 0 means
	// runtime.GOMAXPROCS(0).
	Threads int
}

func (o Options) threads() int {
	if o.Threads > 0 {
		return o.Threads
	}
	return runtime.GOMAXPROCS(0)
}

// Input is one batch of token sequences, each slice batch·seq long and
// row-major (sequence b, position t at b·seq + t).
type Input struct {
	TokenIDs []int32 // in [0, arch.VocabSize)
	TypeIDs  []int32 // in [0, arch.TypeVocabSize); nil means all 0
	// Mask marks the real tokens; false marks padding. nil means no
	// padding. Padded positions never change the outputs at real positions.
	Mask []bool
}

// Model is a FlexiBERT 2.0 encoder with a pooler and a 2-label classifier,
// prepared for one batch size and sequence length. All memory is allocated
// by New; Forward allocates nothing. A Model is not safe for concurrent use.
type Model struct {
	spec    runner.Spec
	plan    plan
	pool    *pool
	w       weights
	tensors *weightSet

	ids, types []int32
	keep       []bool
	x, a       []float32 // layer input and attention output, rows × h
	q, k, v    []float32 // rows × n·d
	ctx        []float32 // concatenated head outputs, rows × n·d
	ff         [2][]float32
	pooled     []float32
	logits     []float32
	scratch    []workerScratch
	hOut       int // width of x after the last layer

	// Reused task values, so parallel calls convert pointers to interfaces
	// without allocating.
	g      gemm
	nt     normTask
	ht     headTask
	et     embedTask
	closed bool
}

type workerScratch struct {
	scores     []float32
	t1, t2, t3 []float32
	logits     []float32
}

// New validates spec, checks its memory estimate against
// spec.MaxMemoryBytes (failing with an error wrapping runner.ErrTooLarge),
// then allocates the model, initialises its weights from spec.Seed and sets
// a random input drawn from the same seed. Unknown head types and precisions
// other than fp32 fail with an error wrapping runner.ErrUnsupported.
func New(spec runner.Spec, opts Options) (*Model, error) {
	workers := opts.threads()
	shapes, p, err := checkSpec(spec, workers)
	if err != nil {
		return nil, err
	}
	m := &Model{spec: spec, plan: p, hOut: shapes[len(shapes)-1].h}
	m.spec.Arch = spec.Arch.Clone()

	m.pool = newPool(workers)
	m.tensors = newWeightSet(p.weights, spec.Seed)
	m.w = buildWeights(m.tensors, shapes)
	m.pool.parallel(m.tensors, len(m.tensors.blocks), 4)
	m.tensors.blocks = nil

	tr := transforms{dft: map[int]*dftMatrices{}, dct: map[int]*dctMatrices{}}
	for i := range m.w.layers {
		l := &m.w.layers[i]
		for _, hd := range l.heads {
			switch hd.typ {
			case arch.FourierTransform:
				l.dftSeq, l.dftHd = tr.dftOf(spec.SeqLen), tr.dftOf(l.d)
			case arch.CosineTransform:
				l.dctSeq, l.dctHd = tr.dctOf(spec.SeqLen), tr.dctOf(l.d)
			}
		}
	}

	m.ids = make([]int32, p.rows)
	m.types = make([]int32, p.rows)
	m.keep = make([]bool, p.rows)
	m.x = make([]float32, p.hidden)
	m.a = make([]float32, p.hidden)
	m.q = make([]float32, p.width)
	m.k = make([]float32, p.width)
	m.v = make([]float32, p.width)
	m.ctx = make([]float32, p.width)
	for i := range p.ffBufs {
		m.ff[i] = make([]float32, p.ff)
	}
	if p.ffBufs == 1 {
		m.ff[1] = m.ff[0]
	}
	m.pooled = make([]float32, p.pooled)
	m.logits = make([]float32, p.logits)
	seq, sd := spec.SeqLen, spec.SeqLen*p.maxD
	m.scratch = make([]workerScratch, workers)
	for w := range m.scratch {
		buf := make([]float32, p.scratch)
		m.scratch[w] = workerScratch{
			scores: buf[:seq*seq],
			t1:     buf[seq*seq : seq*seq+sd],
			t2:     buf[seq*seq+sd : seq*seq+2*sd],
			t3:     buf[seq*seq+2*sd : seq*seq+3*sd],
			logits: buf[seq*seq+3*sd:],
		}
	}
	m.ht.m = m
	m.et.m = m

	rng := rand.New(rand.NewPCG(spec.Seed, 0x696e707574)) // stream "input"
	in := Input{TokenIDs: make([]int32, p.rows)}
	for i := range in.TokenIDs {
		in.TokenIDs[i] = int32(rng.IntN(arch.VocabSize))
	}
	if err := m.SetInput(in); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// SetInput copies in into the model; the next Forward uses it.
func (m *Model) SetInput(in Input) error {
	n := m.plan.rows
	if len(in.TokenIDs) != n {
		return fmt.Errorf("input has %d token ids, want batch·seq = %d·%d = %d", len(in.TokenIDs), m.spec.Batch, m.spec.SeqLen, n)
	}
	if in.TypeIDs != nil && len(in.TypeIDs) != n {
		return fmt.Errorf("input has %d token type ids, want %d", len(in.TypeIDs), n)
	}
	if in.Mask != nil && len(in.Mask) != n {
		return fmt.Errorf("input mask has %d entries, want %d", len(in.Mask), n)
	}
	for i, id := range in.TokenIDs {
		if id < 0 || id >= arch.VocabSize {
			return fmt.Errorf("token id %d at position %d out of range [0, %d)", id, i, arch.VocabSize)
		}
	}
	for i, t := range in.TypeIDs {
		if t < 0 || t >= arch.TypeVocabSize {
			return fmt.Errorf("token type id %d at position %d out of range [0, %d)", t, i, arch.TypeVocabSize)
		}
	}
	copy(m.ids, in.TokenIDs)
	if in.TypeIDs != nil {
		copy(m.types, in.TypeIDs)
	} else {
		clear(m.types)
	}
	if in.Mask != nil {
		copy(m.keep, in.Mask)
	} else {
		for i := range m.keep {
			m.keep[i] = true
		}
	}
	return nil
}

// Logits returns the classifier output of the last Forward, batch×arch.NumLabels.
// The slice is reused by the next Forward.
func (m *Model) Logits() []float32 { return m.logits }

// Hidden returns the final hidden states of the last Forward,
// batch×seq×h_L, or nil after Close. The slice is reused by the next
// Forward.
func (m *Model) Hidden() []float32 {
	if m.closed {
		return nil
	}
	return m.x[:m.plan.rows*m.hOut]
}

// Tensors returns every weight tensor in creation order. Their Data alias the
// model's weights.
func (m *Model) Tensors() []Tensor { return m.tensors.tensors }

// Tensor returns the weight tensor with the given name.
func (m *Model) Tensor(name string) (Tensor, bool) {
	i, ok := m.tensors.index[name]
	if !ok {
		return Tensor{}, false
	}
	return m.tensors.tensors[i], true
}

// MemoryBytes returns the planned memory of the model: weights, activations,
// per-worker scratch, transform matrices and inputs. It is computed before
// allocation and matches what New allocates.
func (m *Model) MemoryBytes() int64 { return m.plan.totalBytes() }

// WeightBytes returns the bytes of the model's weights.
func (m *Model) WeightBytes() int64 { return m.plan.weightBytes() }

// Run implements runner.Model: it runs len(out) forward passes on the
// current input and records the start and end of each.
func (m *Model) Run(ctx context.Context, out []runner.Iteration) (int, error) {
	for i := range out {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		start := time.Now()
		if err := m.Forward(ctx); err != nil {
			return i, err
		}
		out[i] = runner.Iteration{Start: start, End: time.Now()}
	}
	return len(out), nil
}

// Close stops the model's goroutines and drops its memory. It is safe to
// call more than once.
func (m *Model) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	if m.pool != nil {
		m.pool.close()
	}
	m.w = weights{}
	m.tensors = nil
	m.x, m.a, m.q, m.k, m.v, m.ctx = nil, nil, nil, nil, nil, nil
	m.ff = [2][]float32{}
	m.pooled, m.logits = nil, nil
	m.scratch = nil
	return nil
}

// scoreScale is 1/√d, the attention score scale.
func scoreScale(d int) float32 { return float32(1 / math.Sqrt(float64(d))) }
