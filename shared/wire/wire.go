// Package wire is the NATS protocol between agents and the collector:
// subjects, stream names and message types, version 1.
//
// Subjects carry the device id as their last token, so NATS permissions can
// restrict each agent to its own subjects:
//
//	edgetran.v1.jobs.<device>       collector → agent, stream JOBS (work queue)
//	edgetran.v1.results.<device>    agent → collector, stream RESULTS
//	edgetran.v1.heartbeat.<device>  agent → collector, stream HEARTBEATS
//	edgetran.v1.announce.<device>   agent → collector, stream HEARTBEATS
//	edgetran.v1.telemetry.<device>  agent → anyone, core NATS, not stored
//	edgetran.v1.deadletter          collector, stream DEADLETTER: rejected results
//
// A result is published to JetStream with the Nats-Msg-Id header set to
// Result.ID, so a re-send after a crash or reconnect inside the stream's
// duplicate window is dropped by the server; the collector also stores each
// id at most once, which covers re-sends outside that window.
package wire

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// Version is the protocol version carried in every subject.
const Version = "v1"

const prefix = "edgetran." + Version + "."

// Stream names.
const (
	StreamJobs       = "EDGETRAN_JOBS"
	StreamResults    = "EDGETRAN_RESULTS"
	StreamHeartbeats = "EDGETRAN_HEARTBEATS"
	StreamDeadLetter = "EDGETRAN_DEADLETTER"
)

// Subject wildcards that the streams bind.
const (
	AllJobs       = prefix + "jobs.*"
	AllResults    = prefix + "results.*"
	AllHeartbeats = prefix + "heartbeat.*"
	AllAnnounces  = prefix + "announce.*"
	DeadLetter    = prefix + "deadletter"
)

// JobsSubject returns the subject on which device receives jobs.
func JobsSubject(device string) string { return prefix + "jobs." + device }

// ResultsSubject returns the subject on which device publishes results.
func ResultsSubject(device string) string { return prefix + "results." + device }

// HeartbeatSubject returns the subject of device's heartbeats.
func HeartbeatSubject(device string) string { return prefix + "heartbeat." + device }

// AnnounceSubject returns the subject of device's announcements.
func AnnounceSubject(device string) string { return prefix + "announce." + device }

// TelemetrySubject returns the core-NATS subject of device's live telemetry.
func TelemetrySubject(device string) string { return prefix + "telemetry." + device }

// DeviceFromSubject returns the last token of an edgetran subject.
func DeviceFromSubject(subject string) (string, error) {
	if !strings.HasPrefix(subject, prefix) {
		return "", fmt.Errorf("subject %q is not an edgetran %s subject", subject, Version)
	}
	i := strings.LastIndexByte(subject, '.')
	dev := subject[i+1:]
	if err := ValidateDeviceID(dev); err != nil {
		return "", err
	}
	return dev, nil
}

// ValidateDeviceID checks that id can be used as a subject token and a
// target key part: 1 to 64 characters of letters, digits, '-' and '_'.
func ValidateDeviceID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("device id %q: must be 1 to 64 characters", id)
	}
	for _, r := range id {
		ok := r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("device id %q: character %q not allowed; use letters, digits, '-' and '_'", id, r)
		}
	}
	return nil
}

// JobKind names what a job asks for.
type JobKind string

// Job kinds. Only profiling exists so far.
const JobProfile JobKind = "profile"

// Job asks an agent to profile one architecture. It never carries a command
// line: Runner names one of the runners configured on the device.
type Job struct {
	ID         string            `json:"id"`
	Kind       JobKind           `json:"kind"`
	Device     string            `json:"device"`
	Runner     string            `json:"runner"` // configured runner name, e.g. "builtin"
	Arch       arch.Architecture `json:"arch"`
	Batch      int               `json:"batch"`
	SeqLen     int               `json:"seq_len"`
	Precision  string            `json:"precision,omitempty"` // default fp32
	Warmup     int               `json:"warmup"`              // untimed iterations
	MinIters   int               `json:"min_iters"`           // timed iterations per run, at least
	MinSeconds float64           `json:"min_seconds"`         // timed seconds per run, at least
	Repeats    int               `json:"repeats"`             // timed runs; spread is flagged across them
	CampaignID string            `json:"campaign_id,omitempty"`
	Attempt    int               `json:"attempt"` // 1 for the first submission, +1 per re-queue
	CreatedAt  time.Time         `json:"created_at"`
}

// Job size limits that hold whatever the agent's configuration says.
const (
	MaxJobBytes   = 1 << 20
	MaxBatch      = 1024
	MaxSeqLen     = 512
	MaxRepeats    = 100
	MaxMinIters   = 1_000_000
	MaxMinSeconds = 3600
)

// Validate checks the fields of j that do not depend on the device: the
// architecture against space and the numeric ranges. The agent then checks
// memory and its own configured caps.
func (j *Job) Validate(space *arch.Space) error {
	var errs []error
	if j.ID == "" || len(j.ID) > 128 {
		errs = append(errs, fmt.Errorf("job id %q: must be 1 to 128 characters", j.ID))
	}
	if j.Kind != JobProfile {
		errs = append(errs, fmt.Errorf("job kind %q: only %q is supported", j.Kind, JobProfile))
	}
	if j.Runner == "" {
		errs = append(errs, errors.New("job runner is missing"))
	}
	if j.Batch < 1 || j.Batch > MaxBatch {
		errs = append(errs, fmt.Errorf("batch %d: must be between 1 and %d", j.Batch, MaxBatch))
	}
	if j.SeqLen < 1 || j.SeqLen > MaxSeqLen {
		errs = append(errs, fmt.Errorf("seq_len %d: must be between 1 and %d", j.SeqLen, MaxSeqLen))
	}
	if j.Warmup < 0 || j.Warmup > MaxMinIters {
		errs = append(errs, fmt.Errorf("warmup %d: must be between 0 and %d", j.Warmup, MaxMinIters))
	}
	if j.MinIters < 1 || j.MinIters > MaxMinIters {
		errs = append(errs, fmt.Errorf("min_iters %d: must be between 1 and %d", j.MinIters, MaxMinIters))
	}
	if j.MinSeconds < 0 || j.MinSeconds > MaxMinSeconds || j.MinSeconds != j.MinSeconds {
		errs = append(errs, fmt.Errorf("min_seconds %v: must be between 0 and %d", j.MinSeconds, MaxMinSeconds))
	}
	if j.Repeats < 1 || j.Repeats > MaxRepeats {
		errs = append(errs, fmt.Errorf("repeats %d: must be between 1 and %d", j.Repeats, MaxRepeats))
	}
	if j.Attempt < 1 {
		errs = append(errs, fmt.Errorf("attempt %d: must be at least 1", j.Attempt))
	}
	if err := space.Validate(j.Arch); err != nil {
		errs = append(errs, fmt.Errorf("architecture: %w", err))
	}
	return errors.Join(errs...)
}

// ResultKind says what a Result carries.
type ResultKind string

// Result kinds.
const (
	ResultMeasurement ResultKind = "measurement" // the job ran; Measurement is set
	ResultError       ResultKind = "error"       // the job was rejected or failed; Error is set
)

// Result is the message on a results subject. Its ID is the de-duplication
// id: for a job, ResultID(job.ID, attempt).
type Result struct {
	ID          string               `json:"id"`
	Kind        ResultKind           `json:"kind"`
	Device      string               `json:"device"`
	JobID       string               `json:"job_id,omitempty"`
	Attempt     int                  `json:"attempt,omitempty"`
	Measurement *measure.Measurement `json:"measurement,omitempty"`
	Error       *JobError            `json:"error,omitempty"`
	SentAt      time.Time            `json:"sent_at"`
}

// JobError explains why a job produced no measurement.
type JobError struct {
	Code    string `json:"code"` // "invalid", "too_large", "runner_failed", "aborted"
	Message string `json:"message"`
}

// ResultID returns the de-duplication id of the result of a job attempt.
func ResultID(jobID string, attempt int) string { return fmt.Sprintf("%s#%d", jobID, attempt) }

// Heartbeat is sent by an agent at a fixed interval.
type Heartbeat struct {
	Device    string    `json:"device"`
	Seq       uint64    `json:"seq"`
	State     string    `json:"state"` // "idle", "busy" or "paused" (outbox full)
	JobID     string    `json:"job_id,omitempty"`
	Outbox    int       `json:"outbox"` // results waiting for acknowledgement
	UptimeS   float64   `json:"uptime_s"`
	IntervalS float64   `json:"interval_s"` // time until the next heartbeat
	SentAt    time.Time `json:"sent_at"`
}

// Announce describes a device when its agent connects.
type Announce struct {
	Device       string           `json:"device"`
	Name         string           `json:"name"`
	AgentVersion string           `json:"agent_version"`
	OS           string           `json:"os"`
	Arch         string           `json:"arch"` // GOARCH
	CPUModel     string           `json:"cpu_model,omitempty"`
	Cores        int              `json:"cores"`
	MemoryBytes  uint64           `json:"memory_bytes"`
	Board        string           `json:"board,omitempty"`
	GPUs         []string         `json:"gpus,omitempty"`
	Runners      []RunnerInfo     `json:"runners"`
	Meters       []MeterInfo      `json:"meters"`
	Targets      []measure.Target `json:"targets"`
	SentAt       time.Time        `json:"sent_at"`
}

// RunnerInfo describes one runner configured on a device.
type RunnerInfo struct {
	Name        string `json:"name"`
	Runtime     string `json:"runtime"`
	Version     string `json:"version"`
	ComputeUnit string `json:"compute_unit"`
}

// MeterInfo describes one power meter detected on a device.
type MeterInfo struct {
	Name      string   `json:"name"`
	Estimated bool     `json:"estimated"`
	Rails     []string `json:"rails,omitempty"`
	Energy    bool     `json:"energy_counter"`
}
