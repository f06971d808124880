// Package profile is the measurement method that both the bench command and
// profile jobs use. It runs warm-up, an idle power baseline, and timed runs
// until a minimum count and a minimum duration are both reached while a
// sampler reads the power meter. The result is one measure.Measurement with
// latency statistics, gross and net energy per sequence, peak and mean
// power, run-to-run spread and a throttling flag.
package profile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// Defaults of Settings fields left at zero.
const (
	DefaultSpreadThreshold = 0.10
	DefaultTracePoints     = 2000
	MaxIterationsKept      = 1000
)

// Settings sets how long and how often to measure.
type Settings struct {
	Warmup   int // untimed iterations before the baseline
	MinIters int // timed iterations per run, at least; 0 means 1
	// MinDuration is the timed time per run, at least.
	MinDuration time.Duration
	Repeats     int // timed runs; 0 means 1
	// IdleWindow is the idle-power baseline taken after warm-up; 0 skips it.
	IdleWindow time.Duration
	// SpreadThreshold flags a measurement whose (max−min)/median of per-run
	// mean latency exceeds it; 0 means DefaultSpreadThreshold.
	SpreadThreshold float64
}

// Job identifies the record being produced.
type Job struct {
	ID           string // Measurement.ID
	JobID        string
	Attempt      int
	Device       string // target device id
	AgentVersion string
}

// Power is the meter side of a profile; a nil *Power measures latency only.
type Power struct {
	Meter    meter.Meter
	Interval time.Duration
	// Capacity is the sampler's ring size in samples; 0 sizes it from the
	// job's deadline (see ringCapacity).
	Capacity int
}

// Profiler runs the method. Its zero value is not usable: Space is required.
type Profiler struct {
	Space  *arch.Space
	Power  *Power
	Logger *slog.Logger
	// SysRoot is the root under which sys/class/thermal and
	// sys/devices/system/cpu are read ("/" on a real device).
	SysRoot string
	// Progress, when set, is called after each timed chunk with the run
	// index (from 0), the iterations done in that run, and the run's elapsed
	// time.
	Progress func(run, iters int, elapsed time.Duration)
	// Prepared, when set, is called once with the prepared model before
	// warm-up, e.g. to record its MemoryBytes.
	Prepared func(runner.Model)
}

// runRecord is one timed window: its edges, its iteration count and the
// sum of its latencies in seconds. The latencies themselves go into the
// profile's latencyAcc so memory stays bounded however long a run lasts.
type runRecord struct {
	start, end time.Time
	n          int
	sumS       float64
}

// Profile prepares spec on r, measures it per s and returns the record. The
// model is closed before Profile returns. ctx cancellation aborts between
// forward passes and returns ctx.Err().
func (p *Profiler) Profile(ctx context.Context, r runner.Runner, spec runner.Spec, s Settings, job Job) (*measure.Measurement, error) {
	s = s.withDefaults()
	logger := p.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	archID := p.Space.ID(spec.Arch)
	logger = logger.With("arch", archID, "job", job.JobID)

	model, err := r.Prepare(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("prepare %s on runner %s: %w", archID, r.Info().Name, err)
	}
	defer model.Close()
	if p.Prepared != nil {
		p.Prepared(model)
	}

	buf := make([]runner.Iteration, min(max(s.MinIters, s.Warmup), MaxChunk))
	for left := s.Warmup; left > 0; {
		n, err := model.Run(ctx, buf[:min(left, MaxChunk)])
		if err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
		if n == 0 {
			return nil, errors.New("warm-up: runner returned no iterations")
		}
		left -= n
	}

	thermal := newThermalWatch(p.sysRoot())
	thermal.sample()

	var sampler *meter.Sampler
	if p.Power != nil {
		capacity := p.ringCapacity(ctx, s)
		sampler = meter.NewSampler(p.Power.Meter, p.Power.Interval, capacity)
		sampler.SetLogger(logger)
		sampler.Start(ctx)
		defer sampler.Stop()
	}

	idleStart := time.Now()
	if s.IdleWindow > 0 {
		select {
		case <-time.After(s.IdleWindow):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	idleEnd := time.Now()

	runs := make([]runRecord, 0, s.Repeats)
	acc := newLatencyAcc()
	for i := range s.Repeats {
		rec, err := p.timedRun(ctx, model, s, i, acc, &buf)
		if err != nil {
			return nil, fmt.Errorf("timed run %d of %d: %w", i+1, s.Repeats, err)
		}
		runs = append(runs, rec)
		thermal.sample()
	}
	if sampler != nil {
		// One more interval so the sample after the window exists and the
		// window edge is interpolated rather than flagged.
		time.Sleep(p.Power.Interval)
	}

	m := p.record(spec, r.Info(), runs, acc, s, job, archID)
	if sampler != nil {
		p.addPower(m, sampler, runs, idleStart, idleEnd, spec.Batch, logger)
	}
	thermal.sample()
	m.TemperaturesC, m.Throttled = thermal.result()
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("measurement of %s is invalid: %w", archID, err)
	}
	logger.Info("profile done", "latency_per_seq_s", m.LatencyPerSeqS, "iterations", m.Latency.N, "runs", m.Runs)
	return m, nil
}

func (s Settings) withDefaults() Settings {
	if s.MinIters < 1 {
		s.MinIters = 1
	}
	if s.Repeats < 1 {
		s.Repeats = 1
	}
	if s.SpreadThreshold <= 0 {
		s.SpreadThreshold = DefaultSpreadThreshold
	}
	return s
}

func (p *Profiler) sysRoot() string {
	if p.SysRoot == "" {
		return "/"
	}
	return p.SysRoot
}

// MaxRingSamples caps the sampler's ring (about 24 MB).
const MaxRingSamples = 600_000

// ringCapacity sizes the sampler's ring to hold the whole job: until ctx's
// deadline when it has one (the daemon's limits.max_duration), else the idle
// window plus every run at twice its minimum duration; either way with ten
// minutes of headroom, capped at MaxRingSamples. A run longer than the ring
// (one kept long by min_iters without a deadline, or past the cap) loses its
// start; its window is then Truncated and addPower reports no energy.
func (p *Profiler) ringCapacity(ctx context.Context, s Settings) int {
	if p.Power.Capacity > 0 {
		return p.Power.Capacity
	}
	span := s.IdleWindow + 2*time.Duration(s.Repeats)*s.MinDuration
	if deadline, ok := ctx.Deadline(); ok {
		span = max(span, time.Until(deadline))
	}
	span += 10 * time.Minute
	n := int(min(span/p.Power.Interval, MaxRingSamples)) + 16
	return min(n, MaxRingSamples)
}

// timedRun runs chunks of forward passes until both s.MinIters iterations
// and s.MinDuration have passed. The first chunk is MinIters long; later
// chunks are sized from the measured rate to end near MinDuration. No chunk
// exceeds MaxChunk, and *buf is reused (grown at most to MaxChunk), so a
// long run costs no more memory than a short one. Latencies go into acc.
func (p *Profiler) timedRun(ctx context.Context, model runner.Model, s Settings, run int, acc *latencyAcc, buf *[]runner.Iteration) (runRecord, error) {
	var rec runRecord
	chunk := s.MinIters
	for {
		chunk = min(chunk, MaxChunk)
		if cap(*buf) < chunk {
			*buf = make([]runner.Iteration, chunk)
		}
		b := (*buf)[:chunk]
		n, err := model.Run(ctx, b)
		if n > 0 && rec.n == 0 {
			rec.start = b[0].Start
		}
		for _, it := range b[:n] {
			d := it.Duration().Seconds()
			acc.add(d)
			rec.sumS += d
		}
		rec.n += n
		if n > 0 {
			rec.end = b[n-1].End
		}
		if err != nil {
			return runRecord{}, err
		}
		if n == 0 {
			return runRecord{}, errors.New("runner returned no iterations")
		}
		elapsed := rec.end.Sub(rec.start)
		if p.Progress != nil {
			p.Progress(run, rec.n, elapsed)
		}
		if rec.n >= s.MinIters && elapsed >= s.MinDuration {
			break
		}
		perIter := elapsed / time.Duration(rec.n)
		left := s.MinDuration - elapsed
		chunk = 1
		if perIter > 0 {
			chunk = max(1, int(left/perIter)+1)
		}
		chunk = max(chunk, s.MinIters-rec.n)
	}
	return rec, nil
}
