package main

import (
	"context"
	"fmt"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/dataset"
	"github.com/edgetran/edgetran/shared/measure"
)

func importCommand() cli.Command {
	return cli.Command{
		Name:    "import",
		Summary: "import published measurements through a running collector",
		Run:     runImport,
	}
}

func runImport(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "import", "import --format edgetran FILE [--device NAME]", `
Read a published EdgeTran measurement file and send its records to a
running collector, which stores them through the same path as live results
(the results stream and the ingest); accuracy records go to their own
table. Records already stored are counted, not duplicated. Rows the file
reader or the collector rejects are listed with their key and reason.`)
	cf := addClientFlags(fs)
	format := fs.String("format", "edgetran", "file `format`; only edgetran is supported")
	device := fs.String("device", "", "published device `name` (e.g. a100, cpu_rpi): required for a per-device file, a filter for the co-design file")
	measuredGLUE := fs.String("measured-glue", "", "global_search_dataset.json `file` that marks which GLUE scores were really fine-tuned")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *format != "edgetran" {
		return cli.Usagef("--format %q: only edgetran is supported", *format)
	}
	if fs.NArg() != 1 {
		return cli.Usagef("want exactly one FILE, got %d arguments", fs.NArg())
	}
	client, err := cf.client()
	if err != nil {
		return err
	}

	opts := dataset.Options{Device: *device, Space: arch.Default()}
	if *measuredGLUE != "" {
		if opts.MeasuredGLUE, err = dataset.ReadMeasuredGLUE(*measuredGLUE, arch.Default()); err != nil {
			return cli.Usagef("%v", err)
		}
	}
	imp, err := dataset.LoadFile(fs.Arg(0), opts)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	req := api.ImportRequest{Measurements: make([]measure.Measurement, 0, len(imp.Records))}
	keyOf := make(map[string]string, len(imp.Records))
	for _, r := range imp.Records {
		req.Measurements = append(req.Measurements, r.Measurement)
		keyOf[r.Measurement.ID] = r.Key
		if r.Accuracy != nil {
			req.Accuracy = append(req.Accuracy, *r.Accuracy)
		}
	}
	rep, err := client.Import(ctx, req)
	if err != nil {
		return err
	}

	for _, r := range imp.Rejected {
		fmt.Fprintf(env.Stdout, "rejected %s: %s\n", r.Key, r.Reason)
	}
	for _, r := range rep.Rejected {
		key := keyOf[r.ID]
		if key == "" {
			key = r.ID
		}
		fmt.Fprintf(env.Stdout, "rejected %s: %s\n", key, r.Reason)
	}
	fmt.Fprintf(env.Stdout, "%s: %d records read, %d imported, %d already stored, %d rejected; accuracy records: %d imported, %d already stored\n",
		fs.Arg(0), len(imp.Records)+len(imp.Rejected), rep.Stored, rep.AlreadyStored, len(imp.Rejected)+len(rep.Rejected),
		rep.AccuracyStored, rep.AccuracyKnown)
	return nil
}
