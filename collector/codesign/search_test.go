package codesign

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// bowl is a synthetic evaluator with a known optimum: latency is
// factor·(1 + |l − 4| + Σ_i |log2(h_i/256)|) seconds, where the factor is 1
// on the fast target and 3 on the slow one, so the minimum latency, 1 s,
// belongs to every 4-layer model with hidden size 256 in each layer on the
// fast target. Energy is latency × 2 W and peak power a constant 2 W.
type bowl struct{}

var (
	fastTarget = measure.Target{Device: "fast", ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 128, Precision: "fp32"}
	slowTarget = measure.Target{Device: "slow", ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 128, Precision: "fp32"}
)

func (bowl) Evaluate(ctx context.Context, a arch.Architecture, t measure.Target) (Result, error) {
	factor := 1.0
	if t.Device == "slow" {
		factor = 3
	}
	lat := 1 + math.Abs(float64(a.L-4))
	for _, h := range a.H {
		lat += math.Abs(math.Log2(float64(h) / 256))
	}
	lat *= factor
	return Result{Kind: Predicted, Hardware: map[Measure]Estimate{
		Latency:   {Mean: lat, Std: 0.01 * lat},
		Energy:    {Mean: 2 * lat},
		PeakPower: {Mean: 2},
	}}, nil
}

func bowlProblem() *Problem {
	return &Problem{
		Space:     arch.Default(),
		Targets:   []measure.Target{slowTarget, fastTarget},
		Objective: Objective{Weights: map[Measure]float64{Latency: 1}, Normalisers: map[Measure]float64{Latency: 1}},
		Evaluator: bowl{},
	}
}

func TestBOSHCODEFindsKnownOptimum(t *testing.T) {
	rep, err := Run(context.Background(), bowlProblem(), Options{Strategies: []string{StrategyBOSHCODE, StrategyRandom}, Budget: 200, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	bosh, random := rep.Strategies[0], rep.Strategies[1]
	if bosh.BestObjective == nil || *bosh.BestObjective != 1 {
		t.Fatalf("boshcode best objective = %v after 200 evaluations, want the optimum 1", deref(bosh.BestObjective))
	}
	best := bosh.Best
	if best.Target != fastTarget.Key() || best.Arch.L != 4 || slices.ContainsFunc(best.Arch.H, func(h int) bool { return h != 256 }) {
		t.Errorf("boshcode best pair = %d layers %v on %s, want 4 layers of 256 on %s", best.Arch.L, best.Arch.H, best.Target, fastTarget.Key())
	}
	// The optimum is rare (1 in 3072 uniform pairs), so random search
	// with the same budget should not have found it: a check that the test
	// problem is not trivial.
	if random.BestObjective != nil && *random.BestObjective == 1 {
		t.Errorf("random search also found the optimum in 200 evaluations; the test problem is too easy")
	}
}

func TestRunIsDeterministicForSeed(t *testing.T) {
	run := func() *Report {
		rep, err := Run(context.Background(), bowlProblem(), Options{Budget: 60, Seed: 3, Concurrency: 4})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	a, b := run(), run()
	for i := range a.Strategies {
		sa, sb := a.Strategies[i], b.Strategies[i]
		if !slices.Equal(sa.Curve, sb.Curve) {
			t.Errorf("%s: curves differ between runs with one seed", sa.Name)
		}
		for j := range sa.evaluations {
			if sa.evaluations[j].key() != sb.evaluations[j].key() {
				t.Errorf("%s: evaluation %d is %s then %s", sa.Name, j, sa.evaluations[j].key(), sb.evaluations[j].key())
				break
			}
		}
	}
	c, err := Run(context.Background(), bowlProblem(), Options{Budget: 60, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if c.Strategies[1].evaluations[0].key() == a.Strategies[1].evaluations[0].key() {
		t.Errorf("random search proposed the same first pair for seeds 3 and 4")
	}
}

func TestInfeasibleProblemHasNoBest(t *testing.T) {
	p := bowlProblem()
	c, err := ParseConstraint("latency<=0.5") // the minimum is 1 s
	if err != nil {
		t.Fatal(err)
	}
	p.Constraints = []Constraint{c}
	rep, err := Run(context.Background(), p, Options{Budget: 40, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Feasible {
		t.Error("report says feasible, but no pair can meet latency<=0.5")
	}
	if rep.Best != nil {
		t.Errorf("report has a best pair %s on %s for an infeasible problem", rep.Best.ArchID, rep.Best.Target)
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.HasPrefix(n, "infeasible") }) {
		t.Errorf("notes %q do not say the problem is infeasible", rep.Notes)
	}
	for _, s := range rep.Strategies {
		if s.BestObjective != nil {
			t.Errorf("%s: best objective %v for an infeasible problem", s.Name, *s.BestObjective)
		}
		if s.Evaluations != 40 {
			t.Errorf("%s: %d evaluations, want the whole budget of 40", s.Name, s.Evaluations)
		}
	}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded["best"] != nil {
		t.Errorf("JSON best = %v, want null", decoded["best"])
	}
}

func TestConstraintExcludesBestPair(t *testing.T) {
	p := bowlProblem()
	// Limiting the fast target to 2 s or more of latency leaves the slow
	// target's 3 s optimum and the fast target's near-optimal pairs.
	c, err := ParseConstraint("fast:latency>=2")
	if err != nil {
		t.Fatal(err)
	}
	p.Constraints = []Constraint{c}
	rep, err := Run(context.Background(), p, Options{Strategies: []string{StrategyBOSHCODE}, Budget: 150, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Best == nil {
		t.Fatal("no best pair")
	}
	if rep.Best.Objective < 2 {
		t.Errorf("best objective %v violates fast:latency>=2", rep.Best.Objective)
	}
	if rep.Best.Target == fastTarget.Key() {
		if s, ok := rep.Best.Slack["fast:latency>=2"]; !ok || s < 0 {
			t.Errorf("best pair on the fast target has slack %v (present %v), want ≥ 0", s, ok)
		}
	}
}

func TestReportJSONKeys(t *testing.T) {
	rep, err := Run(context.Background(), bowlProblem(), Options{Budget: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Best       map[string]any   `json:"best"`
		Pareto     []map[string]any `json:"pareto"`
		Strategies []map[string]any `json:"strategies"`
	}
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded.Best == nil {
		t.Error("JSON has no best pair")
	}
	if len(decoded.Pareto) == 0 {
		t.Error("JSON has no Pareto front")
	}
	if len(decoded.Strategies) != 3 {
		t.Fatalf("JSON has %d strategies, want 3", len(decoded.Strategies))
	}
	for _, s := range decoded.Strategies {
		for _, k := range []string{"name", "best_objective", "curve", "evaluations", "seconds"} {
			if _, ok := s[k]; !ok {
				t.Errorf("strategy %v has no key %q", s["name"], k)
			}
		}
		if curve, _ := s["curve"].([]any); len(curve) != 20 {
			t.Errorf("strategy %v curve has %d points, want 20", s["name"], len(curve))
		}
	}
}

func TestPatienceStopsEarly(t *testing.T) {
	rep, err := Run(context.Background(), bowlProblem(), Options{Strategies: []string{StrategyRandom}, Budget: 1000, Patience: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Strategies[0]
	if s.Evaluations >= 1000 {
		t.Errorf("random search ran all %d evaluations despite a patience of 20", s.Evaluations)
	}
	if !strings.Contains(s.Note, "patience") {
		t.Errorf("note %q does not mention patience", s.Note)
	}
}

func TestEvolutionBeatsItsInitialPopulation(t *testing.T) {
	rep, err := Run(context.Background(), bowlProblem(), Options{Strategies: []string{StrategyEvolution}, Budget: 300, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Strategies[0].Curve
	if !(c.At(300) < c.At(32)) {
		t.Errorf("evolution best after 300 = %v, not better than after its random population of 32 = %v", c.At(300), c.At(32))
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
