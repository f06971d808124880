package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/shared/wire"
)

// flushRetry is how often a non-empty outbox is retried without a wake-up.
const flushRetry = 5 * time.Second

// flushLoop publishes the outbox whenever it is woken (a new result, a
// reconnection) and every flushRetry while entries remain.
func (d *Daemon) flushLoop(ctx context.Context) {
	ticker := time.NewTicker(flushRetry)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.flush:
		case <-ticker.C:
			if d.outbox.Len() == 0 {
				continue
			}
		}
		if err := d.flushOutbox(ctx); err != nil {
			if ctx.Err() != nil {
				// Shutting down: Run makes one last flush with its own
				// deadline and reports what stays in the outbox.
				return
			}
			d.warn.Warn("flush", "results not acknowledged yet; will retry", "outbox", d.outbox.Len(), "err", err)
		} else {
			d.warn.Reset("flush")
		}
	}
}

// flushOutbox publishes queued results oldest first and removes each after
// its PubAck. It stops at the first failure so that order is kept.
func (d *Daemon) flushOutbox(ctx context.Context) error {
	for {
		entries, err := d.outbox.Entries(32)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return nil
		}
		for _, e := range entries {
			pctx, cancel := context.WithTimeout(ctx, flushTimeout)
			ack, err := d.js.Publish(pctx, wire.ResultsSubject(d.device), e.Data,
				jetstream.WithMsgID(e.ID), jetstream.WithExpectStream(wire.StreamResults))
			cancel()
			if err != nil {
				return fmt.Errorf("publish result %s: %w", e.ID, err)
			}
			if err := d.outbox.Remove(e.ID); err != nil {
				return err
			}
			d.log.Info("result acknowledged", "job", e.ID, "stream_seq", ack.Sequence, "duplicate", ack.Duplicate)
		}
	}
}
