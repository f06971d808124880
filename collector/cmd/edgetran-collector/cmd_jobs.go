package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

func jobsSubmitCommand() cli.Command {
	return cli.Command{
		Name:    "jobs submit",
		Summary: "send a profile job to a device",
		Run:     runJobsSubmit,
	}
}

func jobsListCommand() cli.Command {
	return cli.Command{
		Name:    "jobs list",
		Summary: "list jobs and their status",
		Run:     runJobsList,
	}
}

func runJobsSubmit(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "jobs submit", "jobs submit --device ID --arch FILE [--batch N] [--seq N] [--runs N]", `
Ask the agent of a device to profile one architecture. The job waits in the
device's work queue until its agent takes it; 'jobs list' shows its status.
The architecture file holds one architecture in the published JSON format,
e.g. {"l":2,"h":[128,128],"f":[[256],[256]],"o":[["sa_sdp_64","sa_sdp_64"],["sa_sdp_64","sa_sdp_64"]]}.`)
	cf := addClientFlags(fs)
	device := fs.String("device", "", "device `id` (required)")
	archPath := fs.String("arch", "", "architecture JSON `file` (required)")
	batch := fs.Int("batch", 1, "sequences per iteration")
	seq := fs.Int("seq", 128, "tokens per sequence")
	runs := fs.Int("runs", 3, "timed runs; their spread is checked")
	runner := fs.String("runner", "builtin", "`name` of a runner configured on the device")
	precision := fs.String("precision", "fp32", "numeric `precision`")
	minIters := fs.Int("min-iters", 20, "timed iterations per run, at least")
	minSeconds := fs.Float64("min-seconds", 2, "timed `seconds` per run, at least")
	warmup := fs.Int("warmup", 5, "untimed iterations before timing")
	id := fs.String("id", "", "job `id`; default a random one")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	if *device == "" || *archPath == "" {
		return cli.Usagef("--device and --arch are required")
	}
	data, err := os.ReadFile(*archPath)
	if err != nil {
		return cli.Usagef("read architecture: %v", err)
	}
	a, err := arch.ParseArchitecture(data)
	if err != nil {
		return cli.Usagef("%s: %v", *archPath, err)
	}
	if err := arch.Default().Validate(a); err != nil {
		return cli.Usagef("%s: %v", *archPath, err)
	}
	client, err := cf.client()
	if err != nil {
		return err
	}
	j, err := client.SubmitJob(ctx, wire.Job{
		ID: *id, Device: *device, Runner: *runner, Arch: a, Batch: *batch, SeqLen: *seq, Precision: *precision,
		Warmup: *warmup, MinIters: *minIters, MinSeconds: *minSeconds, Repeats: *runs,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "job %s queued for %s (arch %s)\n", j.Job.ID, j.Job.Device, arch.Default().ID(a))
	return nil
}

func runJobsList(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "jobs list", "jobs list [--device ID] [--status S] [--json]", `
List jobs, newest first, with their status (queued, running, done, failed
or expired), attempt and result or error.`)
	cf := addClientFlags(fs)
	device := fs.String("device", "", "only jobs of this device `id`")
	status := fs.String("status", "", "only jobs in this `status`")
	asJSON := fs.Bool("json", false, "print the API's JSON instead of a table")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	switch s := store.JobStatus(*status); s {
	case "", store.JobQueued, store.JobRunning, store.JobDone, store.JobFailed, store.JobExpired:
	default:
		return cli.Usagef("--status %q: want queued, running, done, failed or expired", *status)
	}
	client, err := cf.client()
	if err != nil {
		return err
	}
	list, err := client.Jobs(ctx, *device, store.JobStatus(*status))
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, list)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tDEVICE\tSTATUS\tATTEMPT\tSUBMITTED\tRESULT")
	for _, j := range list {
		var m *measure.Measurement
		if j.ResultID != "" && j.Error == "" {
			got, err := client.Measurement(ctx, j.ResultID)
			if err != nil && !api.IsNotFound(err) {
				return fmt.Errorf("read result %s of job %s: %w", j.ResultID, j.Job.ID, err)
			}
			if err == nil {
				m = &got
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", j.Job.ID, j.Job.Device, j.Status, j.Job.Attempt, j.MaxAttempts,
			j.SubmittedAt.Local().Format(time.DateTime), jobResultText(j, m))
	}
	return tw.Flush()
}

// jobResultText is the RESULT cell of jobs list: the error of a failed job,
// the latency of its measurement (labelled when the power figures are
// estimated), the result id when the measurement is not stored, or "-".
func jobResultText(j store.Job, m *measure.Measurement) string {
	switch {
	case j.Error != "":
		return j.Error
	case m != nil && m.Provenance == measure.Estimated:
		return fmt.Sprintf("%.4g s/seq (power estimated)", m.LatencyPerSeqS)
	case m != nil:
		return fmt.Sprintf("%.4g s/seq", m.LatencyPerSeqS)
	case j.ResultID != "":
		return "result " + j.ResultID
	default:
		return "-"
	}
}
