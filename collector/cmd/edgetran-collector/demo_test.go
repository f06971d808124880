package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/cli"
)

// demoOutput is the JSON line of demo --json.
type demoOutput struct {
	Targets []struct {
		Name         string `json:"name"`
		Measurements int    `json:"measurements"`
	} `json:"targets"`
	Best *struct {
		ArchID       string          `json:"arch_id"`
		Architecture json.RawMessage `json:"architecture"`
		Target       string          `json:"target"`
		Predicted    map[string]struct {
			Mean float64 `json:"mean"`
		} `json:"predicted"`
	} `json:"best"`
	Estimated  *bool  `json:"estimated"`
	Report     string `json:"report"`
	HostTarget string `json:"host_target"`
	JobsDone   int    `json:"jobs_done"`
}

func TestDemoEndToEndWithImport(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo profiles a host and runs a search: about 30 s")
	}
	data := publishedFile(t, "codesign_dataset.json")
	dir := t.TempDir()
	code, stdout, stderr := runCollector(t, "demo", "--exit-when-done", "--json", "--import", data,
		"--budget", "6", "--seq", "16", "--codesign-budget", "16", "--data-dir", dir, "--http", "127.0.0.1:0")
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, stderr)
	}

	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &raw); err != nil {
		t.Fatalf("last stdout line is not a JSON object: %v\n%s", err, stdout)
	}
	// Every key the --json help lists.
	for _, key := range []string{"targets", "best", "estimated", "report", "host_target", "jobs_done", "host_status", "host_stop_reason", "objective", "notes"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("JSON line lacks key %q", key)
		}
	}
	var got demoOutput
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatal(err)
	}

	// 7 published devices plus this host.
	if len(got.Targets) != 8 {
		t.Errorf("got %d targets, want 8: %+v", len(got.Targets), got.Targets)
	}
	counts := map[string]int{}
	total := 0
	for _, tg := range got.Targets {
		counts[tg.Name] = tg.Measurements
		total += tg.Measurements
	}
	if got.JobsDone < 1 {
		t.Errorf("jobs done = %d, want at least 1", got.JobsDone)
	}
	if counts[got.HostTarget] != got.JobsDone {
		t.Errorf("host target %s has %d measurements, want %d (one per finished job)", got.HostTarget, counts[got.HostTarget], got.JobsDone)
	}
	if got.Estimated == nil || !*got.Estimated {
		t.Error("estimated is not true, but this host's power comes from the estimate meter")
	}
	if got.Best == nil || got.Best.ArchID == "" || got.Best.Target == "" || len(got.Best.Architecture) == 0 {
		t.Errorf("best pair incomplete: %+v", got.Best)
	} else if _, ok := got.Best.Predicted["latency"]; !ok {
		t.Errorf("best pair has no predicted latency: %+v", got.Best.Predicted)
	}

	html, err := os.ReadFile(got.Report)
	if err != nil {
		t.Fatalf("read report: %v", err)
	}
	if !bytes.Contains(html, []byte("<svg")) {
		t.Error("report has no inline SVG plot")
	}
	if filepath.Dir(got.Report) != dir {
		t.Errorf("report %s is not in the data directory %s", got.Report, dir)
	}

	if !strings.Contains(stderr, "Profiling stopped (") {
		t.Errorf("summary does not say why profiling stopped:\n%s", stderr)
	}
	if !strings.Contains(stderr, "Objective, minimised: 0.5·(1 − accuracy)") {
		t.Errorf("summary does not state the objective:\n%s", stderr)
	}
	if !strings.Contains(stderr, "data kept in "+dir) {
		t.Errorf("stderr does not name the kept data directory %s:\n%s", dir, stderr)
	}

	checkDemoStore(t, filepath.Join(dir, "collector.db"), got.HostTarget, total, got.JobsDone)
}

func TestDemoInterruptExits130(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a demo process and interrupts it while it profiles")
	}
	dir := t.TempDir()
	cmd := exec.Command(collectorBinary(t), "demo", "--exit-when-done", "--budget", "6", "--seq", "16",
		"--data-dir", dir, "--http", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})

	// The dashboard line comes after the agent starts and before the
	// campaign, so a SIGINT sent then lands during profiling.
	var output strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		output.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "dashboard: ") {
			break
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	output.Write(rest)
	cmd.Wait()

	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit status %d, want 130; stderr:\n%s", code, output.String())
	}
	want := "interrupted before the report; data kept in " + dir
	if !strings.Contains(output.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, output.String())
	}
}

// checkDemoStore checks that the store holds exactly the reported number
// of measurements and one host measurement per job.
func checkDemoStore(t *testing.T, path, hostTarget string, total, jobsDone int) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.CountMeasurements(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != total {
		t.Errorf("store holds %d measurements, the summary reports %d", n, total)
	}

	page, err := st.Measurements(ctx, store.Query{Target: hostTarget, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string]int{}
	for _, m := range page.Measurements {
		jobs[m.JobID]++
	}
	if len(page.Measurements) != jobsDone {
		t.Errorf("store holds %d host measurements, want %d", len(page.Measurements), jobsDone)
	}
	for id, c := range jobs {
		if c != 1 {
			t.Errorf("job %q has %d measurements, want 1", id, c)
		}
	}
}

func TestDemoRejectsBadInput(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.json")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"budget too small", []string{"--budget", "5"}, "--budget 5: profile at least 6"},
		{"sequence too long", []string{"--seq", "1000"}, "--seq 1000"},
		{"unknown flag", []string{"--frobnicate"}, "frobnicate"},
		{"stray argument", []string{"extra"}, `unexpected argument "extra"`},
		{"estimate wattage", []string{"--estimate-max-w", "5", "--estimate-idle-w", "10"}, "--estimate-idle-w"},
		{"unreadable import", []string{"--import", missing}, missing},
		{"address not loopback", []string{"--http", "0.0.0.0:8080"}, "loopback address only"},
		{"address without port", []string{"--http", "localhost"}, `--http "localhost"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCollector(t, append([]string{"demo", "--exit-when-done"}, tt.args...)...)
			if code != cli.ExitUsage {
				t.Errorf("exit status %d, want %d", code, cli.ExitUsage)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
		})
	}
}

func TestServeMountsDashboard(t *testing.T) {
	dir := t.TempDir()
	proc := startServe(t, "--data-dir", dir, "--nats-listen", "127.0.0.1:0")
	defer proc.stop(t)

	resp, err := http.Get(proc.apiURL + "/dashboard/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /dashboard/: status %d: %s", resp.StatusCode, body)
	}
	if !bytes.Contains(body, []byte("· EdgeTran</title>")) {
		t.Errorf("GET /dashboard/ is not a dashboard page:\n%s", body)
	}
}
