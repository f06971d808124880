package surrogate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Linear is a non-negative linear model y ≈ θ₀ + Σ_c θ_c a_c of additive
// cost terms a_c (multiply-accumulates per operation class, element-wise
// work, parameters and kernel counts), fitted for relative error:
//
//	minimise Σ_i ((y_i − θ₀ − Σ_c θ_c a_ic) / y_i)²  subject to θ ≥ 0
//
// by the active-set method of C. L. Lawson and R. J. Hanson (Solving Least
// Squares Problems, Prentice-Hall 1974, chapter 23). θ_c is the time (or
// energy) per unit of class c, so non-negativity is physical and keeps the
// model monotone in every cost. The standard deviation of a prediction is
// ŷ times the root mean square relative training residual.
//
// Linear has no settings; its zero value is ready to fit.
type Linear struct {
	// Fitted state, set by Fit.
	Coef        []float64 `json:"coef"`         // θ₀ then θ_c, in target units per unit of each column
	RelResidual float64   `json:"rel_residual"` // root mean square of (y − ŷ)/y on the training rows
}

// Fit fits the model to rows of additive cost terms x and positive targets
// y. The random source is unused; it is accepted to match the other models.
func (m *Linear) Fit(x [][]float64, y []float64, _ *rand.Rand) error {
	if err := checkData(x, y); err != nil {
		return err
	}
	n, d := len(y), len(x[0])+1
	scale := make([]float64, d)
	for i := range n {
		if !(y[i] > 0) {
			return fmt.Errorf("linear: target %d = %v: must be positive", i, y[i])
		}
		scale[0] = max(scale[0], 1/y[i])
		for c, v := range x[i] {
			scale[c+1] = max(scale[c+1], math.Abs(v)/y[i])
		}
	}
	a := mat.NewDense(n, d, nil)
	b := mat.NewVecDense(n, nil)
	for i := range n {
		a.Set(i, 0, 1/y[i]/scale[0])
		for c, v := range x[i] {
			if scale[c+1] > 0 {
				a.Set(i, c+1, v/y[i]/scale[c+1])
			}
		}
		b.SetVec(i, 1)
	}
	theta, err := nnls(a, b)
	if err != nil {
		return fmt.Errorf("linear: %w", err)
	}
	m.Coef = make([]float64, d)
	for c := range d {
		if scale[c] > 0 {
			m.Coef[c] = theta[c] / scale[c]
		}
	}
	ss := 0.0
	for i := range n {
		r := (y[i] - m.mean(x[i])) / y[i]
		ss += r * r
	}
	m.RelResidual = math.Sqrt(ss / float64(n))
	return nil
}

func (m *Linear) mean(x []float64) float64 {
	v := m.Coef[0]
	for c, a := range x {
		v += m.Coef[c+1] * a
	}
	return v
}

// Predict returns ŷ and ŷ times the relative training residual. ŷ is
// positive whenever any cost term with a non-zero coefficient is.
func (m *Linear) Predict(x []float64) (mean, std float64) {
	mean = m.mean(x)
	return mean, math.Abs(mean) * m.RelResidual
}

// nnls solves min ‖Aθ − b‖ subject to θ ≥ 0 with the Lawson–Hanson
// active-set method. gonum has no bound-constrained least squares, and the
// problems here have about ten columns, so the textbook loop is enough.
func nnls(a *mat.Dense, b *mat.VecDense) ([]float64, error) {
	_, d := a.Dims()
	x := make([]float64, d)
	passive := make([]bool, d)
	w := mat.NewVecDense(d, nil)
	r := mat.NewVecDense(b.Len(), nil)
	const tol = 1e-10
	for outer := 0; outer < 3*d+10; outer++ {
		// w = Aᵀ(b − Ax), the negative gradient.
		r.MulVec(a, mat.NewVecDense(d, x))
		r.SubVec(b, r)
		w.MulVec(a.T(), r)
		best, bestW := -1, tol
		for j := range d {
			if !passive[j] && w.AtVec(j) > bestW {
				best, bestW = j, w.AtVec(j)
			}
		}
		if best < 0 {
			return x, nil
		}
		passive[best] = true
		for inner := 0; inner < 3*d+10; inner++ {
			z, err := solvePassive(a, b, passive)
			if err != nil {
				return nil, err
			}
			allPositive := true
			for j := range d {
				if passive[j] && z[j] <= tol {
					allPositive = false
				}
			}
			if allPositive {
				copy(x, z)
				break
			}
			alpha := math.Inf(1)
			for j := range d {
				if passive[j] && z[j] <= tol {
					alpha = min(alpha, x[j]/(x[j]-z[j]))
				}
			}
			for j := range d {
				x[j] += alpha * (z[j] - x[j])
				if passive[j] && x[j] <= tol {
					passive[j] = false
					x[j] = 0
				}
			}
		}
	}
	return x, errors.New("non-negative least squares did not converge")
}

// solvePassive returns the least-squares solution over the passive columns,
// zero elsewhere.
func solvePassive(a *mat.Dense, b *mat.VecDense, passive []bool) ([]float64, error) {
	n, d := a.Dims()
	var cols []int
	for j := range d {
		if passive[j] {
			cols = append(cols, j)
		}
	}
	sub := mat.NewDense(n, len(cols), nil)
	for k, j := range cols {
		for i := range n {
			sub.Set(i, k, a.At(i, j))
		}
	}
	var z mat.VecDense
	if err := z.SolveVec(sub, b); err != nil {
		return nil, fmt.Errorf("least squares on %d columns: %w", len(cols), err)
	}
	out := make([]float64, d)
	for k, j := range cols {
		out[j] = z.AtVec(k)
	}
	return out, nil
}

// Hybrid is a Linear model times a multiplicative correction learned by a
// GP: ŷ(x) = lin(a) · exp(μ_r(z)), where a are the additive cost terms, z the
// descriptive features, and the GP is fitted to r = log(y / lin(a)). The
// linear part carries the physics (work per operation class); the GP
// absorbs what it misses, such as kernel efficiency that varies with shape.
// The standard deviation is ŷ·σ_r, the first-order (delta-method) transform
// of the GP's standard deviation in log space.
//
// A row is the NumCost additive cost terms followed by the GP features.
// Zero-valued settings of the GP take its defaults.
type Hybrid struct {
	NumCost int    `json:"num_cost"` // leading entries of a row that feed the linear part
	Linear  Linear `json:"linear"`
	GP      GP     `json:"gp"`
}

// Fit fits the linear part, then the GP on the log residual ratio.
func (m *Hybrid) Fit(x [][]float64, y []float64, rng *rand.Rand) error {
	if err := checkData(x, y); err != nil {
		return err
	}
	if m.NumCost <= 0 || m.NumCost >= len(x[0]) {
		return fmt.Errorf("hybrid: %d cost columns in rows of %d: want at least one of each part", m.NumCost, len(x[0]))
	}
	lin := make([][]float64, len(x))
	rest := make([][]float64, len(x))
	for i, row := range x {
		lin[i], rest[i] = row[:m.NumCost], row[m.NumCost:]
	}
	if err := m.Linear.Fit(lin, y, rng); err != nil {
		return err
	}
	r := make([]float64, len(y))
	for i := range y {
		base, _ := m.Linear.Predict(lin[i])
		if !(base > 0) {
			return fmt.Errorf("hybrid: linear part predicts %v for row %d: costs must be positive", base, i)
		}
		r[i] = math.Log(y[i] / base)
	}
	return m.GP.Fit(rest, r, rng)
}

// Predict returns ŷ and its standard deviation at row x.
func (m *Hybrid) Predict(x []float64) (mean, std float64) {
	base, _ := m.Linear.Predict(x[:m.NumCost])
	mu, sigma := m.GP.Predict(x[m.NumCost:])
	mean = base * math.Exp(mu)
	return mean, mean * sigma
}

// Ensemble averages a Linear model and a GBDT in log space:
// log ŷ = ½ (log lin(a) + g(z)), where g is the GBDT fitted to log y on the
// descriptive features z. The two err differently (the linear model is
// biased where kernel efficiency varies with shape, the trees are coarse
// between training points), so their geometric mean is more accurate on the
// published data than either alone (see docs/benchmarks.md). The variance
// in log space is the mean of the members' variances plus the variance
// between the two means, and is returned as ŷ·σ like Hybrid.
//
// A row is the NumCost additive cost terms followed by the GBDT features.
// Zero-valued settings of the GBDT take its defaults.
type Ensemble struct {
	NumCost int    `json:"num_cost"`
	Linear  Linear `json:"linear"`
	GBDT    GBDT   `json:"gbdt"`
}

// Fit fits both members to positive targets y.
func (m *Ensemble) Fit(x [][]float64, y []float64, rng *rand.Rand) error {
	if err := checkData(x, y); err != nil {
		return err
	}
	if m.NumCost <= 0 || m.NumCost >= len(x[0]) {
		return fmt.Errorf("ensemble: %d cost columns in rows of %d: want at least one of each part", m.NumCost, len(x[0]))
	}
	lin := make([][]float64, len(x))
	rest := make([][]float64, len(x))
	logY := make([]float64, len(y))
	for i, row := range x {
		lin[i], rest[i] = row[:m.NumCost], row[m.NumCost:]
		logY[i] = math.Log(y[i])
	}
	if err := m.Linear.Fit(lin, y, rng); err != nil {
		return err
	}
	return m.GBDT.Fit(rest, logY, rng)
}

// Predict returns ŷ and its standard deviation at row x. Where the linear
// part predicts a non-positive value (possible only far outside the
// training costs), the GBDT alone is used.
func (m *Ensemble) Predict(x []float64) (mean, std float64) {
	base, _ := m.Linear.Predict(x[:m.NumCost])
	mu, sigma := m.GBDT.Predict(x[m.NumCost:])
	if !(base > 0) {
		mean = math.Exp(mu)
		return mean, mean * sigma
	}
	lb := math.Log(base)
	rel := m.Linear.RelResidual
	logMean := (lb + mu) / 2
	variance := (rel*rel+sigma*sigma)/2 + (lb-mu)*(lb-mu)/4
	mean = math.Exp(logMean)
	return mean, mean * math.Sqrt(variance)
}
