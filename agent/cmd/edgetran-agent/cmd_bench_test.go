package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/measure"
)

func runBenchArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := cli.Env{Stdout: &stdout, Stderr: &stderr, Program: "edgetran-agent"}
	err := runBench(context.Background(), env, args)
	return stdout.String(), err
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBenchRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	badJSON := filepath.Join(dir, "bad.json")
	invalid := filepath.Join(dir, "invalid.json")
	emptyList := filepath.Join(dir, "empty.json")
	writeFile(t, badJSON, `{"l": 2, "h": [128`)
	writeFile(t, invalid, `[{"l":2,"h":[128,100],"f":[[512],[512]],"o":[["sa_sdp_64","sa_sdp_64"],["sa_sdp_64","sa_sdp_64"]]}]`)
	writeFile(t, emptyList, ` []`)
	cases := []struct {
		name string
		args []string
		text string
	}{
		{name: "no architectures", args: nil, text: "no architectures"},
		{name: "unknown preset", args: []string{"--preset", "bert-huge"}, text: `unknown preset "bert-huge"`},
		{name: "long sequence", args: []string{"--preset", "bert-tiny", "--seq", "513"}, text: "--seq 513"},
		{name: "zero runs", args: []string{"--preset", "bert-tiny", "--runs", "0"}, text: "--runs 0"},
		{name: "missing file", args: []string{"--arch", filepath.Join(dir, "nope.json")}, text: "nope.json"},
		{name: "broken JSON", args: []string{"--arch", badJSON}, text: "architecture 1"},
		{name: "invalid hidden size", args: []string{"--arch", invalid}, text: "hidden size 100"},
		{name: "empty list", args: []string{"--arch", emptyList}, text: "list is empty"},
		{name: "unknown flag", args: []string{"--fast"}, text: "fast"},
		{name: "positional argument", args: []string{"bert-base"}, text: `unexpected argument "bert-base"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runBenchArgs(t, tc.args...)
			var usage *cli.UsageError
			if !errors.As(err, &usage) {
				t.Fatalf("runBench = %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q does not mention %q", err, tc.text)
			}
		})
	}
}

func TestBenchWritesJSONLines(t *testing.T) {
	dir := t.TempDir()
	archFile := filepath.Join(dir, "archs.json")
	writeFile(t, archFile, `[{"l":2,"h":[128,256],"f":[[256],[256,512]],"o":[["l_dft_64","c_9_64"],["sa_wma_128","l_dct_128"]]}]`)
	outFile := filepath.Join(dir, "out.jsonl")
	stdout, err := runBenchArgs(t, "--preset", "bert-tiny", "--arch", archFile, "--random", "1", "--seed", "5",
		"--seq", "8", "--runs", "2", "--warmup", "0", "--json", "--out", outFile)
	if err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(written) != stdout {
		t.Errorf("--out file differs from stdout:\n%s\nvs\n%s", written, stdout)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d JSON lines, want 3:\n%s", len(lines), stdout)
	}
	for i, line := range lines {
		var r struct {
			ArchID  string `json:"arch_id"`
			Runtime string `json:"runtime"`
			Batch   int    `json:"batch"`
			SeqLen  int    `json:"seq_len"`
			Target  struct {
				Runtime string `json:"runtime"`
				Batch   int    `json:"batch"`
				SeqLen  int    `json:"seq_len"`
			} `json:"target"`
			FLOPs   float64 `json:"flops"`
			GFLOPS  float64 `json:"gflops"`
			GEMM    float64 `json:"gemm_gflops"`
			Latency struct {
				Mean, P50, P90, P99, Std float64
				N                        int
			} `json:"latency_s"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if len(r.ArchID) != 32 || r.Target.Runtime != "builtin" || r.Target.Batch != 1 || r.Target.SeqLen != 8 {
			t.Errorf("line %d: id %q, target %+v", i+1, r.ArchID, r.Target)
		}
		if r.Runtime != "builtin" || r.Batch != 1 || r.SeqLen != 8 {
			t.Errorf("line %d: top-level runtime %q, batch %d, seq_len %d; want builtin, 1, 8", i+1, r.Runtime, r.Batch, r.SeqLen)
		}
		if r.Latency.N != 2 || r.Latency.Mean <= 0 || r.Latency.P99 < r.Latency.P50 {
			t.Errorf("line %d: latency %+v", i+1, r.Latency)
		}
		if r.FLOPs <= 0 || r.GFLOPS <= 0 || r.GEMM <= 0 {
			t.Errorf("line %d: flops %g, gflops %g, gemm_gflops %g", i+1, r.FLOPs, r.GFLOPS, r.GEMM)
		}
	}
}

func TestBenchPrintsTable(t *testing.T) {
	stdout, err := runBenchArgs(t, "--preset", "bert-tiny", "--seq", "4", "--runs", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "gemm_gflops") || !strings.Contains(stdout, "bert-tiny") {
		t.Errorf("table lacks the header or the preset:\n%s", stdout)
	}
}

func TestBenchRecordsAreMeasurements(t *testing.T) {
	stdout, err := runBenchArgs(t, "--preset", "bert-tiny", "--seq", "8", "--runs", "3", "--repeats", "2",
		"--min-duration", "200ms", "--meter", "estimate", "--estimate-idle-w", "3", "--estimate-max-w", "12",
		"--idle", "200ms", "--device", "bench-dev", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var m measure.Measurement
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &m); err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Errorf("bench record is not a valid measurement: %v", err)
	}
	if m.Provenance != measure.Estimated || m.Power == nil || m.Power.Meter != "estimate" {
		t.Errorf("provenance %q power %+v, want an estimate from the estimate meter", m.Provenance, m.Power)
	}
	if m.EnergyPerSeqJ == nil || m.MeanPowerW == nil {
		t.Errorf("energy %v mean power %v, want both from the meter", m.EnergyPerSeqJ, m.MeanPowerW)
	}
	if m.Runs != 2 || m.Target.Device != "bench-dev" {
		t.Errorf("runs %d device %q, want 2 and bench-dev", m.Runs, m.Target.Device)
	}
}

func TestBenchRejectsUnknownMeterAndRuntime(t *testing.T) {
	for _, tc := range []struct {
		args []string
		text string
	}{
		{[]string{"--preset", "bert-tiny", "--meter", "geiger"}, "geiger"},
		{[]string{"--preset", "bert-tiny", "--runtime", "pytorch"}, "only builtin exists"},
		{[]string{"--preset", "bert-tiny", "--repeats", "0"}, "--repeats 0"},
	} {
		_, err := runBenchArgs(t, tc.args...)
		var usage *cli.UsageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("args %v: error %v, want a usage error mentioning %q", tc.args, err, tc.text)
		}
	}
}
