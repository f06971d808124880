package engine

import (
	"context"

	"github.com/edgetran/edgetran/shared/arch"
)

// Grain sizes for row-parallel work: enough rows per chunk that the chunk
// hand-off is negligible, few enough that both workers get a share at
// batch 1.
const rowGrain = 16

// Forward runs the model on the current input (see SetInput). It checks ctx
// before each layer and returns ctx.Err() when it is cancelled.
func (m *Model) Forward(ctx context.Context) error {
	if m.closed {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rows := m.plan.rows
	m.pool.parallel(&m.et, rows, rowGrain)
	for i := range m.w.layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		m.layer(&m.w.layers[i])
	}

	// Pooler on each sequence's first token: with a leading dimension of
	// seq·h the rows of A are exactly those tokens.
	hL := m.hOut
	m.matmul(gemm{m: m.spec.Batch, n: hL, k: hL, a: m.x, lda: m.spec.SeqLen * hL,
		b: m.w.pooler.w, ldb: hL, c: m.pooled, ldc: hL, bias: m.w.pooler.b, act: actTanh})
	m.matmul(gemm{m: m.spec.Batch, n: arch.NumLabels, k: hL, a: m.pooled, lda: hL,
		b: m.w.classifier.w, ldb: arch.NumLabels, c: m.logits, ldc: arch.NumLabels, bias: m.w.classifier.b})
	return nil
}

// matmul runs g on the pool, one output tile per chunk.
func (m *Model) matmul(g gemm) {
	m.g = g
	m.pool.parallel(&m.g, m.g.tiles(), 1)
}

// linear computes out = in·d.w + d.b (with act and row mask) over all rows.
func (m *Model) linear(d *dense, in, out []float32, act activation, mask []bool) {
	m.matmul(gemm{m: m.plan.rows, n: d.out, k: d.in, a: in, lda: d.in, b: d.w, ldb: d.out,
		c: out, ldc: d.out, bias: d.b, act: act, mask: mask})
}

// normalize sets x = LayerNorm(x + residual) row by row.
func (m *Model) normalize(x, residual []float32, width int, n norm) {
	m.nt = normTask{x: x, residual: residual, width: width, gamma: n.gamma, beta: n.beta}
	m.pool.parallel(&m.nt, m.plan.rows, rowGrain)
}

// layer runs one encoder layer from m.x and leaves its output in m.x.
func (m *Model) layer(l *layer) {
	// K and V rows of padded positions are zeroed, so no head can carry
	// a padded token's value to another position.
	m.linear(&l.q, m.x, m.q, actNone, nil)
	m.linear(&l.k, m.x, m.k, actNone, m.keep)
	m.linear(&l.v, m.x, m.v, actNone, m.keep)
	m.ht.l = l
	m.pool.parallel(&m.ht, m.spec.Batch*l.n, 1)
	m.linear(&l.out, m.ctx, m.a, actNone, nil)
	m.normalize(m.a, m.x, l.h, l.attnNorm)

	// Feed-forward stack; m.x is free again and takes the result.
	in := m.a
	last := len(l.ff) - 1
	for j := range last {
		out := m.ff[j%2]
		m.linear(&l.ff[j], in, out, actGELU, nil)
		in = out
	}
	m.linear(&l.ff[last], in, m.x, actNone, nil)
	m.normalize(m.x, m.a, l.h, l.ffNorm)

	if l.proj != nil {
		m.linear(l.proj, m.x, m.a, actNone, nil)
		m.x, m.a = m.a, m.x
	}
}

// embedTask computes the LayerNorm of word + position + token type
// embeddings for each row.
type embedTask struct{ m *Model }

func (t *embedTask) run(_, lo, hi int) {
	m := t.m
	e := &m.w.emb
	h := m.w.layers[0].h
	seq := m.spec.SeqLen
	for r := lo; r < hi; r++ {
		row := m.x[r*h : (r+1)*h]
		word := e.word[int(m.ids[r])*h:]
		pos := e.position[(r%seq)*h:]
		typ := e.tokenType[int(m.types[r])*h:]
		for f := range row {
			row[f] = word[f] + pos[f] + typ[f]
		}
		layerNorm(row, nil, e.norm.gamma, e.norm.beta)
	}
}

// headTask runs the heads of layer l, one (sequence, head) pair per index.
type headTask struct {
	m *Model
	l *layer
}

func (t *headTask) run(worker, lo, hi int) {
	for i := lo; i < hi; i++ {
		t.m.head(worker, t.l, i/t.l.n, i%t.l.n)
	}
}

// head computes head j of layer l for sequence b into its columns of m.ctx:
// C_j = softmax(scores + mask)·V_j plus the head type's extra term.
func (m *Model) head(worker int, l *layer, b, j int) {
	seq, d, w := m.spec.SeqLen, l.d, l.width()
	base := b*seq*w + j*d
	q, k, v, out := m.q[base:], m.k[base:], m.v[base:], m.ctx[base:]
	keep := m.keep[b*seq : (b+1)*seq]
	s := &m.scratch[worker]
	scores := s.scores[:seq*seq]
	hd := &l.heads[j]

	switch hd.typ {
	case arch.ScaledDotProduct:
		g := gemm{m: seq, n: seq, k: d, a: q, lda: w, b: k, ldb: w, transB: true, c: scores, ldc: seq, alpha: scoreScale(d)}
		g.serial()
	case arch.WeightedMultiply:
		g := gemm{m: seq, n: d, k: d, a: q, lda: w, b: hd.wma, ldb: d, c: s.t1, ldc: d}
		g.serial()
		g = gemm{m: seq, n: seq, k: d, a: s.t1, lda: d, b: k, ldb: w, transB: true, c: scores, ldc: seq, alpha: scoreScale(d)}
		g.serial()
	default:
		// Heads without scores still attend uniformly over the real
		// tokens, as the reference model computes P·V for every head.
		clear(scores)
	}
	for r := range seq {
		softmax(scores[r*seq:(r+1)*seq], keep)
	}
	g := gemm{m: seq, n: d, k: seq, a: scores, lda: seq, b: v, ldb: w, c: out, ldc: w}
	g.serial()

	switch {
	case hd.typ == arch.FourierTransform:
		addDFT(out, w, v, w, l.dftSeq, l.dftHd, s.t1, s.t2)
	case hd.typ == arch.CosineTransform:
		addDCT(out, w, v, w, l.dctSeq, l.dctHd, s.t1)
	case hd.conv != nil:
		cs := convScratch{dw: s.t1, kq: s.t2, vp: s.t3, logits: s.logits}
		addConv(out, w, q, k, v, w, seq, keep, hd.conv, &cs)
	}
}
