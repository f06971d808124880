package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/edgetran/edgetran/shared/cli"
)

func devicesListCommand() cli.Command {
	return cli.Command{
		Name:    "devices list",
		Summary: "list devices with their last heartbeat",
		Run:     runDevicesList,
	}
}

func runDevicesList(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "devices list", "devices list [--collector URL] [--json]", `
List the devices the collector knows, whether each is alive (a recent
heartbeat), its state and the time of its last heartbeat.`)
	cf := addClientFlags(fs)
	asJSON := fs.Bool("json", false, "print the API's JSON instead of a table")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	client, err := cf.client()
	if err != nil {
		return err
	}
	devices, err := client.Devices(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, devices)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tALIVE\tSTATE\tJOB\tLAST HEARTBEAT\tNAME")
	for _, d := range devices {
		state, job, last, name := "-", "-", "never", "-"
		if d.Heartbeat != nil {
			state = d.Heartbeat.State
			if d.Heartbeat.JobID != "" {
				job = d.Heartbeat.JobID
			}
		}
		if d.LastHeartbeat != nil {
			last = d.LastHeartbeat.Local().Format(time.DateTime)
		}
		if d.Announce != nil && d.Announce.Name != "" {
			name = d.Announce.Name
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\t%s\n", d.ID, d.Alive, state, job, last, name)
	}
	return tw.Flush()
}
