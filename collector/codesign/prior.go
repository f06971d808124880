package codesign

import "math"

// prior is the part of a pair's score known before evaluating it: the
// objective terms and constraints of accuracy (from the accuracy model),
// params and memory (from the cost model). Only the hardware measures need
// an evaluation, so BOSHCODE's joint surrogate models the rest of the score
// and adds the prior back when it ranks candidates.
type prior struct {
	value      float64 // non-hardware objective terms
	penalty    float64 // relative violation of non-hardware constraints
	infeasible bool
}

// offset returns what the prior adds to a pair's score beyond the hardware
// part: its objective terms and, when it already violates a constraint,
// the infeasibility step and its penalty.
func (pr prior) offset() float64 {
	if pr.infeasible {
		return pr.value + 1 + pr.penalty
	}
	return pr.value
}

// priorOf computes the prior of c under objective obj, with the static
// measures memoised in cache.
func priorOf(p *Problem, obj Objective, cache *featureCache, c Candidate) prior {
	static := cache.static(c)
	var pr prior
	for _, m := range obj.Terms() {
		v, ok := static[m]
		if !ok {
			continue
		}
		if m == Accuracy {
			pr.value += obj.Weights[m] * (1 - v.Mean)
		} else {
			pr.value += obj.Weights[m] * v.Mean / obj.Normalisers[m]
		}
	}
	t := p.Targets[c.Target]
	for _, con := range p.Constraints {
		v, ok := static[con.Measure]
		if !ok || !p.applies(con, t) || con.Satisfied(v.Mean) {
			continue
		}
		pr.infeasible = true
		pr.penalty += relativeViolation(con, v.Mean)
	}
	return pr
}

// relativeViolation returns |slack| / |limit|, the size of a violation
// relative to its limit.
func relativeViolation(c Constraint, value float64) float64 {
	return math.Abs(c.Slack(value)) / math.Max(math.Abs(c.Limit), 1e-12)
}
