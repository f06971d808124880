package codesign

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// OracleOptions configures the offline oracle. The zero value is usable.
type OracleOptions struct {
	// Noise draws each value from the surrogate's predictive distribution
	// instead of returning its mean, as the EdgeTran paper's offline search
	// did. Draws are seeded by Seed, the architecture and the target, so a
	// pair always gets the same value.
	Noise bool
	Seed  uint64
	// MinRecords is the least number of measurements of a measure on a
	// target needed to fit its surrogate; 0 means 5. A target without enough
	// latency measurements is left out; a measure without enough is unknown
	// on that target.
	MinRecords int
	// Model names the per-target regressor: ModelForest or a
	// collector/surrogate kind such as "gbdt", "gp", "paper" or "best"; ""
	// means DefaultOracleModel.
	Model string
}

// DefaultOracleModel is the per-target regressor of the offline oracle: the
// gradient-boosted ensemble of collector/surrogate on the logarithm of the
// measure, the model family of the EdgeTran paper. It fits the seven
// published targets in a few seconds; the hybrid model is more accurate but
// about ten times slower to fit.
const DefaultOracleModel = "gbdt"

// Oracle is the offline evaluator: per target and hardware measure, a
// surrogate fitted on the logarithm of the available measurements predicts
// the measure of any architecture. Its results are predictions, labelled
// Predicted, never measurements.
type Oracle struct {
	space   *arch.Space
	opt     OracleOptions
	targets []measure.Target
	models  map[string]map[Measure]hardwareModel // target key → measure → model
	// Notes lists targets and measures left out for lack of data.
	Notes []string
}

// NewOracle fits the per-target surrogates on ms. Measurements whose
// architecture is invalid in space are skipped. It fails when no target has
// at least MinRecords latency measurements.
func NewOracle(space *arch.Space, ms []measure.Measurement, opt OracleOptions) (*Oracle, error) {
	opt.MinRecords = cmp0(opt.MinRecords, 5)
	if opt.Model == "" {
		opt.Model = DefaultOracleModel
	}
	o := &Oracle{space: space, opt: opt, models: map[string]map[Measure]hardwareModel{}}

	byTarget := map[string][]measure.Measurement{}
	targets := map[string]measure.Target{}
	for _, m := range ms {
		if space.Validate(m.Arch) != nil {
			continue
		}
		k := m.Target.Key()
		byTarget[k] = append(byTarget[k], m)
		targets[k] = m.Target
	}
	keys := make([]string, 0, len(byTarget))
	for k := range byTarget {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	for i, k := range keys {
		t := targets[k]
		models := map[Measure]hardwareModel{}
		for j, m := range []Measure{Latency, Energy, PeakPower} {
			archs, y := trainingSet(byTarget[k], m)
			if len(y) < opt.MinRecords {
				o.Notes = append(o.Notes, fmt.Sprintf("target %s: %s unknown because it has %d of the %d measurements a surrogate needs", k, m, len(y), opt.MinRecords))
				continue
			}
			model, err := fitHardwareModel(space, opt.Model, archs, y, t, opt.Seed+uint64(3*i+j))
			if err != nil {
				return nil, fmt.Errorf("fit %s surrogate of %s: %w", m, k, err)
			}
			models[m] = model
		}
		if models[Latency] == nil {
			o.Notes = append(o.Notes, fmt.Sprintf("target %s left out: too few latency measurements", k))
			continue
		}
		o.models[k] = models
		o.targets = append(o.targets, t)
	}
	if len(o.targets) == 0 {
		return nil, fmt.Errorf("offline oracle: no target has %d or more valid latency measurements among %d records", opt.MinRecords, len(ms))
	}
	return o, nil
}

// trainingSet returns the architectures and positive values of the
// measurements that have measure m.
func trainingSet(ms []measure.Measurement, m Measure) ([]arch.Architecture, []float64) {
	var archs []arch.Architecture
	var y []float64
	for _, r := range ms {
		v, ok := hardwareValue(r, m)
		if !ok || !(v > 0) || math.IsInf(v, 0) {
			continue
		}
		archs = append(archs, r.Arch)
		y = append(y, v)
	}
	return archs, y
}

// hardwareValue returns measure m of a measurement in the unit of Measure.
func hardwareValue(r measure.Measurement, m Measure) (float64, bool) {
	switch m {
	case Latency:
		return r.LatencyPerSeqS, r.LatencyPerSeqS > 0
	case Energy:
		if r.EnergyPerSeqJ != nil {
			return *r.EnergyPerSeqJ, true
		}
	case PeakPower:
		if r.PeakPowerW != nil {
			return *r.PeakPowerW, true
		}
	}
	return 0, false
}

// Targets returns the targets the oracle has models for, sorted by key.
func (o *Oracle) Targets() []measure.Target { return slices.Clone(o.targets) }

// Evaluate predicts the hardware measures of a on t, each with the model's
// standard deviation. With Noise, each returned value is mean·exp(z·std/mean)
// for a standard normal z: a log-normal draw that stays positive.
func (o *Oracle) Evaluate(ctx context.Context, a arch.Architecture, t measure.Target) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	models, ok := o.models[t.Key()]
	if !ok {
		return Result{}, fmt.Errorf("offline oracle has no surrogate for target %s", t.Key())
	}
	if err := o.space.Validate(a); err != nil {
		return Result{}, err
	}
	res := Result{Hardware: map[Measure]Estimate{}, Kind: Predicted}
	for _, m := range []Measure{Latency, Energy, PeakPower} {
		model, ok := models[m]
		if !ok {
			continue
		}
		mean, std, err := model.predict(a, t)
		if err != nil {
			return Result{}, fmt.Errorf("predict %s on %s: %w", m, t.Key(), err)
		}
		if !(mean > 0) || math.IsInf(mean, 0) {
			// A model fitted without a log transform can extrapolate below
			// zero; no measure is zero, so this is a model failure.
			return Result{}, fmt.Errorf("surrogate of %s on %s predicted %v for arch %s; use a model that fits the logarithm (forest or gbdt)", m, t.Key(), mean, o.space.ID(a))
		}
		if o.opt.Noise {
			mean *= math.Exp(std / mean * o.noise(a, t, m))
		}
		res.Hardware[m] = Estimate{Mean: mean, Std: std}
	}
	return res, nil
}

// noise returns a standard normal draw fixed by the seed, architecture,
// target and measure.
func (o *Oracle) noise(a arch.Architecture, t measure.Target, m Measure) float64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%s", o.space.ID(a), t.Key(), m)
	return rand.New(rand.NewPCG(o.opt.Seed, h.Sum64())).NormFloat64()
}

// ErrNoAccuracy is returned by FitAccuracy when the records hold no GLUE
// score.
var ErrNoAccuracy = errors.New("no accuracy data: no record has a GLUE score")

// AccuracySurrogate predicts the GLUE score of an architecture from its
// cost features, fitted on accuracy records.
type AccuracySurrogate struct {
	space *arch.Space
	model Surrogate
	// Archs is the number of distinct architectures it was fitted on.
	Archs int
}

// accuracyShape is the input shape at which accuracy features are taken:
// accuracy does not depend on the shape, so any fixed one works.
const accuracyBatch, accuracySeqLen = 1, 128

// FitAccuracy fits an accuracy surrogate on the GLUE scores in recs,
// averaging repeated scores of one architecture. Records with only a
// pre-training loss are not used, because no mapping from loss to GLUE is
// known. It returns ErrNoAccuracy when no record has a GLUE score.
func FitAccuracy(space *arch.Space, recs []measure.Accuracy, seed uint64) (*AccuracySurrogate, error) {
	sum := map[string]float64{}
	count := map[string]int{}
	archs := map[string]arch.Architecture{}
	for _, r := range recs {
		if r.GLUE == nil || space.Validate(r.Arch) != nil {
			continue
		}
		id := space.ID(r.Arch)
		sum[id] += *r.GLUE
		count[id]++
		archs[id] = r.Arch
	}
	if len(sum) == 0 {
		return nil, ErrNoAccuracy
	}
	ids := make([]string, 0, len(sum))
	for id := range sum {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	x := make([][]float64, len(ids))
	y := make([]float64, len(ids))
	for i, id := range ids {
		x[i] = archFeatures(space, archs[id], accuracyBatch, accuracySeqLen)
		y[i] = sum[id] / float64(count[id])
	}
	model := NewForest(seed)
	if err := model.Fit(x, y); err != nil {
		return nil, fmt.Errorf("fit accuracy surrogate: %w", err)
	}
	return &AccuracySurrogate{space: space, model: model, Archs: len(ids)}, nil
}

// PredictAccuracy returns the predicted GLUE score, clamped to [0, 1].
func (s *AccuracySurrogate) PredictAccuracy(a arch.Architecture) Estimate {
	mean, std := s.model.Predict(archFeatures(s.space, a, accuracyBatch, accuracySeqLen))
	return Estimate{Mean: min(1, max(0, mean)), Std: std}
}
