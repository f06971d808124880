package codesign

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// BenchmarkResult compares the strategies over several seeds on one
// problem.
type BenchmarkResult struct {
	Seeds  []uint64 `json:"seeds"`
	Budget int      `json:"budget"`
	// Checkpoints are evaluation counts at which medians are taken.
	Checkpoints []int `json:"checkpoints"`
	// Median maps a strategy to the median over seeds of its best feasible
	// objective after each checkpoint (NaN when fewer than half the seeds had
	// a feasible pair by then).
	Median map[string][]float64 `json:"-"`
	// Reference is the median best of random search after Budget
	// evaluations.
	Reference float64 `json:"reference"`
	// Reach maps a strategy to the evaluations it needed, per seed, to reach
	// Reference; Budget+1 stands for "not reached within the budget".
	Reach map[string][]int `json:"reach"`
	// SecondsPerEval is the wall time per evaluation, over all seeds,
	// including the strategy's own work (proposals and refits).
	SecondsPerEval map[string]float64 `json:"seconds_per_eval"`
	// SecondsPerRefit is the mean time of one joint-surrogate fit.
	SecondsPerRefit float64 `json:"seconds_per_refit"`
}

// Benchmark runs every strategy of opt once per seed on p with opt.Budget
// evaluations and summarises the convergence. Patience is ignored, so each
// curve covers the whole budget. The random strategy must be among the
// strategies, since it sets the reference.
func Benchmark(ctx context.Context, p *Problem, opt Options, seeds []uint64, checkpoints []int) (*BenchmarkResult, error) {
	names := opt.Strategies
	if len(names) == 0 {
		names = StrategyNames()
	}
	if !slices.Contains(names, StrategyRandom) {
		return nil, fmt.Errorf("benchmark needs the random strategy as reference; strategies were %s", strings.Join(names, ","))
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("benchmark needs at least one seed")
	}
	opt.Strategies = names
	opt.Patience = 0
	opt.Budget = cmp0(opt.Budget, 100)

	res := &BenchmarkResult{
		Seeds: seeds, Budget: opt.Budget, Checkpoints: checkpoints,
		Median: map[string][]float64{}, Reach: map[string][]int{}, SecondsPerEval: map[string]float64{},
	}
	curves := map[string][]Curve{}
	seconds := map[string]float64{}
	evals := map[string]int{}
	var fitSeconds float64
	var refits int
	for i, seed := range seeds {
		o := opt
		o.Seed = seed
		start := time.Now()
		rep, err := Run(ctx, p, o)
		if err != nil {
			return nil, fmt.Errorf("seed %d: %w", seed, err)
		}
		for _, s := range rep.Strategies {
			curves[s.Name] = append(curves[s.Name], s.Curve)
			seconds[s.Name] += s.Seconds
			evals[s.Name] += s.Evaluations
			fitSeconds += s.FitSeconds
			refits += s.Refits
		}
		if opt.Logger != nil {
			opt.Logger.Info("benchmark seed done", "seed", seed, "done", i+1, "seeds", len(seeds), "elapsed", time.Since(start).Round(time.Millisecond))
		}
	}

	for _, name := range names {
		for _, n := range checkpoints {
			vals := make([]float64, len(curves[name]))
			for i, c := range curves[name] {
				vals[i] = c.At(n)
			}
			res.Median[name] = append(res.Median[name], median(vals))
		}
		if evals[name] > 0 {
			res.SecondsPerEval[name] = seconds[name] / float64(evals[name])
		}
	}
	if refits > 0 {
		res.SecondsPerRefit = fitSeconds / float64(refits)
	}

	finals := make([]float64, len(curves[StrategyRandom]))
	for i, c := range curves[StrategyRandom] {
		finals[i] = c.At(opt.Budget)
	}
	res.Reference = median(finals)
	for _, name := range names {
		for _, c := range curves[name] {
			res.Reach[name] = append(res.Reach[name], reach(c, res.Reference, opt.Budget))
		}
	}
	return res, nil
}

// reach returns the number of evaluations after which c is at or below
// target, or budget+1 when it never is.
func reach(c Curve, target float64, budget int) int {
	for i, v := range c {
		if v <= target {
			return i + 1
		}
	}
	return budget + 1
}

// median returns the median of the finite values, or NaN when fewer than
// half of vals are finite (an infeasible run counts as worst).
func median(vals []float64) float64 {
	var finite []float64
	for _, v := range vals {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			finite = append(finite, v)
		}
	}
	if len(finite) == 0 || 2*len(finite) < len(vals) {
		return math.NaN()
	}
	// Missing values count as +∞: pad so the median is over all seeds.
	for len(finite) < len(vals) {
		finite = append(finite, math.Inf(1))
	}
	sort.Float64s(finite)
	n := len(finite)
	if n%2 == 1 {
		return finite[n/2]
	}
	return (finite[n/2-1] + finite[n/2]) / 2
}

// WriteText writes the benchmark as a Markdown table.
func (b *BenchmarkResult) WriteText(w io.Writer) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Median best objective over %d seeds (lower is better)\n\n| strategy |", len(b.Seeds))

	for _, n := range b.Checkpoints {
		fmt.Fprintf(&sb, " after %d |", n)
	}
	sb.WriteString(" evaluations to reach random's median at " + fmt.Sprint(b.Budget) + " (median; per seed) | s/evaluation |\n|---|")
	for range b.Checkpoints {
		sb.WriteString("---|")
	}
	sb.WriteString("---|---|\n")

	names := make([]string, 0, len(b.Median))
	for _, n := range StrategyNames() {
		if _, ok := b.Median[n]; ok {
			names = append(names, n)
		}
	}
	for _, name := range names {
		fmt.Fprintf(&sb, "| %s |", name)
		for _, v := range b.Median[name] {
			fmt.Fprintf(&sb, " %.4f |", v)
		}

		r := slices.Clone(b.Reach[name])
		per := make([]string, len(r))
		for i, v := range r {
			per[i] = fmt.Sprint(v)
			if v > b.Budget {
				per[i] = ">" + fmt.Sprint(b.Budget)
			}
		}
		// With an even number of seeds this is the upper median, so a
		// strategy that fails to reach on half the seeds reads as ">budget".
		sort.Ints(r)
		med := fmt.Sprint(r[len(r)/2])
		if r[len(r)/2] > b.Budget {
			med = ">" + fmt.Sprint(b.Budget)
		}
		fmt.Fprintf(&sb, " %s; %s | %.2g |\n", med, strings.Join(per, " "), b.SecondsPerEval[name])
	}

	fmt.Fprintf(&sb, "\nReference (random's median best after %d): %.4f. Joint surrogate fit: %.3g s per refit.\n", b.Budget, b.Reference, b.SecondsPerRefit)
	_, err := io.WriteString(w, sb.String())
	return err
}
