package ingest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/wire"
)

// startHeartbeats starts the ingest rig and returns its JetStream context
// and store.
func startHeartbeats(t *testing.T) (jetstream.JetStream, *store.SQLite) {
	t.Helper()
	r := startRig(t)
	return r.js, r.store
}

func TestHeartbeatIntervalIsClamped(t *testing.T) {
	js, st := startHeartbeats(t)
	ctx := context.Background()
	cases := []struct {
		device   string
		interval float64
		want     float64
	}{
		{"huge", 3e9, 3600},
		{"negative", -5, 0},
		{"usual", 5, 5},
	}
	for _, c := range cases {
		data, err := json.Marshal(wire.Heartbeat{Device: c.device, State: "idle", IntervalS: c.interval})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, wire.HeartbeatSubject(c.device), data); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		var d store.Device
		waitFor(t, "heartbeat of "+c.device, func() bool {
			var err error
			d, err = st.Device(ctx, c.device)
			return err == nil && d.Heartbeat != nil
		})
		if d.Heartbeat.IntervalS != c.want {
			t.Errorf("device %s sent interval %v: stored %v, want %v", c.device, c.interval, d.Heartbeat.IntervalS, c.want)
		}
	}
}
