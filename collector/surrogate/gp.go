package surrogate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// GP is Gaussian-process regression (C. E. Rasmussen and C. K. I. Williams,
// Gaussian Processes for Machine Learning, MIT Press 2006, chapters 2 and 5)
// on standardised features and targets, with the kernel
//
//	k(x, x') = σ_f² exp(−½ Σ_j (x_j − x'_j)² / ℓ_j²) + σ_l² x·x' + σ_n² δ(x, x')
//
// an automatic-relevance-determination squared exponential plus a linear
// term, so the model extrapolates a trend where the squared exponential
// alone would return to the mean. Hyperparameters θ = log(ℓ_1..ℓ_d, σ_f,
// σ_l, σ_n) maximise the log marginal likelihood
//
//	log p(y|X,θ) = −½ yᵀK⁻¹y − ½ log|K| − (n/2) log 2π
//
// plus a weak N(0, 3²) prior on each log hyperparameter that keeps length
// scales finite when a feature is constant. Gradients are analytic,
// ∂/∂θ_k = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ_k) with α = K⁻¹y, and L-BFGS runs from
// the default start and from Restarts random starts; the best optimum wins.
//
// The predictive mean is k*ᵀα and the variance k** − k*ᵀK⁻¹k*, both computed
// from the Cholesky factor of K. Zero-valued settings take the defaults
// stated on each field.
type GP struct {
	Restarts      int `json:"restarts"`       // random restarts besides the default start; 0 means 2, negative means none
	MaxIterations int `json:"max_iterations"` // L-BFGS iterations per start; 0 means 200

	// Fitted state, set by Fit. Load refactors K from it.
	XMean  []float64   `json:"x_mean"`
	XScale []float64   `json:"x_scale"`
	YMean  float64     `json:"y_mean"`
	YScale float64     `json:"y_scale"`
	X      [][]float64 `json:"x"` // standardised training rows
	Y      []float64   `json:"y"` // standardised training targets
	Theta  []float64   `json:"theta"`

	lower *mat.TriDense // Cholesky factor L of K = LLᵀ
	alpha []float64
	lsInv []float64 // 1/ℓ_j²
}

// gpMinLogNoise bounds σ_n from below (σ_n ≥ e^-7 ≈ 1e-3 of the target's
// standard deviation) so K stays well conditioned.
const gpMinLogNoise = -7.0

// Fit fits hyperparameters and the posterior to rows x and targets y.
func (m *GP) Fit(x [][]float64, y []float64, rng *rand.Rand) error {
	if err := checkData(x, y); err != nil {
		return err
	}
	n, d := len(y), len(x[0])
	m.XMean, m.XScale = make([]float64, d), make([]float64, d)
	for j := range d {
		var s, ss float64
		for i := range n {
			s += x[i][j]
			ss += x[i][j] * x[i][j]
		}
		mean := s / float64(n)
		sd := math.Sqrt(max(ss/float64(n)-mean*mean, 0))
		if sd < 1e-12 {
			sd = 1
		}
		m.XMean[j], m.XScale[j] = mean, sd
	}
	var s, ss float64
	for _, v := range y {
		s += v
		ss += v * v
	}
	m.YMean = s / float64(n)
	m.YScale = math.Sqrt(max(ss/float64(n)-m.YMean*m.YMean, 0))
	if m.YScale < 1e-12 {
		m.YScale = 1
	}
	m.X = make([][]float64, n)
	m.Y = make([]float64, n)
	for i := range n {
		m.X[i] = m.standardise(nil, x[i])
		m.Y[i] = (y[i] - m.YMean) / m.YScale
	}

	restarts := m.Restarts
	if restarts == 0 {
		restarts = 2
	}
	iters := orInt(m.MaxIterations, 200)
	starts := [][]float64{m.defaultTheta(d)}
	for range max(restarts, 0) {
		t := make([]float64, d+3)
		for j := range d {
			t[j] = math.Log(math.Sqrt(float64(d))) + rng.NormFloat64()
		}
		t[d] = rng.NormFloat64() * 0.5
		t[d+1] = -2 + rng.NormFloat64()
		t[d+2] = -2 + rng.NormFloat64()*0.5
		starts = append(starts, t)
	}

	best, bestF := []float64(nil), math.Inf(1)
	var lastErr error
	for _, t0 := range starts {
		problem := optimize.Problem{
			Func: func(t []float64) float64 { f, _ := m.objective(t, nil); return f },
			Grad: func(g, t []float64) { m.objective(t, g) },
		}
		res, err := optimize.Minimize(problem, t0, &optimize.Settings{MajorIterations: iters}, &optimize.LBFGS{})
		if res == nil {
			lastErr = err
			continue
		}
		if f := res.F; !math.IsNaN(f) && f < bestF {
			best, bestF = res.X, f
		}
	}
	if best == nil {
		return fmt.Errorf("gp: hyperparameter optimisation failed: %w", errors.Join(lastErr, errors.New("no start produced a finite likelihood")))
	}
	m.Theta = best
	return m.factor()
}

func (m *GP) defaultTheta(d int) []float64 {
	t := make([]float64, d+3)
	for j := range d {
		t[j] = math.Log(math.Sqrt(float64(d)))
	}
	t[d], t[d+1], t[d+2] = 0, -2, -2
	return t
}

func (m *GP) standardise(dst, x []float64) []float64 {
	if dst == nil {
		dst = make([]float64, len(x))
	}
	for j, v := range x {
		dst[j] = (v - m.XMean[j]) / m.XScale[j]
	}
	return dst
}

// kernelParts returns σ_f², σ_l², σ_n² and 1/ℓ_j² of theta.
func kernelParts(theta []float64, d int) (sf2, sl2, sn2 float64, lsInv []float64) {
	lsInv = make([]float64, d)
	for j := range d {
		lsInv[j] = math.Exp(-2 * theta[j])
	}
	return math.Exp(2 * theta[d]), math.Exp(2 * theta[d+1]), math.Exp(2 * max(theta[d+2], gpMinLogNoise)), lsInv
}

// objective returns the negative log posterior of theta and, when grad is
// not nil, fills it with the gradient.
func (m *GP) objective(theta, grad []float64) (float64, error) {
	n, d := len(m.Y), len(m.XMean)
	sf2, sl2, sn2, lsInv := kernelParts(theta, d)
	se := mat.NewSymDense(n, nil)
	k := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			var r2, dot float64
			xi, xj := m.X[i], m.X[j]
			for c := range d {
				diff := xi[c] - xj[c]
				r2 += diff * diff * lsInv[c]
				dot += xi[c] * xj[c]
			}
			e := sf2 * math.Exp(-0.5*r2)
			se.SetSym(i, j, e)
			v := e + sl2*dot
			if i == j {
				v += sn2 + 1e-8
			}
			k.SetSym(i, j, v)
		}
	}
	var chol mat.Cholesky
	if ok := chol.Factorize(k); !ok {
		if grad != nil {
			clear(grad)
		}
		return math.Inf(1), errors.New("kernel matrix is not positive definite")
	}
	yv := mat.NewVecDense(n, m.Y)
	var alpha mat.VecDense
	if err := chol.SolveVecTo(&alpha, yv); err != nil {
		return math.Inf(1), err
	}
	const priorVar = 9.0
	nll := 0.5*mat.Dot(yv, &alpha) + 0.5*chol.LogDet() + 0.5*float64(n)*math.Log(2*math.Pi)
	for _, t := range theta {
		nll += 0.5 * t * t / priorVar
	}
	if grad == nil {
		return nll, nil
	}

	var kinv mat.SymDense
	if err := chol.InverseTo(&kinv); err != nil {
		return math.Inf(1), err
	}
	clear(grad)
	a := alpha.RawVector().Data
	// W = ααᵀ − K⁻¹; ∂(−log p)/∂θ = −½ Σ_ij W_ij ∂K_ij/∂θ.
	for i := range n {
		for j := i; j < n; j++ {
			w := a[i]*a[j] - kinv.At(i, j)
			if i != j {
				w *= 2 // the sum over (i,j) and (j,i)
			}
			e := se.At(i, j)
			xi, xj := m.X[i], m.X[j]
			var dot float64
			for c := range d {
				diff := xi[c] - xj[c]
				grad[c] -= 0.5 * w * e * diff * diff * lsInv[c]
				dot += xi[c] * xj[c]
			}
			grad[d] -= 0.5 * w * 2 * e
			grad[d+1] -= 0.5 * w * 2 * sl2 * dot
			if i == j && theta[d+2] > gpMinLogNoise {
				grad[d+2] -= 0.5 * w * 2 * sn2
			}
		}
	}
	for c, t := range theta {
		grad[c] += t / priorVar
	}
	return nll, nil
}

// factor computes the Cholesky factor of K and α for the fitted θ.
func (m *GP) factor() error {
	n, d := len(m.Y), len(m.XMean)
	if len(m.Theta) != d+3 || len(m.XScale) != d {
		return fmt.Errorf("gp: %d hyperparameters for %d features, want %d", len(m.Theta), d, d+3)
	}
	sf2, sl2, sn2, lsInv := kernelParts(m.Theta, d)
	k := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			v := m.kernel(m.X[i], m.X[j], sf2, sl2, lsInv)
			if i == j {
				v += sn2 + 1e-8
			}
			k.SetSym(i, j, v)
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(k) {
		return errors.New("gp: kernel matrix is not positive definite at the fitted hyperparameters")
	}
	var alpha mat.VecDense
	if err := chol.SolveVecTo(&alpha, mat.NewVecDense(n, m.Y)); err != nil {
		return fmt.Errorf("gp: solve for the weights: %w", err)
	}
	m.lower = &mat.TriDense{}
	chol.LTo(m.lower)
	m.alpha, m.lsInv = alpha.RawVector().Data, lsInv
	return nil
}

func (m *GP) kernel(a, b []float64, sf2, sl2 float64, lsInv []float64) float64 {
	var r2, dot float64
	for c := range a {
		diff := a[c] - b[c]
		r2 += diff * diff * lsInv[c]
		dot += a[c] * b[c]
	}
	return sf2*math.Exp(-0.5*r2) + sl2*dot
}

// Predict returns the posterior mean and standard deviation of the target
// at x, including the noise variance σ_n², in target units.
func (m *GP) Predict(x []float64) (mean, std float64) {
	d := len(m.XMean)
	sf2, sl2, sn2, _ := kernelParts(m.Theta, d)
	z := m.standardise(make([]float64, d), x)
	n := len(m.Y)
	ks := make([]float64, n)
	for i := range n {
		ks[i] = m.kernel(m.X[i], z, sf2, sl2, m.lsInv)
		mean += ks[i] * m.alpha[i]
	}
	// v = L⁻¹k*, var = k** − vᵀv.
	v := mat.NewVecDense(n, ks)
	if err := v.SolveVec(m.lower, v); err != nil {
		return mean*m.YScale + m.YMean, math.Inf(1)
	}
	kss := m.kernel(z, z, sf2, sl2, m.lsInv) + sn2
	variance := max(kss-mat.Dot(v, v), 0)
	return mean*m.YScale + m.YMean, math.Sqrt(variance) * m.YScale
}
