package engine

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Tile sizes of the engine's matrix products. gonum v0.17's Sgemm starts
// goroutines once the output has 4 or more 64×64 blocks. A 64×192 tile has
// 3, so every call below stays serial and the engine's own pool does the
// parallel work. A k-chunk of 256 keeps the 256×192 panel of B (192 KiB) in
// a per-core L2 cache while a tile accumulates.
const (
	tileM = 64
	tileN = 192
	tileK = 256
)

// activation is applied to each output element after the bias.
type activation uint8

const (
	actNone activation = iota
	actGELU
	actTanh
)

// gemm describes C = op(A)·op(B) + bias, with an optional activation and an
// optional row mask, for row-major matrices: op(A) is m×k and op(B) is k×n.
// When transB is set, B is stored n×k. bias (length n) may be nil. Rows r
// with mask[r] == false are set to zero after the activation; a nil mask
// keeps every row. When accumulate is set, the product is added to C and
// bias, activation and mask are not applied. An alpha of 0 means 1.
type gemm struct {
	m, n, k    int
	a          []float32
	lda        int
	b          []float32
	ldb        int
	transB     bool
	c          []float32
	ldc        int
	alpha      float32
	accumulate bool
	bias       []float32
	act        activation
	mask       []bool
}

func (g *gemm) tilesN() int { return (g.n + tileN - 1) / tileN }

func (g *gemm) tiles() int { return (g.m + tileM - 1) / tileM * g.tilesN() }

// run computes the tiles lo..hi−1, numbered row-major over the tile grid.
func (g *gemm) run(_, lo, hi int) {
	tn := g.tilesN()
	for t := lo; t < hi; t++ {
		g.tile(t/tn*tileM, t%tn*tileN)
	}
}

// serial computes the whole product on the calling goroutine.
func (g *gemm) serial() { g.run(0, 0, g.tiles()) }

func (g *gemm) tile(i0, j0 int) {
	impl := blas32.Implementation()
	rows := min(tileM, g.m-i0)
	cols := min(tileN, g.n-j0)
	alpha := g.alpha
	if alpha == 0 {
		alpha = 1
	}
	c := g.c[i0*g.ldc+j0:]
	tB := blas.NoTrans
	if g.transB {
		tB = blas.Trans
	}
	for k0 := 0; k0 < g.k; k0 += tileK {
		depth := min(tileK, g.k-k0)
		beta := float32(1)
		if k0 == 0 && !g.accumulate {
			beta = 0
		}
		a := g.a[i0*g.lda+k0:]
		var b []float32
		if g.transB {
			b = g.b[j0*g.ldb+k0:]
		} else {
			b = g.b[k0*g.ldb+j0:]
		}
		impl.Sgemm(blas.NoTrans, tB, rows, cols, depth, alpha, a, g.lda, b, g.ldb, beta, c, g.ldc)
	}
	if g.k == 0 && !g.accumulate {
		for i := range rows {
			clear(c[i*g.ldc : i*g.ldc+cols])
		}
	}
	if g.accumulate {
		return
	}
	g.epilogue(c, i0, j0, rows, cols)
}

// epilogue applies bias, activation and row mask to a finished tile while it
// is still in cache.
func (g *gemm) epilogue(c []float32, i0, j0, rows, cols int) {
	if g.bias == nil && g.act == actNone && g.mask == nil {
		return
	}
	for i := range rows {
		row := c[i*g.ldc : i*g.ldc+cols]
		if g.mask != nil && !g.mask[i0+i] {
			clear(row)
			continue
		}
		if g.bias != nil {
			for j, b := range g.bias[j0 : j0+cols] {
				row[j] += b
			}
		}
		switch g.act {
		case actGELU:
			for j, x := range row {
				row[j] = gelu(x)
			}
		case actTanh:
			for j, x := range row {
				row[j] = float32(math.Tanh(float64(x)))
			}
		}
	}
}
