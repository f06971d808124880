package wire

import (
	"strings"
	"testing"

	"github.com/edgetran/edgetran/shared/arch"
)

func TestSubjectsCarryDeviceLast(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{JobsSubject("pi-7"), "edgetran.v1.jobs.pi-7"},
		{ResultsSubject("pi-7"), "edgetran.v1.results.pi-7"},
		{HeartbeatSubject("pi-7"), "edgetran.v1.heartbeat.pi-7"},
		{AnnounceSubject("pi-7"), "edgetran.v1.announce.pi-7"},
		{TelemetrySubject("pi-7"), "edgetran.v1.telemetry.pi-7"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("subject %q, want %q", tt.got, tt.want)
		}
		dev, err := DeviceFromSubject(tt.got)
		if err != nil || dev != "pi-7" {
			t.Errorf("DeviceFromSubject(%q) = %q, %v; want pi-7", tt.got, dev, err)
		}
	}
}

func TestDeviceFromSubjectRejectsForeignSubjects(t *testing.T) {
	for _, s := range []string{"other.v1.results.pi", "edgetran.v2.results.pi", "edgetran.v1.results.*", "edgetran.v1.results."} {
		if dev, err := DeviceFromSubject(s); err == nil {
			t.Errorf("DeviceFromSubject(%q) = %q, want an error", s, dev)
		}
	}
}

func TestValidateDeviceID(t *testing.T) {
	for _, ok := range []string{"a", "jetson-nano_2", strings.Repeat("x", 64)} {
		if err := ValidateDeviceID(ok); err != nil {
			t.Errorf("ValidateDeviceID(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "a.b", "a*", "a>", "a b", "ü", strings.Repeat("x", 65)} {
		if err := ValidateDeviceID(bad); err == nil {
			t.Errorf("ValidateDeviceID(%q) succeeded, want an error", bad)
		}
	}
}

func TestResultIDIncludesAttempt(t *testing.T) {
	if a, b := ResultID("job-1", 1), ResultID("job-1", 2); a == b {
		t.Errorf("attempts 1 and 2 share result id %q", a)
	}
}

func validJob(t *testing.T) Job {
	t.Helper()
	a, err := arch.Preset("bert-tiny")
	if err != nil {
		t.Fatal(err)
	}
	return Job{ID: "job-1", Kind: JobProfile, Device: "pi", Runner: "builtin", Arch: a,
		Batch: 1, SeqLen: 128, Warmup: 2, MinIters: 10, MinSeconds: 1, Repeats: 3, Attempt: 1}
}

func TestJobValidate(t *testing.T) {
	space := arch.Default()
	good := validJob(t)
	if err := good.Validate(space); err != nil {
		t.Fatalf("valid job rejected: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Job)
		want   string
	}{
		{"empty id", func(j *Job) { j.ID = "" }, "job id"},
		{"unknown kind", func(j *Job) { j.Kind = "train" }, `job kind "train"`},
		{"no runner", func(j *Job) { j.Runner = "" }, "runner is missing"},
		{"batch too large", func(j *Job) { j.Batch = MaxBatch + 1 }, "batch 1025"},
		{"sequence too long", func(j *Job) { j.SeqLen = 513 }, "seq_len 513"},
		{"negative warmup", func(j *Job) { j.Warmup = -1 }, "warmup -1"},
		{"no iterations", func(j *Job) { j.MinIters = 0 }, "min_iters 0"},
		{"too long", func(j *Job) { j.MinSeconds = MaxMinSeconds + 1 }, "min_seconds 3601"},
		{"no repeats", func(j *Job) { j.Repeats = 0 }, "repeats 0"},
		{"attempt zero", func(j *Job) { j.Attempt = 0 }, "attempt 0"},
		{"bad head", func(j *Job) { j.Arch.O[0][0] = "sa_xyz_64" }, `unknown head type "sa_xyz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := validJob(t)
			tt.mutate(&j)
			err := j.Validate(space)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
