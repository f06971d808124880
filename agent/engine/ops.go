package engine

import "math"

// gelu is the exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)), as in BERT.
func gelu(x float32) float32 {
	v := float64(x)
	return float32(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
}

// layerNormEps is BERT's LayerNorm epsilon.
const layerNormEps = 1e-12

// layerNorm sets row to (row + residual − mean)/√(var + eps)·gamma + beta,
// with mean and biased variance over the row. residual may be nil. Sums are
// taken in float64 so a 768-wide row loses no precision to float32 rounding.
func layerNorm(row, residual, gamma, beta []float32) {
	if residual != nil {
		for j, r := range residual[:len(row)] {
			row[j] += r
		}
	}
	var sum float64
	for _, x := range row {
		sum += float64(x)
	}
	mean := sum / float64(len(row))
	var sq float64
	for _, x := range row {
		d := float64(x) - mean
		sq += d * d
	}
	inv := 1 / math.Sqrt(sq/float64(len(row))+layerNormEps)
	for j, x := range row {
		row[j] = float32((float64(x)-mean)*inv)*gamma[j] + beta[j]
	}
}

// softmax replaces row with its softmax. Entries j with keep[j] == false get
// probability 0 and take no part in the normalisation; a nil keep keeps
// every entry. A row with nothing kept becomes all zeros.
func softmax(row []float32, keep []bool) {
	maxv := float32(math.Inf(-1))
	for j, x := range row {
		if (keep == nil || keep[j]) && x > maxv {
			maxv = x
		}
	}
	if math.IsInf(float64(maxv), -1) {
		clear(row)
		return
	}
	var sum float32
	for j, x := range row {
		if keep != nil && !keep[j] {
			row[j] = 0
			continue
		}
		e := float32(math.Exp(float64(x - maxv)))
		row[j] = e
		sum += e
	}
	inv := 1 / sum
	for j := range row {
		row[j] *= inv
	}
}

// normTask applies layerNorm with a residual to each row of x, in parallel
// over rows.
type normTask struct {
	x, residual []float32 // rows×width, row-major; residual may be nil
	width       int
	gamma, beta []float32
}

func (t *normTask) run(_, lo, hi int) {
	for r := lo; r < hi; r++ {
		row := t.x[r*t.width : (r+1)*t.width]
		var res []float32
		if t.residual != nil {
			res = t.residual[r*t.width : (r+1)*t.width]
		}
		layerNorm(row, res, t.gamma, t.beta)
	}
}
