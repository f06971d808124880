package surrogate

import (
	"math"
	"math/rand/v2"
	"testing"
)

// smoothData returns n rows in [0,1]³ and y = exp(x₀ + ½x₁) + 0.2·x₂, a
// smooth positive function every regressor should learn.
func smoothData(n int, seed uint64) ([][]float64, []float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([][]float64, n)
	y := make([]float64, n)
	for i := range n {
		x[i] = []float64{rng.Float64(), rng.Float64(), rng.Float64()}
		y[i] = math.Exp(x[i][0]+0.5*x[i][1]) + 0.2*x[i][2]
	}
	return x, y
}

func TestRegressorsRecoverSmoothFunction(t *testing.T) {
	xTrain, yTrain := smoothData(200, 1)
	xTest, yTest := smoothData(100, 2)
	// Maximum mean relative error on the test rows, with room above what
	// each model reached when these tests were written (GP ≈ 0.1%, trees
	// ≈ 2-4%).
	cases := []struct {
		name  string
		model regressor
		tol   float64
	}{
		{"gp", &GP{Restarts: 1}, 0.01},
		{"gbdt", &GBDT{Members: 3, Rounds: 200}, 0.06},
		{"adaboost", &AdaBoost{Trees: 50}, 0.08},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.model.Fit(xTrain, yTrain, rand.New(rand.NewPCG(3, 3))); err != nil {
				t.Fatal(err)
			}
			var rel float64
			for i, x := range xTest {
				m, s := c.model.Predict(x)
				if !(s >= 0) {
					t.Fatalf("row %d: std = %v, want non-negative", i, s)
				}
				rel += math.Abs(m-yTest[i]) / yTest[i]
			}
			rel /= float64(len(xTest))
			if rel > c.tol {
				t.Errorf("mean relative error = %.4f, want at most %.2f", rel, c.tol)
			}
		})
	}
}

func TestLinearRecoversNonNegativeCoefficients(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	want := []float64{0.5, 2, 0, 3} // intercept, then one per column
	var x [][]float64
	var y []float64
	for range 50 {
		row := []float64{rng.Float64() * 10, rng.Float64() * 10, rng.Float64() * 10}
		x = append(x, row)
		y = append(y, want[0]+want[1]*row[0]+want[2]*row[1]+want[3]*row[2])
	}
	var m Linear
	if err := m.Fit(x, y, nil); err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if math.Abs(m.Coef[i]-w) > 1e-6 {
			t.Errorf("coefficient %d = %v, want %v", i, m.Coef[i], w)
		}
	}
	if m.RelResidual > 1e-9 {
		t.Errorf("relative residual = %v, want 0 on exact data", m.RelResidual)
	}
}

func TestNNLSClampsNegativeCoefficient(t *testing.T) {
	// y falls with column 1, so the unconstrained slope is negative; the
	// non-negative fit must set it to 0 and fit the intercept alone.
	x := [][]float64{{1}, {2}, {3}, {4}}
	y := []float64{4, 3, 2, 1}
	var m Linear
	if err := m.Fit(x, y, nil); err != nil {
		t.Fatal(err)
	}
	if m.Coef[1] != 0 {
		t.Errorf("slope = %v, want 0", m.Coef[1])
	}
	if !(m.Coef[0] > 0) {
		t.Errorf("intercept = %v, want positive", m.Coef[0])
	}
}

func TestGPStdGrowsAwayFromData(t *testing.T) {
	x, y := smoothData(60, 4)
	var m GP
	if err := m.Fit(x, y, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	_, near := m.Predict(x[0])
	_, far := m.Predict([]float64{4, 4, 4})
	if !(far > 2*near) {
		t.Errorf("std far from data = %v, near = %v: want far > 2·near", far, near)
	}
}

func TestFitRejectsBadData(t *testing.T) {
	cases := []struct {
		name string
		x    [][]float64
		y    []float64
	}{
		{"empty", nil, nil},
		{"ragged", [][]float64{{1, 2}, {1}}, []float64{1, 2}},
		{"nan feature", [][]float64{{math.NaN()}, {1}}, []float64{1, 2}},
		{"length mismatch", [][]float64{{1}, {2}}, []float64{1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, m := range []regressor{&GP{}, &GBDT{Members: 1, Rounds: 1}, &AdaBoost{Trees: 1}, &Linear{}} {
				if err := m.Fit(c.x, c.y, rand.New(rand.NewPCG(1, 1))); err == nil {
					t.Errorf("%T: Fit succeeded, want an error", m)
				}
			}
		})
	}
}
