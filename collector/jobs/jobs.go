// Package jobs submits profile jobs to agents and tracks them until they
// finish.
//
// A job is stored as queued, then published to wire.JobsSubject(device) on
// the work-queue stream wire.StreamJobs with Nats-Msg-Id set to
// wire.ResultID(id, attempt), so a repeated publish of one attempt is
// dropped by the server. A heartbeat naming the job moves it to running; the
// ingest moves it to done (a measurement) or failed (an error result).
//
// A device is gone when it sent no heartbeat for Options.DeviceTimeout, or
// for three of its announced heartbeat intervals when that is longer. A
// running job of a gone device is sent again with Attempt+1 until
// MaxAttempts attempts were made, and then it expires. Each attempt has its
// own result id, so a late result of an earlier attempt is still stored,
// and it completes the job if it arrives first.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// Defaults of Options.
const (
	DefaultMaxAttempts   = 3
	DefaultDeviceTimeout = 60 * time.Second
	DefaultCheckInterval = 5 * time.Second
)

// Job defaults filled in by Submit when a field is zero.
const (
	DefaultRunner     = "builtin"
	DefaultPrecision  = "fp32"
	DefaultWarmup     = 5
	DefaultMinIters   = 20
	DefaultMinSeconds = 2.0
	DefaultRepeats    = 3
)

// Errors wrapped by Submit for input the caller must fix.
var (
	ErrInvalidJob  = errors.New("invalid job")
	ErrDuplicateID = errors.New("job id already used")
)

// ErrJobFailed is wrapped by Wait when the job failed or expired.
var ErrJobFailed = errors.New("job did not produce a measurement")

// Options configures a Manager. Store, JetStream and Space are required.
type Options struct {
	Store     store.Store
	JetStream jetstream.JetStream
	Space     *arch.Space
	Logger    *slog.Logger // nil discards logs
	// MaxAttempts is the number of attempts per job; 0 means
	// DefaultMaxAttempts.
	MaxAttempts int
	// DeviceTimeout is the silence after which a device counts as gone;
	// 0 means DefaultDeviceTimeout.
	DeviceTimeout time.Duration
	// CheckInterval is how often Run looks for gone devices; 0 means
	// DefaultCheckInterval.
	CheckInterval time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Manager submits and tracks jobs. Create it with New.
type Manager struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	waiters map[string][]chan struct{}
}

// New returns a Manager; call Run to re-queue jobs of silent devices.
func New(opts Options) *Manager {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.DeviceTimeout <= 0 {
		opts.DeviceTimeout = DefaultDeviceTimeout
	}
	if opts.CheckInterval <= 0 {
		opts.CheckInterval = DefaultCheckInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{opts: opts, log: log, waiters: make(map[string][]chan struct{})}
}

// Submit fills the zero fields of job with defaults (a random ID, kind
// profile, runner "builtin", fp32, attempt 1 and the Default* iteration
// settings), validates it, stores it as queued and publishes it to its
// device. It returns the stored job.
func (m *Manager) Submit(ctx context.Context, job wire.Job) (store.Job, error) {
	if err := wire.ValidateDeviceID(job.Device); err != nil {
		return store.Job{}, fmt.Errorf("%w: %w", ErrInvalidJob, err)
	}
	fillDefaults(&job, m.opts.Now())
	if err := job.Validate(m.opts.Space); err != nil {
		return store.Job{}, fmt.Errorf("%w %s: %w", ErrInvalidJob, job.ID, err)
	}
	now := m.opts.Now()
	sj := store.Job{Job: job, Status: store.JobQueued, MaxAttempts: m.opts.MaxAttempts, SubmittedAt: now, UpdatedAt: now}
	if err := m.opts.Store.CreateJob(ctx, sj); errors.Is(err, store.ErrExists) {
		return store.Job{}, fmt.Errorf("job %s: %w; choose another id or leave it empty", job.ID, ErrDuplicateID)
	} else if err != nil {
		return store.Job{}, err
	}
	if err := m.publish(ctx, job); err != nil {
		sj.Status, sj.Error, sj.UpdatedAt = store.JobFailed, err.Error(), m.opts.Now()
		if perr := m.opts.Store.PutJob(ctx, sj); perr != nil {
			m.log.Error("mark unpublished job failed", "job", job.ID, "err", perr)
		}
		m.wake(job.ID)
		return store.Job{}, err
	}
	m.log.Info("job submitted", "job", job.ID, "device", job.Device, "arch", m.opts.Space.ID(job.Arch))
	return sj, nil
}

// Validate fills the zero fields of a copy of job with Submit's defaults
// and validates it, so a caller can refuse settings before it stores work
// that would submit such jobs.
func Validate(job wire.Job, space *arch.Space) error {
	fillDefaults(&job, time.Now())
	return job.Validate(space)
}

func fillDefaults(job *wire.Job, now time.Time) {
	if job.ID == "" {
		job.ID = newID()
	}
	if job.Kind == "" {
		job.Kind = wire.JobProfile
	}
	if job.Runner == "" {
		job.Runner = DefaultRunner
	}
	if job.Precision == "" {
		job.Precision = DefaultPrecision
	}
	if job.Warmup == 0 {
		job.Warmup = DefaultWarmup
	}
	if job.MinIters == 0 {
		job.MinIters = DefaultMinIters
	}
	if job.MinSeconds == 0 {
		job.MinSeconds = DefaultMinSeconds
	}
	if job.Repeats == 0 {
		job.Repeats = DefaultRepeats
	}
	if job.Attempt == 0 {
		job.Attempt = 1
	}
	if job.CreatedAt.IsZero() {
		job.CreatedAt = now.UTC()
	}
}

// newID returns 16 random hex digits.
func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (m *Manager) publish(ctx context.Context, job wire.Job) error {
	data, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("encode job %s: %w", job.ID, err)
	}
	if len(data) > wire.MaxJobBytes {
		return fmt.Errorf("job %s is %d bytes, more than the %d allowed", job.ID, len(data), wire.MaxJobBytes)
	}
	msg := nats.NewMsg(wire.JobsSubject(job.Device))
	msg.Data = data
	msg.Header.Set(nats.MsgIdHdr, wire.ResultID(job.ID, job.Attempt))
	if _, err := m.opts.JetStream.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("publish job %s to %s: %w", job.ID, msg.Subject, err)
	}
	return nil
}

// Wait blocks until the job finishes and returns its measurement. A job
// that failed or expired returns an error wrapping ErrJobFailed with the
// agent's message; an unknown id returns an error wrapping store.ErrNotFound.
func (m *Manager) Wait(ctx context.Context, jobID string) (measure.Measurement, error) {
	for {
		// Register before reading the store, so a result committed in
		// between still wakes this waiter.
		ch := make(chan struct{})
		m.mu.Lock()
		m.waiters[jobID] = append(m.waiters[jobID], ch)
		m.mu.Unlock()

		j, err := m.opts.Store.Job(ctx, jobID)
		if err != nil {
			m.unregister(jobID, ch)
			return measure.Measurement{}, err
		}
		switch j.Status {
		case store.JobDone:
			m.unregister(jobID, ch)
			return m.opts.Store.Measurement(ctx, j.ResultID)
		case store.JobFailed, store.JobExpired:
			m.unregister(jobID, ch)
			return measure.Measurement{}, fmt.Errorf("job %s %s: %w: %s", jobID, j.Status, ErrJobFailed, j.Error)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			m.unregister(jobID, ch)
			return measure.Measurement{}, ctx.Err()
		}
	}
}

func (m *Manager) unregister(jobID string, ch chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.waiters[jobID]
	for i, c := range list {
		if c == ch {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(m.waiters, jobID)
	} else {
		m.waiters[jobID] = list
	}
}

// wake releases every waiter of jobID to read the job again.
func (m *Manager) wake(jobID string) {
	m.mu.Lock()
	list := m.waiters[jobID]
	delete(m.waiters, jobID)
	m.mu.Unlock()
	for _, ch := range list {
		close(ch)
	}
}

// HandleResult wakes the waiters of the result's job. The ingest calls it
// after the result's transaction committed.
func (m *Manager) HandleResult(r wire.Result) {
	if r.JobID != "" {
		m.wake(r.JobID)
	}
}

// HandleHeartbeat moves the job a heartbeat names from queued to running.
func (m *Manager) HandleHeartbeat(h wire.Heartbeat, at time.Time) {
	if h.JobID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	j, err := m.opts.Store.Job(ctx, h.JobID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			m.log.Warn("read job named by heartbeat", "job", h.JobID, "device", h.Device, "err", err)
		}
		return
	}
	if j.Status != store.JobQueued || j.Job.Device != h.Device {
		return
	}
	j.Status, j.UpdatedAt = store.JobRunning, at
	if _, err := m.opts.Store.TransitionJob(ctx, store.JobQueued, j.Job.Attempt, j); err != nil {
		m.log.Warn("mark job running", "job", h.JobID, "err", err)
	}
}
