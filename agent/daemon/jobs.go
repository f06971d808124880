package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/agent/profile"
	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/shared/wire"
)

// ConsumerName returns the durable pull consumer an agent binds on the JOBS
// stream, wire.AgentConsumer(device), filtered to wire.JobsSubject(device).
func ConsumerName(device string) string { return wire.AgentConsumer(device) }

// jobLoop takes jobs one at a time until ctx ends.
func (d *Daemon) jobLoop(ctx context.Context) {
	var cons jetstream.Consumer
	retry := backoff(time.Second, 30*time.Second)
	for attempt := 1; ctx.Err() == nil; {
		if cons == nil {
			c, err := d.bindConsumer(ctx)
			if err != nil {
				d.warn.Warn("bind", "binding the jobs consumer failed; retrying", "stream", wire.StreamJobs, "err", err)
				sleep(ctx, retry(attempt))
				attempt++
				continue
			}
			d.warn.Reset("bind")
			d.log.Info("taking jobs", "consumer", ConsumerName(d.device), "subject", wire.JobsSubject(d.device))
			cons, attempt = c, 1
		}

		if d.outbox.Full() {
			d.setState("paused", "")
			d.warn.Warn("outbox-full", "outbox is full: not taking jobs until results are acknowledged",
				"outbox", d.outbox.Len(), "bytes", d.outbox.Bytes(), "max_bytes", d.outbox.MaxBytes())
			d.wakeFlusher()
			sleep(ctx, time.Second)
			continue
		}
		d.setState("idle", "")

		fctx, cancel := context.WithTimeout(ctx, d.opts.FetchWait)
		batch, err := cons.Fetch(1, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) {
				cons = nil
			}
			if ctx.Err() == nil {
				d.warn.Warn("fetch", "fetching jobs failed", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		for msg := range batch.Messages() {
			d.handle(ctx, msg)
		}
		cancel()
		if err := batch.Error(); err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, jetstream.ErrNoMessages) {
			if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) {
				cons = nil
			}
			d.warn.Warn("fetch", "fetching jobs failed", "err", err)
			sleep(ctx, time.Second)
		}
	}
}

// bindConsumer creates or updates the device's durable consumer. One job
// at a time: MaxAckPending is 1, so the server holds later jobs back.
func (d *Daemon) bindConsumer(ctx context.Context) (jetstream.Consumer, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return d.js.CreateOrUpdateConsumer(cctx, wire.StreamJobs, jetstream.ConsumerConfig{
		Durable:       ConsumerName(d.device),
		Description:   "profile jobs of device " + d.device,
		FilterSubject: wire.JobsSubject(d.device),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       d.opts.AckWait,
		MaxAckPending: 1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
}

// rejection is a job that must not run; it becomes an error result and the
// message is terminated.
type rejection struct {
	code string // wire.JobError.Code
	err  error
}

func (r *rejection) Error() string { return r.err.Error() }

// handle runs one job message to its end: a result in the outbox followed by
// Ack or Term, or a negative acknowledgement for redelivery.
func (d *Daemon) handle(ctx context.Context, msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		d.log.Error("job message without metadata; terminating it", "err", err)
		_ = msg.Term()
		return
	}
	job, rej := d.decode(msg.Data(), meta.Sequence.Stream)
	log := d.log.With("job", job.ID, "attempt", job.Attempt, "delivery", meta.NumDelivered)
	if rej == nil && meta.NumDelivered > maxDeliveries {
		rej = &rejection{"aborted", fmt.Errorf("job was delivered %d times without finishing; the agent may have crashed on this job (the limit is %d deliveries)", meta.NumDelivered, maxDeliveries)}
	}
	if rej == nil {
		rej = d.check(&job)
	}
	if rej != nil {
		log.Warn("job rejected", "code", rej.code, "err", rej.err)
		d.finish(ctx, msg, d.errorResult(job, rej.code, rej.err), true, log)
		return
	}

	resultID := wire.ResultID(job.ID, job.Attempt)
	archID := d.space.ID(job.Arch)
	log = log.With("arch", archID, "runner", job.Runner)
	log.Info("job started")
	d.setState("busy", job.ID)
	started := time.Now()

	jobCtx, cancelJob := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.Limits.MaxDuration.D())
	defer cancelJob()
	aborted := make(chan struct{})
	stopWatch := d.watchJob(ctx, jobCtx, cancelJob, msg, aborted, log)
	m, err := d.opts.Profiler.Profile(jobCtx, d.opts.Runners[job.Runner], d.spec(job), settings(job, d.cfg.Meter.IdleWindow.D(), d.opts.Profiler.Power != nil), profile.Job{
		ID: wire.ResultID(job.ID, job.Attempt), JobID: job.ID, Attempt: job.Attempt, Device: d.device, AgentVersion: d.opts.Version,
	})
	stopWatch()

	switch {
	case err == nil:
		log.Info("job done", "duration_s", time.Since(started).Seconds(), "latency_per_seq_s", m.LatencyPerSeqS)
		res := wire.Result{ID: wire.ResultID(job.ID, job.Attempt), Kind: wire.ResultMeasurement, Device: d.device,
			JobID: job.ID, Attempt: job.Attempt, Measurement: m, SentAt: time.Now().UTC()}
		d.finish(ctx, msg, res, false, log)
	case isClosed(aborted):
		// Shut down before the job finished: no result; the job goes back
		// to the stream and runs again after the restart.
		log.Warn("job aborted by shutdown; returning it for redelivery", "err", err)
		_ = msg.NakWithDelay(time.Second)
	case errors.Is(err, context.DeadlineExceeded):
		err = fmt.Errorf("job ran longer than limits.max_duration %v: %w", d.cfg.Limits.MaxDuration, err)
		log.Warn("job failed", "code", "aborted", "err", err)
		d.finish(ctx, msg, d.errorResult(job, "aborted", err), true, log)
	case errors.Is(err, runner.ErrTooLarge):
		log.Warn("job failed", "code", "too_large", "err", err)
		d.finish(ctx, msg, d.errorResult(job, "too_large", err), true, log)
	case errors.Is(err, runner.ErrUnsupported):
		log.Warn("job failed", "code", "invalid", "err", err)
		d.finish(ctx, msg, d.errorResult(job, "invalid", err), true, log)
	case d.runnerFailed(resultID) < maxTransientDeliveries:
		delay := time.Duration(d.failures[resultID]) * 5 * time.Second
		log.Warn("job failed; returning it for another try", "err", err, "failures", d.failures[resultID], "retry_in_s", delay.Seconds())
		_ = msg.NakWithDelay(delay)
	default:
		log.Error("job failed on every try; giving up", "code", "runner_failed", "err", err)
		d.finish(ctx, msg, d.errorResult(job, "runner_failed", err), true, log)
	}
}

// watchJob extends the ack deadline every AckWait/3 while the job runs and,
// once ctx (the daemon) ends, gives the job ShutdownGrace before cancelling
// it and closing aborted. The returned function stops the watcher.
func (d *Daemon) watchJob(ctx, jobCtx context.Context, cancelJob context.CancelFunc, msg jetstream.Msg, aborted chan struct{}, log interface {
	Debug(string, ...any)
	Warn(string, ...any)
}) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		ticker := time.NewTicker(d.opts.AckWait / 3)
		defer ticker.Stop()
		shutdown := ctx.Done()
		var grace <-chan time.Time
		for {
			select {
			case <-done:
				return
			case <-jobCtx.Done():
				return
			case <-ticker.C:
				if err := msg.InProgress(); err != nil {
					log.Debug("extending the job's ack deadline failed", "err", err)
				}
			case <-shutdown:
				shutdown = nil
				log.Warn("shutdown requested: waiting for the running job", "grace_s", d.opts.ShutdownGrace.Seconds())
				grace = time.After(d.opts.ShutdownGrace)
			case <-grace:
				close(aborted)
				cancelJob()
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

// finish stores res in the outbox, then acknowledges the job (terminate for
// an error result, so it is never redelivered). When the outbox write fails
// the job is negative-acknowledged instead, so it runs again rather than
// losing its result.
func (d *Daemon) finish(ctx context.Context, msg jetstream.Msg, res wire.Result, terminate bool, log interface {
	Info(string, ...any)
	Error(string, ...any)
}) {
	data, err := encodeResult(res)
	if err == nil {
		err = d.outbox.Add(res.ID, data)
	}
	if err != nil {
		log.Error("storing the result failed; returning the job for redelivery", "err", err)
		_ = msg.NakWithDelay(10 * time.Second)
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	if terminate {
		err = msg.Term()
	} else {
		err = msg.DoubleAck(actx)
	}
	if err != nil {
		// The result is safe in the outbox; a redelivered job produces the
		// same result id, which the server and the collector drop.
		log.Info("acknowledging the job failed; it may be redelivered", "err", err)
	}
	delete(d.failures, res.ID)
	d.setState("idle", "")
	d.wakeFlusher()
}

// runnerFailed counts one more runner failure of the job with result id res
// and returns the count.
func (d *Daemon) runnerFailed(res string) int {
	if d.failures == nil {
		d.failures = map[string]int{}
	}
	d.failures[res]++
	return d.failures[res]
}

// MaxResultBytes bounds an encoded result, well below the 1 MiB default
// maximum NATS payload: a larger entry could never be published and would
// block the outbox behind it.
const MaxResultBytes = 512 << 10

// encodeResult marshals res within MaxResultBytes. When it is larger, the
// power trace and then the per-iteration latencies are left out (the
// summary figures stay), and an error message is cut to 4 KiB.
func encodeResult(res wire.Result) ([]byte, error) {
	data, err := json.Marshal(res)
	if err != nil || len(data) <= MaxResultBytes {
		return data, err
	}
	if m := res.Measurement; m != nil {
		trimmed := *m
		trimmed.Trace = nil
		res.Measurement = &trimmed
		if data, err = json.Marshal(res); err != nil || len(data) <= MaxResultBytes {
			return data, err
		}
		trimmed.IterationsS = nil
		if data, err = json.Marshal(res); err != nil || len(data) <= MaxResultBytes {
			return data, err
		}
	}
	if e := res.Error; e != nil && len(e.Message) > 4<<10 {
		res.Error = &wire.JobError{Code: e.Code, Message: e.Message[:4<<10] + " … (cut)"}
		if data, err = json.Marshal(res); err != nil || len(data) <= MaxResultBytes {
			return data, err
		}
	}
	return nil, fmt.Errorf("result %s is %d bytes encoded, over the %d-byte limit", res.ID, len(data), MaxResultBytes)
}

func (d *Daemon) errorResult(job wire.Job, code string, err error) wire.Result {
	return wire.Result{
		ID: wire.ResultID(job.ID, job.Attempt), Kind: wire.ResultError, Device: d.device,
		JobID: job.ID, Attempt: job.Attempt, Error: &wire.JobError{Code: code, Message: err.Error()},
		SentAt: time.Now().UTC(),
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
