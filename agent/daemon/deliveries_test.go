package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/shared/wire"
)

func TestOverDeliveredJobGetsErrorResult(t *testing.T) {
	ts := startServer(t)
	cfg := testConfig(t, ts.url(), t.TempDir())
	opts := testOptions(t, cfg)
	ts.submit(testJob(t, "crasher", 0))

	// Deliver the job maxDeliveries times on the agent's own consumer
	// without finishing it, as an agent that crashes on it each time would.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cons, err := ts.js().CreateOrUpdateConsumer(ctx, wire.StreamJobs, jetstream.ConsumerConfig{
		Durable: ConsumerName(testDevice), FilterSubject: wire.JobsSubject(testDevice),
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: opts.AckWait, MaxAckPending: 1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	for range maxDeliveries {
		msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("pre-delivery: %v", err)
		}
		if err := msg.Nak(); err != nil {
			t.Fatal(err)
		}
	}

	runDaemon(t, opts)
	got := ts.waitResults(1, time.Minute)
	r := got[0]
	if r.ID != wire.ResultID("crasher", 1) || r.Kind != wire.ResultError || r.Error == nil {
		t.Fatalf("result %s kind %s error %+v, want an error result for crasher#1", r.ID, r.Kind, r.Error)
	}
	if r.Error.Code != "aborted" {
		t.Errorf("code = %q, want aborted", r.Error.Code)
	}
	if !strings.Contains(r.Error.Message, "delivered") {
		t.Errorf("message %q does not say the job was delivered too often", r.Error.Message)
	}
}
