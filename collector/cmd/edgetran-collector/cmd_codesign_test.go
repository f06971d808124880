package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/collector/service"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/dataset"
)

func TestCodesignJSONOutput(t *testing.T) {
	data := publishedFile(t, "codesign_dataset.json")
	out := t.TempDir()
	code, stdout, stderr := runCollector(t, "codesign", "--data", data, "--oracle-model", "forest",
		"--budget", "24", "--seed", "3", "--constraint", "peak_power<=5", "--json", "--out", out, "--progress", "0")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var rep struct {
		Best *struct {
			Target   string                        `json:"target"`
			Measures map[string]map[string]float64 `json:"measures"`
			Slack    map[string]float64            `json:"slack"`
		} `json:"best"`
		Pareto     []json.RawMessage `json:"pareto"`
		Strategies []struct {
			Name          string     `json:"name"`
			BestObjective *float64   `json:"best_objective"`
			Curve         []*float64 `json:"curve"`
			Evaluations   int        `json:"evaluations"`
			Seconds       float64    `json:"seconds"`
		} `json:"strategies"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	if rep.Best == nil {
		t.Fatal("no best pair")
	}
	if s := rep.Best.Slack["peak_power<=5"]; s < 0 {
		t.Errorf("best pair violates peak_power<=5: slack %v", s)
	}
	if p := rep.Best.Measures["peak_power"]["mean"]; p > 5 {
		t.Errorf("best pair peak power %v W, above the 5 W limit", p)
	}
	if len(rep.Pareto) == 0 {
		t.Error("no Pareto front")
	}
	if len(rep.Strategies) != 3 {
		t.Fatalf("%d strategies, want 3", len(rep.Strategies))
	}
	for _, s := range rep.Strategies {
		if s.Evaluations != 24 || len(s.Curve) != 24 {
			t.Errorf("%s: %d evaluations and %d curve points, want 24 each", s.Name, s.Evaluations, len(s.Curve))
		}
	}
	for _, name := range []string{"report.json", "convergence.csv", "pareto.csv", "convergence.svg", "pareto-1.svg"} {
		info, err := os.Stat(filepath.Join(out, name))
		if err != nil || info.Size() == 0 {
			t.Errorf("--out file %s missing or empty: %v", name, err)
		}
	}
	svg, err := os.ReadFile(filepath.Join(out, "convergence.svg"))
	if err == nil && !strings.Contains(string(svg), "<svg") {
		t.Error("convergence.svg is not an SVG document")
	}
}

func TestCodesignTextNamesInfeasible(t *testing.T) {
	data := publishedFile(t, "codesign_dataset.json")
	code, stdout, stderr := runCollector(t, "codesign", "--data", data, "--oracle-model", "forest",
		"--budget", "16", "--strategy", "random", "--constraint", "latency<=1e-6", "--progress", "0")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "No feasible pair") {
		t.Errorf("output does not report the problem as infeasible:\n%s", stdout)
	}
	if strings.Contains(stdout, "Best pair") {
		t.Errorf("output shows a best pair for an infeasible problem:\n%s", stdout)
	}
}

func TestCodesignRejectsBadInput(t *testing.T) {
	data := publishedFile(t, "codesign_dataset.json")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"malformed constraint", []string{"--data", data, "--constraint", "latency<=fast"}, `constraint "latency<=fast"`},
		{"unknown scope", []string{"--data", data, "--constraint", "toaster:latency<=1"}, `scope "toaster"`},
		{"unknown target", []string{"--data", data, "--targets", "toaster"}, `target "toaster"`},
		{"bad weights", []string{"--data", data, "--weights", "speed=1"}, `unknown measure "speed"`},
		{"unknown strategy", []string{"--data", data, "--strategy", "annealing"}, `unknown strategy "annealing"`},
		{"no input", []string{"--budget", "10"}, "--data FILE and --store PATH|URL"},
	}
	for _, tt := range tests {
		args := append([]string{"codesign", "--oracle-model", "forest", "--progress", "0"}, tt.args...)
		code, _, stderr := runCollector(t, args...)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2", tt.name, code)
		}
		if !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: stderr %q does not contain %q", tt.name, stderr, tt.want)
		}
	}
}

func TestCodesignReadsStore(t *testing.T) {
	imp, err := dataset.LoadFile(publishedFile(t, "codesign_dataset.json"), dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "collector.db")
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range imp.Records {
		if _, err := st.InsertMeasurement(context.Background(), r.Measurement); err != nil {
			t.Fatal(err)
		}
		if r.Accuracy != nil {
			if _, err := st.InsertAccuracy(context.Background(), *r.Accuracy); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCollector(t, "codesign", "--store", path, "--oracle-model", "forest",
		"--budget", "16", "--strategy", "random", "--targets", "rpi4", "--progress", "0")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "on rpi4/cpu/pytorch/b1/s128/fp32") {
		t.Errorf("best pair is not on the only selected target rpi4:\n%s", stdout)
	}
	if !strings.Contains(stdout, "accuracy: surrogate fitted on the GLUE scores") {
		t.Errorf("output does not say where accuracy comes from:\n%s", stdout)
	}
}

func TestCodesignReadsCollectorAPI(t *testing.T) {
	data := publishedFile(t, "codesign_dataset.json")
	c, err := service.New(service.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(context.Background()) })
	url := "http://" + c.HTTPAddr()

	// The import command sends measurements and GLUE scores through the
	// collector's import route, as a user would.
	code, stdout, stderr := runCollector(t, "import", "--collector", url, "--device", "cpu_rpi", data)
	if code != 0 {
		t.Fatalf("import exit %d, stderr:\n%s", code, stderr)
	}
	acc, err := c.Store().Accuracies(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(acc) == 0 {
		t.Fatalf("import stored no accuracy records:\n%s", stdout)
	}

	code, stdout, stderr = runCollector(t, "codesign", "--store", url, "--oracle-model", "forest",
		"--budget", "16", "--strategy", "random", "--progress", "0")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "on rpi4/cpu/pytorch/b1/s128/fp32") {
		t.Errorf("best pair is not on the only stored target rpi4:\n%s", stdout)
	}
	if !strings.Contains(stdout, "accuracy: surrogate fitted on the GLUE scores") {
		t.Errorf("output does not use the imported accuracy:\n%s", stdout)
	}
	if strings.Contains(stdout, "no accuracy data") {
		t.Errorf("output drops the accuracy term although the collector stores GLUE scores:\n%s", stdout)
	}
}
