package dashboard

import "math"

// ParityStats summarises how close a surrogate's predictions are to the
// held-out measurements.
type ParityStats struct {
	N int // points with a positive measured value; others are skipped
	// MAPE is the mean absolute percentage error, 100·mean(|p−m|/m).
	MAPE float64
	// Within10 is the fraction of points with |p−m|/m ≤ 0.1.
	Within10 float64
}

// Stats computes the parity statistics of s. Points whose measured value is
// not positive and finite have no relative error and are skipped. With no
// usable point, MAPE and Within10 are NaN.
func (s SurrogateView) Stats() ParityStats {
	var sum float64
	var n, within int
	for _, p := range s.Points {
		if !(p.Measured > 0) || math.IsInf(p.Measured, 0) || math.IsNaN(p.Predicted) {
			continue
		}
		rel := math.Abs(p.Predicted-p.Measured) / p.Measured
		sum += rel
		if rel <= 0.1 {
			within++
		}
		n++
	}
	if n == 0 {
		return ParityStats{MAPE: math.NaN(), Within10: math.NaN()}
	}
	return ParityStats{N: n, MAPE: 100 * sum / float64(n), Within10: float64(within) / float64(n)}
}

// bestSoFar returns the running minimum of objectives: element i is the
// best objective among the first i+1 evaluations. NaN evaluations (failed
// candidates) keep the previous best.
func bestSoFar(objectives []float64) []float64 {
	out := make([]float64, len(objectives))
	best := math.Inf(1)
	for i, v := range objectives {
		if v < best {
			best = v
		}
		out[i] = best
	}
	return out
}

// Best returns the lowest objective of c and the 1-based evaluation that
// first reached it; ok is false when c has no finite objective.
func (c Convergence) Best() (best float64, evaluation int, ok bool) {
	best = math.Inf(1)
	for i, v := range c.Objectives {
		if v < best {
			best, evaluation = v, i+1
		}
	}
	return best, evaluation, evaluation > 0
}
