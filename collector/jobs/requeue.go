package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/edgetran/edgetran/collector/store"
)

// Run re-queues or expires running jobs of gone devices, and publishes
// again queued jobs that were lost on their way to the agent, every
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
			m.log.Warn("check jobs", "err", err)
		}
	}
}

// Check re-queues or expires every running job whose device is gone: no
// heartbeat for DeviceTimeout, or for three of the device's announced
// heartbeat intervals when that is longer.
//
// It also publishes again every queued job whose device has stayed idle
// for DeviceTimeout since the job was queued: an idle agent would have
// taken the job, so its message was lost, by a failed publish or a crash
// between storing the job and publishing it. The publish keeps the
// attempt's Nats-Msg-Id, so the server drops it within the JOBS stream's
// duplicate window if the first one did arrive.
//
// An error with one job does not stop the others; Check returns them all.
func (m *Manager) Check(ctx context.Context) error {
	var errs []error
	if err := m.checkRunning(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := m.checkQueued(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (m *Manager) checkRunning(ctx context.Context) error {
	running, err := m.opts.Store.Jobs(ctx, store.JobQuery{Status: store.JobRunning, Limit: store.MaxLimit})
	if err != nil {
		return err
	}
	now := m.opts.Now()
	var errs []error
	for _, j := range running {
		// A device without a row never sent a heartbeat, so it is gone.
		d, err := m.opts.Store.Device(ctx, j.Job.Device)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			m.log.Warn("check running job", "job", j.Job.ID, "err", err)
			errs = append(errs, err)
			continue
		}
		if m.alive(d, now) {
			continue
		}
		if err := m.requeue(ctx, j, now); err != nil {
			m.log.Warn("re-queue job", "job", j.Job.ID, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) checkQueued(ctx context.Context) error {
	queued, err := m.opts.Store.Jobs(ctx, store.JobQuery{Status: store.JobQueued, Limit: store.MaxLimit})
	if err != nil {
		return err
	}
	now := m.opts.Now()
	var errs []error
	for _, j := range queued {
		if now.Sub(j.UpdatedAt) <= m.opts.DeviceTimeout {
			continue
		}
		d, err := m.opts.Store.Device(ctx, j.Job.Device)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			m.log.Warn("check queued job", "job", j.Job.ID, "err", err)
			errs = append(errs, err)
			continue
		}
		idle := m.alive(d, now) && d.Heartbeat != nil && d.Heartbeat.State == "idle"
		if !idle || d.LastHeartbeat.Sub(j.UpdatedAt) <= m.opts.DeviceTimeout {
			continue
		}
		if err := m.publish(ctx, j.Job); err != nil {
			m.log.Warn("publish queued job again", "job", j.Job.ID, "err", err)
			errs = append(errs, err)
			continue
		}
		m.log.Warn("queued job published again: its device stayed idle", "job", j.Job.ID, "device", j.Job.Device, "attempt", j.Job.Attempt)
	}
	return errors.Join(errs...)
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
