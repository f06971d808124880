package codesign

import (
	"context"
	"fmt"
	"math"
)

// evaluate turns the evaluator's result for c into an Evaluation: it adds
// accuracy from the accuracy model, params and memory from the cost model at
// the target's input shape, and computes the objective, its uncertainty and
// the constraint slack. A measure the objective or a constraint in scope
// needs but the evaluator did not return is an error, never a zero.
func evaluate(ctx context.Context, p *Problem, obj Objective, c Candidate) (*Evaluation, error) {
	t := p.Targets[c.Target]
	res, err := p.Evaluator.Evaluate(ctx, c.Arch, t)
	if err != nil {
		return nil, fmt.Errorf("evaluate arch %s on %s: %w", c.ArchID, t.Key(), err)
	}

	e := &Evaluation{Candidate: c, Kind: res.Kind, Measures: map[Measure]Estimate{}, Slack: map[string]float64{}, Feasible: true}
	for m, v := range res.Hardware {
		if !m.Hardware() {
			return nil, fmt.Errorf("evaluator returned %s for arch %s on %s; evaluators return only latency, energy and peak_power", m, c.ArchID, t.Key())
		}
		if math.IsNaN(v.Mean) || math.IsInf(v.Mean, 0) || v.Mean < 0 {
			return nil, fmt.Errorf("evaluator returned %s = %v for arch %s on %s; want a finite value ≥ 0", m, v.Mean, c.ArchID, t.Key())
		}
		e.Measures[m] = v
	}
	for m, v := range newFeatureCache(p).static(c) {
		e.Measures[m] = v
	}

	means := make(map[Measure]float64, len(e.Measures))
	stds := make(map[Measure]float64, len(e.Measures))
	for m, v := range e.Measures {
		means[m], stds[m] = v.Mean, v.Std
	}
	if e.Objective, err = obj.Value(means); err != nil {
		return nil, fmt.Errorf("arch %s on %s: %w", c.ArchID, t.Key(), err)
	}
	e.ObjectiveStd = obj.Std(stds)

	for _, con := range p.Constraints {
		if !p.applies(con, t) {
			continue
		}
		v, ok := means[con.Measure]
		if !ok {
			return nil, fmt.Errorf("constraint %s needs %s, which is unknown for arch %s on %s", con, con.Measure, c.ArchID, t.Key())
		}
		e.Slack[con.String()] = con.Slack(v)
		if !con.Satisfied(v) {
			e.Feasible = false
			e.Penalty += relativeViolation(con, v)
		}
	}
	return e, nil
}
