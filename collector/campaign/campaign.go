// Package campaign runs active-learning campaigns that decide which
// architectures to measure on a target so its surrogate becomes accurate
// with few measurements (ProTran, in the EdgeTran paper by Tuli and Jha,
// IEEE Transactions on Mobile Computing, 2024).
//
// A campaign measures a held-back test sample and an initial Latin-hypercube
// sample (half narrow, half wide models), then repeats rounds: fit the
// surrogate, stop if the rule holds, otherwise pick the candidates with the
// largest normalised predicted uncertainty, measure them, and refit. The
// stopping rule is the paper's: the normalised test MSE (errors divided by
// the training maximum) stays below a threshold for a patience window of
// rounds. A campaign also stops when the budget is spent, when no candidate
// is left, or, if configured, when the largest normalised uncertainty of
// the candidate pool stays below a threshold for the patience window.
//
// Measuring is behind the Evaluator interface: Pool answers from a dataset
// (for offline studies of sample efficiency) and Live submits profile jobs
// to an agent. The whole campaign is a State value that serialises to JSON,
// so the collector can store it after every round and resume after a
// restart.
package campaign

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/arch"
)

// Strategy chooses the next architectures to measure.
type Strategy string

const (
	// Uncertainty picks the candidates with the largest predicted relative
	// standard deviation σ/μ, kept apart from each other in feature space.
	Uncertainty Strategy = "uncertainty"
	// Random picks candidates uniformly at random: the baseline that shows
	// what uncertainty sampling gains.
	Random Strategy = "random"
)

// Config sets up a campaign. Zero values take the defaults stated on each
// field; Defaults returns the filled-in copy.
type Config struct {
	Metric   surrogate.Metric `json:"metric"`    // "" means latency
	Model    surrogate.Kind   `json:"model"`     // "" means surrogate.KindBest
	Strategy Strategy         `json:"strategy"`  // "" means Uncertainty
	Initial  int              `json:"initial"`   // initial training sample; 0 means 16
	TestSize int              `json:"test_size"` // held-back test sample; 0 means 16
	Batch    int              `json:"batch"`     // measurements per round; 0 means 1
	// Budget caps all measurements, test sample included; 0 means 300.
	Budget int `json:"budget"`
	// Threshold is the normalised test MSE below which the surrogate counts
	// as converged; 0 means 0.005, the value in the published EdgeTran code
	// (the paper's text states 0.003).
	Threshold float64 `json:"threshold"`
	// Patience is the number of consecutive rounds the rule must hold;
	// 0 means 10, as in the published code.
	Patience int `json:"patience"`
	// UncertaintyThreshold, when positive, also stops the campaign once the
	// largest σ/μ over the candidate pool stays below it for Patience rounds.
	UncertaintyThreshold float64 `json:"uncertainty_threshold,omitempty"`
	// Candidates is the number of architectures a Live evaluator samples
	// per round to choose from; 0 means 1000. Pool ignores it.
	Candidates int    `json:"candidates"`
	Seed       uint64 `json:"seed"`

	// Space, when set, narrows the design space a Live campaign draws its
	// candidates from; a Manager requires it to lie inside its own space.
	// nil means the manager's space. Pool ignores it.
	Space *arch.Space `json:"space,omitempty"`
	// Runner is the agent's runner name of a Live campaign's jobs; ""
	// means the target's runtime.
	Runner string `json:"runner,omitempty"`
	// Job sets the profiling effort of a Live campaign's jobs.
	Job JobSettings `json:"job"`
}

// JobSettings are the profiling settings of each profile job; zero fields
// take the job manager's defaults (jobs.DefaultWarmup and the others).
type JobSettings struct {
	Warmup     int     `json:"warmup,omitempty"`      // untimed forward passes
	MinIters   int     `json:"min_iters,omitempty"`   // timed passes per run, at least
	MinSeconds float64 `json:"min_seconds,omitempty"` // timed seconds per run, at least
	Repeats    int     `json:"repeats,omitempty"`     // timed runs
}

// Defaults returns c with every zero field set to its default.
func (c Config) Defaults() Config {
	if c.Metric == "" {
		c.Metric = surrogate.Latency
	}
	if c.Model == "" {
		c.Model = surrogate.KindBest
	}
	if c.Strategy == "" {
		c.Strategy = Uncertainty
	}
	c.Initial = orInt(c.Initial, 16)
	c.TestSize = orInt(c.TestSize, 16)
	c.Batch = orInt(c.Batch, 1)
	c.Budget = orInt(c.Budget, 300)
	if c.Threshold == 0 {
		c.Threshold = 0.005
	}
	c.Patience = orInt(c.Patience, 10)
	c.Candidates = orInt(c.Candidates, 1000)
	return c
}

// Upper bounds of a configuration. They keep a request from asking for
// samples too large to allocate: MaxMeasurements caps initial, test_size,
// batch, budget and patience, MaxCandidates the candidates per round.
const (
	MaxMeasurements = 10_000
	MaxCandidates   = 100_000
)

// Validate checks a defaulted configuration.
func (c Config) Validate() error {
	var errs []error
	if _, err := surrogate.ParseMetric(string(c.Metric)); err != nil {
		errs = append(errs, err)
	}
	if _, err := surrogate.ParseKind(string(c.Model)); err != nil {
		errs = append(errs, err)
	}
	switch c.Strategy {
	case Uncertainty, Random:
	default:
		errs = append(errs, fmt.Errorf("strategy %q: want uncertainty or random", c.Strategy))
	}
	for _, f := range []struct {
		name     string
		v, limit int
	}{
		{"initial", c.Initial, MaxMeasurements}, {"test_size", c.TestSize, MaxMeasurements},
		{"batch", c.Batch, MaxMeasurements}, {"budget", c.Budget, MaxMeasurements},
		{"patience", c.Patience, MaxMeasurements}, {"candidates", c.Candidates, MaxCandidates},
	} {
		if f.v < 1 || f.v > f.limit {
			errs = append(errs, fmt.Errorf("%s = %d: must be between 1 and %d", f.name, f.v, f.limit))
		}
	}
	if c.Initial < 2 {
		errs = append(errs, fmt.Errorf("initial = %d: a surrogate needs at least 2 training records", c.Initial))
	}
	// Both sizes are bounded above, so their sum cannot overflow here.
	if c.Initial <= MaxMeasurements && c.TestSize <= MaxMeasurements && c.Budget < c.Initial+c.TestSize {
		errs = append(errs, fmt.Errorf("budget = %d: must cover the initial sample and the test sample (%d + %d)", c.Budget, c.Initial, c.TestSize))
	}
	if !(c.Threshold > 0) {
		errs = append(errs, fmt.Errorf("threshold = %v: must be positive", c.Threshold))
	}
	if j := c.Job; j.Warmup < 0 || j.MinIters < 0 || j.MinSeconds < 0 || j.Repeats < 0 {
		errs = append(errs, fmt.Errorf("job settings %+v: must not be negative", j))
	}
	if c.UncertaintyThreshold < 0 {
		errs = append(errs, fmt.Errorf("uncertainty_threshold = %v: must not be negative", c.UncertaintyThreshold))
	}
	return errors.Join(errs...)
}

// Candidate is an architecture the campaign may measure.
type Candidate struct {
	Arch arch.Architecture `json:"arch"`
	Wide bool              `json:"wide"` // arch.IsWide(Arch)
}

// Outcome is the result of measuring one architecture. Err is set when the
// measurement failed; Value is then meaningless.
type Outcome struct {
	Value         float64 // the metric's value, in its unit
	MeasurementID string  // id of the stored measurement, if any
	Err           error
}

// Evaluator supplies candidates and measures them. Implementations must be
// deterministic for a given rng so campaigns are reproducible.
type Evaluator interface {
	// Candidates returns up to n architectures to choose from, excluding
	// those whose arch id is in measured. An empty result ends the campaign.
	Candidates(rng *rand.Rand, n int, measured map[string]bool) ([]Candidate, error)
	// Initial returns n architectures for the start of a campaign: a
	// Latin-hypercube sample, half narrow and half wide models, none of
	// them in measured.
	Initial(rng *rand.Rand, n int, measured map[string]bool) ([]Candidate, error)
	// Evaluate measures archs and returns one outcome per architecture, in
	// order. An error means the evaluator itself failed (the campaign stops
	// and can be resumed); a failed measurement is an Outcome.Err.
	Evaluate(ctx context.Context, archs []arch.Architecture) ([]Outcome, error)
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// normalisedMSE returns mean((ŷ−y)²)/max(train)², the paper's test measure.
func normalisedMSE(pred, y []float64, trainMax float64) float64 {
	s := 0.0
	for i := range y {
		e := (pred[i] - y[i]) / trainMax
		s += e * e
	}
	return s / float64(len(y))
}

// pickDiverse returns the indices of k candidates with the largest scores,
// chosen greedily: after each pick, every other candidate's score is
// multiplied by 1 − exp(−d²/ℓ²), d being its standardised feature distance
// to the pick and ℓ the median distance between candidates, so a batch does
// not spend several measurements on near-duplicates.
func pickDiverse(score []float64, rows [][]float64, k int) []int {
	n := len(score)
	k = min(k, n)
	s := slices.Clone(score)
	var picked []int
	ell2 := medianSquaredDistance(rows)
	for range k {
		best := -1
		for i := range n {
			if s[i] >= 0 && (best < 0 || s[i] > s[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		picked = append(picked, best)
		s[best] = -1
		if ell2 <= 0 {
			continue
		}
		for i := range n {
			if s[i] < 0 {
				continue
			}
			d2 := squaredDistance(rows[i], rows[best])
			s[i] *= 1 - math.Exp(-d2/ell2)
		}
	}
	return picked
}

func squaredDistance(a, b []float64) float64 {
	s := 0.0
	for j := range a {
		d := a[j] - b[j]
		s += d * d
	}
	return s
}

// medianSquaredDistance returns the median squared distance between
// consecutive rows (a cheap scale estimate; rows are standardised).
func medianSquaredDistance(rows [][]float64) float64 {
	if len(rows) < 2 {
		return 0
	}
	d := make([]float64, 0, len(rows)-1)
	for i := 1; i < len(rows); i++ {
		d = append(d, squaredDistance(rows[i], rows[i-1]))
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// standardise returns rows scaled to zero mean and unit variance per column.
func standardise(rows [][]float64) [][]float64 {
	if len(rows) == 0 {
		return nil
	}
	d := len(rows[0])
	out := make([][]float64, len(rows))
	for i := range out {
		out[i] = slices.Clone(rows[i])
	}
	for j := range d {
		var s, ss float64
		for _, r := range rows {
			s += r[j]
			ss += r[j] * r[j]
		}
		n := float64(len(rows))
		mean := s / n
		sd := math.Sqrt(max(ss/n-mean*mean, 0))
		if sd == 0 {
			sd = 1
		}
		for _, r := range out {
			r[j] = (r[j] - mean) / sd
		}
	}
	return out
}
