package daemon

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/engine"
	"github.com/edgetran/edgetran/agent/profile"
	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/platforms/estimate"
	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/wire"
)

const testDevice = "test-dev"

// testServer is an embedded NATS server with JetStream on a loopback port
// that can be stopped and started again on the same port and store.
type testServer struct {
	t     *testing.T
	port  int
	store string
	srv   *server.Server
	users []*server.User // nil: no authentication
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	return startServerWithUsers(t, nil)
}

// startServerWithUsers starts a server that requires one of users; the test
// helpers connect as adminUser, which the caller must include.
func startServerWithUsers(t *testing.T, users []*server.User) *testServer {
	t.Helper()
	ts := &testServer{t: t, port: -1, store: t.TempDir(), users: users}
	ts.start()
	ts.port = ts.srv.Addr().(*net.TCPAddr).Port
	t.Cleanup(ts.stop)
	ts.createStreams()
	return ts
}

func (ts *testServer) start() {
	ts.t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: ts.port, JetStream: true, StoreDir: ts.store, NoSigs: true, Users: ts.users})
	if err != nil {
		ts.t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		ts.t.Fatal("NATS server not ready after 10s")
	}
	ts.srv = srv
}

func (ts *testServer) stop() {
	if ts.srv != nil {
		ts.srv.Shutdown()
		ts.srv.WaitForShutdown()
		ts.srv = nil
	}
}

const adminUser, adminPassword = "admin", "admin-secret"

func (ts *testServer) adminAuth() []nats.Option {
	if ts.users == nil {
		return nil
	}
	return []nats.Option{nats.UserInfo(adminUser, adminPassword)}
}

func (ts *testServer) url() string { return "nats://127.0.0.1:" + itoa(ts.port) }

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// createStreams creates the streams the collector normally creates, with the
// names and subjects of package wire.
func (ts *testServer) createStreams() {
	ts.t.Helper()
	js := ts.js()
	ctx := context.Background()
	for _, cfg := range []jetstream.StreamConfig{
		{Name: wire.StreamJobs, Subjects: []string{wire.AllJobs}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage},
		{Name: wire.StreamResults, Subjects: []string{wire.AllResults}, Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute},
		{Name: wire.StreamHeartbeats, Subjects: []string{wire.AllHeartbeats, wire.AllAnnounces}, Storage: jetstream.FileStorage},
	} {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			ts.t.Fatalf("create stream %s: %v", cfg.Name, err)
		}
	}
}

// js returns a JetStream context on a fresh connection closed at cleanup.
func (ts *testServer) js() jetstream.JetStream {
	ts.t.Helper()
	nc, err := nats.Connect(ts.url(), ts.adminAuth()...)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		ts.t.Fatal(err)
	}
	return js
}

// submit publishes a job for testDevice.
func (ts *testServer) submit(job any) {
	ts.t.Helper()
	var data []byte
	switch v := job.(type) {
	case []byte:
		data = v
	default:
		var err error
		if data, err = json.Marshal(v); err != nil {
			ts.t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := ts.js().Publish(ctx, wire.JobsSubject(testDevice), data); err != nil {
		ts.t.Fatal(err)
	}
}

// results returns every message in the RESULTS stream, decoded.
func (ts *testServer) results() []wire.Result {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	js := ts.js()
	st, err := js.Stream(ctx, wire.StreamResults)
	if err != nil {
		ts.t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		ts.t.Fatal(err)
	}
	var out []wire.Result
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		raw, err := st.GetMsg(ctx, seq)
		if err != nil {
			ts.t.Fatalf("get result %d: %v", seq, err)
		}
		var r wire.Result
		if err := json.Unmarshal(raw.Data, &r); err != nil {
			ts.t.Fatalf("result %d is not JSON: %v", seq, err)
		}
		out = append(out, r)
	}
	return out
}

// waitResults polls until the RESULTS stream holds n messages.
func (ts *testServer) waitResults(n int, timeout time.Duration) []wire.Result {
	ts.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := ts.results()
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) < n {
				ts.t.Fatalf("got %d results after %v, want %d", len(got), timeout, n)
			}
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testJob is a BERT-Tiny profile job of about seconds timed seconds.
func testJob(t *testing.T, id string, seconds float64) wire.Job {
	t.Helper()
	a, err := arch.Preset("bert-tiny")
	if err != nil {
		t.Fatal(err)
	}
	return wire.Job{
		ID: id, Kind: wire.JobProfile, Device: testDevice, Runner: "builtin", Arch: a,
		Batch: 1, SeqLen: 16, Warmup: 2, MinIters: 5, MinSeconds: seconds, Repeats: 2, Attempt: 1,
		CreatedAt: time.Now().UTC(),
	}
}

func testConfig(t *testing.T, url, outboxDir string) *config.Config {
	t.Helper()
	c := config.Default()
	c.Device.ID = testDevice
	c.Device.Name = "test device"
	c.NATS.Servers = []string{url}
	c.NATS.ReconnectWait = config.Duration(50 * time.Millisecond)
	c.NATS.MaxReconnectWait = config.Duration(200 * time.Millisecond)
	c.Outbox.Dir = outboxDir
	c.HeartbeatInterval = config.Duration(200 * time.Millisecond)
	c.Meter.Interval = config.Duration(50 * time.Millisecond)
	c.Meter.IdleWindow = config.Duration(200 * time.Millisecond)
	c.Limits.MaxDuration = config.Duration(2 * time.Minute)
	c.Limits.MaxModelMemory = 1 << 30
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return &c
}

// testOptions returns daemon options with the builtin engine and the
// estimate meter reading this machine's /proc/stat.
func testOptions(t *testing.T, cfg *config.Config) Options {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	m, err := estimate.New(meter.NewDeps("/sys", "/proc", logger), estimate.Config{IdleW: 3, MaxW: 12})
	if err != nil {
		t.Fatalf("estimate meter: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return Options{
		Config:        cfg,
		Runners:       map[string]runner.Runner{"builtin": engine.NewRunner(engine.Options{Threads: 1})},
		Profiler:      &profile.Profiler{Space: arch.Default(), Power: &profile.Power{Meter: m, Interval: 50 * time.Millisecond}, Logger: logger},
		Version:       "test",
		Logger:        logger,
		AckWait:       3 * time.Second,
		FetchWait:     500 * time.Millisecond,
		ShutdownGrace: 500 * time.Millisecond,
	}
}

// runDaemon starts a daemon and returns a function that stops it and waits
// for Run to return nil.
func runDaemon(t *testing.T, opts Options) (stop func()) {
	t.Helper()
	_, stop = startDaemon(t, opts)
	return stop
}

// startDaemon is runDaemon that also returns the daemon, for tests that
// watch its outbox.
func startDaemon(t *testing.T, opts Options) (*Daemon, func()) {
	t.Helper()
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil after shutdown", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return 30s after shutdown")
		}
	}
	t.Cleanup(stop)
	return d, stop
}

// waitState waits until a heartbeat of testDevice reports state.
func waitState(t *testing.T, ts *testServer, state string, timeout time.Duration) {
	t.Helper()
	nc, err := nats.Connect(ts.url(), ts.adminAuth()...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync(wire.HeartbeatSubject(testDevice))
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
		if json.Unmarshal(msg.Data, &hb) == nil && hb.State == state {
			return
		}
	}
	t.Fatalf("no heartbeat with state %q within %v", state, timeout)
}
