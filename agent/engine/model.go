package engine

import (
	"fmt"

	"github.com/edgetran/edgetran/shared/arch"
)

// dense is a fully connected layer y = x·w + b with w of shape [in, out].
type dense struct {
	in, out int
	w, b    []float32
}

func newDense(ws *weightSet, name string, in, out int) dense {
	return dense{
		in: in, out: out,
		w: ws.newTensor(name+".weight", fillRandom, in, out),
		b: ws.newTensor(name+".bias", fillRandom, out),
	}
}

// norm is a LayerNorm's scale and shift.
type norm struct{ gamma, beta []float32 }

func newNorm(ws *weightSet, name string, width int) norm {
	return norm{
		gamma: ws.newTensor(name+".weight", fillOnes, width),
		beta:  ws.newTensor(name+".bias", fillZeros, width),
	}
}

// head is one attention head's type and its own weights, if any.
type head struct {
	typ  arch.HeadType
	wma  []float32    // d×d, sa_wma only
	conv *convWeights // c_k only
}

type layer struct {
	layerShape
	heads         []head
	q, k, v, out  dense
	attnNorm      norm
	ff            []dense // the stack, then the projection back to h
	ffNorm        norm
	proj          *dense // h_i → h_{i+1} when they differ
	dftSeq, dftHd *dftMatrices
	dctSeq, dctHd *dctMatrices
}

type embeddings struct {
	word, position, tokenType []float32
	norm                      norm
}

// weights are all tensors of a model.
type weights struct {
	emb        embeddings
	layers     []layer
	pooler     dense
	classifier dense
}

// buildWeights creates every tensor of a model in a fixed order. Names use
// 0-based layer and head numbers, e.g. "layer.3.attn.q.weight".
func buildWeights(ws *weightSet, shapes []layerShape) weights {
	var m weights
	h1 := shapes[0].h
	m.emb = embeddings{
		word:      ws.newTensor("embeddings.word.weight", fillRandom, arch.VocabSize, h1),
		position:  ws.newTensor("embeddings.position.weight", fillRandom, arch.MaxPositions, h1),
		tokenType: ws.newTensor("embeddings.token_type.weight", fillRandom, arch.TypeVocabSize, h1),
		norm:      newNorm(ws, "embeddings.norm", h1),
	}
	m.layers = make([]layer, len(shapes))
	for i, s := range shapes {
		p := fmt.Sprintf("layer.%d.", i)
		l := layer{layerShape: s}
		w := s.width()
		l.q = newDense(ws, p+"attn.q", s.h, w)
		l.k = newDense(ws, p+"attn.k", s.h, w)
		l.v = newDense(ws, p+"attn.v", s.h, w)
		for j, t := range s.heads {
			hd := head{typ: t}
			hp := fmt.Sprintf("%sattn.head.%d.", p, j)
			switch {
			case t == arch.WeightedMultiply:
				hd.wma = ws.newTensor(hp+"wma.weight", fillRandom, s.d, s.d)
			case t.Kind() == "c":
				k := t.KernelSize()
				hd.conv = &convWeights{
					k: k, d: s.d,
					depthwise:  ws.newTensor(hp+"conv.depthwise.weight", fillRandom, k, s.d),
					pointwise:  ws.newTensor(hp+"conv.pointwise.weight", fillRandom, s.d, s.d),
					pointBias:  ws.newTensor(hp+"conv.pointwise.bias", fillRandom, s.d),
					kernel:     ws.newTensor(hp+"conv.kernel.weight", fillRandom, s.d, k),
					kernelBias: ws.newTensor(hp+"conv.kernel.bias", fillRandom, k),
					value:      ws.newTensor(hp+"conv.value.weight", fillRandom, s.d, s.d),
					valueBias:  ws.newTensor(hp+"conv.value.bias", fillRandom, s.d),
				}
			}
			l.heads = append(l.heads, hd)
		}
		l.out = newDense(ws, p+"attn.out", w, s.h)
		l.attnNorm = newNorm(ws, p+"attn.norm", s.h)
		in := s.h
		for j, f := range s.ff {
			l.ff = append(l.ff, newDense(ws, fmt.Sprintf("%sffn.%d", p, j), in, f))
			in = f
		}
		l.ff = append(l.ff, newDense(ws, p+"ffn.out", in, s.h))
		l.ffNorm = newNorm(ws, p+"ffn.norm", s.h)
		if i+1 < len(shapes) && shapes[i+1].h != s.h {
			proj := newDense(ws, p+"proj", s.h, shapes[i+1].h)
			l.proj = &proj
		}
		m.layers[i] = l
	}
	hL := shapes[len(shapes)-1].h
	m.pooler = newDense(ws, "pooler", hL, hL)
	m.classifier = newDense(ws, "classifier", hL, arch.NumLabels)
	return m
}
