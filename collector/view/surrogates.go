package view

import (
	"context"
	"fmt"
	"slices"

	"github.com/edgetran/edgetran/collector/dashboard"
	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// FitOptions configure CrossValidate. The zero value uses 5 folds, boosted
// trees (the offline co-design oracle's default model), at least 5 records
// and seed 0.
type FitOptions struct {
	Folds      int            // 0 means 5; fewer records than folds means one fold per record
	Kind       surrogate.Kind // "" means surrogate.KindGBDT
	MinRecords int            // records a measure needs on a target; 0 means 5
	Seed       uint64
	Space      *arch.Space // nil means arch.Default()
}

// Fit is the cross-validated fit of one target and measure.
type Fit struct {
	View   dashboard.SurrogateView
	Scores surrogate.Scores
}

// measures pairs the surrogate metrics with the dashboard's names.
var measures = []struct {
	metric  surrogate.Metric
	measure dashboard.Measure
}{
	{surrogate.Latency, dashboard.Latency},
	{surrogate.Energy, dashboard.Energy},
	{surrogate.PeakPower, dashboard.PeakPower},
}

// CrossValidate fits a surrogate per target and measure of ms with k-fold
// cross-validation and returns the held-out predictions as parity points
// with their scores, sorted by target key. A measure with fewer than
// MinRecords values on a target is left out.
func CrossValidate(ctx context.Context, ms []measure.Measurement, opt FitOptions) ([]Fit, error) {
	if opt.Folds == 0 {
		opt.Folds = 5
	}
	if opt.Kind == "" {
		opt.Kind = surrogate.KindGBDT
	}
	if opt.MinRecords == 0 {
		opt.MinRecords = 5
	}
	opt.MinRecords = max(opt.MinRecords, 2)
	if opt.Space == nil {
		opt.Space = arch.Default()
	}

	byKey := map[string][]measure.Measurement{}
	var keys []string
	for _, m := range ms {
		k := m.Target.Key()
		if byKey[k] == nil {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], m)
	}
	slices.Sort(keys)

	var out []Fit
	for _, k := range keys {
		records := byKey[k]
		for _, mm := range measures {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			fit, ok, err := crossValidate(records, mm.metric, mm.measure, opt)
			if err != nil {
				return nil, fmt.Errorf("cross-validate %s %s: %w", k, mm.metric, err)
			}
			if ok {
				out = append(out, fit)
			}
		}
	}
	return out, nil
}

func crossValidate(records []measure.Measurement, metric surrogate.Metric, m dashboard.Measure, opt FitOptions) (Fit, bool, error) {
	var archs []arch.Architecture
	var y []float64
	var ids []string
	basis := dashboard.Measured
	for i := range records {
		r := &records[i]
		v, ok := metric.Of(r)
		if !ok {
			continue
		}
		archs = append(archs, r.Arch)
		y = append(y, v)
		ids = append(ids, r.ArchID)
		switch {
		case r.Provenance == measure.Imported:
			basis = dashboard.Imported
		case r.Provenance == measure.Estimated && metric != surrogate.Latency:
			// Latency of an estimated record is measured; its power and
			// energy come from the estimate model.
			basis = dashboard.Estimated
		}
	}
	if len(y) < opt.MinRecords {
		return Fit{}, false, nil
	}

	t := records[0].Target
	folds := min(opt.Folds, len(y))
	res, err := surrogate.CrossValidate(archs, y, folds, surrogate.Options{Kind: opt.Kind, Space: opt.Space, SeqLen: t.SeqLen, Seed: opt.Seed})
	if err != nil {
		return Fit{}, false, err
	}
	v := dashboard.SurrogateView{
		Target: t, Measure: m, Model: string(opt.Kind) + fmt.Sprintf(", %d-fold cross-validation", folds),
		TrainN: len(y) - (len(y)+folds-1)/folds, TargetBasis: basis,
	}
	for i := range y {
		v.Points = append(v.Points, dashboard.ParityPoint{ArchID: ids[i], Measured: y[i], Predicted: res.Mean[i], Std: res.Std[i]})
	}
	return Fit{View: v, Scores: res.Scores}, true, nil
}

// Views returns the dashboard views of fits.
func Views(fits []Fit) []dashboard.SurrogateView {
	out := make([]dashboard.SurrogateView, len(fits))
	for i, f := range fits {
		out[i] = f.View
	}
	return out
}
