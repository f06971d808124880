package surrogate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/edgetran/edgetran/shared/arch"
)

// Scores are measures of fit of predictions against measured values.
type Scores struct {
	N        int     `json:"n"`
	Within10 float64 `json:"within10"` // share of predictions within ±10% of the measured value
	Within5  float64 `json:"within5"`  // share within ±5%
	MAPE     float64 `json:"mape"`     // mean absolute percentage error, in percent
	// NMSE is the mean squared error of targets divided by the training
	// maximum, mean((ŷ − y)² / max_train(y)²): the measure the EdgeTran paper
	// reports and its active-learning stopping rule uses.
	NMSE     float64 `json:"nmse"`
	Spearman float64 `json:"spearman"` // rank correlation ρ
	Kendall  float64 `json:"kendall"`  // rank correlation τ-b
	Cover1   float64 `json:"cover1"`   // share of measured values within mean ± 1σ (0.68 when calibrated)
	Cover2   float64 `json:"cover2"`   // share within mean ± 2σ (0.95 when calibrated)
}

// Score returns the scores of predictions mean ± std of measured values y.
// scale[i] is the training maximum used to normalise sample i for NMSE. All
// slices must have the same length.
func Score(y, mean, std, scale []float64) Scores {
	n := len(y)
	if len(mean) != n || len(std) != n || len(scale) != n {
		panic("surrogate: Score slices differ in length")
	}
	s := Scores{N: n}
	if n == 0 {
		return s
	}
	for i := range n {
		rel := math.Abs(mean[i]-y[i]) / y[i]
		if rel <= 0.10 {
			s.Within10++
		}
		if rel <= 0.05 {
			s.Within5++
		}
		s.MAPE += rel
		e := (mean[i] - y[i]) / scale[i]
		s.NMSE += e * e
		dev := math.Abs(mean[i] - y[i])
		if dev <= std[i] {
			s.Cover1++
		}
		if dev <= 2*std[i] {
			s.Cover2++
		}
	}
	fn := float64(n)
	s.Within10 /= fn
	s.Within5 /= fn
	s.MAPE *= 100 / fn
	s.NMSE /= fn
	s.Cover1 /= fn
	s.Cover2 /= fn
	if n > 1 {
		s.Spearman = stat.Correlation(ranks(y), ranks(mean), nil)
		s.Kendall = stat.Kendall(y, mean, nil)
	}
	return s
}

// ranks returns the rank of every value of v, ties sharing their mean rank.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case v[a] < v[b]:
			return -1
		case v[a] > v[b]:
			return 1
		}
		return 0
	})
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j)/2 + 1
		}
		i = j + 1
	}
	return r
}

// Result is the outcome of an evaluation: scores, the predictions in input
// order, and timings.
type Result struct {
	Scores
	Mean []float64 `json:"-"`
	Std  []float64 `json:"-"`
	// FitSeconds is the mean wall time of one fit.
	FitSeconds float64 `json:"fit_seconds"`
	// PredictionsPerSecond is the throughput of Predictor.Predict from an
	// architecture (features included) on one goroutine.
	PredictionsPerSecond float64 `json:"predictions_per_second"`
}

// Holdout fits on (train, yTrain) and scores predictions on (test, yTest).
func Holdout(train []arch.Architecture, yTrain []float64, test []arch.Architecture, yTest []float64, opts Options) (Result, error) {
	if len(test) != len(yTest) {
		return Result{}, fmt.Errorf("surrogate: %d test architectures but %d targets", len(test), len(yTest))
	}
	start := time.Now()
	p, err := Fit(train, yTrain, opts)
	if err != nil {
		return Result{}, err
	}
	fit := time.Since(start).Seconds()
	r := Result{Mean: make([]float64, len(test)), Std: make([]float64, len(test)), FitSeconds: fit}
	if err := predictAll(p, r.Mean, r.Std, test); err != nil {
		return Result{}, err
	}
	scale := slices.Repeat([]float64{slices.Max(yTrain)}, len(test))
	r.Scores = Score(yTest, r.Mean, r.Std, scale)
	r.PredictionsPerSecond = throughput(p, test)
	return r, nil
}

// CrossValidate scores k-fold cross-validated predictions of y: rows are
// shuffled with seed opts.Seed, split into k folds of near-equal size, and
// each fold is predicted by a model fitted on the others. NMSE normalises
// each sample by the maximum of its own fold's training targets.
func CrossValidate(archs []arch.Architecture, y []float64, k int, opts Options) (Result, error) {
	return crossValidate(archs, y, k, opts, true)
}

// crossValidate is CrossValidate; timing false skips the throughput
// measurement, for callers that only need the predictions.
func crossValidate(archs []arch.Architecture, y []float64, k int, opts Options, timing bool) (Result, error) {
	n := len(y)
	if len(archs) != n {
		return Result{}, fmt.Errorf("surrogate: %d architectures but %d targets", len(archs), n)
	}
	if k < 2 || k > n {
		return Result{}, fmt.Errorf("surrogate: %d folds for %d records: want between 2 and the record count", k, n)
	}
	perm := rand.New(rand.NewPCG(opts.Seed, 0xf01d)).Perm(n)
	r := Result{Mean: make([]float64, n), Std: make([]float64, n)}
	scale := make([]float64, n)
	var pps float64
	for f := range k {
		var trainA, testA []arch.Architecture
		var trainY []float64
		var testIdx []int
		for pos, i := range perm {
			if pos%k == f {
				testA = append(testA, archs[i])
				testIdx = append(testIdx, i)
			} else {
				trainA = append(trainA, archs[i])
				trainY = append(trainY, y[i])
			}
		}
		start := time.Now()
		p, err := Fit(trainA, trainY, opts)
		if err != nil {
			return Result{}, fmt.Errorf("fold %d: %w", f+1, err)
		}
		r.FitSeconds += time.Since(start).Seconds() / float64(k)
		mean, std := make([]float64, len(testA)), make([]float64, len(testA))
		if err := predictAll(p, mean, std, testA); err != nil {
			return Result{}, fmt.Errorf("fold %d: %w", f+1, err)
		}
		top := slices.Max(trainY)
		for j, i := range testIdx {
			r.Mean[i], r.Std[i], scale[i] = mean[j], std[j], top
		}
		if f == 0 && timing {
			pps = throughput(p, testA)
		}
	}
	r.Scores = Score(y, r.Mean, r.Std, scale)
	r.PredictionsPerSecond = pps
	return r, nil
}

func predictAll(p *Predictor, mean, std []float64, archs []arch.Architecture) error {
	for i, a := range archs {
		m, s, err := p.Predict(a)
		if err != nil {
			return fmt.Errorf("predict architecture %d: %w", i, err)
		}
		mean[i], std[i] = m, s
	}
	return nil
}

// throughput measures predictions per second of p over archs, repeating
// them for at least 50 ms so the figure is not dominated by timer
// resolution.
func throughput(p *Predictor, archs []arch.Architecture) float64 {
	if len(archs) == 0 {
		return 0
	}
	count := 0
	start := time.Now()
	for time.Since(start) < 50*time.Millisecond {
		for _, a := range archs {
			_, _, _ = p.Predict(a)
		}
		count += len(archs)
	}
	return float64(count) / time.Since(start).Seconds()
}
