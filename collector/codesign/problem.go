// Package codesign searches architecture × target pairs for the best
// transformer and device under an objective and hard constraints, and
// reports the best pair, a Pareto front per target and the convergence of
// each search strategy.
//
// The search is separate from evaluation. A Strategy proposes candidates and
// observes evaluations. An Evaluator returns the hardware measures of a
// candidate, either from per-target surrogates (the offline oracle) or by
// measuring it on a device through the collector's job system, which may
// take minutes. Accuracy comes from an AccuracyModel fitted on
// imported accuracy records; without one the accuracy term is dropped and
// the report states that.
package codesign

import (
	"context"
	"errors"
	"fmt"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// Estimate is a value with its standard deviation, in the unit of its
// measure. Std is 0 for exact values such as a parameter count.
type Estimate struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

// Kind is the origin of the hardware numbers of an evaluation.
type Kind string

// Kinds of evaluation results.
const (
	// Predicted: from a surrogate, not measured (the offline oracle).
	Predicted Kind = "predicted"
	// Measured: latency and power measured on the device.
	Measured Kind = "measured"
	// Estimated: latency measured, power and energy from a model.
	Estimated Kind = "estimated"
)

// Result is the output of an Evaluator for one pair: the hardware measures
// it obtained (latency, energy, peak_power), each with its uncertainty. A
// measure that is unknown is absent, never zero.
type Result struct {
	Hardware map[Measure]Estimate
	Kind     Kind
}

// Evaluator returns the hardware measures of architecture a on target t.
// Implementations must be safe for concurrent use. Evaluate may block for
// minutes (a live measurement) and returns ctx.Err() when ctx is done.
type Evaluator interface {
	Evaluate(ctx context.Context, a arch.Architecture, t measure.Target) (Result, error)
}

// AccuracyModel predicts the accuracy (GLUE score as a fraction) of an
// architecture, with its uncertainty.
type AccuracyModel interface {
	PredictAccuracy(a arch.Architecture) Estimate
}

// Problem is a co-design search problem: the design space, the targets,
// the objective, the constraints, and the sources of the measures.
type Problem struct {
	Space       *arch.Space
	Targets     []measure.Target
	Objective   Objective
	Constraints []Constraint
	Evaluator   Evaluator
	// Accuracy may be nil: then the accuracy weight is dropped from the
	// objective, accuracy constraints are rejected, and the report notes it.
	Accuracy AccuracyModel
	// Aliases maps a target key to another name constraint scopes may use,
	// such as the published dataset's device name "cpu_rpi".
	Aliases map[string]string
	// Notes are facts about the inputs that the report repeats, such as
	// targets left out for lack of data.
	Notes []string
}

// Validate checks that p can be searched and returns every problem found.
func (p *Problem) Validate() error {
	var errs []error
	if p.Space == nil {
		errs = append(errs, errors.New("problem has no design space"))
	}
	if len(p.Targets) == 0 {
		errs = append(errs, errors.New("problem has no targets: give at least one target with measurements or a surrogate"))
	}
	seen := map[string]bool{}
	for _, t := range p.Targets {
		if err := t.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[t.Key()] {
			errs = append(errs, fmt.Errorf("target %s is listed twice", t.Key()))
		}
		seen[t.Key()] = true
	}
	if p.Evaluator == nil {
		errs = append(errs, errors.New("problem has no evaluator"))
	}
	if err := p.effectiveObjective().Validate(); err != nil {
		errs = append(errs, err)
	}
	for _, c := range p.Constraints {
		if c.Measure == Accuracy && p.Accuracy == nil {
			errs = append(errs, fmt.Errorf("constraint %s needs accuracy, but there is no accuracy data; import accuracy records or drop the constraint", c))
		}
		if !p.scopeMatches(c) {
			errs = append(errs, fmt.Errorf("constraint %s: scope %q matches none of the targets; use a device id or a target key", c, c.Scope))
		}
	}
	return errors.Join(errs...)
}

func (p *Problem) scopeMatches(c Constraint) bool {
	for _, t := range p.Targets {
		if p.applies(c, t) {
			return true
		}
	}
	return false
}

// applies reports whether c constrains t, by Constraint.Applies or by the
// target's alias.
func (p *Problem) applies(c Constraint, t measure.Target) bool {
	if c.Applies(t) {
		return true
	}
	alias, ok := p.Aliases[t.Key()]
	return ok && c.Scope == alias
}

// effectiveObjective returns the objective the search minimises: the given
// one, without its accuracy term when there is no accuracy model.
func (p *Problem) effectiveObjective() Objective {
	if p.Accuracy == nil {
		return p.Objective.WithoutAccuracy()
	}
	return p.Objective
}

// Candidate is one architecture × target pair; Target indexes
// Problem.Targets.
type Candidate struct {
	Arch   arch.Architecture
	ArchID string
	Target int
}

// key identifies a pair for de-duplication.
func (c Candidate) key() string { return fmt.Sprintf("%s@%d", c.ArchID, c.Target) }

// Evaluation is an evaluated candidate: its measures, objective and
// feasibility.
type Evaluation struct {
	Candidate
	// Measures holds the hardware measures of the evaluator, accuracy when
	// an accuracy model exists, and params and memory from the cost model.
	Measures map[Measure]Estimate
	Kind     Kind
	// Objective is the objective of the means; ObjectiveStd propagates the
	// measures' standard deviations.
	Objective    float64
	ObjectiveStd float64
	Feasible     bool
	// Slack maps each constraint in scope (by its String form) to how far
	// the mean is inside the limit, in the measure's unit. A negative slack
	// is a violation.
	Slack map[string]float64
	// Penalty is 0 for a feasible pair and otherwise the sum of relative
	// violations, (value − limit)/|limit|, used to rank infeasible pairs.
	Penalty float64
}

// score is the value strategies minimise: the objective, plus one and the
// penalty for an infeasible pair. Infeasible pairs thus rank behind
// feasible ones whenever objectives lie in [0, 1], as the default objective
// does for measures inside its normalisers.
func (e *Evaluation) score() float64 {
	if e.Feasible {
		return e.Objective
	}
	return e.Objective + 1 + e.Penalty
}
