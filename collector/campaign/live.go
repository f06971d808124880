package campaign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/edgetran/edgetran/collector/jobs"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// Jobs submits profile jobs and waits for their measurements; the
// collector's jobs.Manager implements it.
type Jobs interface {
	Submit(ctx context.Context, job wire.Job) (store.Job, error)
	Wait(ctx context.Context, jobID string) (measure.Measurement, error)
}

// Live is an Evaluator that measures architectures on a real target by
// submitting profile jobs to its agent. Candidates are drawn from the design
// space. Zero-valued settings take the defaults stated on each field.
type Live struct {
	Jobs   Jobs           // required
	Space  *arch.Space    // nil means arch.Default()
	Target measure.Target // required: device, batch, sequence length and precision of the jobs
	Metric surrogate.Metric
	// Runner is the agent's configured runner name; "" means Target.Runtime.
	Runner string
	// Settings are the profiling settings of every job; zero fields take
	// the job manager's defaults.
	Settings JobSettings
	// CampaignID is recorded on every job. When set, job ids derive from
	// it, the target, the architecture and the attempt, so a resumed
	// campaign finds the jobs it submitted before a restart and waits for
	// them instead of measuring the same architecture again.
	CampaignID string
	Timeout    time.Duration // wait per job attempt; 0 means 30 minutes
	Retries    int           // resubmissions of a failed or timed-out job; 0 means 1, negative means none
	Logger     *slog.Logger  // nil means slog.Default()
}

var _ Evaluator = (*Live)(nil)

func (l *Live) space() *arch.Space {
	if l.Space == nil {
		return arch.Default()
	}
	return l.Space
}

// Candidates returns n architectures drawn uniformly from the space,
// without repeats and without measured ones. It gives up after 20·n draws,
// which matters only for tiny spaces.
func (l *Live) Candidates(rng *rand.Rand, n int, measured map[string]bool) ([]Candidate, error) {
	s := l.space()
	seen := map[string]bool{}
	var out []Candidate
	for tries := 0; len(out) < n && tries < 20*n; tries++ {
		a := s.Random(rng)
		id := s.ID(a)
		if measured[id] || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, Candidate{Arch: a, Wide: arch.IsWide(a)})
	}
	return out, nil
}

// Initial returns a Latin-hypercube sample of n architectures (half narrow,
// half wide), leaving out measured ones.
func (l *Live) Initial(rng *rand.Rand, n int, measured map[string]bool) ([]Candidate, error) {
	s := l.space()
	var out []Candidate
	for _, a := range s.LatinHypercube(rng, n) {
		if !measured[s.ID(a)] {
			out = append(out, Candidate{Arch: a, Wide: arch.IsWide(a)})
		}
	}
	return out, nil
}

// Evaluate submits one job per architecture, then waits for each in turn,
// resubmitting a failed or timed-out job up to Retries times. A job that
// still fails becomes an Outcome.Err, so the campaign goes on without it.
// Only a cancelled ctx or a submission error aborts the call.
func (l *Live) Evaluate(ctx context.Context, archs []arch.Architecture) ([]Outcome, error) {
	if l.Jobs == nil {
		return nil, errors.New("live evaluator has no job manager")
	}
	log := l.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "campaign", "campaign", l.CampaignID, "device", l.Target.Device)
	timeout := l.Timeout
	if timeout == 0 {
		timeout = 30 * time.Minute
	}
	retries := l.Retries
	if retries == 0 {
		retries = 1
	}
	retries = max(retries, 0)
	metric := l.Metric
	if metric == "" {
		metric = surrogate.Latency
	}

	ids := make([]string, len(archs))
	for i, a := range archs {
		id, err := l.submit(ctx, a, 1)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}

	out := make([]Outcome, len(archs))
	start := time.Now()
	for i, a := range archs {
		for attempt := 0; ; attempt++ {
			m, err := l.wait(ctx, ids[i], timeout)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err == nil {
				if v, ok := metric.Of(&m); ok {
					out[i] = Outcome{Value: v, MeasurementID: m.ID}
				} else {
					out[i].Err = fmt.Errorf("job %s: measurement %s has no %s", ids[i], m.ID, metric)
				}
				break
			}
			if attempt >= retries {
				out[i].Err = err
				log.Warn("measurement failed", "job", ids[i], "arch", l.space().ID(a), "err", err)
				break
			}
			log.Warn("measurement failed; resubmitting", "job", ids[i], "arch", l.space().ID(a), "err", err, "attempt", attempt+1)
			if ids[i], err = l.submit(ctx, a, attempt+2); err != nil {
				return nil, err
			}
		}
		done := i + 1
		eta := time.Duration(float64(time.Since(start)) / float64(done) * float64(len(archs)-done))
		log.Info("campaign measurement", "done", done, "of", len(archs), "eta", eta.Round(time.Second))
	}
	return out, nil
}

// job returns the profile job of a, without an id.
func (l *Live) job(a arch.Architecture) wire.Job {
	runner := l.Runner
	if runner == "" {
		runner = l.Target.Runtime
	}
	return wire.Job{
		Kind: wire.JobProfile, Device: l.Target.Device, Runner: runner, Arch: a,
		Batch: l.Target.Batch, SeqLen: l.Target.SeqLen, Precision: l.Target.Precision, CampaignID: l.CampaignID,
		Warmup: l.Settings.Warmup, MinIters: l.Settings.MinIters, MinSeconds: l.Settings.MinSeconds, Repeats: l.Settings.Repeats,
	}
}

// CheckJobs returns an error naming every setting of cfg and target that
// the jobs of a live campaign could not carry (a batch above wire.MaxBatch,
// too many repeats and the like), so such a campaign is refused before it
// starts instead of failing at its first job. space is the design space
// the jobs draw from.
func CheckJobs(target measure.Target, cfg Config, space *arch.Space) error {
	l := &Live{Space: space, Target: target, Runner: cfg.Runner, Settings: cfg.Job, CampaignID: "check"}
	job := l.job(space.Random(rand.New(rand.NewPCG(1, 2))))
	job.ID = "check"
	if err := jobs.Validate(job, space); err != nil {
		return fmt.Errorf("campaign jobs: %w", err)
	}
	return nil
}

// submit sends submission number try (from 1) of a's job and returns the
// job id. A job id already used by this campaign is the same submission
// made before a restart, so its id is returned and nothing is sent.
func (l *Live) submit(ctx context.Context, a arch.Architecture, try int) (string, error) {
	archID := l.space().ID(a)
	var id string
	if l.CampaignID != "" {
		sum := sha256.Sum256([]byte(l.Target.Key() + " " + archID))
		id = fmt.Sprintf("%s-%s-%d", l.CampaignID, hex.EncodeToString(sum[:8]), try)
	}
	job := l.job(a)
	job.ID = id
	j, err := l.Jobs.Submit(ctx, job)
	if id != "" && errors.Is(err, jobs.ErrDuplicateID) {
		return id, nil
	}
	if err != nil {
		return "", fmt.Errorf("submit profile job for %s: %w", archID, err)
	}
	return j.Job.ID, nil
}

func (l *Live) wait(ctx context.Context, id string, timeout time.Duration) (measure.Measurement, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m, err := l.Jobs.Wait(wctx, id)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return m, fmt.Errorf("job %s: no result within %s", id, timeout)
	}
	return m, err
}
