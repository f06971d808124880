package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/edgetran/edgetran/platforms/detect"
	"github.com/edgetran/edgetran/platforms/estimate"
	"github.com/edgetran/edgetran/platforms/hwmon"
	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/shared/cli"
)

func powerCommand() cli.Command {
	return cli.Command{
		Name:    "power",
		Summary: "read a power meter live and summarise the window",
		Run:     runPower,
	}
}

// meterFlags are the flags probe and power share: filesystem roots and the
// estimate model.
type meterFlags struct {
	sysfsRoot  string
	procfsRoot string
	idleW      float64
	maxW       float64
	hwmonScale powerScales
}

// powerScales is the repeatable --hwmon-power-scale DRIVER=W flag.
type powerScales map[string]float64

func (p *powerScales) String() string {
	var parts []string
	for driver, w := range *p {
		parts = append(parts, fmt.Sprintf("%s=%g", driver, w))
	}
	return strings.Join(parts, ",")
}

func (p *powerScales) Set(v string) error {
	driver, num, ok := strings.Cut(v, "=")
	w, err := strconv.ParseFloat(num, 64)
	if !ok || driver == "" || err != nil || !(w > 0) || math.IsInf(w, 0) {
		return fmt.Errorf("invalid hwmon power scale %q: want DRIVER=WATTS_PER_UNIT, e.g. ina226=0.001 for a driver that writes mW", v)
	}
	if *p == nil {
		*p = powerScales{}
	}
	(*p)[driver] = w
	return nil
}

func (f *meterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.sysfsRoot, "sysfs-root", "/sys", "sysfs mount `dir` (a host mount inside a container, or a fixture tree)")
	fs.StringVar(&f.procfsRoot, "procfs-root", "/proc", "procfs mount `dir`")
	fs.Float64Var(&f.idleW, "estimate-idle-w", estimate.DefaultIdleW, "estimate model: device power at 0% CPU, in `watts`")
	fs.Float64Var(&f.maxW, "estimate-max-w", estimate.DefaultMaxW, "estimate model: device power at 100% CPU, in `watts`")
	fs.Var(&f.hwmonScale, "hwmon-power-scale", "`DRIVER=W` watts per raw unit of a hwmon driver's power files, for drivers that write mW instead of µW (ina226=0.001); repeatable")
}

func (f *meterFlags) options(logger *slog.Logger, interval time.Duration) detect.Options {
	return detect.Options{
		Deps:     meter.NewDeps(f.sysfsRoot, f.procfsRoot, logger),
		Estimate: estimate.Config{IdleW: f.idleW, MaxW: f.maxW},
		Hwmon:    hwmon.Config{PowerScaleW: f.hwmonScale},
		Interval: interval,
	}
}

// sampleLine is one --json output line per sample.
type sampleLine struct {
	Type   string   `json:"type"` // "sample"
	TS     float64  `json:"t_s"`  // seconds since sampling started
	PowerW *float64 `json:"power_w"`
	Failed bool     `json:"failed,omitempty"`
}

// summaryLine is the final --json output line.
type summaryLine struct {
	Type              string   `json:"type"` // "summary"
	Meter             string   `json:"meter"`
	Estimated         bool     `json:"estimated"`
	Samples           int      `json:"samples"`
	RateHz            float64  `json:"rate_hz"`
	EnergyJ           *float64 `json:"energy_j"` // null when it could not be computed
	PeakW             *float64 `json:"peak_w"`
	MeanW             *float64 `json:"mean_w"`
	DurationS         float64  `json:"duration_s"`
	EnergyFromCounter bool     `json:"energy_from_counter"`
	Missing           bool     `json:"missing"`
	Failed            bool     `json:"failed"`
	Note              string   `json:"note,omitempty"`
}

func number(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func runPower(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "power", "power [--meter NAME] [--interval D] [--duration 5s] [--json]", `
Read a power meter at a fixed interval, print the readings as they come and
a summary of the whole window at the end: energy, peak and mean power,
achieved sampling rate and the meter used. Without --meter the first
available meter in priority order is used (`+strings.Join(detect.Names(), ", ")+`).
Each text line is the mean, minimum and maximum of the samples since the
previous line; --json prints every sample. Estimated readings are labelled
as estimates. SIGINT ends the window early.`)
	var mf meterFlags
	mf.register(fs)
	name := fs.String("meter", "auto", "meter `name`, or auto for the first available")
	interval := fs.Duration("interval", 0, "sampling `interval` (default: the meter's minimum interval, e.g. 50ms for estimate, 1ms for rapl)")
	duration := fs.Duration("duration", 5*time.Second, "window `length`")
	asJSON := fs.Bool("json", false, "print one JSON object per sample and a final summary object")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "interval" })
	if *duration <= 0 {
		return cli.Usagef("--duration %v must be positive", *duration)
	}
	if explicit {
		if *interval <= 0 {
			return cli.Usagef("--interval %v must be positive", *interval)
		}
		if err := checkSampleCount(*duration, *interval); err != nil {
			return err
		}
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// Without --interval, streaming meters (nvidia-smi, tegrastats) start at
	// their own default period and the sampler follows their MinInterval.
	m, err := openPowerMeter(ctx, *name, mf.options(logger, *interval))
	if err != nil {
		return err
	}
	defer m.Close()
	info := m.Info()
	if !explicit {
		*interval = info.MinInterval
		if err := checkSampleCount(*duration, *interval); err != nil {
			return err
		}
	}
	if *interval < info.MinInterval {
		logger.Warn("interval shorter than the meter updates; repeated readings are dropped",
			"meter", info.Name, "interval", *interval, "min_interval", info.MinInterval)
	}
	if !*asJSON {
		fmt.Fprintf(env.Stdout, "meter %s: %s\n", info.Name, sourceLabel(info))
	}

	capacity := int(*duration / *interval) + 1000
	sampler := meter.NewSampler(m, *interval, capacity)
	sampler.SetLogger(logger)
	runCtx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	start := time.Now()
	live := &livePrinter{w: env.Stdout, s: sampler, start: start, last: start, asJSON: *asJSON, estimated: info.Estimated}
	sampler.Start(runCtx)
	live.run(runCtx)
	sampler.Stop()
	end := time.Now()
	// After Stop no sample can arrive, so the lines printed and the summary
	// cover the same samples.
	live.flush()

	sum, werr := sampler.Window(start, end)
	if err := printSummary(env.Stdout, info, sum, end.Sub(start), *asJSON); err != nil {
		return err
	}
	if werr != nil {
		if last, failures, reads := sampler.Err(); last != nil {
			return fmt.Errorf("%w (the meter failed %d of %d reads, last: %v)", werr, failures, reads, last)
		}
		return werr
	}
	return nil
}

// checkSampleCount rejects a window of more than 10 million samples, which
// would take the ring buffer past 480 MB.
func checkSampleCount(duration, interval time.Duration) error {
	if duration/interval > 10_000_000 {
		return cli.Usagef("--duration %v at --interval %v is more than 10 million samples: use a longer interval", duration, interval)
	}
	return nil
}

// openPowerMeter opens the named meter, or the best one for "auto".
func openPowerMeter(ctx context.Context, name string, o detect.Options) (meter.Meter, error) {
	if name == "" || name == "auto" {
		return detect.Best(ctx, o)
	}
	m, err := detect.Open(ctx, name, o)
	if err != nil && strings.HasPrefix(err.Error(), "unknown meter") {
		return nil, cli.Usagef("--meter: %v", err)
	}
	return m, err
}

// livePrinter prints the samples stored since its previous flush: every
// sample with --json, else one line with their mean, minimum and maximum,
// so the summary's peak always shows up in some line.
type livePrinter struct {
	w         io.Writer
	s         *meter.Sampler
	start     time.Time
	last      time.Time // time of the latest printed sample
	asJSON    bool
	estimated bool
	points    []meter.Point
}

// run flushes about four times a second (ten with --json) until ctx ends.
func (p *livePrinter) run(ctx context.Context) {
	tick := 250 * time.Millisecond
	if p.asJSON {
		tick = 100 * time.Millisecond
	}
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			p.flush()
		}
	}
}

func (p *livePrinter) flush() {
	p.points = p.s.Since(p.points[:0], p.last)
	if len(p.points) == 0 {
		return
	}
	p.last = p.points[len(p.points)-1].Time
	if p.asJSON {
		enc := json.NewEncoder(p.w)
		for _, pt := range p.points {
			_ = enc.Encode(sampleLine{Type: "sample", TS: pt.Time.Sub(p.start).Seconds(), PowerW: number(pt.PowerW), Failed: pt.Failed})
		}
		return
	}
	fmt.Fprintf(p.w, "%8.2fs  %s\n", p.last.Sub(p.start).Seconds(), describePoints(p.points, p.estimated))
}

// describePoints returns "MEAN W mean of N samples, range MIN–MAX W" for
// one text line; samples without power count in N but not in the figures.
func describePoints(points []meter.Point, estimated bool) string {
	var sum, lo, hi float64
	valid, failed := 0, 0
	for _, pt := range points {
		if pt.Failed {
			failed++
		}
		if math.IsNaN(pt.PowerW) {
			continue
		}
		if valid == 0 || pt.PowerW < lo {
			lo = pt.PowerW
		}
		if valid == 0 || pt.PowerW > hi {
			hi = pt.PowerW
		}
		sum += pt.PowerW
		valid++
	}
	count := fmt.Sprintf("%d samples", len(points))
	if len(points) == 1 {
		count = "1 sample"
	}
	if failed > 0 {
		count += fmt.Sprintf(", %d failed", failed)
	}
	if valid == 0 {
		return "no reading, " + count
	}
	if len(points) == 1 {
		return fmt.Sprintf("%s, %s", formatWatts(sum, estimated), count)
	}
	return fmt.Sprintf("%s mean of %s, range %.3f–%.3f W", formatWatts(sum/float64(valid), estimated), count, lo, hi)
}

func printSummary(w io.Writer, info meter.Info, sum meter.Summary, d time.Duration, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(summaryLine{
			Type: "summary", Meter: info.Name, Estimated: sum.Estimated || info.Estimated,
			Samples: sum.Samples, RateHz: sum.RateHz,
			EnergyJ: number(sum.EnergyJ), PeakW: number(sum.PeakW), MeanW: number(sum.MeanW),
			DurationS: d.Seconds(), EnergyFromCounter: sum.EnergyFromCounter,
			Missing: sum.Missing, Failed: sum.Failed, Note: sum.Note,
		})
	}
	est := sum.Estimated || info.Estimated
	method := "trapezoidal integral of power"
	if sum.EnergyFromCounter {
		method = "energy counter delta"
	}
	fmt.Fprintf(w, "\nsummary over %.2f s (meter %s, %s)\n", d.Seconds(), info.Name, sourceLabel(info))
	fmt.Fprintf(w, "  energy    %s (%s)\n", formatJoules(sum.EnergyJ, est), method)
	fmt.Fprintf(w, "  peak      %s\n", formatWatts(sum.PeakW, est))
	fmt.Fprintf(w, "  mean      %s\n", formatWatts(sum.MeanW, est))
	fmt.Fprintf(w, "  samples   %d at %.1f Hz achieved\n", sum.Samples, sum.RateHz)
	if sum.Missing || sum.Failed {
		fmt.Fprintf(w, "  flagged   %s\n", sum.Note)
	}
	return nil
}

// sourceLabel labels readings as measured or estimated, with the meter's description.
func sourceLabel(info meter.Info) string {
	if info.Estimated {
		return "ESTIMATED, not measured: " + info.Description
	}
	return "measured: " + info.Description
}

func formatWatts(w float64, estimated bool) string {
	if math.IsNaN(w) {
		return "no reading"
	}
	if estimated {
		return fmt.Sprintf("%.3f W (estimated)", w)
	}
	return fmt.Sprintf("%.3f W", w)
}

func formatJoules(j float64, estimated bool) string {
	if math.IsNaN(j) {
		return "not computed"
	}
	if estimated {
		return fmt.Sprintf("%.3f J (estimated)", j)
	}
	return fmt.Sprintf("%.3f J", j)
}
