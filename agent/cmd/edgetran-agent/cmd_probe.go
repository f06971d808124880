package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/edgetran/edgetran/platforms/detect"
	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/platforms/probe"
	"github.com/edgetran/edgetran/shared/cli"
)

func probeCommand() cli.Command {
	return cli.Command{
		Name:    "probe",
		Summary: "print device facts and every detected power meter with a live reading",
		Run:     runProbe,
	}
}

// probeRail is one rail in probe --json output.
type probeRail struct {
	Name   string   `json:"name"`
	Unit   string   `json:"unit"`
	Total  bool     `json:"total,omitempty"`
	Sub    bool     `json:"sub,omitempty"`
	PowerW *float64 `json:"power_w"` // null when the rail had no reading
}

// probeMeter is one detected meter in probe --json output.
type probeMeter struct {
	Name          string      `json:"name"`
	Description   string      `json:"description"`
	Estimated     bool        `json:"estimated"`
	EnergyCounter bool        `json:"energy_counter"`
	MinIntervalS  float64     `json:"min_interval_s"`
	Rails         []probeRail `json:"rails"`
	TotalW        *float64    `json:"total_w"` // null when a summed rail had no reading
	Error         string      `json:"error,omitempty"`
}

type probeFailure struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

type probeReport struct {
	Device      probe.Facts    `json:"device"`
	Meters      []probeMeter   `json:"meters"`
	Unavailable []probeFailure `json:"unavailable"`
}

func runProbe(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "probe", "probe [--json] [--sysfs-root DIR] [--procfs-root DIR]", `
Print this device's facts (OS, architecture, CPU, memory, board model,
GPUs) and every power meter found, each with one live reading, then the
meters that are not available and why. Estimated sources are labelled.`)
	var mf meterFlags
	mf.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := mf.options(logger, 100*time.Millisecond)

	report := probeReport{Device: probe.Collect(ctx, opts.Deps), Meters: []probeMeter{}, Unavailable: []probeFailure{}}
	meters, failures := detect.All(ctx, opts)
	for _, m := range meters {
		report.Meters = append(report.Meters, liveReading(ctx, m))
		m.Close()
	}
	for _, f := range failures {
		// errors.Join puts each attempt on its own line; one line reads better here.
		msg := strings.ReplaceAll(f.Err.Error(), "\n", "; ")
		// The Name column already names the meter, and meters prefix their errors with it.
		msg = strings.TrimPrefix(msg, f.Name+": ")
		report.Unavailable = append(report.Unavailable, probeFailure{Name: f.Name, Error: msg})
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	printProbe(env.Stdout, report)
	return nil
}

// liveReading reads m twice, far enough apart for counter meters and the
// estimate model to have a value, and reports the second reading.
func liveReading(ctx context.Context, m meter.Meter) probeMeter {
	info := m.Info()
	pm := probeMeter{
		Name: info.Name, Description: info.Description, Estimated: info.Estimated,
		EnergyCounter: info.EnergyCounter, MinIntervalS: info.MinInterval.Seconds(),
	}
	var s meter.Sample
	err := m.Read(ctx, &s)
	if err == nil {
		wait := max(info.MinInterval*2, 200*time.Millisecond)
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(wait):
			err = m.Read(ctx, &s)
		}
	}
	if err != nil {
		pm.Error = err.Error()
	}
	for k, r := range info.Rails {
		rail := probeRail{Name: r.Name, Unit: r.Unit, Total: r.Total, Sub: r.Sub}
		if k < len(s.PowerW) {
			rail.PowerW = number(s.PowerW[k])
		}
		pm.Rails = append(pm.Rails, rail)
	}
	if w, ok := s.SumPower(info.TotalRails()); ok {
		pm.TotalW = number(w)
	}
	return pm
}

func printProbe(w io.Writer, r probeReport) {
	d := r.Device
	fmt.Fprintf(w, "device\n")
	fmt.Fprintf(w, "  os        %s/%s\n", d.OS, d.Arch)
	fmt.Fprintf(w, "  cpu       %s (%d logical cores)\n", orUnknown(d.CPUModel), d.CPUCores)
	if d.MemoryBytes > 0 {
		fmt.Fprintf(w, "  memory    %.1f GiB\n", float64(d.MemoryBytes)/(1<<30))
	} else {
		fmt.Fprintf(w, "  memory    unknown\n")
	}
	fmt.Fprintf(w, "  board     %s\n", orUnknown(d.BoardModel))
	gpus := "none found"
	if len(d.GPUs) > 0 {
		gpus = strings.Join(d.GPUs, ", ")
	}
	fmt.Fprintf(w, "  gpus      %s\n", gpus)

	fmt.Fprintf(w, "\nmeters (priority order)\n")
	if len(r.Meters) == 0 {
		fmt.Fprintf(w, "  none\n")
	}
	for _, m := range r.Meters {
		label := "measured"
		if m.Estimated {
			label = "ESTIMATED, not measured"
		}
		// The label marks an estimate once per line, so the total carries no suffix.
		total := "no reading"
		if m.TotalW != nil {
			total = fmt.Sprintf("%.3f W", *m.TotalW)
		}
		fmt.Fprintf(w, "  %-13s %s total, %s: %s\n", m.Name, total, label, m.Description)
		for _, rail := range m.Rails {
			v := "no reading"
			if rail.PowerW != nil {
				v = fmt.Sprintf("%.3f W", *rail.PowerW)
			}
			role := ""
			switch {
			case rail.Total:
				role = " [total]"
			case rail.Sub:
				role = " [inside another rail]"
			}
			fmt.Fprintf(w, "      %-22s %s%s\n", rail.Name, v, role)
		}
		if m.Error != "" {
			fmt.Fprintf(w, "      error: %s\n", m.Error)
		}
	}
	fmt.Fprintf(w, "\nnot available\n")
	for _, f := range r.Unavailable {
		fmt.Fprintf(w, "  %-13s %s\n", f.Name, f.Error)
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
