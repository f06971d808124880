package engine

import (
	"math"
	"strconv"
	"testing"

	"github.com/edgetran/edgetran/shared/arch"
)

// This file is an independent float64 reference of the model, written with
// explicit loops straight from the forward-pass definition, for the tests to
// compare the engine against. It shares no code with the engine except the
// weight tensors it reads by name.

type mat [][]float64

func newMat(r, c int) mat {
	m := make(mat, r)
	for i := range m {
		m[i] = make([]float64, c)
	}
	return m
}

// refDense returns x·W + b for a [in, out] weight tensor.
func refDense(x mat, w, b []float32, out int) mat {
	y := newMat(len(x), out)
	for i, row := range x {
		for o := range out {
			s := float64(b[o])
			for j, v := range row {
				s += v * float64(w[j*out+o])
			}
			y[i][o] = s
		}
	}
	return y
}

func refLayerNorm(x mat, gamma, beta []float32) {
	for _, row := range x {
		mean := 0.0
		for _, v := range row {
			mean += v
		}
		mean /= float64(len(row))
		vr := 0.0
		for _, v := range row {
			vr += (v - mean) * (v - mean)
		}
		vr /= float64(len(row))
		for j, v := range row {
			row[j] = (v-mean)/math.Sqrt(vr+1e-12)*float64(gamma[j]) + float64(beta[j])
		}
	}
}

// refGELU uses the normal CDF written with Erfc, a different route from the
// engine's Erf.
func refGELU(x float64) float64 { return x * 0.5 * math.Erfc(-x/math.Sqrt2) }

// refSoftmax is a masked softmax; masked entries get 0.
func refSoftmax(row []float64, keep []bool) {
	total := 0.0
	maxv := math.Inf(-1)
	for j, v := range row {
		if keep == nil || keep[j] {
			maxv = math.Max(maxv, v)
		}
	}
	for j, v := range row {
		if keep != nil && !keep[j] {
			row[j] = 0
			continue
		}
		row[j] = math.Exp(v - maxv)
		total += row[j]
	}
	for j := range row {
		if total > 0 {
			row[j] /= total
		}
	}
}

// refDFT2Real returns the real part of the 2-D DFT of v by the direct sum.
func refDFT2Real(v mat) mat {
	s, d := len(v), len(v[0])
	out := newMat(s, d)
	for k := range s {
		for l := range d {
			sum := 0.0
			for t := range s {
				for f := range d {
					angle := 2 * math.Pi * (float64(k*t)/float64(s) + float64(l*f)/float64(d))
					sum += v[t][f] * math.Cos(angle)
				}
			}
			out[k][l] = sum
		}
	}
	return out
}

// refDCT2 returns the orthonormal 2-D DCT-II of v by the direct sum.
func refDCT2(v mat) mat {
	s, d := len(v), len(v[0])
	scale := func(k, n int) float64 {
		if k == 0 {
			return math.Sqrt(1 / float64(n))
		}
		return math.Sqrt(2 / float64(n))
	}
	out := newMat(s, d)
	for k := range s {
		for l := range d {
			sum := 0.0
			for t := range s {
				for f := range d {
					sum += v[t][f] *
						math.Cos(math.Pi*float64(2*t+1)*float64(k)/float64(2*s)) *
						math.Cos(math.Pi*float64(2*f+1)*float64(l)/float64(2*d))
				}
			}
			out[k][l] = scale(k, s) * scale(l, d) * sum
		}
	}
	return out
}

// refTensor returns a model tensor by name or fails the test.
func refTensor(t testing.TB, m *Model, name string) []float32 {
	t.Helper()
	tn, ok := m.Tensor(name)
	if !ok {
		t.Fatalf("model has no tensor %q", name)
	}
	return tn.Data
}

// refHead computes one head of one sequence: q, k, v are seq×d (k and v
// rows of padded positions already zero), keep marks real tokens.
func refHead(t testing.TB, m *Model, prefix string, typ arch.HeadType, q, k, v mat, keep []bool) mat {
	seq, d := len(q), len(q[0])
	scores := newMat(seq, seq)
	switch typ {
	case arch.ScaledDotProduct, arch.WeightedMultiply:
		qq := q
		if typ == arch.WeightedMultiply {
			w := refTensor(t, m, prefix+"wma.weight")
			qq = newMat(seq, d)
			for i := range seq {
				for o := range d {
					for j := range d {
						qq[i][o] += q[i][j] * float64(w[j*d+o])
					}
				}
			}
		}
		for i := range seq {
			for j := range seq {
				for f := range d {
					scores[i][j] += qq[i][f] * k[j][f]
				}
				scores[i][j] /= math.Sqrt(float64(d))
			}
		}
	}
	out := newMat(seq, d)
	for i := range seq {
		refSoftmax(scores[i], keep)
		for j := range seq {
			for f := range d {
				out[i][f] += scores[i][j] * v[j][f]
			}
		}
	}

	var extra mat
	switch {
	case typ == arch.FourierTransform:
		extra = refDFT2Real(v)
	case typ == arch.CosineTransform:
		extra = refDCT2(v)
	case typ.Kind() == "c":
		extra = refConv(t, m, prefix, typ.KernelSize(), q, k, v, keep)
	}
	for i := range extra {
		for f := range d {
			out[i][f] += extra[i][f]
		}
	}
	return out
}

// refConv is the dynamic-span convolution written position by position.
func refConv(t testing.TB, m *Model, prefix string, taps int, q, k, v mat, keep []bool) mat {
	seq, d := len(q), len(q[0])
	half := (taps - 1) / 2
	dw := refTensor(t, m, prefix+"conv.depthwise.weight")
	at := func(x mat, pos, f int) float64 {
		if pos < 0 || pos >= seq || !keep[pos] {
			return 0
		}
		return x[pos][f]
	}
	conv := newMat(seq, d)
	for i := range seq {
		for f := range d {
			for j := range taps {
				conv[i][f] += float64(dw[j*d+f]) * at(k, i-half+j, f)
			}
		}
	}
	kp := refDense(conv, refTensor(t, m, prefix+"conv.pointwise.weight"), refTensor(t, m, prefix+"conv.pointwise.bias"), d)
	for i := range seq {
		for f := range d {
			kp[i][f] *= q[i][f]
		}
	}
	kern := refDense(kp, refTensor(t, m, prefix+"conv.kernel.weight"), refTensor(t, m, prefix+"conv.kernel.bias"), taps)
	for i := range kern {
		refSoftmax(kern[i], nil)
	}
	vp := refDense(v, refTensor(t, m, prefix+"conv.value.weight"), refTensor(t, m, prefix+"conv.value.bias"), d)
	out := newMat(seq, d)
	for i := range seq {
		for j := range taps {
			for f := range d {
				out[i][f] += kern[i][j] * at(vp, i-half+j, f)
			}
		}
	}
	return out
}

// refForward runs the whole model on its current input and returns the
// final hidden states (batch·seq × h_L) and the logits (batch × arch.NumLabels).
func refForward(t testing.TB, m *Model) (mat, mat) {
	t.Helper()
	a := m.spec.Arch
	batch, seq := m.spec.Batch, m.spec.SeqLen
	rows := batch * seq
	h := a.H[0]
	word := refTensor(t, m, "embeddings.word.weight")
	pos := refTensor(t, m, "embeddings.position.weight")
	typ := refTensor(t, m, "embeddings.token_type.weight")
	x := newMat(rows, h)
	for r := range rows {
		for f := range h {
			x[r][f] = float64(word[int(m.ids[r])*h+f]) + float64(pos[(r%seq)*h+f]) + float64(typ[int(m.types[r])*h+f])
		}
	}
	refLayerNorm(x, refTensor(t, m, "embeddings.norm.weight"), refTensor(t, m, "embeddings.norm.bias"))

	for i := range a.L {
		x = refLayer(t, m, i, x)
	}

	hL := a.H[a.L-1]
	first := newMat(batch, hL)
	for b := range batch {
		copy(first[b], x[b*seq])
	}
	pooled := refDense(first, refTensor(t, m, "pooler.weight"), refTensor(t, m, "pooler.bias"), hL)
	for _, row := range pooled {
		for j := range row {
			row[j] = math.Tanh(row[j])
		}
	}
	return x, refDense(pooled, refTensor(t, m, "classifier.weight"), refTensor(t, m, "classifier.bias"), arch.NumLabels)
}

func refLayer(t testing.TB, m *Model, i int, x mat) mat {
	a := m.spec.Arch
	seq := m.spec.SeqLen
	h, n := a.H[i], len(a.O[i])
	d := h / n
	w := n * d
	p := "layer." + strconv.Itoa(i) + "."
	q := refDense(x, refTensor(t, m, p+"attn.q.weight"), refTensor(t, m, p+"attn.q.bias"), w)
	k := refDense(x, refTensor(t, m, p+"attn.k.weight"), refTensor(t, m, p+"attn.k.bias"), w)
	v := refDense(x, refTensor(t, m, p+"attn.v.weight"), refTensor(t, m, p+"attn.v.bias"), w)
	for r := range x {
		if !m.keep[r] {
			clear(k[r])
			clear(v[r])
		}
	}
	ctx := newMat(len(x), w)
	for b := range m.spec.Batch {
		keep := m.keep[b*seq : (b+1)*seq]
		for j, raw := range a.O[i] {
			hd, err := arch.ParseHead(raw)
			if err != nil {
				t.Fatal(err)
			}
			slice := func(src mat) mat {
				out := newMat(seq, d)
				for r := range seq {
					copy(out[r], src[b*seq+r][j*d:(j+1)*d])
				}
				return out
			}
			out := refHead(t, m, p+"attn.head."+strconv.Itoa(j)+".", hd.Type, slice(q), slice(k), slice(v), keep)
			for r := range seq {
				copy(ctx[b*seq+r][j*d:], out[r])
			}
		}
	}
	att := refDense(ctx, refTensor(t, m, p+"attn.out.weight"), refTensor(t, m, p+"attn.out.bias"), h)
	for r := range att {
		for f := range h {
			att[r][f] += x[r][f]
		}
	}
	refLayerNorm(att, refTensor(t, m, p+"attn.norm.weight"), refTensor(t, m, p+"attn.norm.bias"))

	y := att
	for j, f := range a.F[i] {
		y = refDense(y, refTensor(t, m, p+"ffn."+strconv.Itoa(j)+".weight"), refTensor(t, m, p+"ffn."+strconv.Itoa(j)+".bias"), f)
		for _, row := range y {
			for c := range row {
				row[c] = refGELU(row[c])
			}
		}
	}
	y = refDense(y, refTensor(t, m, p+"ffn.out.weight"), refTensor(t, m, p+"ffn.out.bias"), h)
	for r := range y {
		for f := range h {
			y[r][f] += att[r][f]
		}
	}
	refLayerNorm(y, refTensor(t, m, p+"ffn.norm.weight"), refTensor(t, m, p+"ffn.norm.bias"))
	if i+1 < a.L && a.H[i+1] != h {
		y = refDense(y, refTensor(t, m, p+"proj.weight"), refTensor(t, m, p+"proj.bias"), a.H[i+1])
	}
	return y
}
