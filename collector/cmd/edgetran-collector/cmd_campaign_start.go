package main

import (
	"context"
	"fmt"
	"time"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/collector/campaign"
	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/measure"
)

func campaignStartCommand() cli.Command {
	return cli.Command{
		Name:    "campaign start",
		Summary: "start an active-learning campaign that profiles a device",
		Run:     runCampaignStart,
	}
}

func runCampaignStart(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "campaign start",
		"campaign start --device ID --budget N [--metric M] [--strategy S] [--seed S] [--batch B] [--seq L] [--runner NAME] [flags]", `
Ask a running collector to start an active-learning campaign on one device:
it measures a held-back test sample and an initial Latin-hypercube sample,
then each round fits a surrogate and sends the architectures it is least
sure about to the device's agent, until the normalised test MSE stays below
--threshold for --patience rounds or --budget measurements are spent. The
campaign runs inside the collector and survives its restart; 'campaign
status' shows its progress. With --wait this command prints the progress
until the campaign stops.`)
	cf := addClientFlags(fs)
	device := fs.String("device", "", "device `id` of a running agent (required)")
	budget := fs.Int("budget", 0, "maximum architectures measured, test sample included (required)")
	metric := fs.String("metric", "latency", "measure the surrogate learns: latency, energy or peak_power")
	strategy := fs.String("strategy", "uncertainty", "how candidates are picked: uncertainty or random")
	model := fs.String("model", "best", "surrogate model: best, ensemble, linear, hybrid, gp, gbdt or paper")
	seed := fs.Uint64("seed", 1, "random seed of the samples and the model")
	batch := fs.Int("batch", 1, "architectures measured per round")
	initial := fs.Int("initial", 16, "initial Latin-hypercube sample size")
	testSize := fs.Int("test-size", 16, "held-back test sample size")
	threshold := fs.Float64("threshold", 0.005, "normalised test MSE that counts as converged")
	patience := fs.Int("patience", 10, "rounds the stopping rule must hold")
	seq := fs.Int("seq", api.DefaultCampaignSeqLen, "tokens per sequence of each job")
	batchSize := fs.Int("batch-size", api.DefaultCampaignBatch, "sequences per iteration of each job")
	computeUnit := fs.String("compute-unit", api.DefaultCampaignComputeUnit, "compute `unit` of the target: cpu, gpu or npu")
	runtime := fs.String("runtime", api.DefaultCampaignRuntime, "`runtime` of the target, as the agent's runner reports it")
	precision := fs.String("precision", api.DefaultCampaignPrecision, "numeric `precision` of the target")
	runner := fs.String("runner", "", "`name` of a runner configured on the agent; default the --runtime value")
	spacePath := fs.String("space", "", "design space `file` (YAML or JSON) that narrows the candidates; default the collector's space")
	warmup := fs.Int("warmup", 0, "untimed iterations per job (0: the collector's default, 5)")
	minIters := fs.Int("min-iters", 0, "timed iterations per run, at least (0: the collector's default, 20)")
	minSeconds := fs.Float64("min-seconds", 0, "timed `seconds` per run, at least (0: the collector's default, 2)")
	runs := fs.Int("runs", 0, "timed runs per job (0: the collector's default, 3)")
	id := fs.String("id", "", "campaign `id`; default <device>-<UTC time>-<random hex>")
	wait := fs.Bool("wait", false, "print progress until the campaign stops")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	if *device == "" {
		return cli.Usagef("--device is required: the id of a device whose agent is running ('devices list' shows them)")
	}
	if *budget < 1 {
		return cli.Usagef("--budget %d: give the maximum number of architectures to measure, at least 1", *budget)
	}
	m, err := surrogate.ParseMetric(*metric)
	if err != nil {
		return cli.Usagef("--metric: %v", err)
	}
	kind, err := surrogate.ParseKind(*model)
	if err != nil {
		return cli.Usagef("--model: %v", err)
	}
	target := measure.Target{Device: *device, ComputeUnit: *computeUnit, Runtime: *runtime, Batch: *batchSize, SeqLen: *seq, Precision: *precision}
	if err := target.Validate(); err != nil {
		return cli.Usagef("target %s: %v", target.Key(), err)
	}
	cfg := campaign.Config{
		Metric: m, Model: kind, Strategy: campaign.Strategy(*strategy), Initial: *initial, TestSize: *testSize,
		Batch: *batch, Budget: *budget, Threshold: *threshold, Patience: *patience, Seed: *seed, Runner: *runner,
		Job: campaign.JobSettings{Warmup: *warmup, MinIters: *minIters, MinSeconds: *minSeconds, Repeats: *runs},
	}
	if *spacePath != "" {
		sp, err := arch.LoadSpace(*spacePath)
		if err != nil {
			return cli.Usagef("--space: %v", err)
		}
		cfg.Space = sp
	}
	if err := cfg.Defaults().Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	client, err := cf.client()
	if err != nil {
		return err
	}

	st, err := client.StartCampaign(ctx, api.StartCampaignRequest{ID: *id, Target: target, Config: cfg})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "campaign %s started on %s: budget %d, metric %s, strategy %s\n",
		st.ID, st.Target, st.Budget, st.Metric, st.Strategy)
	if !*wait {
		fmt.Fprintf(env.Stdout, "follow it with: edgetran-collector campaign status %s\n", st.ID)
		return nil
	}
	return followCampaign(ctx, env, client, st.ID)
}

// followCampaign prints a line whenever the campaign's measured count
// changes, with an ETA from the rate so far, until it stops.
func followCampaign(ctx context.Context, env cli.Env, client *api.Client, id string) error {
	start := time.Now()
	first, last := -1, -1
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		st, err := client.Campaign(ctx, id)
		if err != nil {
			return err
		}
		if first < 0 {
			first = st.Measured
		}
		if st.Measured != last {
			last = st.Measured
			line := fmt.Sprintf("campaign %s: %d/%d measured (%d failed), round %d", id, st.Measured, st.Budget, st.Failed, st.Rounds)
			if st.NMSE != nil {
				line += fmt.Sprintf(", test NMSE %.4g", *st.NMSE)
			}
			if done := st.Measured - first; done > 0 && st.Status == campaign.Running {
				eta := time.Duration(float64(time.Since(start)) / float64(done) * float64(st.Budget-st.Measured))
				line += fmt.Sprintf(", ETA at most %s", eta.Round(time.Second))
			}
			fmt.Fprintln(env.Stdout, line)
		}
		if st.Status != campaign.Running {
			fmt.Fprintf(env.Stdout, "campaign %s stopped: %s: %s\n", id, st.Status, st.Reason)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
