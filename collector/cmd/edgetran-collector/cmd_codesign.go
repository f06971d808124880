package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/collector/codesign"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/dataset"
	"github.com/edgetran/edgetran/shared/measure"
)

func codesignCommand() cli.Command {
	return cli.Command{
		Name:    "codesign",
		Summary: "search the best transformer × device pair under constraints",
		Run:     runCodesign,
	}
}

// repeated collects the values of a flag given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, " ") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func runCodesign(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "codesign",
		"codesign (--data FILE | --store PATH|URL) [--strategy NAME] [--budget N] [--seed S] [--targets LIST] [--constraint EXPR ...] [--weights W] [--normalisers N] [--json] [--out DIR]",
		`Search architecture × target pairs for the lowest objective under hard
constraints, with BOSHCODE (a joint surrogate with a lower-confidence-bound
acquisition and mutation-based local search) and the random and regularised
evolution baselines. The hardware measures come from an offline oracle:
per-target surrogates fitted on the measurements of --data or --store, so
every reported hardware number is a prediction. Accuracy comes from a
surrogate fitted on the GLUE scores in the data; without any, the accuracy
term is dropped and the output says so.

The default objective is the EdgeTran paper's, minimised:
  1 − [0.5·glue + 0.2·(1 − latency/1000) + 0.2·(1 − energy/2000) + 0.1·(1 − peak_power/300)]
Units: latency in s/sequence, energy in J/sequence, peak_power in W,
params in parameters, memory in bytes (weights plus peak activations),
accuracy as a GLUE fraction.

Constraints are [scope:]measure op number with op one of <=, <, >=, >, for
example latency<=0.05, peak_power<=5, energy<=2, params<=40e6,
memory<=1.5e9, accuracy>=0.8, or cpu_rpi:latency<=10 for one target. A scope
is a target key, its leading part (rpi4/cpu), a device id or a published
device name.

With --bench-seeds N, run every strategy once per seed 1..N and print the
median best objective at the --bench-at evaluation counts and how many
evaluations each strategy needs to reach random search's median best.`)
	data := fs.String("data", "", "dataset `FILE` in a published EdgeTran format")
	storePath := fs.String("store", "", "collector store: the `PATH` of its SQLite file, or the URL of a running collector's API (token from $EDGETRAN_TOKEN)")
	strategy := fs.String("strategy", "all", "boshcode, random, evolution or all")
	budget := fs.Int("budget", 300, "evaluations per strategy")
	seed := fs.Uint64("seed", 1, "random seed; a seed reproduces a run")
	targetsFlag := fs.String("targets", "", "comma-separated targets to search (keys, device ids or published names); empty means all")
	var constraints repeated
	fs.Var(&constraints, "constraint", "hard constraint `EXPR`, repeatable, e.g. peak_power<=5")
	weights := fs.String("weights", "", "objective weights, e.g. accuracy=0.5,latency=0.2,energy=0.2,peak_power=0.1 (measures left out get 0)")
	normalisers := fs.String("normalisers", "", "normalisers in each measure's unit, e.g. latency=1000,energy=2000,peak_power=300")
	asJSON := fs.Bool("json", false, "print one JSON object with keys best, pareto and strategies")
	out := fs.String("out", "", "write report.json, CSV files and SVG plots into `DIR`")
	patience := fs.Int("patience", 0, "stop a strategy after this many evaluations without improvement; 0 runs the whole budget")
	batch := fs.Int("batch", 8, "candidates proposed per round")
	noise := fs.Bool("noise", false, "draw oracle answers from the surrogates' predictive distribution instead of their mean")
	oracleModel := fs.String("oracle-model", codesign.DefaultOracleModel, "per-target oracle model: forest, gbdt, gp, paper, linear, hybrid or best")
	jointModel := fs.String("joint-model", codesign.ModelForest, "BOSHCODE joint surrogate: forest or gbdt")
	benchSeeds := fs.Int("bench-seeds", 0, "benchmark mode: run seeds 1..`N` and print medians")
	benchAt := fs.String("bench-at", "100,300,1000", "benchmark checkpoints: comma-separated evaluation counts")
	progressEvery := fs.Duration("progress", 10*time.Second, "interval between progress lines on stderr; 0 turns them off")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	if (*data == "") == (*storePath == "") {
		return cli.Usagef("give exactly one of --data FILE and --store PATH|URL")
	}
	if *budget < 1 || *batch < 1 || *patience < 0 || *benchSeeds < 0 {
		return cli.Usagef("--budget %d and --batch %d must be at least 1, --patience %d and --bench-seeds %d at least 0", *budget, *batch, *patience, *benchSeeds)
	}

	obj, err := objectiveFlags(*weights, *normalisers)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	cons, err := codesign.ParseConstraints(constraints)
	if err != nil {
		return cli.Usagef("--constraint: %v", err)
	}
	strategies, err := strategyFlag(*strategy)
	if err != nil {
		return cli.Usagef("--strategy: %v", err)
	}
	joint, err := codesign.JointModel(*jointModel)
	if err != nil {
		return cli.Usagef("--joint-model: %v", err)
	}

	space := arch.Default()
	d, err := loadCodesignData(ctx, *data, *storePath, space)
	if err != nil {
		return err
	}
	problem, err := codesign.NewOfflineProblem(space, d, obj, cons, codesign.OracleOptions{Noise: *noise, Seed: *seed, Model: *oracleModel})
	if err != nil {
		return err
	}
	if *targetsFlag != "" {
		if err := problem.SelectTargets(strings.Split(*targetsFlag, ",")); err != nil {
			return cli.Usagef("--targets: %v", err)
		}
	}
	if err := problem.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}

	opt := codesign.Options{
		Strategies: strategies, Budget: *budget, Seed: *seed, Batch: *batch, Patience: *patience,
		BOSHCODE: codesign.BOSHCODEOptions{Surrogate: joint},
	}
	if *progressEvery > 0 {
		opt.Logger = slog.New(slog.NewTextHandler(env.Stderr, nil))
		opt.ProgressEvery = *progressEvery
	}

	if *benchSeeds > 0 {
		return runCodesignBenchmark(ctx, env, problem, opt, *benchSeeds, *benchAt, *asJSON)
	}

	rep, err := codesign.Run(ctx, problem, opt)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := rep.WriteFiles(*out); err != nil {
			return fmt.Errorf("write report files: %w", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(env.Stdout)
}

// objectiveFlags returns codesign.DefaultObjective with the weights of the
// flag replacing all of its weights and the normalisers of the flag
// replacing the ones they name.
func objectiveFlags(weights, normalisers string) (codesign.Objective, error) {
	obj := codesign.DefaultObjective()
	if weights != "" {
		w, err := codesign.ParseWeights(weights)
		if err != nil {
			return obj, fmt.Errorf("--weights: %w", err)
		}
		obj.Weights = w
	}
	if normalisers != "" {
		n, err := codesign.ParseNormalisers(normalisers)
		if err != nil {
			return obj, fmt.Errorf("--normalisers: %w", err)
		}
		for m, v := range n {
			obj.Normalisers[m] = v
		}
	}
	return obj, obj.Validate()
}

func strategyFlag(s string) ([]string, error) {
	if s == "all" {
		return codesign.StrategyNames(), nil
	}
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(codesign.StrategyNames(), name) {
			return nil, fmt.Errorf("unknown strategy %q: want boshcode, random, evolution or all", name)
		}
		out = append(out, name)
	}
	return out, nil
}

// loadCodesignData reads measurements and accuracy records from a dataset
// file or a collector store.
func loadCodesignData(ctx context.Context, dataPath, storePath string, space *arch.Space) (codesign.Data, error) {
	d := codesign.Data{Aliases: map[string]string{}}
	if dataPath != "" {
		imp, err := dataset.LoadFile(dataPath, dataset.Options{Format: dataset.FormatAuto, Space: space})
		if err != nil {
			return d, &cli.UsageError{Err: err}
		}
		for _, r := range imp.Records {
			d.Measurements = append(d.Measurements, r.Measurement)
			if r.Accuracy != nil {
				d.Accuracy = append(d.Accuracy, *r.Accuracy)
			}
			d.Aliases[r.Measurement.Target.Key()] = r.Device
		}
		return d, nil
	}

	if strings.HasPrefix(storePath, "http://") || strings.HasPrefix(storePath, "https://") {
		return loadCollectorAPI(ctx, storePath)
	}
	st, err := store.Open(ctx, storePath)
	if err != nil {
		return d, fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	return codesign.LoadStore(ctx, st)
}

// loadCollectorAPI reads every measurement and accuracy record of a running
// collector through its HTTP API.
func loadCollectorAPI(ctx context.Context, url string) (codesign.Data, error) {
	c, err := api.NewClient(url, os.Getenv("EDGETRAN_TOKEN"))
	if err != nil {
		return codesign.Data{}, cli.Usagef("--store %s: %v", url, err)
	}
	var buf bytes.Buffer
	if err := c.Export(ctx, &buf, api.FormatJSONL, ""); err != nil {
		return codesign.Data{}, fmt.Errorf("read measurements from %s: %w", url, err)
	}
	var d codesign.Data
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var m measure.Measurement
		if err := dec.Decode(&m); err != nil {
			return d, fmt.Errorf("decode measurement %d from %s: %w", len(d.Measurements)+1, url, err)
		}
		d.Measurements = append(d.Measurements, m)
	}
	if len(d.Measurements) == 0 {
		return d, fmt.Errorf("the collector at %s has no measurements: import a dataset or run a campaign first", url)
	}
	acc, err := c.Accuracy(ctx, "")
	if err != nil {
		return d, fmt.Errorf("read accuracy records from %s: %w", url, err)
	}
	d.Accuracy = acc
	return d, nil
}

func runCodesignBenchmark(ctx context.Context, env cli.Env, p *codesign.Problem, opt codesign.Options, seeds int, at string, asJSON bool) error {
	var checkpoints []int
	for _, s := range strings.Split(at, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return cli.Usagef("--bench-at %q: %q is not a positive evaluation count", at, s)
		}
		if n <= opt.Budget {
			checkpoints = append(checkpoints, n)
		}
	}
	if !slices.Contains(opt.Strategies, codesign.StrategyRandom) {
		return cli.Usagef("--bench-seeds needs the random strategy as reference; use --strategy all")
	}
	list := make([]uint64, seeds)
	for i := range list {
		list[i] = uint64(i + 1)
	}
	res, err := codesign.Benchmark(ctx, p, opt, list, checkpoints)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return res.WriteText(env.Stdout)
}
