package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/pubdata"
)

// codesignFile returns the published co-design dataset beside the checkout,
// or skips the test when it is absent.
func codesignFile(t *testing.T) string {
	t.Helper()
	p := pubdata.Path(t, "codesign_dataset.json")
	return p
}

// runSubcommand runs one command of the collector in-process.
func runSubcommand(t *testing.T, cmd cli.Command, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Program: "edgetran-collector"}
	code := cli.Main(context.Background(), env, []cli.Command{cmd}, append(strings.Fields(cmd.Name), args...))
	return code, stdout.String(), stderr.String()
}

func TestSurrogateEvalJSONHasBaseline(t *testing.T) {
	code, stdout, stderr := runSubcommand(t, surrogateEvalCommand(),
		"--data", codesignFile(t), "--device", "cpu_rpi", "--metric", "latency", "--model", "linear", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	if len(out.Results) != 2 {
		t.Fatalf("results = %d, want linear and paper", len(out.Results))
	}
	keys := []string{"device", "metric", "model", "n", "within10", "within5", "mape", "nmse", "spearman", "kendall", "cover1", "cover2", "fit_seconds", "predictions_per_second"}
	for _, r := range out.Results {
		for _, k := range keys {
			if _, ok := r[k]; !ok {
				t.Errorf("result %v lacks %q", r["model"], k)
			}
		}
	}
	if out.Results[1]["model"] != "paper" || out.Results[1]["n"] != 68.0 {
		t.Errorf("second result = %v %v, want the paper baseline on 68 records", out.Results[1]["model"], out.Results[1]["n"])
	}
}

func TestSurrogateFitThenPredict(t *testing.T) {
	model := filepath.Join(t.TempDir(), "rpi.json")
	code, _, stderr := runSubcommand(t, surrogateFitCommand(),
		"--data", codesignFile(t), "--device", "cpu_rpi", "--metric", "energy", "--model", "linear", "--out", model)
	if code != 0 {
		t.Fatalf("fit: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runSubcommand(t, surrogatePredictCommand(), "--model", model, "--data", codesignFile(t), "--device", "cpu_rpi", "--json")
	if code != 0 {
		t.Fatalf("predict: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 68 {
		t.Fatalf("predict printed %d lines, want one per record (68)", len(lines))
	}
	var p struct {
		Key       string
		Mean, Std float64
	}
	if err := json.Unmarshal([]byte(lines[0]), &p); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(p.Key, "_cpu_rpi") || !(p.Mean > 0) || !(p.Std > 0) {
		t.Errorf("first prediction = %+v, want a cpu_rpi key and positive mean and std", p)
	}
}

func TestSurrogateCommandsRejectBadFlags(t *testing.T) {
	cases := []struct {
		cmd  cli.Command
		args []string
	}{
		{surrogateEvalCommand(), nil},
		{surrogateEvalCommand(), []string{"--data", "x.json", "--metric", "speed"}},
		{surrogateEvalCommand(), []string{"--data", "x.json", "--model", "forest"}},
		{surrogateFitCommand(), []string{"--data", "x.json", "--device", "a100"}},
		{surrogatePredictCommand(), []string{"--model", "missing.json", "--data", "x.json"}},
		{campaignSimulateCommand(), []string{"--data", "x.json"}},
	}
	for _, c := range cases {
		if code, _, _ := runSubcommand(t, c.cmd, c.args...); code != cli.ExitUsage {
			t.Errorf("%s %v: exit %d, want %d", c.cmd.Name, c.args, code, cli.ExitUsage)
		}
	}
}

func TestCampaignSimulateConverges(t *testing.T) {
	code, stdout, stderr := runSubcommand(t, campaignSimulateCommand(),
		"--data", codesignFile(t), "--device", "a100", "--model", "linear", "--patience", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var st struct {
		Status string
		Train  []json.RawMessage
	}
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatal(err)
	}
	if st.Status != "converged" {
		t.Errorf("status = %q, want converged", st.Status)
	}
}
