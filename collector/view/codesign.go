package view

import (
	"strings"
	"time"

	"github.com/edgetran/edgetran/collector/codesign"
	"github.com/edgetran/edgetran/collector/dashboard"
	"github.com/edgetran/edgetran/shared/measure"
)

// hardware pairs the co-design hardware measures with the dashboard's.
var hardware = []struct {
	codesign  codesign.Measure
	dashboard dashboard.Measure
}{
	{codesign.Latency, dashboard.Latency},
	{codesign.Energy, dashboard.Energy},
	{codesign.PeakPower, dashboard.PeakPower},
}

// CoDesign returns the dashboard view of a co-design report finished at
// finished. Hardware figures of an offline run are predictions, and
// accuracy always comes from a surrogate, so both are labelled predicted.
func CoDesign(rep *codesign.Report, finished time.Time) *dashboard.CoDesignView {
	if rep == nil {
		return nil
	}
	v := &dashboard.CoDesignView{
		Objective:   "weights " + rep.Objective.String() + " (normalisers); lower is better",
		Constraints: rep.Constraints,
		FinishedAt:  finished,
	}
	if !rep.AccuracyUsed {
		v.AccuracyNote = "no accuracy records: the objective uses hardware measures only"
		for _, n := range rep.Notes {
			if strings.Contains(n, "accuracy") {
				v.AccuracyNote = n
			}
		}
	}
	for _, s := range rep.Strategies {
		v.Strategies = append(v.Strategies, dashboard.Convergence{Strategy: s.Name, Objectives: s.Curve, Basis: basisOf(kindOf(s.Best))})
	}
	if rep.AccuracyUsed {
		for _, f := range rep.Pareto {
			v.Fronts = append(v.Fronts, fronts(f)...)
		}
	}
	if b := rep.Best; b != nil {
		t, err := measure.ParseTargetKey(b.Target)
		if err == nil {
			v.Best = &dashboard.BestPair{Strategy: b.Strategy, ArchID: b.ArchID, Arch: b.Arch, Target: t, Objective: b.Objective, Figures: Figures(b)}
		}
	}
	return v
}

// Figures returns the accuracy and hardware measures of a pair with their
// basis, in the dashboard's units.
func Figures(p *codesign.Pair) []dashboard.Figure {
	var out []dashboard.Figure
	if e, ok := p.Measures[codesign.Accuracy]; ok {
		out = append(out, dashboard.Figure{Name: "accuracy (GLUE score)", Value: e.Mean, Std: e.Std, Basis: dashboard.Predicted})
	}
	for _, h := range hardware {
		if e, ok := p.Measures[h.codesign]; ok {
			out = append(out, dashboard.Figure{Name: h.dashboard.Label(), Unit: h.dashboard.Unit(), Value: e.Mean, Std: e.Std, Basis: basisOf(p.Kind)})
		}
	}
	return out
}

// fronts returns one accuracy-against-measure front per hardware measure
// of f. A point is on the two-measure front when no other point has both
// higher accuracy and a lower value.
func fronts(f codesign.Front) []dashboard.ParetoFront {
	t, err := measure.ParseTargetKey(f.Target)
	if err != nil {
		return nil
	}
	var out []dashboard.ParetoFront
	for _, h := range hardware {
		var points [][]float64
		var pf dashboard.ParetoFront
		for _, p := range f.Points {
			acc, okA := p.Measures[codesign.Accuracy]
			val, okV := p.Measures[h.codesign]
			if !okA || !okV {
				continue
			}
			pf.Points = append(pf.Points, dashboard.ParetoPoint{ArchID: p.ArchID, Accuracy: acc.Mean, Value: val.Mean})
			points = append(points, []float64{-acc.Mean, val.Mean})
			pf.ValueBasis = basisOf(p.Kind)
		}
		if len(pf.Points) == 0 {
			continue
		}
		for _, i := range codesign.ParetoIndices(points) {
			pf.Points[i].OnFront = true
		}
		pf.Target, pf.Measure = t, h.dashboard
		pf.AccuracyName, pf.AccuracyBasis = "GLUE score", dashboard.Predicted
		out = append(out, pf)
	}
	return out
}

func kindOf(p *codesign.Pair) codesign.Kind {
	if p == nil {
		return codesign.Predicted
	}
	return p.Kind
}

// basisOf returns the dashboard basis of a co-design result kind.
func basisOf(k codesign.Kind) dashboard.Basis {
	switch k {
	case codesign.Measured:
		return dashboard.Measured
	case codesign.Estimated:
		return dashboard.Estimated
	}
	return dashboard.Predicted
}
