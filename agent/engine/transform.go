package engine

import "math"

// The linear-transform heads multiply by precomputed seq×seq and d×d
// matrices instead of running an FFT. At the sizes of the design space
// (seq ≤ 512, d ≤ 384) the products run through the same Sgemm tiles as the
// rest of the model, allocate nothing and stay in float32. gonum's
// dsp/fourier works in float64/complex128 and would need conversion buffers
// and a strided pass per column. The cost is O(seq²·d + seq·d²) per head
// instead of O(seq·d·log(seq·d)), the same count arch.Features uses.

// dftMatrices holds C[a][b] = cos(2πab/n) and S[a][b] = sin(2πab/n), both
// n×n and symmetric. The DFT matrix is F = C − iS, so for real V the real
// part of F_s·V·F_d is C_s·V·C_d − S_s·V·S_d.
type dftMatrices struct {
	n        int
	cos, sin []float32
}

func newDFT(n int) *dftMatrices {
	m := &dftMatrices{n: n, cos: make([]float32, n*n), sin: make([]float32, n*n)}
	for a := range n {
		for b := range n {
			// Reducing ab mod n first keeps the angle small and the value
			// exact to float64 precision for every n ≤ 512.
			angle := 2 * math.Pi * float64(a*b%n) / float64(n)
			m.cos[a*n+b] = float32(math.Cos(angle))
			m.sin[a*n+b] = float32(math.Sin(angle))
		}
	}
	return m
}

// newDCT returns the orthonormal DCT-II matrix D (n×n), with
// D[k][t] = c_k·cos(π(2t+1)k/(2n)), c_0 = √(1/n) and c_k = √(2/n), and its
// transpose. The 2-D transform of an s×d matrix V is D_s·V·D_dᵀ.
func newDCT(n int) (d, dT []float32) {
	d = make([]float32, n*n)
	dT = make([]float32, n*n)
	for k := range n {
		c := math.Sqrt(2 / float64(n))
		if k == 0 {
			c = math.Sqrt(1 / float64(n))
		}
		for t := range n {
			v := float32(c * math.Cos(math.Pi*float64((2*t+1)*k)/float64(2*n)))
			d[k*n+t] = v
			dT[t*n+k] = v
		}
	}
	return d, dT
}

// dctMatrices holds the DCT-II matrix of size n and its transpose.
type dctMatrices struct {
	n     int
	d, dT []float32
}

// transforms caches transform matrices by size, so layers and heads of the
// same size share them.
type transforms struct {
	dft map[int]*dftMatrices
	dct map[int]*dctMatrices
}

func (t *transforms) dftOf(n int) *dftMatrices {
	if m, ok := t.dft[n]; ok {
		return m
	}
	m := newDFT(n)
	t.dft[n] = m
	return m
}

func (t *transforms) dctOf(n int) *dctMatrices {
	if m, ok := t.dct[n]; ok {
		return m
	}
	d, dT := newDCT(n)
	m := &dctMatrices{n: n, d: d, dT: dT}
	t.dct[n] = m
	return m
}

// addDFT adds Re(F_s·V·F_d) to out. v and out are s×d with leading
// dimensions ldv and ldo; t1 and t2 are s×d scratch (leading dimension d).
func addDFT(out []float32, ldo int, v []float32, ldv int, s, d *dftMatrices, t1, t2 []float32) {
	rows, cols := s.n, d.n
	g := gemm{m: rows, n: cols, k: cols, a: v, lda: ldv, b: d.cos, ldb: cols, c: t1, ldc: cols}
	g.serial()
	g.b, g.c = d.sin, t2
	g.serial()
	g = gemm{m: rows, n: cols, k: rows, a: s.cos, lda: rows, b: t1, ldb: cols, c: out, ldc: ldo, accumulate: true}
	g.serial()
	g.a, g.b, g.alpha = s.sin, t2, -1
	g.serial()
}

// addDCT adds D_s·V·D_dᵀ to out. v and out are s×d with leading dimensions
// ldv and ldo; t1 is s×d scratch (leading dimension d).
func addDCT(out []float32, ldo int, v []float32, ldv int, s, d *dctMatrices, t1 []float32) {
	rows, cols := s.n, d.n
	g := gemm{m: rows, n: cols, k: cols, a: v, lda: ldv, b: d.dT, ldb: cols, c: t1, ldc: cols}
	g.serial()
	g = gemm{m: rows, n: cols, k: rows, a: s.d, lda: rows, b: t1, ldb: cols, c: out, ldc: ldo, accumulate: true}
	g.serial()
}
