package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/shared/wire"
)

// MaxHeartbeatIntervalS is the largest heartbeat interval_s recorded, in
// seconds. A larger value is stored as this one. A negative value is stored
// as 0 (unknown), so the job manager's device timeout applies.
const MaxHeartbeatIntervalS = 3600.0

// OnHeartbeat registers fn to be called with every heartbeat after it was
// recorded, with the time the collector received it. fn must return quickly.
func (in *Ingest) OnHeartbeat(fn func(h wire.Heartbeat, at time.Time)) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.onHeartbeat = append(in.onHeartbeat, fn)
}

// RunHeartbeats records heartbeats and announcements from consumer in the
// device registry until ctx is cancelled. A message that does not decode or
// names another device than its subject is logged and terminated.
func (in *Ingest) RunHeartbeats(ctx context.Context, consumer jetstream.Consumer) error {
	iter, err := consumer.Messages(jetstream.PullMaxMessages(100))
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, iter.Stop)
	defer stop()
	for {
		msg, err := iter.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return nil
		}
		if err != nil {
			in.log.Warn("pull heartbeats", "err", err)
			time.Sleep(pullRetryDelay)
			continue
		}
		if err := in.recordHeartbeat(ctx, msg); err != nil {
			in.log.Warn("reject heartbeat", "subject", msg.Subject(), "reason", err)
			msg.Term()
			continue
		}
		msg.Ack()
	}
}

func (in *Ingest) recordHeartbeat(ctx context.Context, msg jetstream.Msg) error {
	device, err := wire.DeviceFromSubject(msg.Subject())
	if err != nil {
		return err
	}
	at := time.Now()
	if strings.HasPrefix(msg.Subject(), wire.AnnounceSubject("")) {
		var a wire.Announce
		if err := json.Unmarshal(msg.Data(), &a); err != nil {
			return fmt.Errorf("decode announce JSON: %w", err)
		}
		if a.Device != device {
			return fmt.Errorf("announce device %q differs from subject device %q", a.Device, device)
		}
		in.metrics.heartbeats.Inc()
		return in.store.PutAnnounce(ctx, a, at)
	}

	var h wire.Heartbeat
	if err := json.Unmarshal(msg.Data(), &h); err != nil {
		return fmt.Errorf("decode heartbeat JSON: %w", err)
	}
	if h.Device != device {
		return fmt.Errorf("heartbeat device %q differs from subject device %q", h.Device, device)
	}
	// The job manager counts a device as gone after three intervals, so an
	// absurd interval would keep a dead device alive for years.
	if h.IntervalS < 0 || h.IntervalS > MaxHeartbeatIntervalS {
		clamped := min(max(h.IntervalS, 0), MaxHeartbeatIntervalS)
		in.log.Warn("heartbeat interval out of range; clamped", "device", device, "interval_s", h.IntervalS, "clamped_s", clamped)
		h.IntervalS = clamped
	}
	if err := in.store.PutHeartbeat(ctx, h, at); err != nil {
		return err
	}
	in.metrics.heartbeats.Inc()
	in.mu.Lock()
	fns := in.onHeartbeat
	in.mu.Unlock()
	for _, fn := range fns {
		fn(h, at)
	}
	return nil
}
