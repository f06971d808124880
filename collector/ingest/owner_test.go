package ingest_test

import (
	"context"
	"github.com/edgetran/edgetran/collector/ingest"
	"strings"
	"testing"
	"time"

	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/wire"
)

func TestCheckTiesIDToJob(t *testing.T) {
	wrongAttempt := measurementResult("j#1", "dev1", 0)
	wrongAttempt.Attempt = 2
	squat := measurementResult("j#1", "dev1", 0)
	squat.JobID, squat.Attempt = "", 0
	errorID := wire.Result{ID: "x", Kind: wire.ResultError, Device: "dev1", JobID: "j", Attempt: 1, Error: &wire.JobError{Code: "invalid", Message: "x"}}
	cases := []struct {
		name string
		r    wire.Result
		want string
	}{
		{"attempt differs from id", wrongAttempt, `want "j#2"`},
		{"job id form without job", squat, "has the form of a job's result id"},
		{"error id not the job's", errorID, `result id "x" of job "j" attempt 1`},
	}
	for _, c := range cases {
		_, err := ingest.Check(wire.ResultsSubject("dev1"), mustJSON(t, c.r), arch.Default())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestOtherDeviceCannotFinishJob(t *testing.T) {
	r := startRig(t)
	ctx := context.Background()
	now := time.Now()
	for _, id := range []string{"j1", "j2"} {
		job := store.Job{Job: wire.Job{ID: id, Device: "dev1", Attempt: 1}, Status: store.JobQueued, MaxAttempts: 2, SubmittedAt: now, UpdatedAt: now}
		if err := r.store.PutJob(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	r.publishResult(t, wire.Result{ID: wire.ResultID("j1", 1), Kind: wire.ResultError, Device: "dev2", JobID: "j1", Attempt: 1,
		Error: &wire.JobError{Code: "invalid", Message: "spoofed"}})
	r.publishResult(t, measurementResult(wire.ResultID("j2", 1), "dev2", 1))
	waitFor(t, "two rejections", func() bool { return r.in.Stats().Rejected >= 2 })

	for _, id := range []string{"j1", "j2"} {
		j, err := r.store.Job(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != store.JobQueued {
			t.Errorf("job %s: status %s after another device's result, want queued", id, j.Status)
		}
	}
	if _, err := r.store.Measurement(ctx, wire.ResultID("j2", 1)); err == nil {
		t.Error("dev2's measurement was stored under dev1's result id")
	}
}

func TestEarlierAttemptErrorKeepsJob(t *testing.T) {
	r := startRig(t)
	ctx := context.Background()
	now := time.Now()
	job := store.Job{Job: wire.Job{ID: "j", Device: "dev1", Attempt: 2}, Status: store.JobQueued, MaxAttempts: 3, SubmittedAt: now, UpdatedAt: now}
	if err := r.store.PutJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	r.publishResult(t, wire.Result{ID: wire.ResultID("j", 1), Kind: wire.ResultError, Device: "dev1", JobID: "j", Attempt: 1,
		Error: &wire.JobError{Code: "aborted", Message: "max_duration"}})
	waitFor(t, "the error result", func() bool { return r.in.Stats().JobErrors >= 1 })
	if got, _ := r.store.Job(ctx, "j"); got.Status != store.JobQueued {
		t.Fatalf("job after attempt 1's error: %s (%s), want still queued for attempt 2", got.Status, got.Error)
	}

	r.publishResult(t, measurementResult(wire.ResultID("j", 2), "dev1", 0))
	waitFor(t, "the job done", func() bool { got, _ := r.store.Job(ctx, "j"); return got.Status.Final() })
	if got, _ := r.store.Job(ctx, "j"); got.Status != store.JobDone || got.ResultID != wire.ResultID("j", 2) {
		t.Errorf("job after attempt 2's measurement: %s with result %q, want done with %q", got.Status, got.ResultID, wire.ResultID("j", 2))
	}
}

func TestEarlierAttemptMeasurementCompletesJob(t *testing.T) {
	r := startRig(t)
	ctx := context.Background()
	now := time.Now()
	job := store.Job{Job: wire.Job{ID: "k", Device: "dev1", Attempt: 2}, Status: store.JobQueued, MaxAttempts: 3, SubmittedAt: now, UpdatedAt: now}
	if err := r.store.PutJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	r.publishResult(t, measurementResult(wire.ResultID("k", 1), "dev1", 0))
	waitFor(t, "the job done", func() bool { got, _ := r.store.Job(ctx, "k"); return got.Status.Final() })
	if got, _ := r.store.Job(ctx, "k"); got.Status != store.JobDone {
		t.Errorf("job after attempt 1's measurement: %s, want done", got.Status)
	}
}
