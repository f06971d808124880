package engine

// convWeights are the weights of one dynamic-span convolution head of width
// d and kernel size k (ConvBERT's span-based dynamic convolution).
type convWeights struct {
	k, d       int
	depthwise  []float32 // k×d: tap m of feature f at [m*d+f]
	pointwise  []float32 // d×d
	pointBias  []float32 // d
	kernel     []float32 // d×k: maps K'⊙Q to the k kernel logits
	kernelBias []float32 // k
	value      []float32 // d×d
	valueBias  []float32 // d
}

// convScratch is per-worker scratch for a convolution head: seq×d buffers
// and a seq×k buffer for the kernel logits.
type convScratch struct {
	dw, kq, vp, logits []float32
}

// addConv adds the output of the dynamic convolution head w to out (seq×d,
// leading dimension ldo), given the head's query, key and value slices q, k,
// v (seq×d, leading dimension ld). Positions where keep (seq entries) is
// false count as zero padding, like positions outside the sequence. So they
// do not reach the outputs of other positions.
func addConv(out []float32, ldo int, q, k, v []float32, ld, seq int, keep []bool, w *convWeights, s *convScratch) {
	d, taps := w.d, w.k
	half := (taps - 1) / 2

	// Depthwise convolution of K along the sequence, zero padded. gonum has
	// no depthwise (per-channel) convolution, so it is written out here.
	dw := s.dw[:seq*d]
	clear(dw)
	for t := range seq {
		row := dw[t*d : (t+1)*d]
		for m := range taps {
			src := t - half + m
			if src < 0 || src >= seq || !keep[src] {
				continue
			}
			kr := k[src*ld : src*ld+d]
			wr := w.depthwise[m*d : (m+1)*d]
			for f := range d {
				row[f] += wr[f] * kr[f]
			}
		}
	}

	// Pointwise projection, then A = K'⊙Q.
	kq := s.kq[:seq*d]
	g := gemm{m: seq, n: d, k: d, a: dw, lda: d, b: w.pointwise, ldb: d, c: kq, ldc: d, bias: w.pointBias}
	g.serial()
	for t := range seq {
		row := kq[t*d : (t+1)*d]
		qr := q[t*ld : t*ld+d]
		for f := range d {
			row[f] *= qr[f]
		}
	}

	// Per-position kernel: softmax over the k taps of A·W_k + b_k.
	logits := s.logits[:seq*taps]
	g = gemm{m: seq, n: taps, k: d, a: kq, lda: d, b: w.kernel, ldb: taps, c: logits, ldc: taps, bias: w.kernelBias}
	g.serial()
	for t := range seq {
		softmax(logits[t*taps:(t+1)*taps], nil)
	}

	// V' = V·W_o + b_o with padded rows zeroed, then the dynamic kernel is
	// applied to V' along the sequence.
	vp := s.vp[:seq*d]
	g = gemm{m: seq, n: d, k: d, a: v, lda: ld, b: w.value, ldb: d, c: vp, ldc: d, bias: w.valueBias, mask: keep}
	g.serial()
	for t := range seq {
		orow := out[t*ldo : t*ldo+d]
		kern := logits[t*taps : (t+1)*taps]
		for m, km := range kern {
			src := t - half + m
			if src < 0 || src >= seq {
				continue
			}
			vr := vp[src*d : (src+1)*d]
			for f := range d {
				orow[f] += km * vr[f]
			}
		}
	}
}
