package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/collector/jobs"
	"github.com/edgetran/edgetran/collector/service"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/collector/store/storetest"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

func startCollector(t *testing.T, cfg service.Config) *service.Collector {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.NATSListen == "" {
		cfg.NATSListen = "127.0.0.1:0"
	}
	if cfg.HTTP == "" {
		cfg.HTTP = "127.0.0.1:0"
	}
	c, err := service.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(context.Background()) })
	return c
}

func agentJetStream(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func publishResult(t *testing.T, js jetstream.JetStream, r wire.Result) {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg(wire.ResultsSubject(r.Device))
	msg.Data = data
	msg.Header.Set(nats.MsgIdHdr, r.ID)
	if _, err := js.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
}

func TestCollectorServesIngestedResults(t *testing.T) {
	c := startCollector(t, service.Config{})
	js := agentJetStream(t, c.NATSURL())
	m := storetest.Measurement("r-1", "dev1", 0)
	publishResult(t, js, wire.Result{ID: m.ID, Kind: wire.ResultMeasurement, Device: "dev1", Measurement: &m})

	client, err := api.NewClient("http://"+c.HTTPAddr(), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := client.Health(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h.Measurements == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the measurement")
		}
		time.Sleep(20 * time.Millisecond)
	}

	resp, err := http.Get("http://" + c.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`edgetran_ingest_results_total{outcome="stored"} 1`, `edgetran_ingest_pending 0`, `edgetran_jobs{status="queued"} 0`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestOnMeasurementSeesNewRecords(t *testing.T) {
	cfg := service.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0"}
	c, err := service.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan measure.Measurement, 4)
	c.OnMeasurement(func(m measure.Measurement) { got <- m })
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	js := agentJetStream(t, c.NATSURL())
	m := storetest.Measurement("r-1", "dev1", 0)
	publishResult(t, js, wire.Result{ID: m.ID, Kind: wire.ResultMeasurement, Device: "dev1", Measurement: &m})
	select {
	case n := <-got:
		if n.ID != "r-1" {
			t.Errorf("notified id %s, want r-1", n.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10s")
	}
}

func TestJobSubmitRunWait(t *testing.T) {
	c := startCollector(t, service.Config{})
	ctx := context.Background()
	js := agentJetStream(t, c.NATSURL())

	sj, err := c.Jobs().Submit(ctx, wire.Job{Device: "dev1", Arch: storetest.Arch(0), Batch: 1, SeqLen: 128})
	if err != nil {
		t.Fatal(err)
	}

	// Act as the agent: bind its own consumer on its jobs subject.
	cons, err := js.CreateOrUpdateConsumer(ctx, wire.StreamJobs, jetstream.ConsumerConfig{
		Durable: "agent-dev1", FilterSubject: wire.JobsSubject("dev1"), AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var job wire.Job
	if err := json.Unmarshal(msg.Data(), &job); err != nil {
		t.Fatal(err)
	}
	msg.Ack()
	if job.ID != sj.Job.ID || job.Attempt != 1 || job.Runner != jobs.DefaultRunner {
		t.Fatalf("agent got job %s attempt %d runner %q, want %s attempt 1 runner builtin", job.ID, job.Attempt, job.Runner, sj.Job.ID)
	}

	waited := make(chan error, 1)
	var got measure.Measurement
	go func() {
		var err error
		got, err = c.Jobs().Wait(ctx, job.ID)
		waited <- err
	}()
	m := storetest.Measurement(wire.ResultID(job.ID, job.Attempt), "dev1", 0)
	m.JobID, m.Attempt = job.ID, job.Attempt
	publishResult(t, js, wire.Result{ID: m.ID, Kind: wire.ResultMeasurement, Device: "dev1", JobID: job.ID, Attempt: 1, Measurement: &m})
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return within 10s")
	}
	if got.ID != m.ID {
		t.Errorf("Wait returned %s, want %s", got.ID, m.ID)
	}
	stored, _ := c.Store().Job(ctx, job.ID)
	if stored.Status != store.JobDone {
		t.Errorf("job status = %s, want done", stored.Status)
	}
}

func TestWaitReportsFailedJob(t *testing.T) {
	c := startCollector(t, service.Config{})
	ctx := context.Background()
	js := agentJetStream(t, c.NATSURL())
	sj, err := c.Jobs().Submit(ctx, wire.Job{Device: "dev1", Arch: storetest.Arch(0), Batch: 1, SeqLen: 128})
	if err != nil {
		t.Fatal(err)
	}
	id := sj.Job.ID
	data, _ := json.Marshal(wire.Result{ID: wire.ResultID(id, 1), Kind: wire.ResultError, Device: "dev1", JobID: id, Attempt: 1,
		Error: &wire.JobError{Code: "runner_failed", Message: "out of memory"}})
	if _, err := js.Publish(ctx, wire.ResultsSubject("dev1"), data); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = c.Jobs().Wait(wctx, id)
	if !errors.Is(err, jobs.ErrJobFailed) || !strings.Contains(err.Error(), "out of memory") {
		t.Fatalf("Wait error = %v, want ErrJobFailed with the agent's message", err)
	}
}

func TestHeartbeatsFillDeviceRegistry(t *testing.T) {
	c := startCollector(t, service.Config{})
	ctx := context.Background()
	js := agentJetStream(t, c.NATSURL())
	publish := func(subject string, v any) {
		t.Helper()
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, subject, data); err != nil {
			t.Fatal(err)
		}
	}
	publish(wire.AnnounceSubject("dev1"), wire.Announce{Device: "dev1", Name: "bench box", Cores: 4})
	// A heartbeat claiming another device is rejected, not recorded.
	publish(wire.HeartbeatSubject("dev1"), wire.Heartbeat{Device: "dev2", Seq: 1, State: "idle", IntervalS: 5})
	publish(wire.HeartbeatSubject("dev1"), wire.Heartbeat{Device: "dev1", Seq: 7, State: "idle", IntervalS: 5})

	client, _ := api.NewClient("http://"+c.HTTPAddr(), "")
	deadline := time.Now().Add(10 * time.Second)
	var devices []api.DeviceStatus
	for {
		var err error
		if devices, err = client.Devices(ctx); err != nil {
			t.Fatal(err)
		}
		if len(devices) == 1 && devices[0].Heartbeat != nil && devices[0].Announce != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("devices = %+v after 10s, want dev1 with announce and heartbeat", devices)
		}
		time.Sleep(20 * time.Millisecond)
	}
	d := devices[0]
	if d.ID != "dev1" || !d.Alive || d.Heartbeat.Seq != 7 || d.Announce.Name != "bench box" {
		t.Errorf("device = %s alive=%v seq=%d name=%q, want dev1 alive seq 7 bench box", d.ID, d.Alive, d.Heartbeat.Seq, d.Announce.Name)
	}
}
