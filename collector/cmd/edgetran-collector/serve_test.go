package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/collector/broker"
	"github.com/edgetran/edgetran/collector/store/storetest"
	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/pubdata"
	"github.com/edgetran/edgetran/shared/wire"

	_ "modernc.org/sqlite"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// collectorBinary builds this command once per test run.
func collectorBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "edgetran-collector-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "edgetran-collector")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// serveProcess is a collector running as a child process.
type serveProcess struct {
	cmd    *exec.Cmd
	apiURL string
	stderr *bytes.Buffer
}

// startServe runs "serve" with args and waits for its API address line.
func startServe(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(collectorBinary(t), append([]string{"serve", "--http", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, stderr: new(bytes.Buffer)}
	cmd.Stderr = &lockedWriter{w: p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	select {
	case line := <-lines:
		// "API on http://127.0.0.1:PORT, NATS at nats://..."
		addr, _, _ := strings.Cut(strings.TrimPrefix(line, "API on "), ",")
		p.apiURL = addr
	case <-time.After(30 * time.Second):
		t.Fatalf("collector did not start within 30s; stderr:\n%s", p.stderr)
	}
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (p *serveProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
}

func (p *serveProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("serve exited with %v; stderr:\n%s", err, p.stderr)
	}
}

func (p *serveProcess) measurements(t *testing.T) int {
	t.Helper()
	c, _ := api.NewClient(p.apiURL, "")
	h, err := c.Health(context.Background())
	if err != nil {
		return -1
	}
	return h.Measurements
}

// startNATS starts a NATS server with JetStream file storage that is not
// part of any collector.
func startNATS(t *testing.T) *broker.Embedded {
	t.Helper()
	srv, err := broker.StartEmbedded("127.0.0.1:0", filepath.Join(t.TempDir(), "nats"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// runCLI runs one command in-process and returns its exit status and
// output.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	env := cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Program: "edgetran-collector"}
	code = cli.Main(context.Background(), env, commands(), args)
	return code, out.String(), errOut.String()
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKilledCollectorStoresEachResultOnce publishes 10,000 results while
// the collector is killed with SIGKILL twice, re-sends 1,000 of them with
// fresh message ids, and checks the database holds each id exactly once.
func TestKilledCollectorStoresEachResultOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and publishes 10,000 results")
	}
	const total, resent = 10000, 1000
	srv := startNATS(t)
	dataDir := t.TempDir()
	serveArgs := []string{"--nats-url", srv.ClientURL(), "--data-dir", dataDir, "--ack-wait", "2s"}
	proc := startServe(t, serveArgs...)

	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}

	var published atomic.Int64
	pubErr := make(chan error, 1)
	go func() {
		pubErr <- publishResults(js, 0, total, "", &published)
	}()

	// Kill while results are still arriving, then restart on the same
	// data directory.
	for _, at := range []int64{total * 3 / 10, total * 6 / 10} {
		waitUntil(t, time.Minute, fmt.Sprintf("%d published", at), func() bool { return published.Load() >= at })
		t.Logf("SIGKILL with %d results published and %d stored", published.Load(), proc.measurements(t))
		proc.kill(t)
		proc = startServe(t, serveArgs...)
	}
	if err := <-pubErr; err != nil {
		t.Fatal(err)
	}
	// Re-send some results as an agent would after losing its
	// acknowledgements: new message ids, so only the store can drop them.
	if err := publishResults(js, 0, resent, "resend-", &published); err != nil {
		t.Fatal(err)
	}

	waitUntil(t, 2*time.Minute, "all results stored", func() bool { return proc.measurements(t) == total })
	// Let the re-sent copies drain before stopping.
	waitUntil(t, time.Minute, "ingest consumer drained", func() bool {
		cons, err := js.Consumer(context.Background(), wire.StreamResults, broker.IngestConsumer)
		if err != nil {
			return false
		}
		info, err := cons.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
	proc.stop(t)

	db, err := sql.Open("sqlite", filepath.Join(dataDir, "collector.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id FROM measurements`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := make(map[string]int)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		seen[id]++
	}
	if len(seen) != total {
		t.Errorf("stored %d distinct ids, want %d", len(seen), total)
	}
	for i := range total {
		if n := seen[storetest.ID(i)]; n != 1 {
			t.Errorf("id %s stored %d times, want 1", storetest.ID(i), n)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "nats")); !os.IsNotExist(err) {
		t.Errorf("collector with --nats-url created an embedded NATS store (stat: %v)", err)
	}
}

// publishResults publishes results from..to-1 in windows of asynchronous
// publishes, retrying a window that fails, and counts acknowledged ones.
func publishResults(js jetstream.JetStream, from, to int, msgIDPrefix string, published *atomic.Int64) error {
	const window = 200
	for start := from; start < to; start += window {
		end := min(start+window, to)
		for attempt := 0; ; attempt++ {
			err := publishWindow(js, start, end, msgIDPrefix)
			if err == nil {
				break
			}
			if attempt == 5 {
				return err
			}
			time.Sleep(200 * time.Millisecond)
		}
		published.Add(int64(end - start))
		// Pace the publisher so the kills land while results flow.
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func publishWindow(js jetstream.JetStream, start, end int, msgIDPrefix string) error {
	acks := make([]jetstream.PubAckFuture, 0, end-start)
	for i := start; i < end; i++ {
		m := storetest.Measurement(storetest.ID(i), "dev1", i)
		data, err := json.Marshal(wire.Result{ID: m.ID, Kind: wire.ResultMeasurement, Device: "dev1", Measurement: &m})
		if err != nil {
			return err
		}
		msg := nats.NewMsg(wire.ResultsSubject("dev1"))
		msg.Data = data
		msg.Header.Set(nats.MsgIdHdr, msgIDPrefix+m.ID)
		ack, err := js.PublishMsgAsync(msg)
		if err != nil {
			return err
		}
		acks = append(acks, ack)
	}
	for _, ack := range acks {
		select {
		case <-ack.Ok():
		case err := <-ack.Err():
			return err
		case <-time.After(10 * time.Second):
			return fmt.Errorf("no publish acknowledgement within 10s")
		}
	}
	return nil
}

func datasetPath(t *testing.T) string {
	t.Helper()
	return pubdata.Path(t, "codesign_dataset.json")
}

func TestImportExportRoundTrip(t *testing.T) {
	path := datasetPath(t)
	proc := startServe(t, "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())

	code, out, errOut := runCLI("import", "--collector", proc.apiURL, "--format", "edgetran", path)
	if code != 0 {
		t.Fatalf("import exited %d: %s%s", code, out, errOut)
	}
	if !strings.Contains(out, "648 imported, 0 already stored, 0 rejected") {
		t.Errorf("import report = %q, want 648 imported, none rejected", out)
	}
	code, out, _ = runCLI("import", "--collector", proc.apiURL, "--format", "edgetran", path)
	if code != 0 || !strings.Contains(out, "0 imported, 648 already stored") {
		t.Errorf("second import exited %d with %q, want 0 imported, 648 already stored", code, out)
	}

	csvPath := filepath.Join(t.TempDir(), "out.csv")
	if code, out, errOut := runCLI("measurements", "export", "--collector", proc.apiURL, "--format", "csv", "--output", csvPath); code != 0 {
		t.Fatalf("export exited %d: %s%s", code, out, errOut)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range records[0] {
		col[name] = i
	}

	// Expected values come straight from the published file.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var published map[string]struct {
		Performance struct {
			Latency   float64 `json:"latency"`
			Energy    float64 `json:"energy"`
			PeakPower float64 `json:"peak_power"`
		} `json:"performance"`
	}
	if err := json.Unmarshal(raw, &published); err != nil {
		t.Fatal(err)
	}
	rows := records[1:]
	if len(rows) != len(published) {
		t.Fatalf("exported %d rows, want %d", len(rows), len(published))
	}
	for _, row := range rows {
		key := strings.TrimPrefix(row[col["id"]], "edgetran:")
		want, ok := published[key]
		if !ok {
			t.Errorf("exported id %s is not in the file", row[col["id"]])
			continue
		}
		for name, v := range map[string]float64{
			"latency_per_seq_s": want.Performance.Latency,
			"energy_per_seq_j":  want.Performance.Energy,
			"peak_power_w":      want.Performance.PeakPower,
		} {
			got, err := strconv.ParseFloat(row[col[name]], 64)
			if err != nil || got != v {
				t.Errorf("%s %s = %q, want %v", key, name, row[col[name]], v)
			}
		}
		if row[col["provenance"]] != "imported" {
			t.Errorf("%s provenance = %q, want imported", key, row[col["provenance"]])
		}
	}
}

func TestNonLoopbackNeedsToken(t *testing.T) {
	cmd := exec.Command(collectorBinary(t), "serve", "--http", "0.0.0.0:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "EDGETRAN_TOKEN=")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != cli.ExitUsage {
		t.Fatalf("serve on 0.0.0.0 without a token exited %d (%v), want %d; output:\n%s", code, err, cli.ExitUsage, out)
	}
	if !strings.Contains(string(out), "not loopback: set a token") {
		t.Errorf("output %q does not explain that a token is needed", out)
	}
}

func TestWrongTokenIsRejected(t *testing.T) {
	config := filepath.Join(t.TempDir(), "collector.yaml")
	if err := os.WriteFile(config, []byte("token: s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	proc := startServe(t, "--config", config, "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())

	t.Setenv("EDGETRAN_TOKEN", "")
	cases := []struct {
		name  string
		token string
		code  int
	}{
		{"no token", "", cli.ExitFailure},
		{"wrong token", "guess", cli.ExitFailure},
		{"right token", "s3cret", cli.ExitOK},
	}
	for _, c := range cases {
		code, out, errOut := runCLI("devices", "list", "--collector", proc.apiURL, "--token", c.token)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d (%s%s)", c.name, code, c.code, out, errOut)
		}
		if c.code != 0 && !strings.Contains(errOut, "401") {
			t.Errorf("%s: error %q does not mention 401", c.name, errOut)
		}
	}
}

func TestClientErrorsExitNonZero(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.json")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown flag", []string{"jobs", "list", "--bogus"}, cli.ExitUsage, "flag provided but not defined"},
		{"unreachable collector", []string{"jobs", "list", "--collector", "http://127.0.0.1:1"}, cli.ExitFailure, "unreachable"},
		{"bad collector URL", []string{"devices", "list", "--collector", "ftp://x"}, cli.ExitUsage, "want http://host:port"},
		{"unknown import format", []string{"import", "--format", "csv", missing}, cli.ExitUsage, "only edgetran"},
		{"missing import file", []string{"import", missing}, cli.ExitUsage, "missing.json"},
		{"missing arch file", []string{"jobs", "submit", "--device", "d1", "--arch", missing}, cli.ExitUsage, "read architecture"},
		{"bad export format", []string{"measurements", "export", "--format", "xml"}, cli.ExitUsage, "want jsonl or csv"},
		{"bad job status", []string{"jobs", "list", "--status", "lost"}, cli.ExitUsage, "want queued"},
		{"bad config file", []string{"serve", "--config", missing}, cli.ExitUsage, "read config"},
		{"unreachable NATS", []string{"serve", "--nats-url", "nats://127.0.0.1:1", "--http", "127.0.0.1:0", "--data-dir", t.TempDir()}, cli.ExitFailure, "connect to NATS"},
		{"bad log level", []string{"serve", "--log-level", "loud"}, cli.ExitUsage, "want debug, info"},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d (%s)", c.name, code, c.code, errOut)
		}
		if !strings.Contains(errOut, c.want) {
			t.Errorf("%s: error %q lacks %q", c.name, errOut, c.want)
		}
	}
}

func TestJobsSubmitAndList(t *testing.T) {
	proc := startServe(t, "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	archFile := filepath.Join(t.TempDir(), "arch.json")
	archJSON, _ := json.Marshal(storetest.Arch(0))
	if err := os.WriteFile(archFile, archJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("jobs", "submit", "--collector", proc.apiURL, "--device", "dev1", "--arch", archFile, "--id", "job-1", "--seq", "64")
	if code != 0 {
		t.Fatalf("jobs submit exited %d: %s%s", code, out, errOut)
	}
	if !strings.Contains(out, "job job-1 queued for dev1") {
		t.Errorf("submit output = %q, want it to name job-1 and dev1", out)
	}
	code, out, errOut = runCLI("jobs", "list", "--collector", proc.apiURL, "--json")
	if code != 0 {
		t.Fatalf("jobs list exited %d: %s", code, errOut)
	}
	var jobs []struct {
		Job    wire.Job `json:"job"`
		Status string   `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &jobs); err != nil {
		t.Fatalf("jobs list --json: %v\n%s", err, out)
	}
	if len(jobs) != 1 || jobs[0].Job.ID != "job-1" || jobs[0].Status != "queued" || jobs[0].Job.SeqLen != 64 {
		t.Errorf("jobs = %+v, want job-1 queued with seq_len 64", jobs)
	}
	code, _, errOut = runCLI("jobs", "submit", "--collector", proc.apiURL, "--device", "dev1", "--arch", archFile, "--id", "job-1")
	if code != cli.ExitFailure || !strings.Contains(errOut, "409") {
		t.Errorf("second submit of job-1: exit %d, %q; want 1 and a 409 conflict", code, errOut)
	}
}

// TestIngestSurvivesNATSRestart restarts the external NATS server on the
// same port and store while the collector runs.
func TestIngestSurvivesNATSRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and restarts a NATS server")
	}
	storeDir := filepath.Join(t.TempDir(), "nats")
	srv, err := broker.StartEmbedded("127.0.0.1:0", storeDir)
	if err != nil {
		t.Fatal(err)
	}
	url := srv.ClientURL()
	proc := startServe(t, "--nats-url", url, "--data-dir", t.TempDir(), "--ack-wait", "2s")

	publish := func(from, to int) {
		t.Helper()
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		var n atomic.Int64
		if err := publishResults(js, from, to, "", &n); err != nil {
			t.Fatal(err)
		}
	}
	publish(0, 500)
	waitUntil(t, time.Minute, "first 500 stored", func() bool { return proc.measurements(t) == 500 })

	srv.Shutdown()
	hostPort := strings.TrimPrefix(url, "nats://")
	srv, err = broker.StartEmbedded(hostPort, storeDir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	publish(500, 1000)
	waitUntil(t, time.Minute, "all 1000 stored after the restart", func() bool { return proc.measurements(t) == 1000 })
	proc.stop(t)
}
