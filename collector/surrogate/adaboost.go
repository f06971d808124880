package surrogate

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
)

// AdaBoost is AdaBoost.R2 (H. Drucker, "Improving Regressors using Boosting
// Techniques", ICML 1997) over regression trees, configured as the published
// EdgeTran surrogate: 500 depth-unlimited trees, linear loss, learning rate
// 1, targets divided by the training maximum.
//
// Each round draws a weighted bootstrap sample, fits a tree to it, computes
// the linear loss L_i = |ŷ_i − y_i| / max_k |ŷ_k − y_k| on every training row,
// the weighted average loss ε = Σ w_i L_i, β = ε / (1 − ε), and multiplies
// every weight by β^(1−L_i). Boosting stops early when ε ≥ 0.5 (that tree is
// dropped unless it is the first) or ε = 0. The tree weight is log(1/β) and
// the prediction is the weighted median of the trees' predictions.
//
// The uncertainty is the weighted standard deviation of the trees'
// predictions around the weighted median.
type AdaBoost struct {
	// Trees is the number of boosting rounds; 0 means 500.
	Trees int `json:"trees"`
	// MaxDepth limits tree depth; 0 means unlimited.
	MaxDepth int `json:"max_depth"`

	// Fitted state, set by Fit.
	Scale   float64   `json:"scale"` // training maximum of y; predictions are multiplied back by it
	Weights []float64 `json:"weights"`
	Members []*Tree   `json:"members"`
}

// Fit fits the ensemble to rows x and targets y, drawing bootstrap samples
// from rng.
func (m *AdaBoost) Fit(x [][]float64, y []float64, rng *rand.Rand) error {
	if err := checkData(x, y); err != nil {
		return err
	}
	rounds := m.Trees
	if rounds == 0 {
		rounds = 500
	}
	n := len(y)
	m.Scale = slices.Max(y)
	if !(m.Scale > 0) {
		return errors.New("adaboost: targets must have a positive maximum")
	}
	yn := make([]float64, n)
	for i, v := range y {
		yn[i] = v / m.Scale
	}
	p := newPresorted(x)
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / float64(n)
	}
	counts := make([]float64, n)
	cdf := make([]float64, n)
	loss := make([]float64, n)
	m.Members, m.Weights = nil, nil

	for round := range rounds {
		bootstrap(counts, cdf, w, rng)
		t := fitCART(p, yn, counts, m.MaxDepth)

		maxErr := 0.0
		for i := range n {
			loss[i] = math.Abs(t.Predict(x[i]) - yn[i])
			maxErr = max(maxErr, loss[i])
		}
		eps := 0.0
		if maxErr > 0 {
			for i := range n {
				loss[i] /= maxErr
				eps += w[i] * loss[i]
			}
		}
		if eps <= 0 {
			m.Members = append(m.Members, t)
			m.Weights = append(m.Weights, 1)
			break
		}
		if eps >= 0.5 {
			if len(m.Members) == 0 {
				m.Members = append(m.Members, t)
				m.Weights = append(m.Weights, 1)
			}
			break
		}
		beta := eps / (1 - eps)
		m.Members = append(m.Members, t)
		m.Weights = append(m.Weights, math.Log(1/beta))
		if round == rounds-1 {
			break
		}
		sum := 0.0
		for i := range n {
			w[i] *= math.Pow(beta, 1-loss[i])
			sum += w[i]
		}
		if !(sum > 0) {
			break
		}
		for i := range w {
			w[i] /= sum
		}
	}
	return nil
}

// bootstrap fills counts with the number of times each row is drawn in n
// draws with replacement, row i having probability w[i].
func bootstrap(counts, cdf, w []float64, rng *rand.Rand) {
	acc := 0.0
	for i, v := range w {
		acc += v
		cdf[i] = acc
	}
	clear(counts)
	for range w {
		u := rng.Float64() * acc
		i, _ := slices.BinarySearch(cdf, u)
		counts[min(i, len(counts)-1)]++
	}
}

// Predict returns the weighted median of the trees' predictions and their
// weighted standard deviation around it, in the units of the training
// targets.
func (m *AdaBoost) Predict(x []float64) (mean, std float64) {
	var buf [512]struct{ v, w float64 }
	preds := buf[:0]
	total := 0.0
	for k, t := range m.Members {
		preds = append(preds, struct{ v, w float64 }{t.Predict(x), m.Weights[k]})
		total += m.Weights[k]
	}
	slices.SortFunc(preds, func(a, b struct{ v, w float64 }) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	median := preds[len(preds)-1].v
	acc := 0.0
	for _, p := range preds {
		acc += p.w
		if acc >= 0.5*total {
			median = p.v
			break
		}
	}
	ss := 0.0
	for _, p := range preds {
		ss += p.w * (p.v - median) * (p.v - median)
	}
	return median * m.Scale, math.Sqrt(ss/total) * m.Scale
}
