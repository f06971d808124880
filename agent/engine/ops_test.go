package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randomFloats(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = 2*rng.Float32() - 1
	}
	return x
}

// Tolerances: float32 products of uniform [−1, 1] inputs over k terms carry
// a relative rounding error of about k·2⁻²⁴; these bounds leave a margin of
// ten or more at the sizes tested.
const (
	tolGemm      = 1e-4 // relative to √k, the typical magnitude of a sum of k products
	tolTransform = 2e-4 // relative to √(s·d)
	tolElement   = 1e-5
)

func TestGemmMatchesNaiveProduct(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name       string
		m, n, k    int
		transB     bool
		accumulate bool
		alpha      float32
		act        activation
		bias, mask bool
	}{
		{name: "one tile", m: 7, n: 5, k: 3},
		{name: "tile edges", m: 130, n: 200, k: 300},
		{name: "transposed B", m: 70, n: 65, k: 33, transB: true, alpha: 0.125},
		{name: "bias gelu mask", m: 66, n: 193, k: 257, bias: true, act: actGELU, mask: true},
		{name: "bias tanh", m: 3, n: 9, k: 17, bias: true, act: actTanh},
		{name: "accumulate negated", m: 65, n: 40, k: 20, accumulate: true, alpha: -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := randomFloats(rng, tc.m*tc.k)
			b := randomFloats(rng, tc.k*tc.n)
			c := randomFloats(rng, tc.m*tc.n)
			c0 := append([]float32(nil), c...)
			g := gemm{m: tc.m, n: tc.n, k: tc.k, a: a, lda: tc.k, b: b, ldb: tc.n, transB: tc.transB,
				c: c, ldc: tc.n, alpha: tc.alpha, accumulate: tc.accumulate, act: tc.act}
			if tc.transB {
				g.ldb = tc.k
			}
			var bias []float32
			var mask []bool
			if tc.bias {
				bias = randomFloats(rng, tc.n)
				g.bias = bias
			}
			if tc.mask {
				mask = make([]bool, tc.m)
				for i := range mask {
					mask[i] = i%3 != 1
				}
				g.mask = mask
			}
			p := newPool(3)
			defer p.close()
			p.parallel(&g, g.tiles(), 1)

			alpha := float64(tc.alpha)
			if alpha == 0 {
				alpha = 1
			}
			for i := range tc.m {
				for j := range tc.n {
					sum := 0.0
					for l := range tc.k {
						bv := b[l*tc.n+j]
						if tc.transB {
							bv = b[j*tc.k+l]
						}
						sum += float64(a[i*tc.k+l]) * float64(bv)
					}
					want := alpha * sum
					switch {
					case tc.accumulate:
						want += float64(c0[i*tc.n+j])
					default:
						if bias != nil {
							want += float64(bias[j])
						}
						if tc.act == actGELU {
							want = refGELU(want)
						}
						if tc.act == actTanh {
							want = math.Tanh(want)
						}
						if mask != nil && !mask[i] {
							want = 0
						}
					}
					got := float64(c[i*tc.n+j])
					if math.Abs(got-want) > tolGemm*math.Sqrt(float64(tc.k)) {
						t.Fatalf("C[%d][%d] = %g, want %g", i, j, got, want)
					}
				}
			}
		})
	}
}

func toMat(x []float32, rows, cols, ld int) mat {
	out := newMat(rows, cols)
	for i := range rows {
		for j := range cols {
			out[i][j] = float64(x[i*ld+j])
		}
	}
	return out
}

func TestTransformsMatchDirectSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []struct{ seq, d int }{{1, 1}, {5, 3}, {16, 8}, {37, 21}, {128, 64}, {64, 10}}
	for _, tc := range cases {
		ld := tc.d + 3 // heads live inside wider rows
		v := randomFloats(rng, tc.seq*ld)
		vm := toMat(v, tc.seq, tc.d, ld)
		tol := tolTransform * math.Sqrt(float64(tc.seq*tc.d))
		t1 := make([]float32, tc.seq*tc.d)
		t2 := make([]float32, tc.seq*tc.d)

		base := randomFloats(rng, tc.seq*ld)
		out := append([]float32(nil), base...)
		addDFT(out, ld, v, ld, newDFT(tc.seq), newDFT(tc.d), t1, t2)
		want := refDFT2Real(vm)
		for i := range tc.seq {
			for j := range tc.d {
				got := float64(out[i*ld+j] - base[i*ld+j])
				if math.Abs(got-want[i][j]) > tol {
					t.Fatalf("DFT %d×%d: [%d][%d] = %g, want %g", tc.seq, tc.d, i, j, got, want[i][j])
				}
			}
		}

		out = append(out[:0], base...)
		ds, dsT := newDCT(tc.seq)
		dd, ddT := newDCT(tc.d)
		addDCT(out, ld, v, ld, &dctMatrices{n: tc.seq, d: ds, dT: dsT}, &dctMatrices{n: tc.d, d: dd, dT: ddT}, t1)
		want = refDCT2(vm)
		for i := range tc.seq {
			for j := range tc.d {
				got := float64(out[i*ld+j] - base[i*ld+j])
				if math.Abs(got-want[i][j]) > tol {
					t.Fatalf("DCT %d×%d: [%d][%d] = %g, want %g", tc.seq, tc.d, i, j, got, want[i][j])
				}
			}
		}
	}
}

func TestLayerNormMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, width := range []int{1, 2, 7, 128, 768} {
		row := randomFloats(rng, width)
		res := randomFloats(rng, width)
		gamma := randomFloats(rng, width)
		beta := randomFloats(rng, width)
		want := newMat(1, width)
		for j := range width {
			want[0][j] = float64(row[j]) + float64(res[j])
		}
		refLayerNorm(want, gamma, beta)
		layerNorm(row, res, gamma, beta)
		for j := range width {
			if math.Abs(float64(row[j])-want[0][j]) > tolElement*10 {
				t.Fatalf("width %d: [%d] = %g, want %g", width, j, row[j], want[0][j])
			}
		}
	}
}

func TestGELUMatchesNormalCDF(t *testing.T) {
	// x·Φ(x) with Φ from standard normal tables (Abramowitz and Stegun,
	// table 26.1, rounded to 9 digits).
	cases := []struct{ x, phi float64 }{
		{-3, 0.001349898}, {-1, 0.158655254}, {-0.5, 0.308537539}, {0, 0.5},
		{0.5, 0.691462461}, {1, 0.841344746}, {2, 0.977249868}, {3, 0.998650102},
	}
	for _, tc := range cases {
		got := float64(gelu(float32(tc.x)))
		if want := tc.x * tc.phi; math.Abs(got-want) > 1e-6 {
			t.Errorf("gelu(%g) = %.9f, want %.9f", tc.x, got, want)
		}
	}
}

func TestMaskedSoftmaxMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 3, 13, 128} {
		row := randomFloats(rng, n)
		for i := range row {
			row[i] *= 20 // large logits exercise the max shift
		}
		keep := make([]bool, n)
		for i := range keep {
			keep[i] = i == 0 || rng.IntN(3) > 0
		}
		want := make([]float64, n)
		for i, v := range row {
			want[i] = float64(v)
		}
		refSoftmax(want, keep)
		softmax(row, keep)
		for i := range row {
			if math.Abs(float64(row[i])-want[i]) > tolElement {
				t.Fatalf("n %d: p[%d] = %g, want %g", n, i, row[i], want[i])
			}
			if !keep[i] && row[i] != 0 {
				t.Fatalf("n %d: masked p[%d] = %g, want 0", n, i, row[i])
			}
		}
	}
}

func TestSoftmaxAllMaskedIsZero(t *testing.T) {
	row := []float32{1, 2, 3}
	softmax(row, []bool{false, false, false})
	for i, p := range row {
		if p != 0 {
			t.Errorf("p[%d] = %g, want 0", i, p)
		}
	}
}
