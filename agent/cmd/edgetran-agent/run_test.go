package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/wire"
)

const killDevice = "kill-dev"

// buildAgent compiles this command into a temporary directory.
func buildAgent(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "edgetran-agent")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startJetStream(t *testing.T) (*server.Server, jetstream.JetStream) {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []jetstream.StreamConfig{
		{Name: wire.StreamJobs, Subjects: []string{wire.AllJobs}, Retention: jetstream.WorkQueuePolicy},
		{Name: wire.StreamResults, Subjects: []string{wire.AllResults}, Duplicates: 10 * time.Minute},
		{Name: wire.StreamHeartbeats, Subjects: []string{wire.AllHeartbeats, wire.AllAnnounces}},
	} {
		if _, err := js.CreateOrUpdateStream(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	return srv, js
}

// agentProcess is a running agent with its stderr captured.
type agentProcess struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, valid after done
}

func (p *agentProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

func (p *agentProcess) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func startAgent(t *testing.T, bin, configPath string) *agentProcess {
	t.Helper()
	p := &agentProcess{done: make(chan struct{})}
	p.cmd = exec.Command(bin, "run", "--config", configPath)
	p.cmd.Stderr = p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("agent log:\n%s", p.log())
		}
	})
	return p
}

func writeAgentConfig(t *testing.T, url, outboxDir string) string {
	t.Helper()
	cfg := fmt.Sprintf(`device: {id: %s}
nats: {servers: [%q], reconnect_wait: 100ms, max_reconnect_wait: 500ms, ack_wait: 2s}
meter: {name: estimate, interval: 50ms, idle_window: 200ms, estimate: {idle_w: 3, max_w: 12}}
outbox: {dir: %q}
heartbeat_interval: 200ms
limits: {max_model_memory: 1GiB, max_duration: 2m}
`, killDevice, url, outboxDir)
	path := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func waitBusy(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync(wire.HeartbeatSubject(killDevice))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		msg, err := sub.NextMsg(time.Until(deadline))
		if err != nil {
			break
		}
		var hb wire.Heartbeat
		if json.Unmarshal(msg.Data, &hb) == nil && hb.State == "busy" {
			return
		}
	}
	t.Fatalf("agent not busy within %v", timeout)
}

func countResults(t *testing.T, js jetstream.JetStream) (uint64, []byte) {
	t.Helper()
	ctx := context.Background()
	st, err := js.Stream(ctx, wire.StreamResults)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs == 0 {
		return 0, nil
	}
	msg, err := st.GetMsg(ctx, info.State.FirstSeq)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs, msg.Data
}

func TestAgentKilledMidJobRedelivered(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent and runs a multi-second job")
	}
	bin := buildAgent(t)
	srv, js := startJetStream(t)
	configPath := writeAgentConfig(t, srv.ClientURL(), t.TempDir())

	first := startAgent(t, bin, configPath)
	a, err := arch.Preset("bert-tiny")
	if err != nil {
		t.Fatal(err)
	}
	job := wire.Job{ID: "killed", Kind: wire.JobProfile, Device: killDevice, Runner: "builtin", Arch: a,
		Batch: 1, SeqLen: 16, Warmup: 1, MinIters: 3, MinSeconds: 2, Repeats: 2, Attempt: 1}
	data, _ := json.Marshal(job)
	if _, err := js.Publish(context.Background(), wire.JobsSubject(killDevice), data); err != nil {
		t.Fatal(err)
	}
	waitBusy(t, srv.ClientURL(), 30*time.Second)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	if n, _ := countResults(t, js); n != 0 {
		t.Fatalf("%d results before the job could finish, want 0", n)
	}

	second := startAgent(t, bin, configPath)
	deadline := time.Now().Add(90 * time.Second)
	var n uint64
	var raw []byte
	for time.Now().Before(deadline) && n == 0 {
		time.Sleep(200 * time.Millisecond)
		n, raw = countResults(t, js)
	}
	if n == 0 {
		t.Fatal("no result 90s after the restart")
	}
	time.Sleep(3 * time.Second)
	if n, _ = countResults(t, js); n != 1 {
		t.Errorf("results stream holds %d messages, want exactly 1", n)
	}
	var res wire.Result
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	if res.ID != wire.ResultID("killed", 1) || res.Kind != wire.ResultMeasurement {
		t.Errorf("result %s kind %s error %+v, want a measurement for killed#1", res.ID, res.Kind, res.Error)
	}

	// SIGTERM stops the agent cleanly with exit status 0.
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-second.done:
		if second.err != nil {
			t.Errorf("agent exit after SIGTERM: %v, want status 0", second.err)
		}
	case <-time.After(30 * time.Second):
		t.Error("agent still running 30s after SIGTERM")
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("device: {id: 'no spaces allowed'}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"run", "--config", filepath.Join(dir, "absent.yaml")}, "no such file"},
		{"invalid device id", []string{"run", "--config", bad}, "device.id"},
		{"unknown flag", []string{"run", "--bogus"}, "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := cli.Env{Stdin: bytes.NewReader(nil), Stdout: &stdout, Stderr: &stderr, Program: "edgetran-agent"}
			code := cli.Main(context.Background(), env, commands(), tt.args)
			if code != 2 {
				t.Errorf("exit status = %d, want 2", code)
			}
			if !bytes.Contains(stderr.Bytes(), []byte(tt.want)) {
				t.Errorf("stderr %q does not mention %q", stderr.String(), tt.want)
			}
		})
	}
}
