package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/pubdata"
)

// publishedFile returns the path of a published EdgeTran file beside the
// checkout, or skips the test when it is absent.
func publishedFile(t *testing.T, name string) string {
	t.Helper()
	p := pubdata.Path(t, name)
	return p
}

// runCollector runs the collector's command line in-process and returns the
// exit status, standard output and standard error.
func runCollector(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Program: "edgetran-collector"}
	code := cli.Main(context.Background(), env, commands(), args)
	return code, stdout.String(), stderr.String()
}

type checkOutput struct {
	Valid    int `json:"valid"`
	Rejected []struct {
		Key    string `json:"key"`
		Reason string `json:"reason"`
	} `json:"rejected"`
	Devices map[string]struct {
		Count   int `json:"count"`
		Latency struct {
			Min, Median, Max float64
		} `json:"latency"`
		Energy struct {
			Min, Median, Max float64
		} `json:"energy"`
		PeakPower struct {
			Min, Median, Max float64
		} `json:"peak_power"`
	} `json:"devices"`
}

func TestDatasetCheckPublishedFileJSON(t *testing.T) {
	code, stdout, stderr := runCollector(t, "dataset", "check", publishedFile(t, "codesign_dataset.json"), "--json")
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr: %s", code, stderr)
	}
	var out checkOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	if out.Valid != 648 {
		t.Errorf("valid = %d, want 648", out.Valid)
	}
	if out.Rejected == nil || len(out.Rejected) != 0 {
		t.Errorf("rejected = %v, want an empty list", out.Rejected)
	}
	if len(out.Devices) != 7 {
		t.Errorf("%d devices, want 7", len(out.Devices))
	}
	// The NCS rows of the published file: 20 records, peak power between
	// 2.00780487804878 and 2.2156097560975607 W (read from the file with
	// Python's json module).
	ncs := out.Devices["npu_ncs"]
	if ncs.Count != 20 || math.Abs(ncs.PeakPower.Min-2.00780487804878) > 1e-12 || math.Abs(ncs.PeakPower.Max-2.2156097560975607) > 1e-12 {
		t.Errorf("npu_ncs = %+v, want 20 records with peak power 2.0078 to 2.2156 W", ncs)
	}
	a100 := out.Devices["a100"]
	if !(a100.Latency.Min <= a100.Latency.Median && a100.Latency.Median <= a100.Latency.Max) || a100.Latency.Min <= 0 {
		t.Errorf("a100 latency = %+v, want 0 < min ≤ median ≤ max", a100.Latency)
	}
}

func TestDatasetCheckPublishedFileText(t *testing.T) {
	code, stdout, stderr := runCollector(t, "dataset", "check", publishedFile(t, "codesign_dataset.json"))
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr: %s", code, stderr)
	}
	for _, want := range []string{"648 valid, 0 rejected", "gpu_jetson-nano", "m1-pro/gpu/tensorflow-metal/b32/s128/fp32"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "rejected rows") {
		t.Errorf("output lists rejected rows for a clean file:\n%s", stdout)
	}
}

// brokenCopy writes the published file with two rows damaged and returns
// its path and the damaged keys.
func brokenCopy(t *testing.T) (string, []string) {
	t.Helper()
	data, err := os.ReadFile(publishedFile(t, "codesign_dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows map[string]map[string]any
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	const negative = "f36d5c40c770e4f787c78b43a2a09d78_a100"
	rows[negative]["performance"].(map[string]any)["energy"] = -1.0
	const noModel = "00b1a4e03ece088bcc8632563a1c98f2_cpu_m1-pro"
	delete(rows[noModel], "model_dict")
	out, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "broken.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, []string{negative, noModel}
}

func TestDatasetCheckBrokenCopyExitsOne(t *testing.T) {
	path, keys := brokenCopy(t)
	code, stdout, stderr := runCollector(t, "dataset", "check", "--json", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, stderr)
	}
	var out checkOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	if out.Valid != 646 {
		t.Errorf("valid = %d, want 646", out.Valid)
	}
	reasons := map[string]string{}
	for _, r := range out.Rejected {
		reasons[r.Key] = r.Reason
	}
	if !strings.Contains(reasons[keys[0]], "performance.energy = -1") {
		t.Errorf("%s: reason %q, want the negative energy named", keys[0], reasons[keys[0]])
	}
	if !strings.Contains(reasons[keys[1]], "model_dict is missing") {
		t.Errorf("%s: reason %q, want the missing model_dict named", keys[1], reasons[keys[1]])
	}
	if !strings.Contains(stderr, "2 of 648 rows rejected") {
		t.Errorf("stderr = %q, want the rejected count", stderr)
	}
}

func TestDatasetCheckBrokenCopyListsRows(t *testing.T) {
	path, keys := brokenCopy(t)
	code, stdout, _ := runCollector(t, "dataset", "check", path)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, k := range keys {
		if !strings.Contains(stdout, "  "+k+": ") {
			t.Errorf("output does not list rejected row %s:\n%s", k, stdout)
		}
	}
}

func TestDatasetCheckUnusableInputExitsTwo(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notJSON, []byte("latency,energy\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"missing file", []string{filepath.Join(dir, "absent.json")}, "no such file"},
		{"not JSON", []string{notJSON}, "want a JSON object of records"},
		{"no file argument", nil, "want exactly one dataset file"},
		{"unknown device", []string{notJSON, "--device", "tpu_v4"}, `unknown device "tpu_v4"`},
		{"unknown flag", []string{notJSON, "--csv"}, "flag provided but not defined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCollector(t, append([]string{"dataset", "check"}, c.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, c.stderr)
			}
		})
	}
}

func TestDatasetCheckDeviceFilter(t *testing.T) {
	code, stdout, _ := runCollector(t, "dataset", "check", publishedFile(t, "codesign_dataset.json"), "--device", "cpu_rpi", "--json")
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	var out checkOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Valid != 68 || len(out.Devices) != 1 || out.Devices["cpu_rpi"].Count != 68 {
		t.Errorf("valid %d, devices %v; want only the 68 cpu_rpi rows", out.Valid, out.Devices)
	}
}
