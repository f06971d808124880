package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/collector/jobs"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/wire"
)

// idle records an idle heartbeat of dev1 at the rig's time.
func (r *rig) idle(t *testing.T) {
	t.Helper()
	h := wire.Heartbeat{Device: "dev1", State: "idle", IntervalS: 5}
	if err := r.store.PutHeartbeat(context.Background(), h, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	r.jobs.HandleHeartbeat(h, r.clock.Now())
}

// offline returns a manager on r's store whose NATS connection is closed,
// so every publish fails.
func (r *rig) offline(t *testing.T, url string) *jobs.Manager {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	return jobs.New(jobs.Options{Store: r.store, JetStream: js, Space: arch.Default(), MaxAttempts: 3,
		DeviceTimeout: 30 * time.Second, Now: r.clock.Now})
}

func TestLostRequeueIsPublishedAgain(t *testing.T) {
	r := startRig(t, 3)
	ctx := context.Background()
	first, second := submit(t, r), submit(t, r)
	for range 2 {
		r.heartbeat(t, r.take(t).ID)
	}
	r.clock.Advance(40 * time.Second)

	if err := r.offline(t, r.js.Conn().ConnectedUrl()).Check(ctx); err == nil {
		t.Fatal("check with NATS closed: no error, want the failed publishes")
	}
	for _, id := range []string{first.Job.ID, second.Job.ID} {
		if got := r.status(t, id); got.Status != store.JobQueued || got.Job.Attempt != 2 {
			t.Fatalf("job %s after a failed re-queue: %s attempt %d, want queued attempt 2", id, got.Status, got.Job.Attempt)
		}
	}

	// The agent comes back idle; once it has idled for the device timeout
	// the lost jobs go out again.
	r.idle(t)
	r.clock.Advance(31 * time.Second)
	r.idle(t)
	if err := r.jobs.Check(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for range 2 {
		j := r.take(t)
		got[j.ID] = j.Attempt
	}
	if got[first.Job.ID] != 2 || got[second.Job.ID] != 2 {
		t.Errorf("jobs the agent received: %v, want both at attempt 2", got)
	}
}

func TestBusyDeviceKeepsQueuedJob(t *testing.T) {
	r := startRig(t, 3)
	ctx := context.Background()
	submit(t, r)
	r.clock.Advance(40 * time.Second)
	r.heartbeat(t, "")
	if err := r.jobs.Check(ctx); err != nil {
		t.Fatal(err)
	}
	r.take(t)
	if msg, err := r.agent.Next(jetstream.FetchMaxWait(500 * time.Millisecond)); err == nil {
		t.Errorf("a busy device's queued job was published again: %s", msg.Data())
	}
}
