// Package ingest moves results from the durable JetStream consumer into the
// store, exactly once: a batch of messages is written in one transaction,
// and each message is acknowledged only after that transaction commits. A
// message redelivered after a crash between commit and acknowledgement finds
// its id already stored and changes nothing.
//
// A message that fails Check is rejected: it is logged with its subject and
// reason, kept in the store's dead-letter table and published to
// wire.DeadLetter in the same form, then terminated so the server never
// delivers it again and ingest continues. An error result marks its job
// failed; a measurement result with a job id marks the job done.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// DefaultMaxBatch is the most messages written in one transaction when
// Options.MaxBatch is zero.
const DefaultMaxBatch = 1000

// pullRetryDelay is the pause after a failed pull.
const pullRetryDelay = 200 * time.Millisecond

// Header names of a dead-letter message; its body is the rejected message.
const (
	HeaderReason  = "Edgetran-Reason"
	HeaderSubject = "Edgetran-Subject"
)

// Options configures an Ingest. Store, JetStream and Space are required.
type Options struct {
	Store     store.Store
	JetStream jetstream.JetStream // publishes dead letters
	Space     *arch.Space
	Logger    *slog.Logger          // nil discards logs
	Registry  prometheus.Registerer // nil registers no metrics
	// MaxBatch is the most messages per transaction; 0 means DefaultMaxBatch.
	MaxBatch int
}

// Ingest stores results from a consumer. Create it with New.
type Ingest struct {
	store    store.Store
	js       jetstream.JetStream
	space    *arch.Space
	log      *slog.Logger
	metrics  *metrics
	maxBatch int

	stored, duplicates, rejected, jobErrors atomic.Int64

	mu            sync.Mutex
	onMeasurement []func(measure.Measurement)
	onResult      []func(wire.Result)
	onHeartbeat   []func(wire.Heartbeat, time.Time)
}

// New returns an Ingest; it starts nothing.
func New(opts Options) *Ingest {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	maxBatch := opts.MaxBatch
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	return &Ingest{
		store:    opts.Store,
		js:       opts.JetStream,
		space:    opts.Space,
		log:      log,
		metrics:  newMetrics(opts.Registry),
		maxBatch: maxBatch,
	}
}

// OnMeasurement registers fn to be called with every newly stored
// measurement, after its transaction committed. Redelivered duplicates do
// not call it. fn runs on the ingest goroutine, so it must return quickly
// (hand the work to another goroutine, e.g. a debounced surrogate refit).
func (in *Ingest) OnMeasurement(fn func(measure.Measurement)) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.onMeasurement = append(in.onMeasurement, fn)
}

// OnResult registers fn to be called with every accepted result after its
// transaction committed, duplicates included, so a job waiter learns of a
// result that was stored before it started waiting. fn must return quickly.
func (in *Ingest) OnResult(fn func(wire.Result)) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.onResult = append(in.onResult, fn)
}

// Run consumes results from consumer until ctx is cancelled. Messages
// received but not yet committed when it returns are redelivered by the
// server after the consumer's ack wait.
func (in *Ingest) Run(ctx context.Context, consumer jetstream.Consumer) error {
	iter, err := consumer.Messages(jetstream.PullMaxMessages(2 * in.maxBatch))
	if err != nil {
		return err
	}
	// The reader decodes and checks each message before handing it over,
	// so checking the next messages overlaps the current commit.
	msgs := make(chan item, in.maxBatch)
	go func() {
		defer close(msgs)
		for {
			msg, err := iter.Next()
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return
			}
			if err != nil {
				// The client reconnects on its own; pause so a lasting
				// failure does not spin or flood the log.
				in.log.Warn("pull results", "err", err)
				time.Sleep(pullRetryDelay)
				continue
			}
			it := item{msg: msg}
			it.result, it.reject = Check(msg.Subject(), msg.Data(), in.space)
			msgs <- it
		}
	}()
	defer func() {
		iter.Stop()
		for range msgs {
			// Drain so the reader goroutine can exit; the server
			// redelivers these messages.
		}
	}()

	batch := make([]item, 0, in.maxBatch)
	for {
		select {
		case <-ctx.Done():
			return nil
		case it, ok := <-msgs:
			if !ok {
				return nil
			}
			batch = append(batch[:0], it)
		}
		// Group commit: take whatever else is already waiting, without
		// waiting for more, so a lone message is stored at once and a
		// burst shares one transaction.
	drain:
		for len(batch) < in.maxBatch {
			select {
			case it, ok := <-msgs:
				if !ok {
					break drain
				}
				batch = append(batch, it)
			default:
				break drain
			}
		}
		in.process(ctx, batch)
	}
}

type item struct {
	msg      jetstream.Msg
	result   wire.Result
	reject   error
	inserted bool
}

// process writes one batch of checked messages in one transaction, then
// acknowledges it.
func (in *Ingest) process(ctx context.Context, items []item) {
	now := time.Now()

	err := in.store.Update(ctx, func(tx store.Tx) error {
		for i := range items {
			it := &items[i]
			if it.reject == nil {
				var err error
				if it.reject, err = in.checkJob(tx, it.result); err != nil {
					return err
				}
			}
			if it.reject != nil {
				d := store.DeadLetter{
					Subject: it.msg.Subject(), MsgID: it.msg.Headers().Get(nats.MsgIdHdr),
					Reason: it.reject.Error(), Data: it.msg.Data(), ReceivedAt: now,
				}
				if meta, err := it.msg.Metadata(); err == nil {
					d.StreamSeq = meta.Sequence.Stream
				}
				err := tx.PutDeadLetter(d)
				if err != nil {
					return err
				}
				continue
			}
			if err := in.apply(tx, it, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Nothing was committed: ask for every message again.
		in.log.Error("store result batch; will retry", "err", err, "messages", len(items))
		for _, it := range items {
			it.msg.NakWithDelay(time.Second)
		}
		in.metrics.storeErrors.Inc()
		return
	}
	committed := time.Now()
	in.metrics.commitSeconds.Observe(committed.Sub(now).Seconds())
	in.metrics.batchSize.Observe(float64(len(items)))

	for i := range items {
		in.acknowledge(ctx, &items[i], committed)
	}
	in.notify(items)
}

// checkJob returns why a job's result does not belong to the job it names:
// the job runs on another device or measures another architecture. A
// result naming an unknown job is accepted, since the job may have been
// removed. err is a store failure.
func (in *Ingest) checkJob(tx store.Tx, r wire.Result) (reject, err error) {
	if r.JobID == "" {
		return nil, nil
	}
	job, err := tx.Job(r.JobID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	if job.Job.Device != r.Device {
		return fmt.Errorf("result from device %q names job %q of device %q", r.Device, r.JobID, job.Job.Device), nil
	}
	if m := r.Measurement; m != nil && in.space.Validate(job.Job.Arch) == nil {
		if want := in.space.ID(job.Job.Arch); m.ArchID != want {
			return fmt.Errorf("measurement arch_id %q differs from job %q's architecture %q", m.ArchID, r.JobID, want), nil
		}
	}
	return nil, nil
}

// apply writes one accepted result.
func (in *Ingest) apply(tx store.Tx, it *item, now time.Time) error {
	r := it.result
	if r.Kind == wire.ResultError {
		// Only the current attempt's error fails the job; an earlier
		// attempt's error arrives after the job was re-queued.
		_, err := tx.FinishJob(r.JobID, r.Device, r.Attempt, store.JobFailed, r.ID, r.Error.Code+": "+r.Error.Message, now)
		return err
	}
	inserted, err := tx.InsertMeasurement(*r.Measurement)
	if err != nil {
		return err
	}
	it.inserted = inserted
	if r.JobID != "" {
		_, err = tx.FinishJob(r.JobID, r.Device, 0, store.JobDone, r.ID, "", now)
	}
	return err
}

// acknowledge acks a committed message or, for a rejected one, publishes
// the dead letter and terminates the message.
func (in *Ingest) acknowledge(ctx context.Context, it *item, committed time.Time) {
	if it.reject != nil {
		in.log.Warn("reject result", "subject", it.msg.Subject(), "reason", it.reject)
		in.publishDeadLetter(ctx, it)
		if err := it.msg.Term(); err != nil {
			in.log.Warn("terminate rejected result", "subject", it.msg.Subject(), "err", err)
		}
		in.metrics.results.WithLabelValues("rejected").Inc()
		in.rejected.Add(1)
		return
	}
	if err := it.msg.Ack(); err != nil {
		// The server redelivers it; the store keeps one row.
		in.log.Warn("acknowledge result", "subject", it.msg.Subject(), "id", it.result.ID, "err", err)
	}
	switch {
	case it.result.Kind == wire.ResultError:
		in.metrics.results.WithLabelValues("job_error").Inc()
		in.jobErrors.Add(1)
	case it.inserted:
		in.metrics.results.WithLabelValues("stored").Inc()
		in.stored.Add(1)
	default:
		in.metrics.results.WithLabelValues("duplicate").Inc()
		in.duplicates.Add(1)
	}
	if meta, err := it.msg.Metadata(); err == nil {
		in.metrics.latency.Observe(committed.Sub(meta.Timestamp).Seconds())
	}
}

func (in *Ingest) publishDeadLetter(ctx context.Context, it *item) {
	if in.js == nil {
		return
	}
	msg := nats.NewMsg(wire.DeadLetter)
	msg.Data = it.msg.Data()
	msg.Header.Set(HeaderReason, it.reject.Error())
	msg.Header.Set(HeaderSubject, it.msg.Subject())
	if id := it.msg.Headers().Get(nats.MsgIdHdr); id != "" {
		msg.Header.Set(nats.MsgIdHdr, "deadletter-"+id)
	}
	pubCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := in.js.PublishMsg(pubCtx, msg); err != nil {
		in.log.Warn("publish dead letter; it is kept in the store", "subject", it.msg.Subject(), "err", err)
	}
}

func (in *Ingest) notify(items []item) {
	in.mu.Lock()
	onMeasurement, onResult := in.onMeasurement, in.onResult
	in.mu.Unlock()
	for _, it := range items {
		if it.reject != nil {
			continue
		}
		if it.inserted {
			for _, fn := range onMeasurement {
				fn(*it.result.Measurement)
			}
		}
		for _, fn := range onResult {
			fn(it.result)
		}
	}
}

// Stats counts the results handled since New, by outcome.
type Stats struct {
	Stored     int64 `json:"stored"`
	Duplicates int64 `json:"duplicates"` // ids already stored
	Rejected   int64 `json:"rejected"`   // dead-lettered
	JobErrors  int64 `json:"job_errors"` // error results
}

// Stats returns the counts so far.
func (in *Ingest) Stats() Stats {
	return Stats{Stored: in.stored.Load(), Duplicates: in.duplicates.Load(), Rejected: in.rejected.Load(), JobErrors: in.jobErrors.Load()}
}
