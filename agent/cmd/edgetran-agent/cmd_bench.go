package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/engine"
	"github.com/edgetran/edgetran/agent/profile"
	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/agent/setup"
	"github.com/edgetran/edgetran/platforms/detect"
	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/measure"
)

func benchCommand() cli.Command {
	return cli.Command{
		Name:    "bench",
		Summary: "profile architectures on this machine: latency, energy and power",
		Run:     runBench,
	}
}

// benchOptions are the parsed flags of bench.
type benchOptions struct {
	batch, seq, warmup, runs, threads, repeats int
	minDuration, interval, idle                time.Duration
	jsonOut                                    bool
	outPath                                    string
	meterName, runtimeName, configPath         string
	device                                     string
	meters                                     meterFlags
}

// benchTarget is one architecture to time, with a label for the table.
type benchTarget struct {
	label string
	arch  arch.Architecture
}

// benchResult is one line of bench's JSON output: the measurement record
// the agent would publish for a job, plus the engine figures of a bench run.
// It decodes as a measure.Measurement.
type benchResult struct {
	measure.Measurement
	Label string `json:"label"`
	// RuntimeName, Batch and SeqLen repeat Target's fields at the top level,
	// where scripts that only read bench output look for them.
	RuntimeName string  `json:"runtime"`
	Batch       int     `json:"batch"`
	SeqLen      int     `json:"seq_len"`
	Threads     int     `json:"threads"`
	GFLOPS      float64 `json:"gflops"` // FLOPs / mean latency
	// GEMMGFLOPS is gonum's blas32.Gemm throughput at this model's widest
	// shapes, measured in the same run: the reference the engine is judged
	// against.
	GEMMGFLOPS float64 `json:"gemm_gflops"`
	// EngineGEMMGFLOPS is the engine's own tiled product at the same shapes.
	EngineGEMMGFLOPS float64 `json:"engine_gemm_gflops"`
	MemoryBytes      int64   `json:"memory_bytes"`           // the runner's memory estimate of the prepared model
	EstimatedMemory  int64   `json:"estimated_memory_bytes"` // the design-space estimate
}

func runBench(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "bench", "bench [--preset NAMES] [--arch FILE] [--random N --seed S] [flags]", `
Profile FlexiBERT 2.0 architectures on this machine with the same method as
profile jobs: warm-up, an idle-power baseline, timed repeats until both
--runs passes and --min-duration are reached while --meter is sampled.
Reports per-pass latency statistics, energy per sequence and mean power
(labelled estimates when the meter is the estimate model), achieved GFLOP/s
(design-space FLOP count over mean latency) and, for reference, gonum's
SGEMM throughput at the model's widest matrix shapes measured in the same
run. Architectures come from presets, a JSON file, random samples of the
default design space, or any mix of them. Prints a table, or with --json
one measurement record per architecture as JSON lines.`)
	presets := fs.String("preset", "", "comma-separated preset `names` ("+strings.Join(arch.PresetNames(), ", ")+")")
	archFile := fs.String("arch", "", "JSON `file` with one architecture object or a list of them")
	random := fs.Int("random", 0, "number of random architectures from the default design space")
	seed := fs.Uint64("seed", 1, "seed for --random and for the model weights")
	var o benchOptions
	fs.IntVar(&o.batch, "batch", 1, "sequences per forward pass")
	fs.IntVar(&o.seq, "seq", 128, "tokens per sequence (1 to 512)")
	fs.IntVar(&o.warmup, "warmup", 1, "untimed forward passes before timing")
	fs.IntVar(&o.runs, "runs", 10, "timed forward passes per repeat, at least")
	fs.DurationVar(&o.minDuration, "min-duration", 0, "keep each repeat timing until this much time has passed as well, e.g. 10s; with a meter, give it at least 20 sampling intervals or energy stays unknown")
	fs.IntVar(&o.repeats, "repeats", 1, "timed repeats; a run-to-run spread above 10% is flagged")
	fs.StringVar(&o.meterName, "meter", "none", "power meter `name`: none (latency only), auto, or a name from 'edgetran-agent probe'")
	fs.DurationVar(&o.interval, "interval", 50*time.Millisecond, "power sampling `interval`")
	fs.DurationVar(&o.idle, "idle", 2*time.Second, "idle-power baseline before the timed repeats, when a meter is used")
	fs.StringVar(&o.runtimeName, "runtime", "builtin", "runner `name`: builtin, or a runner from --config")
	fs.StringVar(&o.configPath, "config", "", "agent configuration `file` whose runners --runtime may name")
	fs.StringVar(&o.device, "device", "", "device `id` in the records' target; default: derived from /etc/machine-id, else \"local\"")
	o.meters.register(fs)
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
	case o.repeats < 1:
		return cli.Usagef("--repeats %d: must be at least 1", o.repeats)
	case o.interval < time.Millisecond:
		return cli.Usagef("--interval %v: must be at least 1ms", o.interval)
	case o.idle < 0:
		return cli.Usagef("--idle %v: must not be negative", o.idle)
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
	r, prof, closeMeter, err := benchSetup(ctx, env, o)
	if err != nil {
		return err
	}
	defer closeMeter()
	gemms := gemmCache{}
	results := make([]benchResult, 0, len(targets))
	for _, t := range targets {
		res, err := benchOne(ctx, r, prof, o, t, seed, gemms)
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

// benchSetup returns the runner named by --runtime, a profiler with the
// meter named by --meter, and a function that closes the meter.
func benchSetup(ctx context.Context, env cli.Env, o benchOptions) (runner.Runner, *profile.Profiler, func(), error) {
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var r runner.Runner
	if o.runtimeName == "builtin" && o.configPath == "" {
		r = engine.NewRunner(engine.Options{Threads: o.threads})
	} else {
		if o.configPath == "" {
			return nil, nil, nil, cli.Usagef("--runtime %q: only builtin exists without --config", o.runtimeName)
		}
		cfg, err := config.Load(o.configPath)
		if err != nil {
			return nil, nil, nil, cli.Usagef("%v", err)
		}
		runners, err := setup.BuildRunners(cfg)
		if err != nil {
			return nil, nil, nil, err
		}
		if r = runners[o.runtimeName]; r == nil {
			return nil, nil, nil, cli.Usagef("--runtime %q: not a runner in %s", o.runtimeName, o.configPath)
		}
		if _, builtin := r.(*engine.Runner); builtin {
			r = engine.NewRunner(engine.Options{Threads: o.threads})
		}
	}

	prof := &profile.Profiler{Space: arch.Default(), Logger: logger, SysRoot: filepath.Dir(filepath.Clean(o.meters.sysfsRoot))}
	closeMeter := func() {}
	if o.meterName != "none" {
		opts := o.meters.options(logger, o.interval)
		var m meter.Meter
		var err error
		if o.meterName == "auto" {
			m, err = detect.Best(ctx, opts)
		} else {
			m, err = detect.Open(ctx, o.meterName, opts)
		}
		if err != nil {
			return nil, nil, nil, cli.Usagef("--meter %s: %v", o.meterName, err)
		}
		closeMeter = func() { m.Close() }
		prof.Power = &profile.Power{Meter: m, Interval: max(o.interval, m.Info().MinInterval)}
	}
	return r, prof, closeMeter, nil
}

// benchDevice returns --device, else the id derived from the machine id,
// else "local".
func benchDevice(o benchOptions) string {
	if o.device != "" {
		return o.device
	}
	if id, err := config.DeriveDeviceID("/"); err == nil {
		return id
	}
	return "local"
}

func benchOne(ctx context.Context, r runner.Runner, prof *profile.Profiler, o benchOptions, t benchTarget, seed uint64, gemms gemmCache) (benchResult, error) {
	space := arch.Default()
	id := space.ID(t.arch)
	spec := runner.Spec{Arch: t.arch, Batch: o.batch, SeqLen: o.seq, Precision: "fp32", Seed: seed}
	var memory int64
	p := *prof
	p.Prepared = func(m runner.Model) { memory = m.MemoryBytes() }
	settings := profile.Settings{Warmup: o.warmup, MinIters: o.runs, MinDuration: o.minDuration, Repeats: o.repeats}
	if p.Power != nil {
		settings.IdleWindow = o.idle
	}
	job := profile.Job{ID: fmt.Sprintf("bench-%s-%d", id, time.Now().UnixNano()), Device: benchDevice(o), AgentVersion: setup.Version()}
	m, err := p.Profile(ctx, r, spec, settings, job)
	if err != nil {
		return benchResult{}, fmt.Errorf("bench %s (%s): %w", t.label, id, err)
	}

	res := benchResult{
		Measurement:     *m,
		Label:           t.label,
		RuntimeName:     m.Target.Runtime,
		Batch:           m.Target.Batch,
		SeqLen:          m.Target.SeqLen,
		Threads:         o.threads,
		MemoryBytes:     memory,
		EstimatedMemory: space.Features(t.arch, o.batch, o.seq).MemoryBytes(),
	}
	if res.Threads == 0 {
		res.Threads = runtime.GOMAXPROCS(0)
	}
	res.GFLOPS = res.FLOPs / res.Latency.Mean / 1e9
	res.GEMMGFLOPS, res.EngineGEMMGFLOPS = gemms.measure(modelShapes(t.arch, o.batch*o.seq), o.threads)
	return res, nil
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

// optional formats v×scale, or "-" when v is unknown.
func optional(v *float64, scale float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *v*scale)
}

// powerLabel names the meter, marking estimates.
func powerLabel(p *measure.PowerSource) string {
	switch {
	case p == nil:
		return "none"
	case p.Estimated:
		return p.Meter + " (estimate)"
	default:
		return p.Meter
	}
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
	fmt.Fprintln(tw, "label\tarch_id\tlayers\tmean_ms\tp50_ms\tp90_ms\tstd_ms\tn\tgflops\tgemm_gflops\t% of gemm\tmj_per_seq\tmean_w\tpower\t")
	for _, r := range results {
		l := r.Latency
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t%.2f\t%.0f%%\t%s\t%s\t%s\t\n",
			r.Label, r.ArchID[:12], r.Arch.L, 1e3*l.Mean, 1e3*l.P50, 1e3*l.P90, 1e3*l.Std, l.N,
			r.GFLOPS, r.GEMMGFLOPS, 100*r.GFLOPS/r.GEMMGFLOPS,
			optional(r.EnergyPerSeqJ, 1e3), optional(r.MeanPowerW, 1), powerLabel(r.Power))
	}
	return tw.Flush()
}
