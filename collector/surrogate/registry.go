package surrogate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// ErrNoModel is returned by Registry.Predict when no surrogate is fitted for
// the requested target and metric (too few measurements so far).
var ErrNoModel = errors.New("no surrogate fitted for this target and metric")

// RegistryOptions configure a Registry. The zero value fits KindBest after a
// 5 s debounce once a target has 8 measurements of a metric, and logs
// through slog.Default.
type RegistryOptions struct {
	Fit        Options       // model options; Space is also used to compute arch ids
	Debounce   time.Duration // quiet time after the last Observe before a refit; 0 means 5 s
	MinRecords int           // measurements needed before a model is fitted; 0 means 8
	// IncludeEstimated also fits energy and peak power from records whose
	// power figures are estimates (provenance "estimated"). By default
	// such figures are left out so a prediction is never trained on a
	// number that was not measured; latency is always used.
	IncludeEstimated bool
	Logger           *slog.Logger
}

// ModelInfo describes one fitted surrogate of a Registry.
type ModelInfo struct {
	TargetKey string    `json:"target"`
	Metric    Metric    `json:"metric"`
	Kind      Kind      `json:"model"`
	Records   int       `json:"records"`
	FittedAt  time.Time `json:"fitted_at"`
	// Estimated is true when some training values were estimates.
	Estimated bool `json:"estimated"`
	// TrainMAPE is the mean absolute percentage error, in percent, of the
	// model on its own training records. It is optimistic: a held-out
	// error (surrogate eval, or a campaign's test NMSE) is the honest one.
	TrainMAPE float64 `json:"train_mape"`
}

type modelKey struct {
	target string
	metric Metric
}

type fitted struct {
	p    *Predictor
	info ModelInfo
}

// Registry keeps one fitted Predictor per target key (measure.Target.Key)
// and metric. Observe adds measurements and schedules a debounced refit of
// the affected models in the background; Predict reads the current models
// and never waits for a refit. A Registry is safe for concurrent use.
type Registry struct {
	opts RegistryOptions
	log  *slog.Logger

	mu      sync.Mutex
	data    map[string]map[string]measure.Measurement // target key → measurement id → record
	models  map[modelKey]fitted
	pending map[string]bool // targets with measurements not yet fitted
	timer   *time.Timer
	closed  bool
	running sync.WaitGroup
}

// NewRegistry returns an empty registry.
func NewRegistry(opts RegistryOptions) *Registry {
	if opts.Debounce == 0 {
		opts.Debounce = 5 * time.Second
	}
	if opts.MinRecords == 0 {
		opts.MinRecords = 8
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Registry{
		opts: opts, log: log.With("component", "surrogate"),
		data: map[string]map[string]measure.Measurement{}, models: map[modelKey]fitted{}, pending: map[string]bool{},
	}
}

// Observe adds measurements (a record with an id already held replaces it)
// and schedules a refit of their targets once no new measurement has arrived
// for the debounce interval.
func (r *Registry) Observe(ms ...measure.Measurement) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || len(ms) == 0 {
		return
	}
	for _, m := range ms {
		key := m.Target.Key()
		if r.data[key] == nil {
			r.data[key] = map[string]measure.Measurement{}
		}
		r.data[key][m.ID] = m
		r.pending[key] = true
	}
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer = time.AfterFunc(r.opts.Debounce, r.refitPending)
}

// Refit fits every target with pending measurements now and returns when
// done. The collector calls it at start-up after loading stored
// measurements with Observe; tests call it instead of waiting.
func (r *Registry) Refit(ctx context.Context) error {
	r.mu.Lock()
	if r.timer != nil {
		r.timer.Stop()
	}
	targets := r.takePending()
	r.running.Add(1)
	r.mu.Unlock()
	defer r.running.Done()
	return r.refit(ctx, targets)
}

func (r *Registry) refitPending() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	targets := r.takePending()
	r.running.Add(1)
	r.mu.Unlock()
	defer r.running.Done()
	if err := r.refit(context.Background(), targets); err != nil {
		r.log.Warn("surrogate refit failed", "err", err)
	}
}

// takePending returns and clears the pending targets; r.mu must be held.
func (r *Registry) takePending() []string {
	targets := make([]string, 0, len(r.pending))
	for t := range r.pending {
		targets = append(targets, t)
	}
	clear(r.pending)
	slices.Sort(targets)
	return targets
}

func (r *Registry) refit(ctx context.Context, targets []string) error {
	var errs []error
	for _, target := range targets {
		r.mu.Lock()
		records := make([]measure.Measurement, 0, len(r.data[target]))
		for _, m := range r.data[target] {
			records = append(records, m)
		}
		r.mu.Unlock()
		// Map iteration order is random; sort so a refit is reproducible.
		slices.SortFunc(records, func(a, b measure.Measurement) int { return cmp.Compare(a.ID, b.ID) })

		for _, metric := range Metrics {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := r.fitOne(target, metric, records); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", target, metric, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (r *Registry) fitOne(target string, metric Metric, records []measure.Measurement) error {
	var archs []arch.Architecture
	var y []float64
	estimated := false
	for i := range records {
		m := &records[i]
		v, ok := metric.Of(m)
		if !ok {
			continue
		}
		isEstimate := metric != Latency && m.Provenance == measure.Estimated
		if isEstimate && !r.opts.IncludeEstimated {
			continue
		}
		estimated = estimated || isEstimate
		archs = append(archs, m.Arch)
		y = append(y, v)
	}
	if len(archs) < r.opts.MinRecords {
		return nil
	}
	start := time.Now()
	p, err := Fit(archs, y, r.opts.Fit)
	if err != nil {
		return err
	}
	info := ModelInfo{TargetKey: target, Metric: metric, Kind: p.Kind(), Records: len(archs), FittedAt: time.Now(), Estimated: estimated}
	for i, a := range archs {
		mean, _, err := p.Predict(a)
		if err != nil {
			return err
		}
		info.TrainMAPE += math.Abs(mean-y[i]) / y[i]
	}
	info.TrainMAPE *= 100 / float64(len(archs))
	r.mu.Lock()
	r.models[modelKey{target, metric}] = fitted{p, info}
	r.mu.Unlock()
	r.log.Info("surrogate fitted", "target", target, "metric", metric, "model", p.Kind(), "records", len(archs), "seconds", time.Since(start).Seconds())
	return nil
}

// Predict returns the predicted value of metric for a on the target with
// key targetKey, and its standard deviation, in the metric's unit. It
// returns an error wrapping ErrNoModel when no model is fitted yet.
func (r *Registry) Predict(targetKey string, metric Metric, a arch.Architecture) (mean, std float64, err error) {
	p, ok := r.Predictor(targetKey, metric)
	if !ok {
		return 0, 0, fmt.Errorf("%s %s: %w", targetKey, metric, ErrNoModel)
	}
	return p.Predict(a)
}

// Predictor returns the current model of a target and metric.
func (r *Registry) Predictor(targetKey string, metric Metric) (*Predictor, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.models[modelKey{targetKey, metric}]
	return f.p, ok
}

// Models lists the fitted models, sorted by target and metric.
func (r *Registry) Models() []ModelInfo {
	r.mu.Lock()
	out := make([]ModelInfo, 0, len(r.models))
	for _, f := range r.models {
		out = append(out, f.info)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b ModelInfo) int {
		if c := cmp.Compare(a.TargetKey, b.TargetKey); c != 0 {
			return c
		}
		return cmp.Compare(string(a.Metric), string(b.Metric))
	})
	return out
}

// Close stops scheduled refits and waits for a running one to finish.
// Predict keeps working on the models fitted so far.
func (r *Registry) Close() {
	r.mu.Lock()
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Unlock()
	r.running.Wait()
}
