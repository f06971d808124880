package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/collector/broker"
	"github.com/edgetran/edgetran/collector/jobs"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/collector/store/storetest"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/wire"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type rig struct {
	js    jetstream.JetStream
	store *store.SQLite
	jobs  *jobs.Manager
	clock *clock
	agent jetstream.Consumer
}

func startRig(t *testing.T, maxAttempts int) *rig {
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
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, _, err := broker.Setup(ctx, js, broker.Options{}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "collector.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	m := jobs.New(jobs.Options{Store: st, JetStream: js, Space: arch.Default(), MaxAttempts: maxAttempts,
		DeviceTimeout: 30 * time.Second, Now: clk.Now})
	agent, err := js.CreateOrUpdateConsumer(ctx, wire.StreamJobs, jetstream.ConsumerConfig{
		Durable: broker.AgentConsumer("dev1"), FilterSubject: wire.JobsSubject("dev1"), AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{js: js, store: st, jobs: m, clock: clk, agent: agent}
}

// take pulls the next job as the agent of dev1 would.
func (r *rig) take(t *testing.T) wire.Job {
	t.Helper()
	msg, err := r.agent.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatalf("agent got no job: %v", err)
	}
	msg.Ack()
	var j wire.Job
	if err := json.Unmarshal(msg.Data(), &j); err != nil {
		t.Fatal(err)
	}
	return j
}

func (r *rig) heartbeat(t *testing.T, jobID string) {
	t.Helper()
	h := wire.Heartbeat{Device: "dev1", State: "busy", JobID: jobID, IntervalS: 5}
	if err := r.store.PutHeartbeat(context.Background(), h, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	r.jobs.HandleHeartbeat(h, r.clock.Now())
}

func (r *rig) status(t *testing.T, id string) store.Job {
	t.Helper()
	j, err := r.store.Job(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func submit(t *testing.T, r *rig) store.Job {
	t.Helper()
	sj, err := r.jobs.Submit(context.Background(), wire.Job{Device: "dev1", Arch: storetest.Arch(0), Batch: 1, SeqLen: 128})
	if err != nil {
		t.Fatal(err)
	}
	return sj
}

func TestHeartbeatMarksJobRunning(t *testing.T) {
	r := startRig(t, 3)
	sj := submit(t, r)
	if sj.Status != store.JobQueued {
		t.Fatalf("submitted status = %s, want queued", sj.Status)
	}
	job := r.take(t)
	r.heartbeat(t, job.ID)
	if got := r.status(t, job.ID).Status; got != store.JobRunning {
		t.Errorf("status after heartbeat = %s, want running", got)
	}
}

func TestSilentDeviceRequeuesJob(t *testing.T) {
	r := startRig(t, 3)
	ctx := context.Background()
	submit(t, r)
	job := r.take(t)
	r.heartbeat(t, job.ID)

	r.clock.Advance(20 * time.Second)
	if err := r.jobs.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.status(t, job.ID); got.Status != store.JobRunning || got.Job.Attempt != 1 {
		t.Fatalf("after 20s of silence: %s attempt %d, want running attempt 1", got.Status, got.Job.Attempt)
	}

	r.clock.Advance(20 * time.Second)
	if err := r.jobs.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.status(t, job.ID); got.Status != store.JobQueued || got.Job.Attempt != 2 {
		t.Fatalf("after 40s of silence: %s attempt %d, want queued attempt 2", got.Status, got.Job.Attempt)
	}
	again := r.take(t)
	if again.ID != job.ID || again.Attempt != 2 {
		t.Errorf("agent got %s attempt %d, want %s attempt 2", again.ID, again.Attempt, job.ID)
	}
}

func TestJobExpiresAfterLastAttempt(t *testing.T) {
	r := startRig(t, 2)
	ctx := context.Background()
	submit(t, r)
	job := r.take(t)
	for attempt := 1; attempt <= 2; attempt++ {
		r.heartbeat(t, job.ID)
		r.clock.Advance(time.Minute)
		if err := r.jobs.Check(ctx); err != nil {
			t.Fatal(err)
		}
		if attempt == 1 {
			job = r.take(t)
		}
	}
	got := r.status(t, job.ID)
	if got.Status != store.JobExpired {
		t.Fatalf("status = %s, want expired", got.Status)
	}
	_, err := r.jobs.Wait(ctx, job.ID)
	if !errors.Is(err, jobs.ErrJobFailed) {
		t.Errorf("Wait error = %v, want ErrJobFailed", err)
	}
}

func TestSubmitRejectsBadJobs(t *testing.T) {
	r := startRig(t, 3)
	ctx := context.Background()
	badArch := storetest.Arch(0)
	badArch.H[0] = 100
	cases := []struct {
		name string
		job  wire.Job
		want error
	}{
		{"bad device id", wire.Job{Device: "a.b", Arch: storetest.Arch(0), Batch: 1, SeqLen: 128}, jobs.ErrInvalidJob},
		{"zero batch", wire.Job{Device: "dev1", Arch: storetest.Arch(0), SeqLen: 128}, jobs.ErrInvalidJob},
		{"arch outside space", wire.Job{Device: "dev1", Arch: badArch, Batch: 1, SeqLen: 128}, jobs.ErrInvalidJob},
	}
	for _, c := range cases {
		if _, err := r.jobs.Submit(ctx, c.job); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	first := submit(t, r)
	_, err := r.jobs.Submit(ctx, wire.Job{ID: first.Job.ID, Device: "dev1", Arch: storetest.Arch(0), Batch: 1, SeqLen: 128})
	if !errors.Is(err, jobs.ErrDuplicateID) {
		t.Errorf("reused id: err = %v, want ErrDuplicateID", err)
	}
}

func TestWaitUnknownJobIsNotFound(t *testing.T) {
	r := startRig(t, 3)
	if _, err := r.jobs.Wait(context.Background(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}
