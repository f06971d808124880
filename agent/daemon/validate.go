package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/edgetran/edgetran/agent/profile"
	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/shared/wire"
)

// MaxJobIDLen is the longest job id accepted.
const MaxJobIDLen = 128

// decode parses a job message. A job that cannot be parsed, or whose id or
// attempt is unusable, is rejected. Its error result keeps the message's
// own id and attempt when ident can read them. Only a message without a
// usable id gets an id derived from the stream sequence, which a
// redelivery of the same message repeats.
func (d *Daemon) decode(data []byte, streamSeq uint64) (wire.Job, *rejection) {
	if len(data) > wire.MaxJobBytes {
		return ident(data, streamSeq), &rejection{"too_large", fmt.Errorf("job message is %d bytes; the limit is %d", len(data), wire.MaxJobBytes)}
	}
	var job wire.Job
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&job); err != nil {
		return ident(data, streamSeq), &rejection{"invalid", fmt.Errorf("job message is not a valid job: %w", err)}
	}
	if !usableID(job.ID) {
		id := ident(data, streamSeq)
		job.ID, job.Attempt = id.ID, id.Attempt
		return job, &rejection{"invalid", fmt.Errorf("job id is empty or longer than %d characters; the collector must send an id", MaxJobIDLen)}
	}
	if job.Attempt < 1 {
		return job, &rejection{"invalid", fmt.Errorf("job %s has attempt %d; attempts start at 1", job.ID, job.Attempt)}
	}
	return job, nil
}

// ident reads just the id and attempt of a job message that failed to
// decode, each field on its own so one bad field does not hide the other.
// Without a usable id the result is a stream-sequence id with attempt 1. An
// attempt below 1 is kept as it is: the result id then cannot collide with
// the result of a real attempt of the same job.
func ident(data []byte, streamSeq uint64) wire.Job {
	fallback := wire.Job{ID: fmt.Sprintf("%s-seq-%d", wire.StreamJobs, streamSeq), Attempt: 1}
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil {
		return fallback
	}
	var job wire.Job
	if json.Unmarshal(fields["id"], &job.ID) != nil || !usableID(job.ID) {
		return fallback
	}
	if json.Unmarshal(fields["attempt"], &job.Attempt) != nil {
		job.Attempt = 0
	}
	return job
}

func usableID(id string) bool { return id != "" && len(id) <= MaxJobIDLen }

// check applies the protocol validation and then this device's limits.
func (d *Daemon) check(job *wire.Job) *rejection {
	if err := job.Validate(d.space); err != nil {
		return &rejection{"invalid", err}
	}
	if job.Device != "" && job.Device != d.device {
		return &rejection{"invalid", fmt.Errorf("job is for device %q, this is %q", job.Device, d.device)}
	}
	if _, ok := d.opts.Runners[job.Runner]; !ok {
		return &rejection{"invalid", fmt.Errorf("runner %q is not configured on this device; configured: %v", job.Runner, d.runnerNames())}
	}
	if p := job.Precision; p != "" && p != "fp32" {
		return &rejection{"invalid", fmt.Errorf("precision %q: only fp32 is supported", p)}
	}
	iters := int64(job.Warmup) + int64(job.Repeats)*int64(job.MinIters)
	if iters > int64(d.cfg.Limits.MaxIterations) {
		return &rejection{"too_large", fmt.Errorf("job asks for %d iterations (warmup + repeats × min_iters); limits.max_iterations is %d", iters, d.cfg.Limits.MaxIterations)}
	}
	secs := float64(job.Repeats) * job.MinSeconds
	if secs > d.cfg.Limits.MaxDuration.D().Seconds() {
		return &rejection{"too_large", fmt.Errorf("job asks for %gs of timed runs (repeats × min_seconds); limits.max_duration is %v", secs, d.cfg.Limits.MaxDuration)}
	}
	if limit := d.memoryLimit(); limit > 0 {
		need := d.space.Features(job.Arch, job.Batch, job.SeqLen).MemoryBytes()
		if need > limit {
			return &rejection{"too_large", fmt.Errorf("model needs about %d bytes (weights plus activations at batch %d, seq_len %d); this device allows %d", need, job.Batch, job.SeqLen, limit)}
		}
	}
	return nil
}

// memoryLimit returns the configured model memory cap, else half of the
// machine's memory, else 0 (no limit) when the machine's memory is unknown.
func (d *Daemon) memoryLimit() int64 {
	if l := int64(d.cfg.Limits.MaxModelMemory); l > 0 {
		return l
	}
	return int64(d.opts.Facts.MemoryBytes / 2)
}

func (d *Daemon) runnerNames() []string {
	names := make([]string, 0, len(d.cfg.Runners))
	for _, r := range d.cfg.Runners {
		names = append(names, r.Name)
	}
	return names
}

func (d *Daemon) spec(job wire.Job) runner.Spec {
	return runner.Spec{
		Arch: job.Arch, Batch: job.Batch, SeqLen: job.SeqLen, Precision: "fp32",
		Seed: 1, MaxMemoryBytes: d.memoryLimit(),
	}
}

// settings maps a job to the measurement settings; the idle baseline is
// taken only when a meter is sampled.
func settings(job wire.Job, idle time.Duration, power bool) profile.Settings {
	s := profile.Settings{
		Warmup:      job.Warmup,
		MinIters:    job.MinIters,
		MinDuration: time.Duration(job.MinSeconds * float64(time.Second)),
		Repeats:     job.Repeats,
	}
	if power {
		s.IdleWindow = idle
	}
	return s
}
