package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/dataset"
)

func surrogateEvalCommand() cli.Command {
	return cli.Command{
		Name:    "surrogate eval",
		Summary: "score surrogate models by cross-validation or on a test file",
		Run:     runSurrogateEval,
	}
}

func surrogateFitCommand() cli.Command {
	return cli.Command{
		Name:    "surrogate fit",
		Summary: "fit one surrogate model and save it to a file",
		Run:     runSurrogateFit,
	}
}

func surrogatePredictCommand() cli.Command {
	return cli.Command{
		Name:    "surrogate predict",
		Summary: "predict the records of a dataset with a saved surrogate model",
		Run:     runSurrogatePredict,
	}
}

// evalRow is one line of "surrogate eval" output.
type evalRow struct {
	Device string `json:"device"`
	Metric string `json:"metric"`
	Model  string `json:"model"`
	surrogate.Result
}

func runSurrogateEval(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "surrogate eval",
		"surrogate eval --data FILE [--test FILE] [--device NAME] [--metric M] [--model NAME|all] [--folds K] [--seed S] [--json]",
		`Score surrogate models per device and metric. With --test, fit on --data
and score predictions of --test; otherwise run k-fold cross-validation on
--data. The paper baseline (AdaBoost.R2 over 500 trees on the raw
embedding) is always scored beside the chosen model, in the same run.`)
	data := fs.String("data", "", "dataset `FILE` in a published EdgeTran format (required)")
	test := fs.String("test", "", "test dataset `FILE`; without it, cross-validate on --data")
	device := fs.String("device", "", "published device `NAME`; empty means every device in the file")
	metric := fs.String("metric", "", "latency, energy or peak_power; empty means all three")
	model := fs.String("model", "all", "ensemble, linear, hybrid, gp, gbdt, paper, best or all")
	folds := fs.Int("folds", 5, "cross-validation folds")
	seed := fs.Uint64("seed", 1, "random seed for fold splits and model fitting")
	asJSON := fs.Bool("json", false, `print {"results": [...]} as JSON instead of a table`)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *data == "" {
		return cli.Usagef("--data is required")
	}
	if *folds < 2 {
		return cli.Usagef("--folds %d: want at least 2", *folds)
	}
	metrics, err := parseMetrics(*metric)
	if err != nil {
		return cli.Usagef("--metric: %v", err)
	}
	kinds, err := parseKinds(*model)
	if err != nil {
		return cli.Usagef("--model: %v", err)
	}

	train, err := loadByDevice(*data, *device)
	if err != nil {
		return err
	}
	var testSet map[string][]dataset.Record
	if *test != "" {
		if testSet, err = loadByDevice(*test, *device); err != nil {
			return err
		}
	}

	type job struct {
		device string
		metric surrogate.Metric
		kind   surrogate.Kind
	}
	var jobs []job
	for _, dev := range devicesOf(train) {
		for _, m := range metrics {
			for _, k := range kinds {
				jobs = append(jobs, job{dev, m, k})
			}
		}
	}
	start := time.Now()
	var rows []evalRow
	for n, j := range jobs {
		if err := ctx.Err(); err != nil {
			return err
		}
		evalProgress(env.Stderr, n, len(jobs), start, fmt.Sprintf("%s %s %s", j.device, j.metric, j.kind))
		opts := surrogate.Options{Kind: j.kind, Seed: *seed}
		archs, y := samples(train[j.device], j.metric)
		var res surrogate.Result
		if testSet != nil {
			ta, ty := samples(testSet[j.device], j.metric)
			if len(archs) < 2 || len(ta) == 0 {
				fmt.Fprintf(env.Stderr, "skip %s %s: %d training and %d test records\n", j.device, j.metric, len(archs), len(ta))
				continue
			}
			res, err = surrogate.Holdout(archs, y, ta, ty, opts)
		} else {
			if len(archs) < *folds {
				fmt.Fprintf(env.Stderr, "skip %s %s: %d records, fewer than %d folds\n", j.device, j.metric, len(archs), *folds)
				continue
			}
			res, err = surrogate.CrossValidate(archs, y, *folds, opts)
		}
		if err != nil {
			return fmt.Errorf("%s %s %s: %w", j.device, j.metric, j.kind, err)
		}
		rows = append(rows, evalRow{Device: j.device, Metric: string(j.metric), Model: string(j.kind), Result: res})
	}
	fmt.Fprintf(env.Stderr, "\r%-79s\r", "")

	if *asJSON {
		if rows == nil {
			rows = []evalRow{}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Results []evalRow `json:"results"`
		}{rows})
	}
	return writeEvalTable(env.Stdout, rows)
}

func writeEvalTable(w io.Writer, rows []evalRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "device\tmetric\tmodel\tn\t±10%\t±5%\tMAPE %\tNMSE\tρ\tτ\t±1σ\t±2σ\tfit s\tpred/s\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.1f%%\t%.1f%%\t%.1f\t%.2e\t%.3f\t%.3f\t%.2f\t%.2f\t%.3f\t%.0f\t\n",
			r.Device, r.Metric, r.Model, r.N, 100*r.Within10, 100*r.Within5, r.MAPE, r.NMSE,
			r.Spearman, r.Kendall, r.Cover1, r.Cover2, r.FitSeconds, r.PredictionsPerSecond)
	}
	return tw.Flush()
}

func runSurrogateFit(_ context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "surrogate fit",
		"surrogate fit --data FILE --device NAME --metric M [--model NAME] [--seed S] --out MODEL",
		`Fit one surrogate on every record of a device that has the metric and
save it as a versioned JSON model file.`)
	data := fs.String("data", "", "dataset `FILE` in a published EdgeTran format (required)")
	device := fs.String("device", "", "published device `NAME` (required)")
	metric := fs.String("metric", "latency", "latency, energy or peak_power")
	model := fs.String("model", "best", "ensemble, linear, hybrid, gp, gbdt, paper or best")
	seed := fs.Uint64("seed", 1, "random seed for model fitting")
	out := fs.String("out", "", "model `FILE` to write (required)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *data == "" || *device == "" || *out == "" {
		return cli.Usagef("--data, --device and --out are required")
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
	archs, y := samples(byDevice[*device], m)
	if len(archs) < 2 {
		return cli.Usagef("%s has %d records of device %s with %s: need at least 2", *data, len(archs), *device, m)
	}
	start := time.Now()
	p, err := surrogate.Fit(archs, y, surrogate.Options{Kind: kind, Seed: *seed})
	if err != nil {
		return err
	}
	if err := writeModelFile(*out, p.Save); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "fitted %s on %d records of %s %s in %.2f s; wrote %s\n", p.Kind(), len(archs), *device, m, time.Since(start).Seconds(), *out)
	return nil
}

func runSurrogatePredict(_ context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "surrogate predict",
		"surrogate predict --model MODEL --data FILE [--device NAME] [--json]",
		`Predict every record of a dataset with a saved surrogate model. With
--json, print one JSON object per line: {"key", "mean", "std"}, in the
model's units (seconds, joules or watts).`)
	modelPath := fs.String("model", "", "model `FILE` written by 'surrogate fit' (required)")
	data := fs.String("data", "", "dataset `FILE` in a published EdgeTran format (required)")
	device := fs.String("device", "", "keep only records of this published device `NAME`")
	asJSON := fs.Bool("json", false, "print JSON lines instead of a table")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || *data == "" {
		return cli.Usagef("--model and --data are required")
	}
	f, err := os.Open(*modelPath)
	if err != nil {
		return cli.Usagef("open model: %v", err)
	}
	p, err := surrogate.Load(f)
	f.Close()
	if err != nil {
		return cli.Usagef("%s: %v", *modelPath, err)
	}
	imp, err := dataset.LoadFile(*data, dataset.Options{Device: *device})
	if err != nil {
		return cli.Usagef("%v", err)
	}
	enc := json.NewEncoder(env.Stdout)
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	if !*asJSON {
		fmt.Fprintln(tw, "key\tmean\tstd")
	}
	for _, r := range imp.Records {
		mean, std, err := p.Predict(r.Measurement.Arch)
		if err != nil {
			return fmt.Errorf("record %s: %w", r.Key, err)
		}
		if *asJSON {
			if err := enc.Encode(struct {
				Key  string  `json:"key"`
				Mean float64 `json:"mean"`
				Std  float64 `json:"std"`
			}{r.Key, mean, std}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(tw, "%s\t%.6g\t%.3g\n", r.Key, mean, std)
	}
	if *asJSON {
		return nil
	}
	return tw.Flush()
}

// loadByDevice imports a dataset file and groups its records by device,
// keeping only device when it is not empty. Rejected rows are reported by
// count; an input without usable records is a usage error.
func loadByDevice(path, device string) (map[string][]dataset.Record, error) {
	imp, err := dataset.LoadFile(path, dataset.Options{Device: device})
	if err != nil {
		return nil, cli.Usagef("%v", err)
	}
	out := map[string][]dataset.Record{}
	for _, r := range imp.Records {
		out[r.Device] = append(out[r.Device], r)
	}
	if len(out) == 0 {
		if device != "" {
			return nil, cli.Usagef("%s has no usable records of device %q (%d rejected)", path, device, len(imp.Rejected))
		}
		return nil, cli.Usagef("%s has no usable records (%d rejected)", path, len(imp.Rejected))
	}
	return out, nil
}

// samples returns the architectures and values of the records that have m.
func samples(recs []dataset.Record, m surrogate.Metric) ([]arch.Architecture, []float64) {
	var archs []arch.Architecture
	var y []float64
	for i := range recs {
		if v, ok := m.Of(&recs[i].Measurement); ok {
			archs = append(archs, recs[i].Measurement.Arch)
			y = append(y, v)
		}
	}
	return archs, y
}

func parseMetrics(s string) ([]surrogate.Metric, error) {
	if s == "" || s == "all" {
		return surrogate.Metrics, nil
	}
	m, err := surrogate.ParseMetric(s)
	if err != nil {
		return nil, err
	}
	return []surrogate.Metric{m}, nil
}

// parseKinds resolves --model and adds the paper baseline, which every
// evaluation reports beside the chosen model.
func parseKinds(s string) ([]surrogate.Kind, error) {
	if s == "all" {
		return append([]surrogate.Kind{surrogate.KindBest}, surrogate.Kinds...), nil
	}
	k, err := surrogate.ParseKind(s)
	if err != nil {
		return nil, err
	}
	if k == surrogate.KindPaper {
		return []surrogate.Kind{k}, nil
	}
	return []surrogate.Kind{k, surrogate.KindPaper}, nil
}

func devicesOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// evalProgress rewrites one stderr line with the step count, the current item
// and an estimate of the time left.
func evalProgress(w io.Writer, done, total int, start time.Time, item string) {
	eta := "?"
	if done > 0 {
		left := time.Duration(float64(time.Since(start)) / float64(done) * float64(total-done))
		eta = left.Round(time.Second).String()
	}
	line := fmt.Sprintf("[%d/%d] %s, ETA %s", done+1, total, item, eta)
	fmt.Fprintf(w, "\r%-79s", strings.TrimSpace(line))
}

// writeModelFile writes path through a temporary file in the same folder
// and renames it, so a crash never leaves a half-written model.
func writeModelFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
