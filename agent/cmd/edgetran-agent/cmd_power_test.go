package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgetran/edgetran/shared/cli"
)

// raplTree writes a one-zone RAPL powercap tree under a temporary sysfs
// root and returns the root and the counter file.
func raplTree(t *testing.T) (root, counter string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("sysfs names contain colons, which Windows file names cannot")
	}
	root = t.TempDir()
	zone := filepath.Join(root, "class", "powercap", "intel-rapl:0")
	if err := os.MkdirAll(zone, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"name": "package-0", "energy_uj": "1000000", "max_energy_range_uj": "262143328850"} {
		if err := os.WriteFile(filepath.Join(zone, name), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, filepath.Join(zone, "energy_uj")
}

// advance rewrites the counter by step µJ every millisecond until ctx
// ends, as the CPU would while it draws power.
func advance(ctx context.Context, t *testing.T, counter string, step uint64) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		f, err := os.OpenFile(counter, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		v := uint64(1000000)
		for ctx.Err() == nil {
			v += step
			line := fmt.Sprintf("%d\n", v)
			// Rewrite in place at offset 0; the number only grows, so the
			// old content never shows through.
			if _, err := f.WriteAt([]byte(line), 0); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	return &wg
}

func runCmd(t *testing.T, run func(context.Context, cli.Env, []string) error, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := cli.Env{Stdout: &stdout, Stderr: &stderr, Program: "edgetran-agent"}
	err := run(context.Background(), env, args)
	return stdout.String(), stderr.String(), err
}

func TestPowerJSONOnRAPLTree(t *testing.T) {
	root, counter := raplTree(t)
	ctx, cancel := context.WithCancel(context.Background())
	wg := advance(ctx, t, counter, 5000)
	out, stderr, err := runCmd(t, runPower, "--meter", "rapl", "--sysfs-root", root, "--procfs-root", root,
		"--interval", "10ms", "--duration", "400ms", "--json")
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatalf("power: %v\nstderr: %s", err, stderr)
	}

	var samples int
	var summary map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		switch obj["type"] {
		case "sample":
			samples++
		case "summary":
			summary = obj
		default:
			t.Errorf("line with unknown type: %q", sc.Text())
		}
	}
	if summary == nil {
		t.Fatalf("no summary line in:\n%s", out)
	}
	if summary["meter"] != "rapl" || summary["estimated"] != false || summary["energy_from_counter"] != true {
		t.Errorf("summary = %v, want a measured rapl counter", summary)
	}
	for _, key := range []string{"samples", "rate_hz", "energy_j", "peak_w", "mean_w"} {
		v, ok := summary[key].(float64)
		if !ok || v <= 0 {
			t.Errorf("summary %s = %v, want a positive number", key, summary[key])
		}
	}
	if int(summary["samples"].(float64)) < samples-1 {
		t.Errorf("summary has %v samples, %d sample lines were printed", summary["samples"], samples)
	}
}

func TestPowerTextLabelsEstimate(t *testing.T) {
	root := t.TempDir()
	stat := filepath.Join(root, "stat")
	if err := os.WriteFile(stat, []byte("cpu  100 0 0 100 0 0 0 0 0 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Half busy: 50 busy and 50 idle ticks per 5 ms.
		for i := 1; ctx.Err() == nil; i++ {
			line := fmt.Sprintf("cpu  %d 0 0 %d 0 0 0 0 0 0\n", 100+50*i, 100+50*i)
			if f, err := os.OpenFile(stat, os.O_WRONLY, 0); err == nil {
				f.WriteAt([]byte(line), 0)
				f.Close()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	out, stderr, err := runCmd(t, runPower, "--meter", "estimate", "--sysfs-root", root, "--procfs-root", root,
		"--estimate-idle-w", "2", "--estimate-max-w", "6", "--interval", "50ms", "--duration", "600ms")
	if err != nil {
		t.Fatalf("power: %v\nstderr: %s", err, stderr)
	}
	if !strings.Contains(out, "ESTIMATED, not measured") {
		t.Errorf("output does not label the source as estimated:\n%s", out)
	}
	if !strings.Contains(out, "4.000 W (estimated)") {
		t.Errorf("output lacks the 4 W estimate of a half-busy CPU:\n%s", out)
	}
}

func TestPowerUnknownMeterIsUsageError(t *testing.T) {
	_, _, err := runCmd(t, runPower, "--meter", "wattmeter", "--sysfs-root", t.TempDir())
	var usage *cli.UsageError
	if err == nil || !errorsAs(err, &usage) {
		t.Fatalf("err = %v, want a usage error", err)
	}
}

func TestPowerRejectsBadDurations(t *testing.T) {
	for _, args := range [][]string{{"--interval", "0s"}, {"--duration", "-1s"}, {"--interval", "1ns", "--duration", "1h"}} {
		_, _, err := runCmd(t, runPower, args...)
		var usage *cli.UsageError
		if !errorsAs(err, &usage) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}

func TestPowerHwmonScaleFlag(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "class", "hwmon", "hwmon0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"name": "ina226", "power1_input": "2350"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, stderr, err := runCmd(t, runPower, "--meter", "hwmon", "--sysfs-root", root, "--procfs-root", root,
		"--hwmon-power-scale", "ina226=0.001", "--interval", "20ms", "--duration", "200ms", "--json")
	if err != nil {
		t.Fatalf("power: %v\nstderr: %s", err, stderr)
	}
	if !strings.Contains(out, `"peak_w":2.35`) {
		t.Errorf("summary does not read 2350 as mW (2.35 W):\n%s", out)
	}

	_, _, err = runCmd(t, runPower, "--hwmon-power-scale", "ina226")
	var usage *cli.UsageError
	if !errorsAs(err, &usage) {
		t.Errorf("malformed scale: err = %v, want a usage error", err)
	}
}

// varyingStat writes a procfs root whose /proc/stat advances by 50 ticks
// every 5 ms with a utilisation that cycles from 0% to 100%, so estimates
// differ from one sample to the next. It stops when the test ends.
func varyingStat(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	stat := filepath.Join(root, "stat")
	if err := os.WriteFile(stat, []byte("cpu  100 0 0 100 0 0 0 0 0 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		busy, idle := 100, 100
		for i := 0; ctx.Err() == nil; i++ {
			b := i % 11 * 5
			busy, idle = busy+b, idle+50-b
			line := fmt.Sprintf("cpu  %d 0 0 %d 0 0 0 0 0 0\n", busy, idle)
			if f, err := os.OpenFile(stat, os.O_WRONLY, 0); err == nil {
				f.WriteAt([]byte(line), 0)
				f.Close()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return root
}

var (
	liveLine    = regexp.MustCompile(`^\s+[0-9.]+s  ([0-9.]+) W \(estimated\)(?: mean of ([0-9]+) samples, range ([0-9.]+)–([0-9.]+) W|, 1 sample)$`)
	peakLine    = regexp.MustCompile(`^  peak\s+([0-9.]+) W`)
	samplesLine = regexp.MustCompile(`^  samples\s+([0-9]+) at`)
)

func TestPowerLinesAgreeWithSummary(t *testing.T) {
	root := varyingStat(t)
	out, stderr, err := runCmd(t, runPower, "--meter", "estimate", "--sysfs-root", root, "--procfs-root", root,
		"--duration", "800ms")
	if err != nil {
		t.Fatalf("power: %v\nstderr: %s", err, stderr)
	}
	if strings.Contains(stderr, "interval shorter") {
		t.Errorf("the default interval is shorter than the meter's minimum:\n%s", stderr)
	}

	var lineSamples int
	var linePeak, summaryPeak float64
	summarySamples := -1
	for _, line := range strings.Split(out, "\n") {
		if m := liveLine.FindStringSubmatch(line); m != nil {
			n, hi := 1, m[1]
			if m[2] != "" {
				n, _ = strconv.Atoi(m[2])
				hi = m[4]
			}
			lineSamples += n
			w, _ := strconv.ParseFloat(hi, 64)
			linePeak = max(linePeak, w)
		}
		if m := peakLine.FindStringSubmatch(line); m != nil {
			summaryPeak, _ = strconv.ParseFloat(m[1], 64)
		}
		if m := samplesLine.FindStringSubmatch(line); m != nil {
			summarySamples, _ = strconv.Atoi(m[1])
		}
	}
	if lineSamples == 0 || summarySamples < 0 {
		t.Fatalf("no live lines or no samples line in:\n%s", out)
	}
	if lineSamples != summarySamples {
		t.Errorf("live lines cover %d samples, summary counts %d:\n%s", lineSamples, summarySamples, out)
	}
	if linePeak != summaryPeak {
		t.Errorf("highest printed reading %.3f W, summary peak %.3f W:\n%s", linePeak, summaryPeak, out)
	}
}

func TestPowerShortIntervalKeepsDistinctSamples(t *testing.T) {
	root := varyingStat(t)
	out, stderr, err := runCmd(t, runPower, "--meter", "estimate", "--sysfs-root", root, "--procfs-root", root,
		"--interval", "10ms", "--duration", "500ms", "--json")
	if err != nil {
		t.Fatalf("power: %v\nstderr: %s", err, stderr)
	}
	if !strings.Contains(stderr, "interval shorter") {
		t.Errorf("no warning for a 10ms interval below the 50ms minimum:\n%s", stderr)
	}

	var times []float64
	var summary summaryLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line summaryLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		if line.Type == "summary" {
			summary = line
			continue
		}
		var sample sampleLine
		if err := json.Unmarshal(sc.Bytes(), &sample); err != nil {
			t.Fatal(err)
		}
		times = append(times, sample.TS)
	}
	if summary.Samples != len(times) {
		t.Errorf("summary counts %d samples, %d were printed", summary.Samples, len(times))
	}
	// The estimate meter turns at least 40 ms of CPU time into a value, so
	// samples read every 10 ms are repeats except about one in four.
	for i := 1; i < len(times); i++ {
		if gap := times[i] - times[i-1]; gap < 0.040 {
			t.Errorf("samples %d and %d are %.1f ms apart, want at least 40 ms", i-1, i, gap*1000)
		}
	}
	if summary.RateHz > 25.0001 {
		t.Errorf("achieved rate %.1f Hz, want at most 25 Hz for samples 40 ms apart", summary.RateHz)
	}
}
