package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/edgetran/edgetran/collector/campaign"
	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/cli"
)

func campaignSimulateCommand() cli.Command {
	return cli.Command{
		Name:    "campaign simulate",
		Summary: "replay an active-learning campaign on a dataset (pool mode)",
		Run:     runCampaignSimulate,
	}
}

func runCampaignSimulate(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "campaign simulate",
		"campaign simulate --data FILE --device NAME [--strategy uncertainty|random] [--seed S] [flags]",
		`Replay an active-learning campaign offline: candidates come only from the
records of one device in a dataset, and "measuring" one returns its recorded
value. Prints how many measurements the campaign needed before its stopping
rule held (normalised test MSE below --threshold for --patience rounds).`)
	data := fs.String("data", "", "dataset `FILE` in a published EdgeTran format (required)")
	device := fs.String("device", "", "published device `NAME` (required)")
	metric := fs.String("metric", "latency", "latency, energy or peak_power")
	strategy := fs.String("strategy", "uncertainty", "uncertainty or random")
	// The ensemble fits in a fraction of a second on a hundred records. Best
	// cross-validates two models every round, so a replay of hundreds of
	// rounds would take minutes.
	model := fs.String("model", "ensemble", "surrogate model: ensemble, linear, hybrid, gp, gbdt, paper or best")
	seed := fs.Uint64("seed", 1, "random seed")
	budget := fs.Int("budget", 0, "maximum measurements, test sample included (0: the pool size)")
	threshold := fs.Float64("threshold", 0.005, "normalised test MSE that counts as converged")
	patience := fs.Int("patience", 10, "rounds the stopping rule must hold")
	initial := fs.Int("initial", 16, "initial Latin-hypercube sample size")
	testSize := fs.Int("test-size", 16, "held-back test sample size")
	batch := fs.Int("batch", 1, "measurements per round")
	asJSON := fs.Bool("json", false, "print the final campaign state as JSON")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *data == "" || *device == "" {
		return cli.Usagef("--data and --device are required")
	}
	m, err := surrogate.ParseMetric(*metric)
	if err != nil {
		return cli.Usagef("--metric: %v", err)
	}
	kind, err := surrogate.ParseKind(*model)
	if err != nil {
		return cli.Usagef("--model: %v", err)
	}
	byDevice, err := loadByDevice(*data, *device)
	if err != nil {
		return err
	}
	var items []campaign.PoolItem
	for _, r := range byDevice[*device] {
		if v, ok := m.Of(&r.Measurement); ok {
			items = append(items, campaign.PoolItem{Key: r.Key, Arch: r.Measurement.Arch, Value: v})
		}
	}
	pool, err := campaign.NewPool(nil, items)
	if err != nil {
		return cli.Usagef("device %s %s: %v", *device, m, err)
	}
	if *budget == 0 {
		*budget = pool.Len()
	}
	cfg := campaign.Config{
		Metric: m, Model: kind, Strategy: campaign.Strategy(*strategy), Initial: *initial, TestSize: *testSize,
		Batch: *batch, Budget: *budget, Threshold: *threshold, Patience: *patience, Seed: *seed,
	}
	st, err := campaign.New(fmt.Sprintf("simulate-%s-%s-%s", *device, m, *strategy), *device, cfg)
	if err != nil {
		return cli.Usagef("%v", err)
	}

	start := time.Now()
	hooks := campaign.Hooks{Round: func(s *campaign.State, r campaign.Round) {
		fmt.Fprintf(env.Stderr, "\r%-79s", fmt.Sprintf("round %d: %d/%d measured, test NMSE %.4g, held %d/%d, %s",
			r.Round, r.Measured, cfg.Budget, r.NMSE, s.Holding, cfg.Patience, time.Since(start).Round(time.Second)))
	}}
	if err := campaign.Run(ctx, st, pool, nil, hooks); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "\r%-79s\r", "")

	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	last := st.Rounds[len(st.Rounds)-1]
	fmt.Fprintf(env.Stdout, "device %s, metric %s, strategy %s, model %s, pool %d\n", *device, m, cfg.Strategy, kind, pool.Len())
	fmt.Fprintf(env.Stdout, "status %s: %s\n", st.Status, st.Reason)
	fmt.Fprintf(env.Stdout, "measured %d (test %d, train %d, failed %d), rounds %d, final test NMSE %.4g\n",
		st.Measured(), len(st.Test), len(st.Train), len(st.Failed), len(st.Rounds), last.NMSE)
	if first, ok := firstBelow(st); ok {
		fmt.Fprintf(env.Stdout, "test NMSE first below %.4g at %d measurements\n", cfg.Threshold, first)
	}
	return nil
}

// firstBelow returns the measurement count of the first round whose test
// NMSE was below the threshold.
func firstBelow(st *campaign.State) (int, bool) {
	for _, r := range st.Rounds {
		if r.NMSE < st.Config.Threshold {
			return r.Measured, true
		}
	}
	return 0, false
}
