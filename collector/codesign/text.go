package codesign

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// maxFrontLines bounds the pairs listed per front in text output; JSON and
// the files hold all of them.
const maxFrontLines = 10

// WriteText writes the report for people: settings and notes, the best
// pair with every measure's uncertainty and each constraint's slack, the
// Pareto front per target, and per strategy its best, gains, wall time and
// convergence at a few evaluation counts.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Objective (minimised): %s\n", r.objectiveFormula())
	if len(r.Constraints) > 0 {
		fmt.Fprintf(&b, "Constraints: %s\n", strings.Join(r.Constraints, ", "))
	}
	fmt.Fprintf(&b, "Targets: %d, budget %d evaluations per strategy, seed %d\n", len(r.Targets), r.Budget, r.Seed)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}

	b.WriteString("\n")
	if r.Best == nil {
		b.WriteString("No feasible pair: no evaluated architecture × target pair meets every constraint.\n")
	} else {
		r.writePair(&b, r.Best)
	}

	if len(r.Pareto) > 0 {
		b.WriteString("\nPareto front per target (feasible pairs; accuracy maximised, hardware measures minimised):\n")
		for _, f := range r.Pareto {
			fmt.Fprintf(&b, "  %s: %d pairs\n", f.Target, len(f.Points))
			tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "    objective\taccuracy\tlatency s\tenergy J\tpeak W\tarch\n")
			for _, p := range f.Points[:min(len(f.Points), maxFrontLines)] {
				fmt.Fprintf(tw, "    %.4f\t%s\t%s\t%s\t%s\t%s\n", p.Objective, meanOf(p, Accuracy), meanOf(p, Latency), meanOf(p, Energy), meanOf(p, PeakPower), p.ArchID)
			}
			tw.Flush()
			if n := len(f.Points) - maxFrontLines; n > 0 {
				fmt.Fprintf(&b, "    ... %d more pairs with higher objectives (see --json or --out)\n", n)
			}
		}
	}

	b.WriteString("\nStrategies:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  strategy\tbest objective\tevaluations\tfeasible\tseconds\tgain over random\tgain over evolution\n")
	for _, s := range r.Strategies {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%.2f\t%s\t%s\n", s.Name, fmtPtr(s.BestObjective), s.Evaluations, s.Feasible, s.Seconds, fmtGain(s, StrategyRandom), fmtGain(s, StrategyEvolution))
	}
	tw.Flush()
	b.WriteString("\nConvergence (best feasible objective after n evaluations):\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	marks := curveMarks(r.Budget)
	fmt.Fprintf(tw, "  strategy")
	for _, n := range marks {
		fmt.Fprintf(tw, "\t%d", n)
	}
	fmt.Fprintln(tw)
	for _, s := range r.Strategies {
		fmt.Fprintf(tw, "  %s", s.Name)
		for _, n := range marks {
			v := s.Curve.At(n)
			if math.IsNaN(v) {
				fmt.Fprintf(tw, "\t-")
			} else {
				fmt.Fprintf(tw, "\t%.4f", v)
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, s := range r.Strategies {
		if s.Note != "" {
			fmt.Fprintf(&b, "  %s: %s\n", s.Name, s.Note)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) writePair(b *strings.Builder, p *Pair) {
	fmt.Fprintf(b, "Best pair (found by %s): architecture %s on %s\n", p.Strategy, p.ArchID, p.Target)
	fmt.Fprintf(b, "  objective %.4f ± %.4f (measures %s)\n", p.Objective, p.ObjectiveStd, p.Kind)
	for _, m := range measures {
		e, ok := p.Measures[m]
		if !ok {
			continue
		}
		fmt.Fprintf(b, "  %-10s %.6g ± %.3g %s\n", m, e.Mean, e.Std, m.Unit())
	}
	for _, c := range r.Constraints {
		if s, ok := p.Slack[c]; ok {
			fmt.Fprintf(b, "  slack %s: %.6g\n", c, s)
		}
	}
	fmt.Fprintf(b, "  layers %d, hidden %v, feed-forward %v\n  heads %v\n", p.Arch.L, p.Arch.H, p.Arch.F, p.Arch.O)
}

// objectiveFormula writes the objective as a sum of its terms.
func (r *Report) objectiveFormula() string {
	var terms []string
	for _, m := range r.Objective.Terms() {
		w := r.Objective.Weights[m]
		if m == Accuracy {
			terms = append(terms, fmt.Sprintf("%g·(1 − accuracy)", w))
			continue
		}
		terms = append(terms, fmt.Sprintf("%g·%s/%g %s", w, m, r.Objective.Normalisers[m], m.Unit()))
	}
	return strings.Join(terms, " + ")
}

// curveMarks returns evaluation counts at which to show the curve: 1, 10,
// 30, 100, 300, ... up to the budget, which is always last.
func curveMarks(budget int) []int {
	var out []int
	for n := 1; n < budget; {
		out = append(out, n)
		switch {
		case n == 1:
			n = 10
		case strings.HasPrefix(fmt.Sprint(n), "1"):
			n *= 3
		default:
			n = n / 3 * 10
		}
	}
	return append(out, budget)
}

func meanOf(p Pair, m Measure) string {
	e, ok := p.Measures[m]
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.4g", e.Mean)
}

func fmtPtr(v *float64) string {
	if v == nil {
		return "none feasible"
	}
	return fmt.Sprintf("%.4f", *v)
}

func fmtGain(s *StrategyReport, base string) string {
	if s.Name == base {
		return ""
	}
	g, ok := s.Gain[base]
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%+.4f", g)
}
