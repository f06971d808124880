package engine

import (
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

func BenchmarkGonumSgemmPlain(b *testing.B) {
	m, k, n := 128, 768, 3072
	a := make([]float32, m*k)
	bb := make([]float32, k*n)
	c := make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	for i := range bb {
		bb[i] = float32(i%5) * 0.1
	}
	for b.Loop() {
		blas32.Implementation().Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, bb, n, 0, c, n)
	}
	b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkPoolSgemm(b *testing.B) {
	m, k, n := 128, 768, 3072
	a := make([]float32, m*k)
	bb := make([]float32, k*n)
	c := make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7)*0.1 + 0.05
	}
	for i := range bb {
		bb[i] = float32(i%5) * 0.1
	}
	p := newPool(2)
	g := gemm{m: m, n: n, k: k, a: a, lda: k, b: bb, ldb: n, c: c, ldc: n}
	for b.Loop() {
		p.parallel(&g, g.tiles(), 1)
	}
	b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
