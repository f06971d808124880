package codesign

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/collector/broker"
	"github.com/edgetran/edgetran/collector/service"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// runDeviceLoop pulls the jobs of device from JetStream and publishes a
// measurement result for each, as an agent does: latency is 2 ms per
// encoder layer and peak power 4 W. It returns when ctx is done.
func runDeviceLoop(ctx context.Context, t *testing.T, js jetstream.JetStream, device string) {
	cons, err := js.CreateOrUpdateConsumer(ctx, wire.StreamJobs, jetstream.ConsumerConfig{
		Durable: broker.AgentConsumer(device), FilterSubject: wire.JobsSubject(device), AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Errorf("create job consumer: %v", err)
		return
	}
	for ctx.Err() == nil {
		msg, err := cons.Next(jetstream.FetchMaxWait(200 * time.Millisecond))
		if errors.Is(err, jetstream.ErrNoMessages) || errors.Is(err, nats.ErrTimeout) {
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				t.Errorf("pull job: %v", err)
			}
			return
		}
		var job wire.Job
		if err := json.Unmarshal(msg.Data(), &job); err != nil {
			t.Errorf("decode job: %v", err)
			return
		}
		msg.Ack()

		id := wire.ResultID(job.ID, job.Attempt)
		lat := 0.002 * float64(job.Arch.L)
		m := measure.Measurement{
			ID: id, JobID: job.ID, Attempt: job.Attempt, Arch: job.Arch, ArchID: arch.Default().ID(job.Arch),
			Target:         measure.Target{Device: device, ComputeUnit: "cpu", Runtime: job.Runner, Batch: job.Batch, SeqLen: job.SeqLen, Precision: job.Precision},
			Provenance:     measure.Measured,
			LatencyPerSeqS: lat,
			Latency:        &measure.LatencyStats{Mean: lat * float64(job.Batch), P50: lat, P90: lat, P99: lat, Min: lat, Max: lat, N: 20},
			EnergyPerSeqJ:  measure.Float(4 * lat),
			PeakPowerW:     measure.Float(4),
			MeasuredAt:     time.Now().UTC(),
		}
		data, err := json.Marshal(wire.Result{ID: id, Kind: wire.ResultMeasurement, Device: device, JobID: job.ID, Attempt: job.Attempt, Measurement: &m, SentAt: time.Now().UTC()})
		if err != nil {
			t.Errorf("encode result: %v", err)
			return
		}
		out := nats.NewMsg(wire.ResultsSubject(device))
		out.Data = data
		out.Header.Set(nats.MsgIdHdr, id)
		if _, err := js.PublishMsg(ctx, out); err != nil && ctx.Err() == nil {
			t.Errorf("publish result: %v", err)
			return
		}
	}
}

func TestLiveSearchThroughCollector(t *testing.T) {
	c, err := service.New(service.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(context.Background()) })

	nc, err := nats.Connect(c.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runDeviceLoop(ctx, t, js, "dev1")
	}()

	p := &Problem{
		Space:     arch.Default(),
		Targets:   []measure.Target{{Device: "dev1", ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 64, Precision: "fp32"}},
		Objective: Objective{Weights: map[Measure]float64{Latency: 0.5, PeakPower: 0.5}, Normalisers: map[Measure]float64{Latency: 1, PeakPower: 300}},
		Evaluator: &LiveEvaluator{Jobs: c.Jobs(), Timeout: 30 * time.Second, CampaignID: "codesign-live"},
	}
	rep, err := Run(ctx, p, Options{Strategies: []string{StrategyBOSHCODE}, Budget: 20, Batch: 4, Seed: 1})
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}

	s := rep.Strategies[0]
	if s.Evaluations != 20 || s.Failures != 0 {
		t.Errorf("%d evaluations and %d failures, want 20 and 0", s.Evaluations, s.Failures)
	}
	if rep.Best.Kind != Measured {
		t.Errorf("best pair kind %q, want %q", rep.Best.Kind, Measured)
	}
	if got, want := rep.Best.Measures[Latency].Mean, 0.002*float64(rep.Best.Arch.L); got != want {
		t.Errorf("best latency %v s, want the measured %v s", got, want)
	}
	page, err := c.Store().Measurements(context.Background(), store.Query{Device: "dev1", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Measurements) != 20 {
		t.Errorf("store holds %d measurements of dev1, want one per evaluation (20)", len(page.Measurements))
	}
}
