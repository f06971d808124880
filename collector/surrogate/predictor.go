package surrogate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/edgetran/edgetran/shared/arch"
)

// Kind names a regressor.
type Kind string

// The regressors. KindBest, which an empty Kind also means, chooses per data
// set: see Fit.
const (
	KindGBDT     Kind = "gbdt"
	KindGP       Kind = "gp"
	KindPaper    Kind = "paper"
	KindLinear   Kind = "linear"
	KindHybrid   Kind = "hybrid"
	KindEnsemble Kind = "ensemble"
	KindBest     Kind = "best"
)

// Kinds lists the concrete regressors in a fixed order.
var Kinds = []Kind{KindEnsemble, KindHybrid, KindLinear, KindGP, KindGBDT, KindPaper}

// ParseKind returns the kind named s; "" means KindBest.
func ParseKind(s string) (Kind, error) {
	k := Kind(s)
	switch k {
	case "", KindBest:
		return KindBest, nil
	case KindGBDT, KindGP, KindPaper, KindLinear, KindHybrid, KindEnsemble:
		return k, nil
	}
	return "", fmt.Errorf("model %q: want gbdt, gp, paper, linear, hybrid, ensemble or best", s)
}

// Transform is applied to targets before fitting and inverted on prediction.
type Transform string

const (
	// Identity fits the measure as it is.
	Identity Transform = "none"
	// Log fits log(y). Latency and energy span orders of magnitude across
	// architectures and their errors are relative, so the squared loss on
	// log(y) weighs every architecture alike. A prediction (μ, σ) in log
	// space is returned as exp(μ), the median of the implied log-normal,
	// with standard deviation exp(μ)·σ (first-order delta method).
	Log Transform = "log"
)

// regressor is the contract every model meets.
type regressor interface {
	Fit(x [][]float64, y []float64, rng *rand.Rand) error
	Predict(x []float64) (mean, std float64)
}

// Options configure Fit. The zero value fits KindBest with its default
// features on the default design space at DefaultSeqLen, seed 0.
type Options struct {
	Kind     Kind
	Features FeatureSet  // "" means the kind's default: raw for paper, arch otherwise
	Space    *arch.Space // nil means arch.Default()
	SeqLen   int         // tokens per sequence; 0 means DefaultSeqLen
	Seed     uint64

	// Settings of the individual regressors; their zero values are the
	// documented defaults. Fitted state in them is ignored.
	GBDT     GBDT
	GP       GP
	AdaBoost AdaBoost
}

// Predictor is a fitted surrogate for one measure: it maps an architecture
// to a predicted value and standard deviation in the measure's units. It is
// safe for concurrent Predict calls.
type Predictor struct {
	kind      Kind
	transform Transform
	feat      *Featurizer
	model     regressor
}

// Fit fits a predictor of y (one positive value per architecture) with the
// regressor and features of opts.
//
// KindBest picks the regressor per data set: it cross-validates KindLinear
// and KindGBDT (5 folds, seed opts.Seed) and scores them and their
// geometric mean (KindEnsemble) by mean absolute percentage error, then
// fits the winner on all of y. No single model wins on every device of the
// published data: the linear model does on the Raspberry Pi, boosted trees
// on the Jetson Nano CPU, the ensemble on the A100 (docs/benchmarks.md).
// The GP and hybrid are left out of the choice because their fits cost
// about 200 times more CPU time on 250 records and were not more accurate. With fewer than 10 records KindBest fits the
// ensemble.
func Fit(archs []arch.Architecture, y []float64, opts Options) (*Predictor, error) {
	if len(archs) != len(y) {
		return nil, fmt.Errorf("surrogate: %d architectures but %d targets", len(archs), len(y))
	}
	for i, v := range y {
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("surrogate: target %d = %v: must be a positive finite number", i, v)
		}
	}
	kind, err := ParseKind(string(opts.Kind))
	if err != nil {
		return nil, err
	}
	if kind == KindBest {
		if opts.Kind, err = chooseKind(archs, y, opts); err != nil {
			return nil, err
		}
	}

	p, err := newPredictor(opts)
	if err != nil {
		return nil, err
	}
	rows := make([][]float64, len(archs))
	for i, a := range archs {
		rows[i] = make([]float64, p.RowLen())
		if err := p.Row(rows[i], a); err != nil {
			return nil, fmt.Errorf("surrogate: architecture %d: %w", i, err)
		}
	}

	target := y
	if p.transform == Log {
		target = make([]float64, len(y))
		for i, v := range y {
			target[i] = math.Log(v)
		}
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	if err := p.model.Fit(rows, target, rng); err != nil {
		return nil, fmt.Errorf("surrogate: fit %s: %w", p.kind, err)
	}
	return p, nil
}

func newPredictor(opts Options) (*Predictor, error) {
	kind, err := ParseKind(string(opts.Kind))
	if err != nil {
		return nil, err
	}
	if kind == KindBest {
		return nil, fmt.Errorf("model %q: a fitted model names its regressor, not %q", opts.Kind, KindBest)
	}
	set := opts.Features
	if set == "" {
		set = ArchFeatures
		if kind == KindPaper {
			set = RawFeatures
		}
	}
	feat, err := NewFeaturizer(opts.Space, set, opts.SeqLen)
	if err != nil {
		return nil, err
	}
	p := &Predictor{kind: kind, transform: Log, feat: feat}
	switch kind {
	case KindGBDT:
		m := opts.GBDT
		m.Boosters = nil
		p.model = &m
	case KindGP:
		m := GP{Restarts: opts.GP.Restarts, MaxIterations: opts.GP.MaxIterations}
		p.model = &m
	case KindPaper:
		p.transform = Identity
		p.model = &AdaBoost{Trees: opts.AdaBoost.Trees, MaxDepth: opts.AdaBoost.MaxDepth}
	case KindLinear:
		p.transform = Identity
		p.model = &Linear{}
	case KindHybrid:
		p.transform = Identity
		p.model = &Hybrid{NumCost: numCostClasses, GP: GP{Restarts: opts.GP.Restarts, MaxIterations: opts.GP.MaxIterations}}
	case KindEnsemble:
		p.transform = Identity
		m := Ensemble{NumCost: numCostClasses, GBDT: opts.GBDT}
		m.GBDT.Boosters = nil
		p.model = &m
	}
	return p, nil
}

// chooseKind returns the kind KindBest resolves to for (archs, y).
func chooseKind(archs []arch.Architecture, y []float64, opts Options) (Kind, error) {
	const folds = 5
	if len(y) < 2*folds {
		return KindEnsemble, nil
	}
	o := opts
	o.Kind = KindLinear
	lin, err := crossValidate(archs, y, folds, o, false)
	if err != nil {
		return "", fmt.Errorf("choose model: %w", err)
	}
	o.Kind = KindGBDT
	trees, err := crossValidate(archs, y, folds, o, false)
	if err != nil {
		return "", fmt.Errorf("choose model: %w", err)
	}
	var errLin, errTrees, errBoth float64
	for i, v := range y {
		both := trees.Mean[i]
		if lin.Mean[i] > 0 {
			both = math.Sqrt(lin.Mean[i] * trees.Mean[i])
		}
		errLin += math.Abs(lin.Mean[i]-v) / v
		errTrees += math.Abs(trees.Mean[i]-v) / v
		errBoth += math.Abs(both-v) / v
	}
	switch {
	case errLin < errBoth && errLin < errTrees:
		return KindLinear, nil
	case errTrees < errBoth:
		return KindGBDT, nil
	}
	return KindEnsemble, nil
}

// Kind returns the regressor of p.
func (p *Predictor) Kind() Kind { return p.kind }

// Features returns the feature set of p.
func (p *Predictor) Features() FeatureSet { return p.feat.set }

// RowLen returns the length of the model input row of p.
func (p *Predictor) RowLen() int {
	switch p.kind {
	case KindLinear:
		return numCostClasses
	case KindHybrid, KindEnsemble:
		return numCostClasses + p.feat.Len()
	}
	return p.feat.Len()
}

// Row fills dst (length RowLen) with the model input of a. Callers that
// predict one architecture many times, or with several predictors of the
// same kind and features, can compute the row once and call PredictRow.
func (p *Predictor) Row(dst []float64, a arch.Architecture) error {
	switch p.kind {
	case KindLinear:
		if err := p.feat.space.Validate(a); err != nil {
			return err
		}
		var buf [numCostFeatures]float64
		costFeatures(buf[:], a, p.feat.seqLen)
		copy(dst, buf[:numCostClasses])
		return nil
	case KindHybrid, KindEnsemble:
		return p.feat.row(dst[numCostClasses:], dst[:numCostClasses], a)
	}
	return p.feat.Row(dst, a)
}

// PredictRow returns the predicted measure and its standard deviation for a
// row filled by Row.
func (p *Predictor) PredictRow(row []float64) (mean, std float64) {
	mu, sigma := p.model.Predict(row)
	if p.transform == Log {
		mean = math.Exp(mu)
		return mean, mean * sigma
	}
	return mu, sigma
}

// PredictRows fills mean and std with the predictions for rows filled by
// Row. All three slices must have the same length.
func (p *Predictor) PredictRows(mean, std []float64, rows [][]float64) {
	if len(mean) != len(rows) || len(std) != len(rows) {
		panic("surrogate: PredictRows slices differ in length")
	}
	for i, row := range rows {
		mean[i], std[i] = p.PredictRow(row)
	}
}

// Predict returns the predicted measure of a and its standard deviation. It
// fails when a is not valid in the predictor's design space.
func (p *Predictor) Predict(a arch.Architecture) (mean, std float64, err error) {
	row := make([]float64, p.RowLen())
	if err := p.Row(row, a); err != nil {
		return 0, 0, err
	}
	mean, std = p.PredictRow(row)
	return mean, std, nil
}

// File format of a saved predictor.
const (
	fileFormat  = "edgetran-surrogate"
	fileVersion = 1
)

type predictorFile struct {
	Format    string          `json:"format"`
	Version   int             `json:"version"`
	Kind      Kind            `json:"kind"`
	Features  FeatureSet      `json:"features"`
	SeqLen    int             `json:"seq_len"`
	Transform Transform       `json:"transform"`
	Space     *arch.Space     `json:"space"`
	Model     json.RawMessage `json:"model"`
}

// Save writes p as versioned JSON. Load reads it back with identical
// predictions.
func (p *Predictor) Save(w io.Writer) error {
	model, err := json.Marshal(p.model)
	if err != nil {
		return fmt.Errorf("surrogate: encode %s model: %w", p.kind, err)
	}
	f := predictorFile{
		Format: fileFormat, Version: fileVersion, Kind: p.kind, Features: p.feat.set,
		SeqLen: p.feat.seqLen, Transform: p.transform, Space: p.feat.space, Model: model,
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("surrogate: write model: %w", err)
	}
	return nil
}

// Load reads a predictor written by Save.
func Load(r io.Reader) (*Predictor, error) {
	var f predictorFile
	dec := json.NewDecoder(r)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("surrogate: read model file: %w", err)
	}
	if f.Format != fileFormat {
		return nil, fmt.Errorf("surrogate: file format %q, want %q: not a surrogate model file", f.Format, fileFormat)
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("surrogate: model file version %d, this build reads version %d: refit the model", f.Version, fileVersion)
	}
	if f.Space == nil {
		return nil, errors.New("surrogate: model file has no design space")
	}
	space, err := arch.NewSpace(*f.Space)
	if err != nil {
		return nil, fmt.Errorf("surrogate: model file: %w", err)
	}
	p, err := newPredictor(Options{Kind: f.Kind, Features: f.Features, Space: space, SeqLen: f.SeqLen})
	if err != nil {
		return nil, fmt.Errorf("surrogate: model file: %w", err)
	}
	if f.Transform != p.transform {
		return nil, fmt.Errorf("surrogate: model file transform %q, want %q for %s", f.Transform, p.transform, p.kind)
	}
	if err := json.Unmarshal(f.Model, p.model); err != nil {
		return nil, fmt.Errorf("surrogate: decode %s model: %w", p.kind, err)
	}
	if err := p.checkLoaded(); err != nil {
		return nil, fmt.Errorf("surrogate: model file: %w", err)
	}
	return p, nil
}

// checkLoaded validates the fitted state of a decoded model so a corrupt
// file is rejected at load, not by a panic at prediction.
func (p *Predictor) checkLoaded() error {
	n := p.RowLen()
	switch m := p.model.(type) {
	case *GBDT:
		return m.checkLoaded(n)
	case *Ensemble:
		if m.NumCost != numCostClasses || len(m.Linear.Coef) != numCostClasses+1 {
			return fmt.Errorf("ensemble model has %d cost columns and %d coefficients, want %d and %d", m.NumCost, len(m.Linear.Coef), numCostClasses, numCostClasses+1)
		}
		return m.GBDT.checkLoaded(n - numCostClasses)
	case *AdaBoost:
		if len(m.Members) == 0 || len(m.Members) != len(m.Weights) {
			return fmt.Errorf("paper model has %d trees and %d weights", len(m.Members), len(m.Weights))
		}
		for _, t := range m.Members {
			if err := t.check(n); err != nil {
				return err
			}
		}
	case *GP:
		return m.checkLoaded(n)
	case *Linear:
		if len(m.Coef) != n+1 {
			return fmt.Errorf("linear model has %d coefficients, want %d", len(m.Coef), n+1)
		}
	case *Hybrid:
		if m.NumCost != numCostClasses || len(m.Linear.Coef) != numCostClasses+1 {
			return fmt.Errorf("hybrid model has %d cost columns and %d coefficients, want %d and %d", m.NumCost, len(m.Linear.Coef), numCostClasses, numCostClasses+1)
		}
		return m.GP.checkLoaded(n - numCostClasses)
	}
	return nil
}

func (m *GP) checkLoaded(d int) error {
	if len(m.XMean) != d || len(m.XScale) != d {
		return fmt.Errorf("gp model has %d feature scales, want %d", len(m.XMean), d)
	}
	if len(m.X) == 0 || len(m.X) != len(m.Y) {
		return fmt.Errorf("gp model has %d training rows and %d targets", len(m.X), len(m.Y))
	}
	for i, row := range m.X {
		if len(row) != d {
			return fmt.Errorf("gp training row %d has %d entries, want %d", i, len(row), d)
		}
	}
	return m.factor()
}

func (m *GBDT) checkLoaded(n int) error {
	if len(m.Boosters) == 0 {
		return errors.New("gbdt model has no boosters")
	}
	for _, b := range m.Boosters {
		for _, t := range b.Trees {
			if err := t.check(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// check validates the node arrays of t for rows of n features and compiles
// t.
func (t *Tree) check(n int) error {
	k := len(t.Value)
	if k == 0 || len(t.Feature) != k || len(t.Threshold) != k || len(t.Left) != k || len(t.Right) != k {
		return errors.New("tree node arrays are empty or of different lengths")
	}
	for i := range k {
		if t.Left[i] < 0 {
			continue
		}
		// Children come after their parent, so a walk always ends.
		if t.Left[i] <= i || t.Left[i] >= k || t.Right[i] <= i || t.Right[i] >= k || t.Feature[i] < 0 || t.Feature[i] >= n {
			return fmt.Errorf("tree node %d has an invalid child or feature", i)
		}
	}
	t.Compile()
	return nil
}

// checkData rejects empty, ragged or non-finite training data.
func checkData(x [][]float64, y []float64) error {
	if len(x) == 0 {
		return errors.New("no training rows")
	}
	if len(x) != len(y) {
		return fmt.Errorf("%d rows but %d targets", len(x), len(y))
	}
	d := len(x[0])
	if d == 0 {
		return errors.New("training rows have no features")
	}
	for i, row := range x {
		if len(row) != d {
			return fmt.Errorf("row %d has %d features, want %d", i, len(row), d)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("row %d feature %d = %v: must be finite", i, j, v)
			}
		}
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return fmt.Errorf("target %d = %v: must be finite", i, y[i])
		}
	}
	return nil
}
