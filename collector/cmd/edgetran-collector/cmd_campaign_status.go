package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/shared/cli"
)

func campaignStatusCommand() cli.Command {
	return cli.Command{
		Name:    "campaign status",
		Summary: "list campaigns, or show one campaign's rounds",
		Run:     runCampaignStatus,
	}
}

func runCampaignStatus(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "campaign status", "campaign status [ID] [--json]", `
Without an id, list the collector's campaigns, newest first, with their
status (running, converged, budget or exhausted) and measured count. With
an id, show that campaign's configuration and, per round, the measurements
so far and the normalised test MSE of the fitted surrogate.`)
	cf := addClientFlags(fs)
	asJSON := fs.Bool("json", false, "print the API's JSON instead of a table")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return cli.Usagef("unexpected argument %q: give at most one campaign id", fs.Arg(1))
	}
	client, err := cf.client()
	if err != nil {
		return err
	}

	if fs.NArg() == 0 {
		list, err := client.Campaigns(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(env.Stdout, list)
		}
		if len(list) == 0 {
			fmt.Fprintln(env.Stdout, "no campaigns; start one with 'campaign start'")
			return nil
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTARGET\tSTATUS\tMETRIC\tMEASURED\tFAILED\tROUNDS\tTEST NMSE\tUPDATED")
		for _, c := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d\t%d\t%s\t%s\n", c.ID, c.Target, c.Status, c.Metric,
				c.Measured, c.Budget, c.Failed, c.Rounds, formatNMSE(c.NMSE), c.UpdatedAt.Local().Format("2006-01-02 15:04:05"))
		}
		return tw.Flush()
	}

	st, err := client.Campaign(ctx, fs.Arg(0))
	if api.IsNotFound(err) {
		return fmt.Errorf("campaign %q not found; 'campaign status' without an id lists them", fs.Arg(0))
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, st)
	}
	fmt.Fprintf(env.Stdout, "campaign %s on %s\n", st.ID, st.Target)
	fmt.Fprintf(env.Stdout, "status %s", st.Status)
	if st.Reason != "" {
		fmt.Fprintf(env.Stdout, ": %s", st.Reason)
	}
	fmt.Fprintln(env.Stdout)
	fmt.Fprintf(env.Stdout, "metric %s, strategy %s, model %s, seed %d, budget %d, threshold %g, patience %d\n",
		st.Config.Metric, st.Config.Strategy, st.Config.Model, st.Config.Seed, st.Budget, st.Config.Threshold, st.Config.Patience)
	fmt.Fprintf(env.Stdout, "measured %d (%d failed), rounds %d\n", st.Measured, st.Failed, st.Rounds)
	if len(st.RoundList) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUND\tTRAIN\tMEASURED\tTEST NMSE\tMAX σ/μ")
	for _, r := range st.RoundList {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%.4g\t%.3g\n", r.Round, r.Train, r.Measured, r.NMSE, r.MaxUncertainty)
	}
	return tw.Flush()
}

func formatNMSE(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.4g", *v)
}
