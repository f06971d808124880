package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/dataset"
)

func datasetCheckCommand() cli.Command {
	return cli.Command{
		Name:    "dataset check",
		Summary: "check a published EdgeTran dataset file and summarise it per device",
		Run:     runDatasetCheck,
	}
}

const datasetCheckHelp = `
Reads a published EdgeTran measurement file (co-design or per-device format)
and prints, per device, the number of valid records and the minimum, median
and maximum of latency (s per sequence), energy (J per sequence) and peak
power (W), then every rejected row with its reason.

Exit status: 0 when every row is valid, 1 when some rows were rejected,
2 when the file cannot be read or parsed at all.`

// spread is the minimum, median and maximum of one measure.
type spread struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

type deviceSummary struct {
	Count     int    `json:"count"`
	Target    string `json:"target"`
	Latency   spread `json:"latency"`
	Energy    spread `json:"energy"`
	PeakPower spread `json:"peak_power"`
}

type datasetSummary struct {
	File     string                   `json:"file"`
	Format   string                   `json:"format"`
	Valid    int                      `json:"valid"`
	Rejected []dataset.Rejection      `json:"rejected"`
	Devices  map[string]deviceSummary `json:"devices"`
}

func runDatasetCheck(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "dataset check", "dataset check FILE [--device NAME] [--json]", datasetCheckHelp)
	device := fs.String("device", "", "published device `name` (a100, cpu_m1-pro, ...); required for a per-device file, a filter for a co-design file")
	asJSON := fs.Bool("json", false, "print one JSON object instead of tables")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Usagef("want exactly one dataset file, got %d arguments", fs.NArg())
	}
	path := fs.Arg(0)

	imp, err := dataset.LoadFile(path, dataset.Options{Device: *device})
	if err != nil {
		return &cli.ExitError{Code: cli.ExitUsage, Message: err.Error()}
	}
	summary := summarise(path, imp)
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(summary); err != nil {
			return err
		}
	} else if err := printSummary(env.Stdout, summary); err != nil {
		return err
	}

	if n := len(summary.Rejected); n > 0 {
		return &cli.ExitError{Code: cli.ExitFailure, Message: fmt.Sprintf("%d of %d rows rejected", n, n+summary.Valid)}
	}
	return nil
}

func summarise(path string, imp *dataset.Import) datasetSummary {
	s := datasetSummary{
		File:     path,
		Format:   imp.Format,
		Valid:    len(imp.Records),
		Rejected: imp.Rejected,
		Devices:  map[string]deviceSummary{},
	}
	if s.Rejected == nil {
		s.Rejected = []dataset.Rejection{}
	}
	type columns struct{ latency, energy, peak []float64 }
	byDevice := map[string]*columns{}
	for _, r := range imp.Records {
		c := byDevice[r.Device]
		if c == nil {
			c = &columns{}
			byDevice[r.Device] = c
			s.Devices[r.Device] = deviceSummary{Target: r.Measurement.Target.Key()}
		}
		m := r.Measurement
		c.latency = append(c.latency, m.LatencyPerSeqS)
		c.energy = append(c.energy, *m.EnergyPerSeqJ)
		c.peak = append(c.peak, *m.PeakPowerW)
	}
	for dev, c := range byDevice {
		d := s.Devices[dev]
		d.Count = len(c.latency)
		d.Latency, d.Energy, d.PeakPower = spreadOf(c.latency), spreadOf(c.energy), spreadOf(c.peak)
		s.Devices[dev] = d
	}
	return s
}

// spreadOf returns the minimum, median and maximum of a non-empty sample;
// the median of an even count is the mean of the two middle values.
func spreadOf(x []float64) spread {
	x = slices.Clone(x)
	slices.Sort(x)
	n := len(x)
	median := x[n/2]
	if n%2 == 0 {
		median = (x[n/2-1] + x[n/2]) / 2
	}
	return spread{Min: x[0], Median: median, Max: x[n-1]}
}

func printSummary(w io.Writer, s datasetSummary) error {
	fmt.Fprintf(w, "%s (%s format): %d valid, %d rejected\n", s.File, s.Format, s.Valid, len(s.Rejected))

	names := make([]string, 0, len(s.Devices))
	for _, name := range dataset.DeviceNames() {
		if _, ok := s.Devices[name]; ok {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "device\tcount\tlatency s/seq min\tmedian\tmax\tenergy J/seq min\tmedian\tmax\tpeak power W min\tmedian\tmax\ttarget\t")
		for _, name := range names {
			d := s.Devices[name]
			fmt.Fprintf(tw, "%s\t%d\t%.4g\t%.4g\t%.4g\t%.4g\t%.4g\t%.4g\t%.4g\t%.4g\t%.4g\t%s\t\n", name, d.Count,
				d.Latency.Min, d.Latency.Median, d.Latency.Max,
				d.Energy.Min, d.Energy.Median, d.Energy.Max,
				d.PeakPower.Min, d.PeakPower.Median, d.PeakPower.Max, d.Target)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if len(s.Rejected) > 0 {
		fmt.Fprintf(w, "\nrejected rows:\n")
		for _, r := range s.Rejected {
			fmt.Fprintf(w, "  %s: %s\n", r.Key, r.Reason)
		}
	}
	return nil
}
