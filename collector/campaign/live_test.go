package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/collector/broker"
	"github.com/edgetran/edgetran/collector/ingest"
	"github.com/edgetran/edgetran/collector/jobs"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

const liveDevice = "bench1"

// startCollector runs the collector's job path on loopback: an embedded
// NATS server with JetStream, a SQLite store, the job manager and result
// ingest. It returns the job manager, the JetStream context and the store.
func startCollector(t *testing.T, ctx context.Context) (*jobs.Manager, jetstream.JetStream, *store.SQLite) {
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
	results, _, err := broker.Setup(ctx, js, broker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "collector.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	jm := jobs.New(jobs.Options{Store: st, JetStream: js, Space: arch.Default()})
	in := ingest.New(ingest.Options{Store: st, JetStream: js, Space: arch.Default()})
	in.OnResult(jm.HandleResult)
	go in.Run(ctx, results)
	return jm, js, st
}

// runAgent publishes a result for every profile job of liveDevice, as an
// agent does. The device is simulated at this boundary only: the
// latency per sequence is 1 ns per floating-point operation plus 1 ms, and
// jobs whose architecture has 12 layers fail, as a runner error would.
func runAgent(t *testing.T, ctx context.Context, js jetstream.JetStream) {
	t.Helper()
	cons, err := js.CreateOrUpdateConsumer(ctx, wire.StreamJobs, jetstream.ConsumerConfig{
		Durable: broker.AgentConsumer(liveDevice), FilterSubject: wire.JobsSubject(liveDevice), AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	space := arch.Default()
	go func() {
		for ctx.Err() == nil {
			msg, err := cons.Next(jetstream.FetchMaxWait(time.Second))
			if err != nil {
				continue
			}
			var j wire.Job
			if err := json.Unmarshal(msg.Data(), &j); err != nil {
				t.Errorf("agent: decode job: %v", err)
				return
			}
			id := wire.ResultID(j.ID, j.Attempt)
			r := wire.Result{ID: id, Device: liveDevice, JobID: j.ID, Attempt: j.Attempt, SentAt: time.Now()}
			if j.Arch.L == 12 {
				r.Kind, r.Error = wire.ResultError, &wire.JobError{Code: "runner_failed", Message: "out of memory"}
			} else {
				latency := 1e-9*space.Features(j.Arch, 1, j.SeqLen).FLOPs() + 1e-3
				r.Kind = wire.ResultMeasurement
				r.Measurement = &measure.Measurement{
					ID: id, ArchID: space.ID(j.Arch), Arch: j.Arch, Provenance: measure.Measured,
					Target:         measure.Target{Device: liveDevice, ComputeUnit: "cpu", Runtime: j.Runner, Batch: j.Batch, SeqLen: j.SeqLen, Precision: j.Precision},
					LatencyPerSeqS: latency, JobID: j.ID, Attempt: j.Attempt, MeasuredAt: time.Now(),
				}
			}
			data, _ := json.Marshal(r)
			if _, err := js.Publish(ctx, wire.ResultsSubject(liveDevice), data, jetstream.WithMsgID(id)); err != nil && ctx.Err() == nil {
				t.Errorf("agent: publish result: %v", err)
			}
			msg.Ack()
		}
	}()
}

func TestLiveCampaignMeasuresThroughAgent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	jm, js, _ := startCollector(t, ctx)
	runAgent(t, ctx, js)

	target := measure.Target{Device: liveDevice, ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 128, Precision: "fp32"}
	live := &Live{Jobs: jm, Target: target, CampaignID: "c1", Timeout: 30 * time.Second, Retries: -1}
	st, err := New("c1", target.Key(), Config{Model: surrogate.KindLinear, Initial: 4, TestSize: 4, Batch: 2, Budget: 14, Threshold: 1e-12, Candidates: 50, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := Run(ctx, st, live, nil, Hooks{}); err != nil {
		t.Fatal(err)
	}
	if st.Status != Budget {
		t.Errorf("status = %s (%s), want budget", st.Status, st.Reason)
	}
	if st.Measured() != 14 {
		t.Errorf("measured = %d, want the budget 14", st.Measured())
	}
	for _, s := range append(st.Test, st.Train...) {
		want := 1e-9*arch.Default().Features(s.Arch, 1, 128).FLOPs() + 1e-3
		if s.Value != want {
			t.Errorf("%s: value %v, want the agent's %v", s.ArchID, s.Value, want)
		}
		if s.MeasurementID == "" {
			t.Errorf("%s: no measurement id", s.ArchID)
		}
	}
}

func TestLiveReportsFailedJob(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	jm, js, _ := startCollector(t, ctx)
	runAgent(t, ctx, js)

	target := measure.Target{Device: liveDevice, ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 128, Precision: "fp32"}
	live := &Live{Jobs: jm, Target: target, Timeout: 30 * time.Second, Retries: -1}
	ok := arch.Default().Random(roundRNG(1, 1))
	ok.L = 2
	ok.H, ok.F, ok.O = ok.H[:2], ok.F[:2], ok.O[:2]
	bad := arch.Architecture{L: 12}
	for range 12 {
		bad.H = append(bad.H, 256)
		bad.F = append(bad.F, []int{512})
		bad.O = append(bad.O, []string{"sa_sdp_128", "sa_sdp_128"})
	}
	out, err := live.Evaluate(ctx, []arch.Architecture{ok, bad})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Err != nil || !(out[0].Value > 0) {
		t.Errorf("valid job: outcome %+v, want a positive value", out[0])
	}
	if !errors.Is(out[1].Err, jobs.ErrJobFailed) {
		t.Errorf("failing job: err = %v, want jobs.ErrJobFailed", out[1].Err)
	}
}
