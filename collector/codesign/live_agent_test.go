package codesign

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/setup/setuptest"
	"github.com/edgetran/edgetran/collector/campaign"
	"github.com/edgetran/edgetran/collector/service"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// agentDevice is the device id of the in-process agent.
const agentDevice = "codesign-agent"

// quickProfile keeps each job under a second for a tiny model. The estimate
// meter samples every 50 ms and a run's power figure needs at least two
// samples in its window, so 0.3 s gives about six.
var quickProfile = campaign.JobSettings{Warmup: 1, MinIters: 2, MinSeconds: 0.3, Repeats: 1}

// startCollector starts a collector with embedded NATS and JetStream on a
// free loopback port and its SQLite store in a temporary directory.
func startCollector(t *testing.T) *service.Collector {
	t.Helper()
	c, err := service.New(service.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("stop collector failed: %v", err)
		}
	})
	return c
}

// startAgent runs the agent daemon as the run command builds it (builtin
// runner, estimate meter), connected to c's NATS server, and waits until
// c has stored the agent's announcement. The agent stops before the
// collector because cleanups run last in, first out.
func startAgent(t *testing.T, c *service.Collector) {
	t.Helper()
	cfg := config.Default()
	cfg.Device = config.Device{ID: agentDevice, Name: agentDevice, Root: "/"}
	cfg.NATS.Servers = []string{c.NATSURL()}
	cfg.Outbox.Dir = t.TempDir()
	cfg.Meter.Name = "estimate"
	cfg.Meter.IdleWindow = config.Duration(100 * time.Millisecond)
	cfg.Meter.Estimate = config.Estimate{IdleW: 5, MaxW: 15}
	cfg.HeartbeatInterval = config.Duration(time.Second)
	if err := cfg.FillDefaults(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}

	setuptest.Start(t, &cfg, slog.New(slog.DiscardHandler))

	// An agent that stops early is reported by setuptest when the test ends.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := c.Store().Device(context.Background(), agentDevice); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("agent did not announce itself within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tinySpace has two encoder layers of hidden size 128 with two heads each,
// so every model runs in milliseconds. Its head types keep the default
// space's order, so architecture ids agree with those the agent stores.
func tinySpace(t *testing.T) *arch.Space {
	t.Helper()
	s, err := arch.NewSpace(arch.Space{
		Layers:     []int{2},
		Hidden:     []int{128},
		FFWidths:   []int{256, 512},
		FFDepthMax: 2,
		HeadCounts: []int{2},
		HeadTypes:  []arch.HeadType{arch.ScaledDotProduct, arch.FourierTransform, arch.Convolution5},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// campaignMeasurements returns the stored measurement of each job of the
// campaign by architecture id, failing on a job that is not done or an
// architecture measured twice.
func campaignMeasurements(t *testing.T, st store.Store, space *arch.Space, campaignID string) map[string]measure.Measurement {
	t.Helper()
	ctx := context.Background()
	jobs, err := st.Jobs(ctx, store.JobQuery{Campaign: campaignID, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]measure.Measurement{}
	for _, j := range jobs {
		if j.Status != store.JobDone {
			t.Errorf("job %s is %s (%s), want done", j.Job.ID, j.Status, j.Error)
			continue
		}
		m, err := st.Measurement(ctx, j.ResultID)
		if err != nil {
			t.Errorf("job %s: measurement %s: %v", j.Job.ID, j.ResultID, err)
			continue
		}
		if m.JobID != j.Job.ID {
			t.Errorf("measurement %s names job %s, want %s", m.ID, m.JobID, j.Job.ID)
		}
		id := space.ID(j.Job.Arch)
		if _, dup := out[id]; dup {
			t.Errorf("architecture %s was measured twice in campaign %s", id, campaignID)
		}
		out[id] = m
	}
	return out
}

func TestLiveSearchWithRealAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a collector and an agent that profiles about 20 models; skipped with -short")
	}
	c := startCollector(t)
	startAgent(t, c)
	space := tinySpace(t)
	target := measure.Target{Device: agentDevice, ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 16, Precision: "fp32"}
	const budget = 10

	total := 0
	for _, strategy := range []string{StrategyBOSHCODE, StrategyRandom} {
		t.Run(strategy, func(t *testing.T) {
			campaignID := "codesign-agent-" + strategy
			p := &Problem{
				Space:   space,
				Targets: []measure.Target{target},
				Objective: Objective{
					Weights:     map[Measure]float64{Latency: 0.4, Energy: 0.3, PeakPower: 0.3},
					Normalisers: map[Measure]float64{Latency: 0.1, Energy: 1, PeakPower: 100},
				},
				Evaluator: &LiveEvaluator{Jobs: c.Jobs(), Settings: quickProfile, Timeout: 30 * time.Second, CampaignID: campaignID},
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rep, err := Run(ctx, p, Options{Strategies: []string{strategy}, Budget: budget, Batch: 4, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}

			s := rep.Strategies[0]
			if s.Evaluations != budget || s.Failures != 0 {
				t.Fatalf("%d evaluations and %d failures, want %d and 0", s.Evaluations, s.Failures, budget)
			}
			total += s.Evaluations
			stored := campaignMeasurements(t, c.Store(), space, campaignID)
			pairs := map[string]bool{}
			for _, e := range s.evaluations {
				pairs[e.key()] = true
			}
			if len(stored) != len(pairs) {
				t.Errorf("campaign stores %d measurements, want one per distinct evaluated pair (%d)", len(stored), len(pairs))
			}
			if len(pairs) != s.Evaluations {
				t.Errorf("%d distinct pairs in %d evaluations, want no repeats", len(pairs), s.Evaluations)
			}

			for _, e := range s.evaluations {
				m, ok := stored[e.ArchID]
				if !ok {
					t.Errorf("evaluation of %s has no stored measurement", e.ArchID)
					continue
				}
				if m.ArchID != e.ArchID {
					t.Errorf("stored arch id %s, want the evaluated %s", m.ArchID, e.ArchID)
				}
				if m.Target.Key() != target.Key() {
					t.Errorf("measurement %s is of target %s, want %s", m.ID, m.Target.Key(), target.Key())
				}
				if got := e.Measures[Latency].Mean; got != m.LatencyPerSeqS {
					t.Errorf("%s: latency %v s, want the stored %v s", e.ArchID, got, m.LatencyPerSeqS)
				}
				if m.EnergyPerSeqJ == nil || e.Measures[Energy].Mean != *m.EnergyPerSeqJ {
					t.Errorf("%s: energy %v J, want the stored %v", e.ArchID, e.Measures[Energy].Mean, m.EnergyPerSeqJ)
				}
				if m.PeakPowerW == nil || e.Measures[PeakPower].Mean != *m.PeakPowerW {
					t.Errorf("%s: peak power %v W, want the stored %v", e.ArchID, e.Measures[PeakPower].Mean, m.PeakPowerW)
				}
				if m.Provenance != measure.Estimated {
					t.Errorf("measurement %s provenance %q, want %q from the estimate meter", m.ID, m.Provenance, measure.Estimated)
				}
				if m.Power == nil || !m.Power.Estimated {
					t.Errorf("measurement %s power source %+v, want one marked estimated", m.ID, m.Power)
				}
				if e.Kind != Estimated {
					t.Errorf("%s: evaluation kind %q, want %q", e.ArchID, e.Kind, Estimated)
				}
			}

			if rep.Best == nil {
				t.Fatal("report has no best pair, want one because the problem has no constraints")
			}
			if _, ok := stored[rep.Best.ArchID]; !ok {
				t.Errorf("best pair %s is not one of the measured architectures", rep.Best.ArchID)
			}
			bestFound := false
			for _, e := range s.evaluations {
				bestFound = bestFound || (e.ArchID == rep.Best.ArchID && e.Objective == rep.Best.Objective)
			}
			if !bestFound {
				t.Errorf("best pair %s with objective %v is not one of the evaluated pairs", rep.Best.ArchID, rep.Best.Objective)
			}
			if rep.Best.Kind != Estimated {
				t.Errorf("best pair kind %q, want %q", rep.Best.Kind, Estimated)
			}
			var text strings.Builder
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), "(measures estimated)") {
				t.Errorf("text report does not label the best pair's measures as estimated:\n%s", text.String())
			}

			if len(s.Curve) != s.Evaluations {
				t.Errorf("curve has %d points, want one per evaluation (%d)", len(s.Curve), s.Evaluations)
			}
			for i := 1; i < len(s.Curve); i++ {
				if s.Curve[i] > s.Curve[i-1] {
					t.Errorf("curve rises from %v to %v at evaluation %d", s.Curve[i-1], s.Curve[i], i+1)
				}
			}
			if last := s.Curve[len(s.Curve)-1]; math.IsInf(last, 0) || last != rep.Best.Objective {
				t.Errorf("curve ends at %v, want the best objective %v", last, rep.Best.Objective)
			}
		})
	}

	n, err := c.Store().CountMeasurements(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != total {
		t.Errorf("store holds %d measurements, want one per evaluation (%d)", n, total)
	}
}
