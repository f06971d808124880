package codesign

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/edgetran/edgetran/shared/arch"
)

// Report is the outcome of Run. Its JSON form has the keys best, pareto and
// strategies, plus the settings that produced it.
type Report struct {
	Objective Objective `json:"objective"`
	// AccuracyUsed is false when there was no accuracy data, in which case
	// the accuracy term was dropped from the objective.
	AccuracyUsed bool     `json:"accuracy_used"`
	Notes        []string `json:"notes,omitempty"`
	Constraints  []string `json:"constraints"`
	Targets      []string `json:"targets"`
	Budget       int      `json:"budget"`
	Seed         uint64   `json:"seed"`
	// Feasible is false when no evaluated pair met every constraint; Best is
	// then nil.
	Feasible   bool              `json:"feasible"`
	Best       *Pair             `json:"best"`
	Pareto     []Front           `json:"pareto"`
	Strategies []*StrategyReport `json:"strategies"`

	problem *Problem
}

// Pair is one evaluated architecture × target pair as reported.
type Pair struct {
	Strategy string            `json:"strategy,omitempty"`
	ArchID   string            `json:"arch_id"`
	Arch     arch.Architecture `json:"arch"`
	Target   string            `json:"target"`
	Kind     Kind              `json:"kind"`
	// Objective and ObjectiveStd: the objective of the mean measures and
	// its standard deviation from the measures' uncertainties.
	Objective    float64              `json:"objective"`
	ObjectiveStd float64              `json:"objective_std"`
	Feasible     bool                 `json:"feasible"`
	Measures     map[Measure]Estimate `json:"measures"`
	// Slack per constraint in scope, in the measure's unit; negative means
	// violated.
	Slack map[string]float64 `json:"slack,omitempty"`
}

// Front is the Pareto front of one target over the feasible pairs: accuracy
// maximised (when known) and every hardware measure minimised.
type Front struct {
	Target   string    `json:"target"`
	Measures []Measure `json:"measures"`
	Points   []Pair    `json:"points"`
}

// StrategyReport summarises one strategy's run.
type StrategyReport struct {
	Name string `json:"name"`
	// BestObjective is nil when no evaluated pair was feasible.
	BestObjective *float64 `json:"best_objective"`
	// Curve holds the best feasible objective after each evaluation; null
	// before the first feasible one.
	Curve       Curve   `json:"curve"`
	Evaluations int     `json:"evaluations"`
	Feasible    int     `json:"feasible"`
	Failures    int     `json:"failures,omitempty"`
	Seconds     float64 `json:"seconds"`
	// EvalSeconds is the wall time spent waiting for evaluations.
	EvalSeconds float64 `json:"eval_seconds"`
	// FitSeconds and Refits cover the joint surrogate (boshcode only).
	FitSeconds float64 `json:"fit_seconds,omitempty"`
	Refits     int     `json:"refits,omitempty"`
	// Gain maps a baseline strategy of the same run to baseline best minus
	// this strategy's best: positive means this strategy found a better
	// pair. Absent when either side found no feasible pair.
	Gain map[string]float64 `json:"gain,omitempty"`
	Best *Pair              `json:"best"`
	Note string             `json:"note,omitempty"`

	evalTime    time.Duration
	evaluations []*Evaluation
}

// Curve is a convergence curve; infinite and NaN entries encode as null.
type Curve []float64

// MarshalJSON writes non-finite entries as null.
func (c Curve) MarshalJSON() ([]byte, error) {
	out := make([]*float64, len(c))
	for i, v := range c {
		if !math.IsInf(v, 0) && !math.IsNaN(v) {
			out[i] = &c[i]
		}
	}
	return json.Marshal(out)
}

// At returns the best objective after n evaluations, the last value when
// the curve is shorter (a run stopped early), and NaN when no pair was
// feasible by then.
func (c Curve) At(n int) float64 {
	if len(c) == 0 || n <= 0 {
		return math.NaN()
	}
	v := c[min(n, len(c))-1]
	if math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}

func newReport(p *Problem, opt Options) *Report {
	r := &Report{
		Objective:    p.effectiveObjective(),
		AccuracyUsed: p.Accuracy != nil,
		Budget:       opt.Budget,
		Seed:         opt.Seed,
		Constraints:  []string{},
		problem:      p,
		Notes:        append([]string(nil), p.Notes...),
	}
	if p.Accuracy == nil && p.Objective.Weights[Accuracy] != 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("no accuracy data: the accuracy term (weight %g) is dropped and accuracy is not reported; objective values are not on the paper's scale", p.Objective.Weights[Accuracy]))
	}
	for _, c := range p.Constraints {
		r.Constraints = append(r.Constraints, c.String())
	}
	for _, t := range p.Targets {
		r.Targets = append(r.Targets, t.Key())
	}
	return r
}

func (r *Report) pair(strategy string, e *Evaluation) *Pair {
	return &Pair{
		Strategy: strategy, ArchID: e.ArchID, Arch: e.Arch, Target: r.problem.Targets[e.Target].Key(),
		Kind: e.Kind, Objective: e.Objective, ObjectiveStd: e.ObjectiveStd, Feasible: e.Feasible,
		Measures: e.Measures, Slack: e.Slack,
	}
}

// summarise fills the per-strategy best and counts after a run.
func (s *StrategyReport) summarise() {
	s.Evaluations = len(s.evaluations)
	s.EvalSeconds = s.evalTime.Seconds()
	var best *Evaluation
	for _, e := range s.evaluations {
		if !e.Feasible {
			continue
		}
		s.Feasible++
		if best == nil || e.Objective < best.Objective {
			best = e
		}
	}
	if best != nil {
		v := best.Objective
		s.BestObjective = &v
	}
}

// bestEvaluation returns the strategy's best feasible evaluation or nil.
func (s *StrategyReport) bestEvaluation() *Evaluation {
	var best *Evaluation
	for _, e := range s.evaluations {
		if e.Feasible && (best == nil || e.Objective < best.Objective) {
			best = e
		}
	}
	return best
}

// finish computes the overall best, the gains over the baselines and the
// Pareto fronts once every strategy has run.
func (r *Report) finish() {
	var best *Evaluation
	bestStrategy := ""
	for _, s := range r.Strategies {
		e := s.bestEvaluation()
		if e != nil {
			s.Best = r.pair(s.Name, e)
		}
		if e != nil && (best == nil || e.Objective < best.Objective) {
			best, bestStrategy = e, s.Name
		}
	}
	r.Feasible = best != nil
	if best != nil {
		r.Best = r.pair(bestStrategy, best)
	} else {
		r.Notes = append(r.Notes, "infeasible: no evaluated pair meets every constraint, so there is no best pair; relax a constraint or raise the budget")
	}

	for _, s := range r.Strategies {
		for _, base := range r.Strategies {
			if base == s || (base.Name != StrategyRandom && base.Name != StrategyEvolution) {
				continue
			}
			if s.BestObjective != nil && base.BestObjective != nil {
				if s.Gain == nil {
					s.Gain = map[string]float64{}
				}
				s.Gain[base.Name] = *base.BestObjective - *s.BestObjective
			}
		}
	}
	r.Pareto = r.fronts()
}

// fronts returns the Pareto front per target over the feasible pairs of all
// strategies, each pair once.
func (r *Report) fronts() []Front {
	dims := []Measure{}
	if r.AccuracyUsed {
		dims = append(dims, Accuracy)
	}
	dims = append(dims, Latency, Energy, PeakPower)

	byTarget := map[int][]*Evaluation{}
	strategyOf := map[*Evaluation]string{}
	seen := map[string]bool{}
	for _, s := range r.Strategies {
		for _, e := range s.evaluations {
			if !e.Feasible || seen[e.key()] {
				continue
			}
			seen[e.key()] = true
			byTarget[e.Target] = append(byTarget[e.Target], e)
			strategyOf[e] = s.Name
		}
	}

	out := []Front{}
	for t := range r.problem.Targets {
		evals := byTarget[t]
		if len(evals) == 0 {
			continue
		}
		// Use only the dimensions every pair of this target has.
		var use []Measure
		for _, m := range dims {
			all := true
			for _, e := range evals {
				if _, ok := e.Measures[m]; !ok {
					all = false
					break
				}
			}
			if all {
				use = append(use, m)
			}
		}
		points := make([][]float64, len(evals))
		for i, e := range evals {
			points[i] = make([]float64, len(use))
			for k, m := range use {
				v := e.Measures[m].Mean
				if m == Accuracy {
					v = -v // maximised
				}
				points[i][k] = v
			}
		}
		f := Front{Target: r.problem.Targets[t].Key(), Measures: use}
		for _, i := range ParetoIndices(points) {
			f.Points = append(f.Points, *r.pair(strategyOf[evals[i]], evals[i]))
		}
		sort.SliceStable(f.Points, func(i, j int) bool { return f.Points[i].Objective < f.Points[j].Objective })
		out = append(out, f)
	}
	return out
}
