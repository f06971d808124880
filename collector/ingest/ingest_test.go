package ingest_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/collector/broker"
	"github.com/edgetran/edgetran/collector/ingest"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/collector/store/storetest"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

type rig struct {
	js    jetstream.JetStream
	store *store.SQLite
	in    *ingest.Ingest
}

// startRig starts an embedded NATS server, a store file and an ingest
// consuming the results and heartbeat streams until the test ends.
func startRig(t testing.TB) *rig {
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
	consumer, heartbeats, err := broker.Setup(ctx, js, broker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "collector.db"))
	if err != nil {
		t.Fatal(err)
	}
	in := ingest.New(ingest.Options{Store: st, JetStream: js, Space: arch.Default()})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); in.Run(ctx, consumer) }()
	go func() { defer wg.Done(); in.RunHeartbeats(ctx, heartbeats) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		st.Close()
	})
	return &rig{js: js, store: st, in: in}
}

func (r *rig) publish(t *testing.T, device string, msgID string, data []byte) {
	t.Helper()
	msg := nats.NewMsg(wire.ResultsSubject(device))
	msg.Data = data
	if msgID != "" {
		msg.Header.Set(nats.MsgIdHdr, msgID)
	}
	if _, err := r.js.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) publishResult(t *testing.T, res wire.Result) {
	t.Helper()
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	r.publish(t, res.Device, res.ID, data)
}

// measurementResult returns a result as an agent sends it; an id of the
// form "<job>#<attempt>" names its job and attempt, as wire.ResultID gives.
func measurementResult(id, device string, n int) wire.Result {
	m := storetest.Measurement(id, device, n)
	r := wire.Result{ID: id, Kind: wire.ResultMeasurement, Device: device, Measurement: &m, SentAt: time.Now()}
	if job, attempt, ok := strings.Cut(id, "#"); ok {
		r.JobID = job
		r.Attempt, _ = strconv.Atoi(attempt)
	}
	return r
}

// waitFor polls cond until it holds or ten seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) count(t *testing.T) int {
	n, err := r.store.CountMeasurements(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIngestStoresPublishedResults(t *testing.T) {
	r := startRig(t)
	got := make(chan measure.Measurement, 100)
	r.in.OnMeasurement(func(m measure.Measurement) { got <- m })
	for i := range 50 {
		r.publishResult(t, measurementResult(storetest.ID(i), "dev1", i))
	}
	waitFor(t, "50 stored measurements", func() bool { return r.count(t) == 50 })
	m, err := r.store.Measurement(context.Background(), storetest.ID(7))
	if err != nil {
		t.Fatal(err)
	}
	if m.LatencyPerSeqS != 0.008 {
		t.Errorf("latency of record 7 = %v, want 0.008", m.LatencyPerSeqS)
	}
	waitFor(t, "50 notifications", func() bool { return len(got) == 50 })
}

func TestDuplicatePublishStoresOneRow(t *testing.T) {
	r := startRig(t)
	res := measurementResult("dup#1", "dev1", 0)
	data, _ := json.Marshal(res)
	// Same Nats-Msg-Id: the server drops the copy inside the window.
	r.publish(t, "dev1", res.ID, data)
	r.publish(t, "dev1", res.ID, data)
	// Different message ids carrying the same result id: the store keeps one.
	r.publish(t, "dev1", "other-1", data)
	r.publish(t, "dev1", "", data)
	r.publishResult(t, measurementResult("after#1", "dev1", 1))
	waitFor(t, "the later result", func() bool {
		_, err := r.store.Measurement(context.Background(), "after#1")
		return err == nil
	})
	if n := r.count(t); n != 2 {
		t.Errorf("stored %d measurements, want 2", n)
	}
	// The server dropped one copy; the ingest saw the other two. Counts
	// follow the commit, so wait for them.
	waitFor(t, "2 stored and 2 duplicates counted", func() bool {
		s := r.in.Stats()
		return s.Stored == 2 && s.Duplicates == 2
	})
}

func TestMalformedResultsAreDeadLettered(t *testing.T) {
	r := startRig(t)
	wrongArchID := measurementResult("badarch#1", "dev1", 0)
	wrongArchID.Measurement.ArchID = "0123"
	badHead := measurementResult("badhead#1", "dev1", 0)
	badHead.Measurement.Arch.O[0][0] = "sa_bogus_64"
	otherDevice := measurementResult("otherdev#1", "dev2", 0)
	zeroLatency := measurementResult("zero#1", "dev1", 0)
	zeroLatency.Measurement.LatencyPerSeqS = 0

	cases := []struct {
		name string
		data []byte
	}{
		{"bad JSON", []byte(`{"id": "x", "kind": `)},
		{"NaN literal", []byte(`{"id":"n#1","kind":"measurement","device":"dev1","measurement":{"latency_per_seq_s":NaN}}`)},
		{"missing id", []byte(`{"kind":"measurement","device":"dev1"}`)},
		{"unknown kind", []byte(`{"id":"k#1","kind":"other","device":"dev1"}`)},
		{"error without job", []byte(`{"id":"e#1","kind":"error","device":"dev1","error":{"code":"invalid","message":"x"}}`)},
		{"wrong arch id", mustJSON(t, wrongArchID)},
		{"unknown head type", mustJSON(t, badHead)},
		{"device mismatch", mustJSON(t, otherDevice)},
		{"zero latency", mustJSON(t, zeroLatency)},
	}
	for _, c := range cases {
		r.publish(t, "dev1", "", c.data)
	}
	r.publishResult(t, measurementResult("good#1", "dev1", 0))
	waitFor(t, "the good result after the bad ones", func() bool { return r.count(t) == 1 })

	letters, err := r.store.DeadLetters(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(letters) != len(cases) {
		t.Fatalf("dead letters = %d, want %d", len(letters), len(cases))
	}
	for _, d := range letters {
		if d.Reason == "" || d.Subject != wire.ResultsSubject("dev1") {
			t.Errorf("dead letter %q: subject %q, reason %q; want the results subject and a reason", d.Data, d.Subject, d.Reason)
		}
	}

	stream, err := r.js.Stream(context.Background(), wire.StreamDeadLetter)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dead letters in the stream", func() bool {
		info, err := stream.Info(context.Background())
		return err == nil && info.State.Msgs == uint64(len(cases))
	})
}

func TestErrorResultFailsJob(t *testing.T) {
	r := startRig(t)
	ctx := context.Background()
	now := time.Now()
	for _, id := range []string{"j-ok", "j-bad"} {
		err := r.store.PutJob(ctx, store.Job{Job: wire.Job{ID: id, Device: "dev1", Attempt: 1}, Status: store.JobQueued, MaxAttempts: 2, SubmittedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
	}
	ok := measurementResult(wire.ResultID("j-ok", 1), "dev1", 0)
	ok.JobID, ok.Attempt = "j-ok", 1
	r.publishResult(t, ok)
	r.publishResult(t, wire.Result{ID: wire.ResultID("j-bad", 1), Kind: wire.ResultError, Device: "dev1", JobID: "j-bad", Attempt: 1,
		Error: &wire.JobError{Code: "too_large", Message: "needs 9 GiB, device has 4"}})

	waitFor(t, "both jobs finished", func() bool {
		a, _ := r.store.Job(ctx, "j-ok")
		b, _ := r.store.Job(ctx, "j-bad")
		return a.Status.Final() && b.Status.Final()
	})
	a, _ := r.store.Job(ctx, "j-ok")
	b, _ := r.store.Job(ctx, "j-bad")
	if a.Status != store.JobDone {
		t.Errorf("j-ok status = %s, want done", a.Status)
	}
	if b.Status != store.JobFailed || b.Error != "too_large: needs 9 GiB, device has 4" {
		t.Errorf("j-bad = %s %q, want failed with the agent's error", b.Status, b.Error)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
