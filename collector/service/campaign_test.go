package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/setup/setuptest"
	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/collector/campaign"
	"github.com/edgetran/edgetran/collector/service"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/dataset"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/pubdata"
)

// testDevice is the device id of the in-process agent.
const testDevice = "testhost"

// tinySpace holds two-layer models of width 128 with one feed-forward
// layer, so the builtin engine profiles each in well under a second.
func tinySpace(t *testing.T) *arch.Space {
	t.Helper()
	sp, err := arch.NewSpace(arch.Space{
		Layers: []int{2}, Hidden: []int{128}, FFWidths: []int{256, 512}, FFDepthMax: 1,
		HeadCounts: []int{2, 4}, HeadTypes: []arch.HeadType{arch.ScaledDotProduct, arch.FourierTransform},
	})
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// tinyCampaign is a campaign of budget measurements (2 test, 2 initial,
// then one per round) with the least profiling effort the job manager
// accepts.
func tinyCampaign(t *testing.T, id string, budget int) api.StartCampaignRequest {
	return api.StartCampaignRequest{
		ID:     id,
		Target: measure.Target{Device: testDevice, SeqLen: 16},
		Config: campaign.Config{
			Budget: budget, TestSize: 2, Initial: 2, Batch: 1, Seed: 7, Candidates: 50, Model: "ensemble",
			Space: tinySpace(t), Job: campaign.JobSettings{Warmup: 1, MinIters: 2, MinSeconds: 0.1, Repeats: 1},
		},
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago, so two collectors in turn can serve NATS on the same port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startAgent runs an agent built the way the agent command builds it,
// with the builtin runner and the estimate meter, connected to natsURL.
// It returns once the collector knows the device.
func startAgent(t *testing.T, natsURL string, client *api.Client) {
	t.Helper()
	cfg := config.Default()
	cfg.Device.ID = testDevice
	cfg.NATS.Servers = []string{natsURL}
	cfg.NATS.ReconnectWait = config.Duration(100 * time.Millisecond)
	cfg.NATS.MaxReconnectWait = config.Duration(500 * time.Millisecond)
	cfg.Outbox.Dir = t.TempDir()
	cfg.Meter.Name = "estimate"
	cfg.Meter.Estimate = config.Estimate{IdleW: 10, MaxW: 65}
	cfg.Meter.IdleWindow = config.Duration(200 * time.Millisecond)
	cfg.HeartbeatInterval = config.Duration(time.Second)
	if err := cfg.FillDefaults(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	setuptest.Start(t, &cfg, testLogger().With("component", "agent"))

	waitFor(t, "the agent's device to be known", func() bool {
		list, err := client.Devices(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range list {
			if d.ID == testDevice {
				return true
			}
		}
		return false
	})
}

// testLogger writes logs to stderr when EDGETRAN_TEST_LOG
// is set, to follow a slow or failing run, and discards logs otherwise.
func testLogger() *slog.Logger {
	if os.Getenv("EDGETRAN_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func newCollector(t *testing.T, cfg service.Config) (*service.Collector, *api.Client) {
	t.Helper()
	c, err := service.New(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	client, err := api.NewClient("http://"+c.HTTPAddr(), "")
	if err != nil {
		t.Fatal(err)
	}
	return c, client
}

// waitFor polls cond until it holds, failing the test after two minutes:
// a bound for a hung test, not a performance check.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitCampaign(t *testing.T, client *api.Client, id string, done func(api.CampaignStatus) bool) api.CampaignStatus {
	t.Helper()
	var st api.CampaignStatus
	waitFor(t, "campaign "+id, func() bool {
		var err error
		st, err = client.Campaign(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return done(st)
	})
	return st
}

func finished(st api.CampaignStatus) bool { return st.Status != campaign.Running }

// checkMeasurements checks that the target holds want measurements, one
// per architecture, all labelled estimated and all from the tiny space.
func checkMeasurements(t *testing.T, st store.Store, target string, want int) {
	t.Helper()
	tg, err := measure.ParseTargetKey(target)
	if err != nil {
		t.Fatal(err)
	}
	all, err := store.All(context.Background(), st, store.Query{Device: tg.Device})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != want {
		t.Errorf("stored measurements = %d, want %d", len(all), want)
	}
	space := tinySpace(t)
	seen := map[string]bool{}
	for _, m := range all {
		if m.Target.Key() != target {
			t.Errorf("measurement %s target = %s, want %s", m.ID, m.Target.Key(), target)
		}
		if m.Provenance != measure.Estimated {
			t.Errorf("measurement %s provenance = %q, want %q (this host has only the estimate meter)", m.ID, m.Provenance, measure.Estimated)
		}
		if seen[m.ArchID] {
			t.Errorf("architecture %s measured twice", m.ArchID)
		}
		seen[m.ArchID] = true
		if err := space.Validate(m.Arch); err != nil {
			t.Errorf("measurement %s: architecture outside the campaign's space: %v", m.ID, err)
		}
	}
}

func TestCampaignRunsThroughAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("profiles architectures on a live agent")
	}
	c, client := newCollector(t, service.Config{
		DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0", SurrogateMinRecords: 4,
	})
	t.Cleanup(func() { c.Stop(context.Background()) })
	startAgent(t, c.NATSURL(), client)
	ctx := context.Background()

	const budget = 6
	started, err := client.StartCampaign(ctx, tinyCampaign(t, "e2e", budget))
	if err != nil {
		t.Fatal(err)
	}
	target := testDevice + "/cpu/builtin/b1/s16/fp32"
	if started.Target != target {
		t.Errorf("campaign target = %s, want %s", started.Target, target)
	}
	st := waitCampaign(t, client, "e2e", finished)

	if st.Status != campaign.Budget {
		t.Errorf("status = %s (%s), want %s", st.Status, st.Reason, campaign.Budget)
	}
	if st.Measured != budget || st.Failed != 0 {
		t.Errorf("measured = %d with %d failed, want %d with none failed", st.Measured, st.Failed, budget)
	}
	// 4 measurements start the campaign, then each round fits and picks
	// one more, and the last round only fits: budget - 4 + 1 rounds.
	if len(st.RoundList) != budget-3 {
		t.Errorf("rounds = %d, want %d", len(st.RoundList), budget-3)
	}
	for _, r := range st.RoundList {
		if !(r.NMSE >= 0) {
			t.Errorf("round %d NMSE = %v, want a non-negative number", r.Round, r.NMSE)
		}
	}
	if len(st.MeasurementIDs) != budget {
		t.Errorf("campaign lists %d measurement ids, want %d", len(st.MeasurementIDs), budget)
	}
	checkMeasurements(t, c.Store(), target, budget)

	list, err := client.Campaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != "e2e" || list[0].Measured != budget {
		t.Errorf("campaign list = %+v, want the one campaign with %d measured", list, budget)
	}

	// The ingest fed every measurement to the surrogates; fit now rather
	// than wait for the debounce.
	if err := c.Surrogates().Refit(ctx); err != nil {
		t.Fatal(err)
	}
	pred, err := client.Predict(ctx, api.PredictRequest{Target: target, Metric: "latency", Arch: archJSON(t, tinySpace(t).Random(rand.New(rand.NewPCG(1, 2))))})
	if err != nil {
		t.Fatal(err)
	}
	if pred.Basis != api.BasisPredicted || len(pred.Predictions) != 1 || !(pred.Predictions[0].Mean > 0) {
		t.Errorf("prediction = %+v, want one positive mean labelled %q", pred, api.BasisPredicted)
	}
}

func TestCampaignResumesAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("profiles architectures on a live agent")
	}
	cfg := service.Config{DataDir: t.TempDir(), NATSListen: freeAddr(t), HTTP: "127.0.0.1:0"}
	first, client := newCollector(t, cfg)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			first.Stop(context.Background())
		}
	})
	// The agent outlives the first collector and reconnects to the second
	// on the same NATS port, as a deployed agent does.
	startAgent(t, first.NATSURL(), client)
	ctx := context.Background()

	const budget = 7
	if _, err := client.StartCampaign(ctx, tinyCampaign(t, "restart", budget)); err != nil {
		t.Fatal(err)
	}
	// Stop once the campaign is in its rounds, with measurements left.
	mid := waitCampaign(t, client, "restart", func(st api.CampaignStatus) bool { return st.Rounds > 0 || finished(st) })
	if finished(mid) {
		t.Fatalf("campaign finished before the restart: %+v", mid.CampaignSummary)
	}
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	stopped = true

	second, client := newCollector(t, cfg)
	t.Cleanup(func() { second.Stop(context.Background()) })
	st := waitCampaign(t, client, "restart", finished)

	if st.Status != campaign.Budget || st.Measured != budget || st.Failed != 0 {
		t.Errorf("campaign = %s (%s), %d measured, %d failed; want %s, %d, 0", st.Status, st.Reason, st.Measured, st.Failed, campaign.Budget, budget)
	}
	if st.Rounds <= mid.Rounds {
		t.Errorf("rounds = %d after the restart, %d before; want more", st.Rounds, mid.Rounds)
	}
	checkMeasurements(t, second.Store(), st.Target, budget)
}

func TestPredictNeedsFittedModel(t *testing.T) {
	path := pubdata.Path(t, "codesign_dataset.json")
	imp, err := dataset.LoadFile(path, dataset.Options{Device: "a100"})
	if err != nil {
		t.Fatal(err)
	}
	var ms []measure.Measurement
	for _, r := range imp.Records {
		ms = append(ms, r.Measurement)
	}
	c := startCollector(t, service.Config{})
	client, err := api.NewClient("http://"+c.HTTPAddr(), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	target := ms[0].Target.Key()
	probe := ms[0]
	req := api.PredictRequest{Target: target, Metric: "latency", Arch: archJSON(t, probe.Arch)}

	_, err = client.Predict(ctx, req)
	var se *api.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusConflict {
		t.Fatalf("predict before any measurement: err = %v, want a 409 response", err)
	}

	if _, err := client.Import(ctx, api.ImportRequest{Measurements: ms}); err != nil {
		t.Fatal(err)
	}
	if err := c.Surrogates().Refit(ctx); err != nil {
		t.Fatal(err)
	}
	models, err := client.Surrogates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(models) == 0 || models[0].TargetKey != target || models[0].Records < len(ms)/2 {
		t.Errorf("surrogates = %+v, want models of %s fitted on the %d imported records", models, target, len(ms))
	}
	// The published a100 latencies span three orders of magnitude; a model
	// off by half on its own training records would be useless.
	for _, m := range models {
		if !(m.TrainMAPE > 0 && m.TrainMAPE < 50) {
			t.Errorf("%s %s training MAPE = %v%%, want between 0 and 50", m.TargetKey, m.Metric, m.TrainMAPE)
		}
	}

	pred, err := client.Predict(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if pred.Basis != api.BasisPredicted {
		t.Errorf("basis = %q, want %q", pred.Basis, api.BasisPredicted)
	}
	got := pred.Predictions[0]
	// A training record's prediction lies near its published latency.
	if want := probe.LatencyPerSeqS; !(got.Mean > want/2 && got.Mean < want*2) {
		t.Errorf("predicted latency = %g s, published %g s; want within a factor of 2", got.Mean, want)
	}
	if !(got.Std >= 0) {
		t.Errorf("std = %v, want a non-negative number", got.Std)
	}
}

func archJSON(t *testing.T, a arch.Architecture) json.RawMessage {
	t.Helper()
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
