package codesign

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgetran/edgetran/collector/campaign"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// agentJobs returns for each job at once a measurement of the job's own
// shape on the target it names, with a latency of 1 ms per encoder layer.
// It replaces the job manager and an agent, which TestLiveSearchThroughCollector
// runs for real.
type agentJobs struct {
	mu        sync.Mutex
	jobs      []wire.Job
	estimated bool // return modelled power
	noEnergy  bool // return no energy and no power
	block     bool // never return a measurement
}

func (a *agentJobs) Submit(_ context.Context, job wire.Job) (store.Job, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	job.ID = fmt.Sprintf("job-%d", len(a.jobs)+1)
	a.jobs = append(a.jobs, job)
	return store.Job{Job: job, Status: store.JobQueued}, nil
}

func (a *agentJobs) Wait(ctx context.Context, id string) (measure.Measurement, error) {
	if a.block {
		<-ctx.Done()
		return measure.Measurement{}, ctx.Err()
	}
	a.mu.Lock()
	var job wire.Job
	for _, j := range a.jobs {
		if j.ID == id {
			job = j
		}
	}
	a.mu.Unlock()
	m := measure.Measurement{
		ID: id + "#1", JobID: id, Arch: job.Arch, Provenance: measure.Measured,
		Target:         measure.Target{Device: job.Device, ComputeUnit: "cpu", Runtime: job.Runner, Batch: job.Batch, SeqLen: job.SeqLen, Precision: job.Precision},
		LatencyPerSeqS: 0.001 * float64(job.Arch.L),
		Latency:        &measure.LatencyStats{Mean: 0.001 * float64(job.Arch.L*job.Batch), Std: 0.0001 * float64(job.Batch), N: 20},
	}
	if !a.noEnergy {
		m.EnergyPerSeqJ = measure.Float(0.01 * float64(job.Arch.L))
		m.PeakPowerW = measure.Float(3)
	}
	if a.estimated {
		m.Provenance = measure.Estimated
		m.Power = &measure.PowerSource{Meter: "estimate", Estimated: true}
	}
	return m, nil
}

func liveProblem(jobs JobRunner) *Problem {
	p := bowlProblem()
	p.Targets = []measure.Target{
		{Device: "pi-1", ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 128, Precision: "fp32"},
		{Device: "mac-2", ComputeUnit: "cpu", Runtime: "builtin", Batch: 4, SeqLen: 64, Precision: "fp32"},
	}
	p.Evaluator = &LiveEvaluator{Jobs: jobs, CampaignID: "codesign-test", Timeout: time.Minute}
	return p
}

func TestLiveEvaluatorSubmitsTargetShape(t *testing.T) {
	jobs := &agentJobs{}
	rep, err := Run(context.Background(), liveProblem(jobs), Options{Strategies: []string{StrategyBOSHCODE}, Budget: 24, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.jobs) != 24 {
		t.Fatalf("%d jobs submitted, want one per evaluation (24)", len(jobs.jobs))
	}
	for _, j := range jobs.jobs {
		want := map[string][2]int{"pi-1": {1, 128}, "mac-2": {4, 64}}[j.Device]
		if want == [2]int{} {
			t.Errorf("job %s went to unknown device %q", j.ID, j.Device)
			continue
		}
		if j.Batch != want[0] || j.SeqLen != want[1] || j.Runner != "builtin" || j.CampaignID != "codesign-test" {
			t.Errorf("job %s to %s: batch %d, seq %d, runner %q, campaign %q", j.ID, j.Device, j.Batch, j.SeqLen, j.Runner, j.CampaignID)
		}
		if err := arch.Default().Validate(j.Arch); err != nil {
			t.Errorf("job %s carries an invalid architecture: %v", j.ID, err)
		}
	}
	best := rep.Best
	if best.Kind != Measured {
		t.Errorf("best pair kind %q, want %q", best.Kind, Measured)
	}
	// Latency is 1 ms per layer, so the best pair has the fewest layers.
	if got, want := best.Measures[Latency].Mean, 0.001*float64(best.Arch.L); got != want {
		t.Errorf("best latency %v, want the measured %v", got, want)
	}
	if best.Arch.L != 2 {
		t.Errorf("best pair has %d layers, want the shallowest (2)", best.Arch.L)
	}
}

func TestLiveEvaluatorSendsJobSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings campaign.JobSettings
	}{
		{"zero settings stay zero", campaign.JobSettings{}},
		{"short profile", campaign.JobSettings{Warmup: 1, MinIters: 2, MinSeconds: 0.25, Repeats: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobs := &agentJobs{}
			ev := &LiveEvaluator{Jobs: jobs, Settings: tt.settings, Timeout: time.Minute}
			target := measure.Target{Device: "pi-1", ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 128, Precision: "fp32"}
			a, err := arch.Preset(arch.PresetNames()[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ev.Evaluate(context.Background(), a, target); err != nil {
				t.Fatal(err)
			}
			if len(jobs.jobs) != 1 {
				t.Fatalf("%d jobs submitted, want 1", len(jobs.jobs))
			}
			j := jobs.jobs[0]
			got := campaign.JobSettings{Warmup: j.Warmup, MinIters: j.MinIters, MinSeconds: j.MinSeconds, Repeats: j.Repeats}
			if got != tt.settings {
				t.Errorf("job settings %+v, want %+v", got, tt.settings)
			}
		})
	}
}

func TestLiveEvaluatorLabelsEstimatedPower(t *testing.T) {
	jobs := &agentJobs{estimated: true}
	rep, err := Run(context.Background(), liveProblem(jobs), Options{Strategies: []string{StrategyRandom}, Budget: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Best.Kind != Estimated {
		t.Errorf("best pair kind %q, want %q for modelled power", rep.Best.Kind, Estimated)
	}
}

func TestLiveEvaluatorMissingEnergyFails(t *testing.T) {
	jobs := &agentJobs{noEnergy: true}
	p := liveProblem(jobs)
	p.Objective = Objective{Weights: map[Measure]float64{Latency: 0.5, Energy: 0.5}, Normalisers: map[Measure]float64{Latency: 1, Energy: 1}}
	_, err := Run(context.Background(), p, Options{Strategies: []string{StrategyRandom}, Budget: 2, Seed: 1})
	if err == nil || !strings.Contains(err.Error(), "energy") {
		t.Errorf("Run without energy readings: err = %v, want one naming energy", err)
	}
}

func TestLiveEvaluatorTimesOut(t *testing.T) {
	ev := &LiveEvaluator{Jobs: &agentJobs{block: true}, Timeout: 20 * time.Millisecond}
	target := measure.Target{Device: "pi-1", ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 128, Precision: "fp32"}
	a, err := arch.Preset(arch.PresetNames()[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = ev.Evaluate(context.Background(), a, target)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("Evaluate with a silent agent: err = %v, want a timeout", err)
	}
}
