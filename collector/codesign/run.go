package codesign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"
)

// Options configures a search run. The zero value runs every strategy with
// a budget of 100 evaluations each and seed 0.
type Options struct {
	// Strategies to run, from StrategyNames; empty means all of them.
	Strategies []string
	// Budget is the number of evaluations per strategy; 0 means 100.
	Budget int
	// Seed makes a run reproducible: with a deterministic evaluator, the
	// same seed gives the same proposals, evaluations and curves.
	Seed uint64
	// Batch is the number of candidates proposed per round; 0 means 8.
	Batch int
	// Patience stops a strategy after that many evaluations without a
	// better feasible objective; 0 means run the whole budget.
	Patience int
	// Concurrency is the number of evaluations in flight at once; 0 means
	// the batch size. Results are recorded in proposal order whatever the
	// order in which they finish.
	Concurrency int
	// Logger receives progress lines; nil means no logging.
	Logger *slog.Logger
	// ProgressEvery is the interval between progress lines; 0 means 10 s.
	ProgressEvery time.Duration
	// Progress, when set, is called after each round, for progress bars.
	Progress func(Progress)

	BOSHCODE  BOSHCODEOptions
	Evolution EvolutionOptions
}

// Progress is a snapshot of one strategy's run.
type Progress struct {
	Strategy    string
	Evaluations int
	Budget      int
	// BestObjective is the best feasible objective so far; NaN when no
	// evaluated pair is feasible yet.
	BestObjective float64
	Elapsed       time.Duration
	// ETA is the estimated time to finish the budget at the rate so far.
	ETA time.Duration
}

// Run searches p with each strategy of opt in turn and returns the report.
// It stops early, returning ctx.Err(), when ctx is done.
func Run(ctx context.Context, p *Problem, opt Options) (*Report, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	names := opt.Strategies
	if len(names) == 0 {
		names = StrategyNames()
	}
	if opt.Budget < 0 || opt.Batch < 0 || opt.Patience < 0 || opt.Concurrency < 0 {
		return nil, fmt.Errorf("budget %d, batch %d, patience %d and concurrency %d must not be negative", opt.Budget, opt.Batch, opt.Patience, opt.Concurrency)
	}
	opt.Budget = cmp0(opt.Budget, 100)
	opt.Batch = cmp0(opt.Batch, 8)
	opt.Concurrency = cmp0(opt.Concurrency, opt.Batch)
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = 10 * time.Second
	}

	rep := newReport(p, opt)
	for _, name := range names {
		s, err := newStrategy(name, p, opt, opt.Seed)
		if err != nil {
			return nil, err
		}
		sr, err := runStrategy(ctx, p, s, opt)
		if err != nil {
			return nil, fmt.Errorf("strategy %s: %w", name, err)
		}
		rep.Strategies = append(rep.Strategies, sr)
	}
	rep.finish()
	return rep, nil
}

// runStrategy drives one strategy until its budget, its patience or ctx
// ends it.
func runStrategy(ctx context.Context, p *Problem, s Strategy, opt Options) (*StrategyReport, error) {
	obj := p.effectiveObjective()
	sr := &StrategyReport{Name: s.Name()}
	start, lastLog := time.Now(), time.Now()
	best, sinceBest := math.Inf(1), 0
	failures := 0

	for len(sr.evaluations) < opt.Budget {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch, err := s.Propose(ctx, min(opt.Batch, opt.Budget-len(sr.evaluations)))
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			sr.Note = "design space exhausted: no new pair to propose"
			break
		}

		evalStart := time.Now()
		evals, errs := evaluateBatch(ctx, p, obj, batch, opt.Concurrency)
		sr.evalTime += time.Since(evalStart)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var done []*Evaluation
		for i, e := range evals {
			if errs[i] != nil {
				failures++
				if opt.Logger != nil {
					opt.Logger.Warn("evaluation failed", "strategy", s.Name(), "arch", batch[i].ArchID, "err", errs[i])
				}
				continue
			}
			done = append(done, e)
		}
		if failures > opt.Budget {
			return nil, fmt.Errorf("%d evaluations failed, more than the budget of %d; last error: %w", failures, opt.Budget, errors.Join(errs...))
		}
		if err := s.Observe(done); err != nil {
			return nil, err
		}

		for _, e := range done {
			sr.evaluations = append(sr.evaluations, e)
			sinceBest++
			if e.Feasible && e.Objective < best {
				best, sinceBest = e.Objective, 0
			}
			sr.Curve = append(sr.Curve, best)
		}

		pr := Progress{Strategy: s.Name(), Evaluations: len(sr.evaluations), Budget: opt.Budget, BestObjective: nanIfInf(best), Elapsed: time.Since(start)}
		if n := len(sr.evaluations); n > 0 {
			pr.ETA = time.Duration(float64(pr.Elapsed) / float64(n) * float64(opt.Budget-n))
		}
		if opt.Progress != nil {
			opt.Progress(pr)
		}
		if opt.Logger != nil && time.Since(lastLog) >= opt.ProgressEvery {
			lastLog = time.Now()
			opt.Logger.Info("co-design progress", "strategy", pr.Strategy, "evaluations", pr.Evaluations, "budget", pr.Budget,
				"best_objective", pr.BestObjective, "elapsed", pr.Elapsed.Round(time.Second), "eta", pr.ETA.Round(time.Second))
		}
		if opt.Patience > 0 && sinceBest >= opt.Patience && !math.IsInf(best, 1) {
			sr.Note = fmt.Sprintf("stopped after %d evaluations without improvement (patience)", sinceBest)
			break
		}
	}

	sr.Seconds = time.Since(start).Seconds()
	sr.Failures = failures
	if f, ok := s.(interface{ FitStats() (time.Duration, int) }); ok {
		d, n := f.FitStats()
		sr.FitSeconds, sr.Refits = d.Seconds(), n
	}
	sr.summarise()
	return sr, nil
}

// evaluateBatch evaluates the batch with at most workers in flight and
// returns the evaluations and errors in batch order.
func evaluateBatch(ctx context.Context, p *Problem, obj Objective, batch []Candidate, workers int) ([]*Evaluation, []error) {
	evals := make([]*Evaluation, len(batch))
	errs := make([]error, len(batch))
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i, c := range batch {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			evals[i], errs[i] = evaluate(ctx, p, obj, c)
		}()
	}
	wg.Wait()
	return evals, slices.Clip(errs)
}

func nanIfInf(v float64) float64 {
	if math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}
