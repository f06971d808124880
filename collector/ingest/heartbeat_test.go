package ingest_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/collector/broker"
	"github.com/edgetran/edgetran/collector/ingest"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/wire"
)

// startHeartbeats starts an embedded NATS server, a store file and an
// ingest recording heartbeats until the test ends.
func startHeartbeats(t *testing.T) (jetstream.JetStream, *store.SQLite) {
	t.Helper()
	dir := t.TempDir()
	srv, err := broker.StartEmbedded("127.0.0.1:0", filepath.Join(dir, "nats"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, heartbeats, err := broker.Setup(ctx, js, broker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "collector.db"))
	if err != nil {
		t.Fatal(err)
	}
	in := ingest.New(ingest.Options{Store: st, JetStream: js, Space: arch.Default()})
	done := make(chan struct{})
	go func() {
		defer close(done)
		in.RunHeartbeats(ctx, heartbeats)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	return js, st
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
