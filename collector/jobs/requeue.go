package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/edgetran/edgetran/collector/store"
)

// Run re-queues or expires running jobs of gone devices every
// CheckInterval until ctx is cancelled.
func (m *Manager) Run(ctx context.Context) {
	ticker := time.NewTicker(m.opts.CheckInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if err := m.Check(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("check running jobs", "err", err)
		}
	}
}

// Check re-queues or expires every running job whose device is gone: no
// heartbeat for DeviceTimeout, or for three of the device's announced
// heartbeat intervals when that is longer. Queued jobs stay in the work
// queue until their agent takes them.
func (m *Manager) Check(ctx context.Context) error {
	running, err := m.opts.Store.Jobs(ctx, store.JobQuery{Status: store.JobRunning, Limit: store.MaxLimit})
	if err != nil {
		return err
	}
	now := m.opts.Now()
	for _, j := range running {
		// A device without a row never sent a heartbeat, so it is gone.
		d, err := m.opts.Store.Device(ctx, j.Job.Device)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if m.alive(d, now) {
			continue
		}
		if err := m.requeue(ctx, j, now); err != nil {
			return err
		}
	}
	return nil
}

// Alive reports whether d sent a heartbeat recently enough at now.
func (m *Manager) Alive(d store.Device, now time.Time) bool { return m.alive(d, now) }

func (m *Manager) alive(d store.Device, now time.Time) bool {
	if d.LastHeartbeat == nil {
		return false
	}
	timeout := m.opts.DeviceTimeout
	if d.Heartbeat != nil {
		timeout = max(timeout, time.Duration(3*d.Heartbeat.IntervalS*float64(time.Second)))
	}
	return now.Sub(*d.LastHeartbeat) <= timeout
}

func (m *Manager) requeue(ctx context.Context, j store.Job, now time.Time) error {
	if j.Job.Attempt >= j.MaxAttempts {
		j.Status = store.JobExpired
		j.Error = fmt.Sprintf("device %s stopped sending heartbeats during attempt %d of %d", j.Job.Device, j.Job.Attempt, j.MaxAttempts)
		j.UpdatedAt = now
		changed, err := m.opts.Store.TransitionJob(ctx, store.JobRunning, j.Job.Attempt, j)
		if err != nil || !changed {
			return err
		}
		m.log.Warn("job expired", "job", j.Job.ID, "device", j.Job.Device, "attempt", j.Job.Attempt)
		m.wake(j.Job.ID)
		return nil
	}
	from := j.Job.Attempt
	j.Job.Attempt++
	j.Status, j.SubmittedAt, j.UpdatedAt = store.JobQueued, now, now
	changed, err := m.opts.Store.TransitionJob(ctx, store.JobRunning, from, j)
	if err != nil || !changed {
		return err
	}
	m.log.Warn("device silent; job re-queued", "job", j.Job.ID, "device", j.Job.Device, "attempt", j.Job.Attempt)
	return m.publish(ctx, j.Job)
}
