package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/shared/cli"
)

func measurementsExportCommand() cli.Command {
	return cli.Command{
		Name:    "measurements export",
		Summary: "export stored measurements as JSONL or CSV",
		Run:     runMeasurementsExport,
	}
}

func runMeasurementsExport(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "measurements export", "measurements export --format jsonl|csv [--device ID] [--output FILE]", `
Write every stored measurement, or those of one device, to standard output
or a file: JSONL holds one full record per line, CSV the indexed columns
with the architecture as JSON in the last column. Unknown figures are empty
cells, never zeros.`)
	cf := addClientFlags(fs)
	format := fs.String("format", "jsonl", "output `format`: jsonl or csv")
	device := fs.String("device", "", "export only this device `id`")
	output := fs.String("output", "", "write to this `file` instead of standard output")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	if *format != api.FormatJSONL && *format != api.FormatCSV {
		return cli.Usagef("--format %q: want jsonl or csv", *format)
	}
	client, err := cf.client()
	if err != nil {
		return err
	}

	var w io.Writer = env.Stdout
	var file *os.File
	if *output != "" {
		if file, err = os.Create(*output); err != nil {
			return fmt.Errorf("create output file: %w", err)
		}
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriter(w)
	if err := client.Export(ctx, bw, *format, *device); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write export: %w", err)
	}
	if file != nil {
		return file.Close()
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
