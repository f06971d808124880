package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/edgetran/edgetran/agent/engine"
	"github.com/edgetran/edgetran/agent/profile"
	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/measure"
)

func benchCommand() cli.Command {
	return cli.Command{
		Name:    "bench",
		Summary: "time architectures on the builtin engine",
		Run:     runBench,
	}
}

// benchOptions are the parsed flags of bench.
type benchOptions struct {
	batch, seq, warmup, runs, threads int
	minDuration                       time.Duration
	jsonOut                           bool
	outPath                           string
}

// benchTarget is one architecture to time, with a label for the table.
type benchTarget struct {
	label string
	arch  arch.Architecture
}

// benchResult is one line of bench's JSON output.
type benchResult struct {
	ArchID         string               `json:"arch_id"`
	Label          string               `json:"label"`
	Arch           arch.Architecture    `json:"arch"`
	Runtime        string               `json:"runtime"`
	RuntimeVersion string               `json:"runtime_version"`
	Batch          int                  `json:"batch"`
	SeqLen         int                  `json:"seq_len"`
	Threads        int                  `json:"threads"`
	Latency        measure.LatencyStats `json:"latency_s"` // per forward pass of the whole batch
	FLOPs          float64              `json:"flops"`     // design-space count per forward pass
	GFLOPS         float64              `json:"gflops"`    // FLOPs / mean latency
	// GEMMGFLOPS is gonum's blas32.Gemm throughput at this model's widest
	// shapes, measured in the same run: the reference the engine is judged
	// against.
	GEMMGFLOPS float64 `json:"gemm_gflops"`
	// EngineGEMMGFLOPS is the engine's own tiled product at the same shapes.
	EngineGEMMGFLOPS float64 `json:"engine_gemm_gflops"`
	MemoryBytes      int64   `json:"memory_bytes"`           // the engine's allocation plan
	EstimatedMemory  int64   `json:"estimated_memory_bytes"` // the design-space estimate
}

func runBench(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "bench", "bench [--preset NAMES] [--arch FILE] [--random N --seed S] [flags]", `
Time FlexiBERT 2.0 architectures on the builtin engine of this machine and
report per-pass latency statistics, achieved GFLOP/s (design-space FLOP
count over mean latency) and, for reference, gonum's SGEMM throughput at the
model's widest matrix shapes measured in the same run. Architectures come
from presets, a JSON file, random samples of the default design space, or
any mix of them. Prints a table, or JSON lines with --json.`)
	presets := fs.String("preset", "", "comma-separated preset `names` ("+strings.Join(arch.PresetNames(), ", ")+")")
	archFile := fs.String("arch", "", "JSON `file` with one architecture object or a list of them")
	random := fs.Int("random", 0, "number of random architectures from the default design space")
	seed := fs.Uint64("seed", 1, "seed for --random and for the model weights")
	var o benchOptions
	fs.IntVar(&o.batch, "batch", 1, "sequences per forward pass")
	fs.IntVar(&o.seq, "seq", 128, "tokens per sequence (1 to 512)")
	fs.IntVar(&o.warmup, "warmup", 1, "untimed forward passes before timing")
	fs.IntVar(&o.runs, "runs", 10, "timed forward passes, at least")
	fs.DurationVar(&o.minDuration, "min-duration", 0, "keep timing until this much time has passed as well, e.g. 10s")
	fs.IntVar(&o.threads, "threads", 0, "threads for the engine and the SGEMM reference (0: all cores)")
	fs.BoolVar(&o.jsonOut, "json", false, "print one JSON object per architecture instead of a table")
	fs.StringVar(&o.outPath, "out", "", "also write the JSON lines to this `file`")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q: give architectures with --preset, --arch or --random", fs.Arg(0))
	}
	if err := o.validate(*random); err != nil {
		return err
	}
	targets, err := benchTargets(*presets, *archFile, *random, *seed)
	if err != nil {
		return err
	}

	if o.threads > 0 {
		// gonum's parallel Sgemm sizes its worker set from GOMAXPROCS, so
		// this keeps the reference on the same number of cores.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(o.threads))
	}
	var out io.Writer
	if o.outPath != "" {
		f, err := os.Create(o.outPath)
		if err != nil {
			return cli.Usagef("create output file: %v", err)
		}
		defer f.Close()
		out = f
	}
	return benchAll(ctx, env, o, targets, *seed, out)
}

func (o benchOptions) validate(random int) error {
	switch {
	case o.batch < 1:
		return cli.Usagef("--batch %d: must be at least 1", o.batch)
	case o.seq < 1 || o.seq > arch.MaxPositions:
		return cli.Usagef("--seq %d: must be between 1 and %d", o.seq, arch.MaxPositions)
	case o.warmup < 0:
		return cli.Usagef("--warmup %d: must not be negative", o.warmup)
	case o.runs < 1:
		return cli.Usagef("--runs %d: must be at least 1", o.runs)
	case o.minDuration < 0:
		return cli.Usagef("--min-duration %v: must not be negative", o.minDuration)
	case o.threads < 0:
		return cli.Usagef("--threads %d: must not be negative", o.threads)
	case random < 0:
		return cli.Usagef("--random %d: must not be negative", random)
	}
	return nil
}

// benchTargets collects the architectures named by the flags, in the order
// presets, file, random.
func benchTargets(presets, archFile string, random int, seed uint64) ([]benchTarget, error) {
	space := arch.Default()
	var targets []benchTarget
	for _, name := range strings.Split(presets, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		a, err := arch.Preset(name)
		if err != nil {
			return nil, cli.Usagef("--preset: %v", err)
		}
		targets = append(targets, benchTarget{label: name, arch: a})
	}
	if archFile != "" {
		archs, err := readArchFile(space, archFile)
		if err != nil {
			return nil, err
		}
		for i, a := range archs {
			targets = append(targets, benchTarget{label: fmt.Sprintf("file#%d", i+1), arch: a})
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	for i := range random {
		targets = append(targets, benchTarget{label: fmt.Sprintf("random#%d", i+1), arch: space.Random(rng)})
	}
	if len(targets) == 0 {
		return nil, cli.Usagef("no architectures: give --preset, --arch or --random")
	}
	return targets, nil
}

// readArchFile reads one architecture object or a list of them and checks
// each against the default design space.
func readArchFile(space *arch.Space, path string) ([]arch.Architecture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, cli.Usagef("--arch: %v", err)
	}
	var raws []json.RawMessage
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, cli.Usagef("--arch %s: invalid JSON list: %v", path, err)
		}
		if len(raws) == 0 {
			return nil, cli.Usagef("--arch %s: the list is empty", path)
		}
	} else {
		raws = []json.RawMessage{data}
	}
	archs := make([]arch.Architecture, 0, len(raws))
	for i, raw := range raws {
		a, err := arch.ParseArchitecture(raw)
		if err == nil {
			err = space.Validate(a)
		}
		if err != nil {
			return nil, cli.Usagef("--arch %s: architecture %d: %v", path, i+1, err)
		}
		archs = append(archs, a)
	}
	return archs, nil
}

func benchAll(ctx context.Context, env cli.Env, o benchOptions, targets []benchTarget, seed uint64, out io.Writer) error {
	var bar *progressbar.ProgressBar
	if f, ok := env.Stderr.(*os.File); ok && len(targets) > 1 && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions(len(targets), progressbar.OptionSetWriter(env.Stderr),
			progressbar.OptionSetDescription("bench"), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
	}
	r := engine.NewRunner(engine.Options{Threads: o.threads})
	gemms := gemmCache{}
	results := make([]benchResult, 0, len(targets))
	for _, t := range targets {
		res, err := benchOne(ctx, r, o, t, seed, gemms)
		if err != nil {
			return err
		}
		results = append(results, res)
		if o.jsonOut {
			if err := writeJSONLine(env.Stdout, res); err != nil {
				return err
			}
		}
		if out != nil {
			if err := writeJSONLine(out, res); err != nil {
				return fmt.Errorf("write %s: %w", o.outPath, err)
			}
		}
		if bar != nil {
			_ = bar.Add(1)
		}
	}
	if !o.jsonOut {
		return printBenchTable(env.Stdout, results)
	}
	return nil
}

func benchOne(ctx context.Context, r *engine.Runner, o benchOptions, t benchTarget, seed uint64, gemms gemmCache) (benchResult, error) {
	space := arch.Default()
	id := space.ID(t.arch)
	spec := runner.Spec{Arch: t.arch, Batch: o.batch, SeqLen: o.seq, Precision: "fp32", Seed: seed}
	model, err := r.Prepare(ctx, spec)
	if err != nil {
		return benchResult{}, fmt.Errorf("prepare %s (%s): %w", t.label, id, err)
	}
	defer model.Close()
	iters, err := timeIterations(ctx, model, o.warmup, o.runs, o.minDuration)
	if err != nil {
		return benchResult{}, fmt.Errorf("time %s (%s): %w", t.label, id, err)
	}
	seconds := make([]float64, len(iters))
	for i, it := range iters {
		seconds[i] = it.Duration().Seconds()
	}

	features := space.Features(t.arch, o.batch, o.seq)
	info := r.Info()
	res := benchResult{
		ArchID: id, Label: t.label, Arch: t.arch,
		Runtime: info.Runtime, RuntimeVersion: info.Version,
		Batch: o.batch, SeqLen: o.seq, Threads: o.threads,
		Latency:         profile.LatencyStats(seconds),
		FLOPs:           features.FLOPs(),
		MemoryBytes:     model.MemoryBytes(),
		EstimatedMemory: features.MemoryBytes(),
	}
	if res.Threads == 0 {
		res.Threads = runtime.GOMAXPROCS(0)
	}
	res.GFLOPS = res.FLOPs / res.Latency.Mean / 1e9
	res.GEMMGFLOPS, res.EngineGEMMGFLOPS = gemms.measure(modelShapes(t.arch, o.batch*o.seq), o.threads)
	return res, nil
}

// timeIterations runs warmup untimed passes, then timed passes until both
// runs passes and minDuration are reached, and returns the timed ones. It is
// the one place to swap for a richer measurement method.
func timeIterations(ctx context.Context, model runner.Model, warmup, runs int, minDuration time.Duration) ([]runner.Iteration, error) {
	if warmup > 0 {
		if _, err := model.Run(ctx, make([]runner.Iteration, warmup)); err != nil {
			return nil, err
		}
	}
	iters := make([]runner.Iteration, 0, runs)
	one := make([]runner.Iteration, 1)
	for len(iters) < runs || iters[len(iters)-1].End.Sub(iters[0].Start) < minDuration {
		if _, err := model.Run(ctx, one); err != nil {
			return nil, err
		}
		iters = append(iters, one[0])
	}
	return iters, nil
}

// gemmShape is an m×k by k×n product.
type gemmShape struct{ m, n, k int }

// modelShapes returns the two products that dominate a layer of the widest
// hidden size h: tokens×h by h×h (attention projections) and tokens×h by
// h×f for the widest feed-forward width f.
func modelShapes(a arch.Architecture, tokens int) []gemmShape {
	h, f := 0, 0
	for i := range a.L {
		h = max(h, a.H[i])
		for _, w := range a.F[i] {
			f = max(f, w)
		}
	}
	return []gemmShape{{tokens, h, h}, {tokens, f, h}}
}

// gemmCache keeps the measured GFLOP/s per shape for the whole run, so
// architectures of the same widths share one measurement.
type gemmCache map[gemmShape][2]float64

// gemmWindow is how long each shape is timed.
const gemmWindow = 300 * time.Millisecond

// measure returns the combined gonum and engine GFLOP/s over shapes: total
// operations over total time, as if each shape ran for the same time.
func (c gemmCache) measure(shapes []gemmShape, threads int) (gonum, own float64) {
	var inv [2]float64
	for _, s := range shapes {
		v, ok := c[s]
		if !ok {
			v = [2]float64{gonumGEMM(s, gemmWindow), engine.GEMMThroughput(s.m, s.n, s.k, threads, gemmWindow)}
			c[s] = v
		}
		inv[0] += 1 / v[0]
		inv[1] += 1 / v[1]
	}
	n := float64(len(shapes))
	return n / inv[0], n / inv[1]
}

// gonumGEMM times blas32.Gemm, gonum's SGEMM as any caller gets it, for at
// least minDuration and two products, and returns GFLOP/s.
func gonumGEMM(s gemmShape, minDuration time.Duration) float64 {
	rng := rand.New(rand.NewPCG(3, 4))
	general := func(r, c int) blas32.General {
		g := blas32.General{Rows: r, Cols: c, Stride: c, Data: make([]float32, r*c)}
		for i := range g.Data {
			// Non-zero values: gonum skips zero entries of A.
			g.Data[i] = rng.Float32() + 0.5
		}
		return g
	}
	a, b, c := general(s.m, s.k), general(s.k, s.n), general(s.m, s.n)
	blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, a, b, 0, c)
	reps := 0
	start := time.Now()
	for reps < 2 || time.Since(start) < minDuration {
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, a, b, 0, c)
		reps++
	}
	return 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(reps) / time.Since(start).Seconds() / 1e9
}

func writeJSONLine(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

func printBenchTable(w io.Writer, results []benchResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "label\tarch_id\tlayers\tmean_ms\tp50_ms\tp90_ms\tstd_ms\tn\tgflops\tgemm_gflops\t% of gemm\t")
	for _, r := range results {
		l := r.Latency
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t%.2f\t%.0f%%\t\n",
			r.Label, r.ArchID[:12], r.Arch.L, 1e3*l.Mean, 1e3*l.P50, 1e3*l.P90, 1e3*l.Std, l.N,
			r.GFLOPS, r.GEMMGFLOPS, 100*r.GFLOPS/r.GEMMGFLOPS)
	}
	return tw.Flush()
}
