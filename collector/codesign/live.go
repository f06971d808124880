package codesign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/edgetran/edgetran/collector/campaign"
	"github.com/edgetran/edgetran/collector/jobs"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// JobRunner submits a profile job to an agent and waits for its
// measurement. *jobs.Manager implements it.
type JobRunner interface {
	Submit(ctx context.Context, job wire.Job) (store.Job, error)
	Wait(ctx context.Context, jobID string) (measure.Measurement, error)
}

var _ JobRunner = (*jobs.Manager)(nil)

// LiveEvaluator measures each candidate on its target's device through the
// collector's job system. The zero value is not usable: Jobs is required.
type LiveEvaluator struct {
	Jobs JobRunner
	// Runner names the agent runner to use; empty means the target's
	// runtime, which is the runner name for targets measured by agents.
	Runner string
	// Settings are the profiling settings of every job. Zero fields take
	// the job manager's defaults (jobs.DefaultWarmup and the others).
	Settings campaign.JobSettings
	// Timeout bounds one measurement from submission to result; 0 means 30
	// minutes, long enough for a large model on a Raspberry Pi.
	Timeout time.Duration
	// CampaignID tags the jobs so they can be listed together.
	CampaignID string
	// Logger receives a line per submitted and finished job; nil discards.
	Logger *slog.Logger
}

// Evaluate submits a profile job for a on t, waits for the measurement and
// returns its latency, energy and peak power. Energy and peak power are
// absent when the device has no power reading. The result's Kind is
// Estimated when the agent modelled the power instead of metering it.
func (l *LiveEvaluator) Evaluate(ctx context.Context, a arch.Architecture, t measure.Target) (Result, error) {
	if l.Jobs == nil {
		return Result{}, errors.New("live evaluator has no job runner")
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Minute
	}
	runner := l.Runner
	if runner == "" {
		runner = t.Runtime
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	submitted, err := l.Jobs.Submit(ctx, wire.Job{
		Device: t.Device, Runner: runner, Arch: a, Batch: t.Batch, SeqLen: t.SeqLen,
		Precision: t.Precision, CampaignID: l.CampaignID,
		Warmup: l.Settings.Warmup, MinIters: l.Settings.MinIters, MinSeconds: l.Settings.MinSeconds, Repeats: l.Settings.Repeats,
	})
	if err != nil {
		return Result{}, fmt.Errorf("submit profile job to %s: %w", t.Device, err)
	}
	job := submitted.Job
	start := time.Now()
	l.log().Info("co-design job submitted", "job", job.ID, "device", t.Device, "target", t.Key())
	m, err := l.Jobs.Wait(ctx, job.ID)
	if errors.Is(err, context.DeadlineExceeded) {
		return Result{}, fmt.Errorf("job %s on %s timed out after %v; raise the timeout or check the agent", job.ID, t.Device, timeout)
	}
	if err != nil {
		return Result{}, fmt.Errorf("job %s on %s: %w", job.ID, t.Device, err)
	}
	l.log().Info("co-design job finished", "job", job.ID, "device", t.Device, "seconds", time.Since(start).Seconds())
	if m.Target.Key() != t.Key() {
		return Result{}, fmt.Errorf("job %s measured target %s, not the requested %s; set the runner to match the target's runtime", job.ID, m.Target.Key(), t.Key())
	}
	return resultOf(m), nil
}

func (l *LiveEvaluator) log() *slog.Logger {
	if l.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Logger
}

// resultOf converts a measurement into an evaluation result. The latency
// standard deviation is the per-iteration standard deviation divided by the
// batch size, the spread of one measured sequence's share.
func resultOf(m measure.Measurement) Result {
	res := Result{Hardware: map[Measure]Estimate{}, Kind: Measured}
	if m.Provenance == measure.Estimated {
		res.Kind = Estimated
	}
	lat := Estimate{Mean: m.LatencyPerSeqS}
	if m.Latency != nil && m.Target.Batch > 0 {
		lat.Std = m.Latency.Std / float64(m.Target.Batch)
	}
	res.Hardware[Latency] = lat
	if m.EnergyPerSeqJ != nil {
		res.Hardware[Energy] = Estimate{Mean: *m.EnergyPerSeqJ}
	}
	if m.PeakPowerW != nil {
		res.Hardware[PeakPower] = Estimate{Mean: *m.PeakPowerW}
	}
	return res
}
