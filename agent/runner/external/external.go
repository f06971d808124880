// Package external runs a model through a command configured on the device,
// for runtimes the agent does not link (PyTorch, ONNX Runtime, vendor
// tools). The command line comes only from the agent's configuration file.
//
// Protocol, one JSON object per line in both directions:
//
//	agent → stdin   {"arch": {...}, "batch": 1, "seq_len": 128, "precision": "fp32", "seed": 1, "max_memory_bytes": 0}
//	stdout → agent  {"ready": true, "memory_bytes": 123456}   (model built; memory_bytes optional)
//	agent → stdin   {"run": 50}                               (run 50 forward passes back to back)
//	stdout → agent  {"latency_s": 0.0123}                     (one line per pass, as it finishes)
//	stdout → agent  {"error": "message", "code": "too_large"} (at any point; code optional:
//	                                                           "too_large" or "unsupported")
//
// The process lives from Prepare to Close; Close closes stdin, and the
// command should exit then. Lines that are not JSON objects, such as
// library banners, are rejected, so the command must write logs to stderr,
// which the agent passes to its own log.
//
// Timing: the command measures each pass itself. The agent stamps the end of
// a pass when its line arrives and the start as end − latency_s, so the
// power window is accurate to the pipe latency (microseconds).
package external

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/shared/arch"
)

// maxLine bounds one protocol line.
const maxLine = 64 << 10

// Config is one configured external runner.
type Config struct {
	Name        string
	Command     []string // argv; Command[0] is an absolute path
	Runtime     string   // runtime family in target keys, e.g. "onnxruntime"
	ComputeUnit string   // "cpu", "gpu" or "npu"
	Version     string   // reported in runner.Info; may be empty
	// Timeout bounds Prepare and each Run call; 0 means no bound beyond ctx.
	Timeout time.Duration
	// Stderr receives the command's stderr; nil discards it.
	Stderr io.Writer
}

// Runner starts the configured command for each prepared model.
type Runner struct{ cfg Config }

var _ runner.Runner = (*Runner)(nil)

// New checks cfg and returns the runner.
func New(cfg Config) (*Runner, error) {
	if len(cfg.Command) == 0 || !filepath.IsAbs(cfg.Command[0]) {
		return nil, fmt.Errorf("external runner %q: command %q must start with an absolute program path", cfg.Name, cfg.Command)
	}
	return &Runner{cfg: cfg}, nil
}

// Info describes the runner.
func (r *Runner) Info() runner.Info {
	return runner.Info{Name: r.cfg.Name, Runtime: r.cfg.Runtime, Version: r.cfg.Version, ComputeUnit: r.cfg.ComputeUnit}
}

type specLine struct {
	Arch           arch.Architecture `json:"arch"`
	Batch          int               `json:"batch"`
	SeqLen         int               `json:"seq_len"`
	Precision      string            `json:"precision"`
	Seed           uint64            `json:"seed"`
	MaxMemoryBytes int64             `json:"max_memory_bytes"`
}

type reply struct {
	Ready       bool     `json:"ready"`
	MemoryBytes int64    `json:"memory_bytes"`
	LatencyS    *float64 `json:"latency_s"`
	Error       string   `json:"error"`
	Code        string   `json:"code"`
}

// Prepare starts the command, sends the spec and waits for "ready".
func (r *Runner) Prepare(ctx context.Context, spec runner.Spec) (runner.Model, error) {
	cmd := exec.Command(r.cfg.Command[0], r.cfg.Command[1:]...)
	cmd.Stderr = r.cfg.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("external runner %q: start %s: %w", r.cfg.Name, r.cfg.Command[0], err)
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 4096), maxLine)
	m := &Model{name: r.cfg.Name, cmd: cmd, stdin: stdin, lines: make(chan lineOrErr), timeout: r.cfg.Timeout}
	go m.readLines(sc)

	precision := spec.Precision
	if precision == "" {
		precision = "fp32"
	}
	if err := m.send(specLine{Arch: spec.Arch, Batch: spec.Batch, SeqLen: spec.SeqLen, Precision: precision, Seed: spec.Seed, MaxMemoryBytes: spec.MaxMemoryBytes}); err != nil {
		m.Close()
		return nil, err
	}
	rctx, cancel := m.bound(ctx)
	defer cancel()
	rep, err := m.next(rctx)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("external runner %q: waiting for ready: %w", r.cfg.Name, err)
	}
	if !rep.Ready {
		m.Close()
		return nil, fmt.Errorf("external runner %q: first line must be {\"ready\": true}", r.cfg.Name)
	}
	m.memory = rep.MemoryBytes
	return m, nil
}

type lineOrErr struct {
	line []byte
	err  error
}

// Model is a running command with a prepared model.
type Model struct {
	name    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan lineOrErr
	memory  int64
	timeout time.Duration

	closeOnce sync.Once
	closeErr  error
}

var _ runner.Model = (*Model)(nil)

func (m *Model) readLines(sc *bufio.Scanner) {
	for sc.Scan() {
		m.lines <- lineOrErr{line: append([]byte(nil), sc.Bytes()...)}
	}
	err := sc.Err()
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	m.lines <- lineOrErr{err: fmt.Errorf("command output ended: %w", err)}
	close(m.lines)
}

func (m *Model) send(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := m.stdin.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("external runner %q: write to command: %w", m.name, err)
	}
	return nil
}

func (m *Model) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if m.timeout > 0 {
		return context.WithTimeout(ctx, m.timeout)
	}
	return context.WithCancel(ctx)
}

// next returns the next reply; an {"error": ...} line becomes an error that
// wraps runner.ErrTooLarge or runner.ErrUnsupported when its code names one.
func (m *Model) next(ctx context.Context) (reply, error) {
	var l lineOrErr
	var ok bool
	select {
	case <-ctx.Done():
		return reply{}, ctx.Err()
	case l, ok = <-m.lines:
	}
	if !ok {
		return reply{}, errors.New("command output ended")
	}
	if l.err != nil {
		return reply{}, l.err
	}
	var rep reply
	if err := json.Unmarshal(l.line, &rep); err != nil {
		return reply{}, fmt.Errorf("command printed %.80q, which is not a protocol line: %w", l.line, err)
	}
	if rep.Error != "" {
		err := fmt.Errorf("command reported: %s", rep.Error)
		switch rep.Code {
		case "too_large":
			err = fmt.Errorf("%w: %w", runner.ErrTooLarge, err)
		case "unsupported":
			err = fmt.Errorf("%w: %w", runner.ErrUnsupported, err)
		}
		return reply{}, err
	}
	return rep, nil
}

// Run requests len(out) passes and fills out as their lines arrive. On
// cancellation the command is killed, because the protocol has no way to
// interrupt a batch; the model is unusable afterwards.
func (m *Model) Run(ctx context.Context, out []runner.Iteration) (int, error) {
	if len(out) == 0 {
		return 0, nil
	}
	if err := m.send(map[string]int{"run": len(out)}); err != nil {
		return 0, err
	}
	rctx, cancel := m.bound(ctx)
	defer cancel()
	for i := range out {
		rep, err := m.next(rctx)
		if err != nil {
			if rctx.Err() != nil {
				m.kill()
				if ctx.Err() != nil {
					return i, ctx.Err()
				}
			}
			return i, fmt.Errorf("external runner %q: pass %d of %d: %w", m.name, i+1, len(out), err)
		}
		end := time.Now()
		if rep.LatencyS == nil || !(*rep.LatencyS > 0) || math.IsInf(*rep.LatencyS, 0) {
			m.kill()
			return i, fmt.Errorf("external runner %q: pass %d: want {\"latency_s\": positive seconds}", m.name, i+1)
		}
		out[i] = runner.Iteration{Start: end.Add(-time.Duration(*rep.LatencyS * float64(time.Second))), End: end}
	}
	return len(out), nil
}

// MemoryBytes returns the memory the command reported with "ready", 0 when
// it reported none.
func (m *Model) MemoryBytes() int64 { return m.memory }

func (m *Model) kill() { _ = m.cmd.Process.Kill() }

// Close closes stdin and waits up to five seconds for the command to exit
// before killing it.
func (m *Model) Close() error {
	m.closeOnce.Do(func() {
		m.stdin.Close()
		done := make(chan error, 1)
		go func() {
			// Drain output so a command blocked on a full pipe can exit.
			for range m.lines {
			}
			done <- m.cmd.Wait()
		}()
		select {
		case err := <-done:
			m.closeErr = err
		case <-time.After(5 * time.Second):
			m.kill()
			m.closeErr = <-done
		}
	})
	return m.closeErr
}
