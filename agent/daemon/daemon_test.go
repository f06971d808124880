package daemon

import (
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"testing"
	"time"

	"github.com/edgetran/edgetran/agent/outbox"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

func TestJobRoundTrip(t *testing.T) {
	ts := startServer(t)
	cfg := testConfig(t, ts.url(), t.TempDir())
	opts := testOptions(t, cfg)
	// The job runs about three ack deadlines, so it finishes only if the
	// agent extends the deadline.
	opts.AckWait = time.Second
	runDaemon(t, opts)

	job := testJob(t, "round-trip", 1.5)
	ts.submit(job)
	got := ts.waitResults(1, time.Minute)

	r := got[0]
	if r.ID != wire.ResultID(job.ID, 1) {
		t.Errorf("result id = %q, want %q", r.ID, wire.ResultID(job.ID, 1))
	}
	if r.Kind != wire.ResultMeasurement || r.Measurement == nil {
		t.Fatalf("result kind = %q with error %+v, want a measurement", r.Kind, r.Error)
	}
	m := r.Measurement
	if err := m.Validate(); err != nil {
		t.Errorf("measurement invalid: %v", err)
	}
	if want := arch.Default().ID(job.Arch); m.ArchID != want {
		t.Errorf("arch id = %q, want %q", m.ArchID, want)
	}
	wantTarget := measure.Target{Device: testDevice, ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 16, Precision: "fp32"}
	if m.Target != wantTarget {
		t.Errorf("target = %+v, want %+v", m.Target, wantTarget)
	}
	if m.Provenance != measure.Estimated {
		t.Errorf("provenance = %q, want estimated (estimate meter)", m.Provenance)
	}
	if m.Runs != 2 {
		t.Errorf("runs = %d, want 2", m.Runs)
	}
	if m.Latency == nil || m.Latency.N < 2*job.MinIters {
		t.Errorf("latency = %+v, want at least %d timed iterations", m.Latency, 2*job.MinIters)
	}
	if m.EnergyPerSeqJ == nil {
		t.Errorf("energy per sequence missing; power note %q", m.Power.Note)
	}
	if m.JobID != job.ID || m.Attempt != 1 {
		t.Errorf("job id, attempt = %q, %d; want %q, 1", m.JobID, m.Attempt, job.ID)
	}

	cons, err := ts.js().Consumer(t.Context(), wire.StreamJobs, ConsumerName(testDevice))
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.NumRedelivered != 0 || info.NumAckPending != 0 {
		t.Errorf("consumer redelivered %d and has %d unacknowledged, want 0 and 0", info.NumRedelivered, info.NumAckPending)
	}
}

func TestShutdownMidJobRedelivers(t *testing.T) {
	ts := startServer(t)
	cfg := testConfig(t, ts.url(), t.TempDir())
	stop := runDaemon(t, testOptions(t, cfg))

	ts.submit(testJob(t, "shutdown", 3))
	waitState(t, ts, "busy", 30*time.Second)
	// The job needs about 6 s; the grace is 0.5 s, so it is aborted and
	// returned to the stream without a result.
	stop()
	if got := ts.results(); len(got) != 0 {
		t.Fatalf("%d results after an aborted job, want 0", len(got))
	}

	runDaemon(t, testOptions(t, cfg))
	got := ts.waitResults(1, time.Minute)
	if got[0].ID != wire.ResultID("shutdown", 1) || got[0].Kind != wire.ResultMeasurement {
		t.Errorf("result %s %s, want a measurement for shutdown#1", got[0].ID, got[0].Kind)
	}
}

func TestFullOutboxPausesJobs(t *testing.T) {
	ts := startServer(t)
	obDir := t.TempDir()
	// Fill the outbox past its 1 MiB cap with two results that cannot be
	// delivered while the RESULTS stream is missing.
	ob, err := outbox.Open(obDir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"old-1#1", "old-2#1"} {
		if err := ob.Add(id, []byte(`{"id":"`+id+`","kind":"error","device":"test-dev","error":{"code":"invalid","message":"`+strings.Repeat("x", 600<<10)+`"}}`)); err != nil {
			t.Fatal(err)
		}
	}
	ob.Close()
	if err := ts.js().DeleteStream(t.Context(), wire.StreamResults); err != nil {
		t.Fatal(err)
	}

	cfg := testConfig(t, ts.url(), obDir)
	cfg.Outbox.MaxBytes = 1 << 20
	runDaemon(t, testOptions(t, cfg))
	ts.submit(testJob(t, "waits", 0))
	waitState(t, ts, "paused", 10*time.Second)
	st, err := ts.js().Stream(t.Context(), wire.StreamJobs)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("jobs stream holds %d messages while paused, want the 1 job untaken", info.State.Msgs)
	}

	// Once results can be delivered, the old results go first, then the job
	// runs.
	ts.createStreams()
	got := ts.waitResults(3, time.Minute)
	want := []string{"old-1#1", "old-2#1", wire.ResultID("waits", 1)}
	for i, id := range want {
		if got[i].ID != id {
			t.Errorf("result %d is %s, want %s", i, got[i].ID, id)
		}
	}
}

func TestAnnounceAndHeartbeatsStored(t *testing.T) {
	ts := startServer(t)
	runDaemon(t, testOptions(t, testConfig(t, ts.url(), t.TempDir())))
	waitState(t, ts, "idle", 10*time.Second)

	st, err := ts.js().Stream(t.Context(), wire.StreamHeartbeats)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := st.GetLastMsgForSubject(t.Context(), wire.AnnounceSubject(testDevice))
	if err != nil {
		t.Fatalf("no announcement stored: %v", err)
	}
	if !strings.Contains(string(msg.Data), `"runtime":"builtin"`) {
		t.Errorf("announcement %s does not list the builtin runner", msg.Data)
	}
}

func TestRejectedJobsGetErrorResults(t *testing.T) {
	ts := startServer(t)
	cfg := testConfig(t, ts.url(), t.TempDir())
	cfg.Limits.MaxIterations = 1000
	cfg.Limits.MaxModelMemory = 64 << 20
	runDaemon(t, testOptions(t, cfg))

	outOfSpace := testJob(t, "out-of-space", 0)
	outOfSpace.Arch.H[0] = 100
	tooManyIters := testJob(t, "too-many-iters", 0)
	tooManyIters.MinIters = 5000
	tooLong := testJob(t, "too-long", 0)
	tooLong.MinSeconds = 3000
	tooBig := testJob(t, "too-big", 0)
	tooBig.Batch = 256
	tooBig.SeqLen = 512
	unknownRunner := testJob(t, "unknown-runner", 0)
	unknownRunner.Runner = "pytorch"
	otherDevice := testJob(t, "other-device", 0)
	otherDevice.Device = "someone-else"

	tests := []struct {
		name string
		job  any
		id   string
		code string
		msg  string
	}{
		{"malformed json", []byte(`{"id": "x", "kind": `), wire.ResultID(wire.StreamJobs+"-seq-1", 1), "invalid", "not a valid job"},
		{"out of space", outOfSpace, wire.ResultID("out-of-space", 1), "invalid", "architecture"},
		{"too many iterations", tooManyIters, wire.ResultID("too-many-iters", 1), "too_large", "limits.max_iterations"},
		{"too long", tooLong, wire.ResultID("too-long", 1), "too_large", "limits.max_duration"},
		{"model too large", tooBig, wire.ResultID("too-big", 1), "too_large", "this device allows"},
		{"unknown runner", unknownRunner, wire.ResultID("unknown-runner", 1), "invalid", "not configured"},
		{"other device", otherDevice, wire.ResultID("other-device", 1), "invalid", "someone-else"},
	}
	for _, tt := range tests {
		ts.submit(tt.job)
	}
	valid := testJob(t, "valid-after-rejects", 0)
	ts.submit(valid)

	got := ts.waitResults(len(tests)+1, time.Minute)
	byID := map[string]wire.Result{}
	for _, r := range got {
		byID[r.ID] = r
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := byID[tt.id]
			if !ok {
				t.Fatalf("no result with id %q", tt.id)
			}
			if r.Kind != wire.ResultError || r.Error == nil {
				t.Fatalf("kind = %q, want error", r.Kind)
			}
			if r.Error.Code != tt.code {
				t.Errorf("code = %q, want %q", r.Error.Code, tt.code)
			}
			if !strings.Contains(r.Error.Message, tt.msg) {
				t.Errorf("message %q does not mention %q", r.Error.Message, tt.msg)
			}
		})
	}
	if r := byID[wire.ResultID(valid.ID, 1)]; r.Kind != wire.ResultMeasurement {
		t.Errorf("valid job after rejects: kind = %q, error %+v; want a measurement", r.Kind, r.Error)
	}
}

func TestServerRestartMidJobResultOnce(t *testing.T) {
	ts := startServer(t)
	runDaemon(t, testOptions(t, testConfig(t, ts.url(), t.TempDir())))

	ts.submit(testJob(t, "restart", 1.5))
	waitState(t, ts, "busy", 30*time.Second)
	ts.stop()
	time.Sleep(2 * time.Second)
	ts.start()

	ts.waitResults(1, time.Minute)
	// Let redelivery and re-sends play out before counting.
	time.Sleep(5 * time.Second)
	got := ts.results()
	if len(got) != 1 {
		t.Fatalf("results stream holds %d messages, want exactly 1: %+v", len(got), got)
	}
	if got[0].ID != wire.ResultID("restart", 1) || got[0].Kind != wire.ResultMeasurement {
		t.Errorf("result = %s %s, want a measurement for restart#1", got[0].ID, got[0].Kind)
	}
}

func TestOutboxSurvivesRestartWhileServerDown(t *testing.T) {
	ts := startServer(t)
	obDir := t.TempDir()
	cfg := testConfig(t, ts.url(), obDir)
	d, stop := startDaemon(t, testOptions(t, cfg))

	ts.submit(testJob(t, "outbox", 1))
	waitState(t, ts, "busy", 30*time.Second)
	ts.stop()

	// The job finishes while the server is down, so its result can only go
	// to the outbox; then the agent stops.
	deadline := time.Now().Add(time.Minute)
	for d.outbox.Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	ob, err := outbox.Open(obDir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if ob.Len() != 1 {
		t.Fatalf("outbox holds %d results after the agent stopped, want 1", ob.Len())
	}
	ob.Close()

	// A new agent starts while the server is still down, then the server
	// comes back.
	runDaemon(t, testOptions(t, cfg))
	time.Sleep(500 * time.Millisecond)
	ts.start()

	ts.waitResults(1, time.Minute)
	time.Sleep(5 * time.Second)
	got := ts.results()
	if len(got) != 1 {
		t.Fatalf("results stream holds %d messages, want exactly 1", len(got))
	}
	if got[0].ID != wire.ResultID("outbox", 1) {
		t.Errorf("result id = %q, want outbox#1", got[0].ID)
	}
}

func TestAgentWorksWithOwnSubjectsOnly(t *testing.T) {
	pub, sub := Permissions(testDevice)
	ts := startServerWithUsers(t, []*server.User{
		{Username: adminUser, Password: adminPassword},
		{Username: "agent", Password: "agent-secret", Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: pub},
			Subscribe: &server.SubjectPermission{Allow: sub},
		}},
	})
	cfg := testConfig(t, ts.url(), t.TempDir())
	cfg.NATS.User, cfg.NATS.Password = "agent", "agent-secret"
	runDaemon(t, testOptions(t, cfg))

	ts.submit(testJob(t, "restricted", 0.2))
	got := ts.waitResults(1, time.Minute)
	if got[0].Kind != wire.ResultMeasurement {
		t.Errorf("result kind %q error %+v, want a measurement", got[0].Kind, got[0].Error)
	}
	waitState(t, ts, "idle", 10*time.Second)

	// The same user cannot publish a result for another device.
	errs := make(chan error, 1)
	nc, err := nats.Connect(ts.url(), nats.UserInfo("agent", "agent-secret"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Publish(wire.ResultsSubject("other-device"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Errorf("error %v, want a permissions violation", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("publishing another device's result was not rejected")
	}
}
