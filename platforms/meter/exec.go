package meter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
)

// Runner starts the external tools that exec-based meters read. Only
// platform packages call it, with fixed command lines; nothing from the
// network ever reaches a Runner.
type Runner interface {
	// LookPath reports where name is installed, like exec.LookPath.
	LookPath(name string) (string, error)
	// Output runs name to completion and returns its standard output. A
	// non-zero exit returns an error that includes the standard error text.
	Output(ctx context.Context, name string, args ...string) ([]byte, error)
	// Stream starts name and returns its standard output. Closing the
	// stream stops the process and waits for it.
	Stream(ctx context.Context, name string, args ...string) (io.ReadCloser, error)
}

// ExecRunner runs real processes with os/exec.
type ExecRunner struct{}

var _ Runner = ExecRunner{}

// LookPath calls exec.LookPath.
func (ExecRunner) LookPath(name string) (string, error) { return exec.LookPath(name) }

// Output runs the command and returns its standard output.
func (ExecRunner) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(string(out))
		}
		if msg != "" {
			return out, fmt.Errorf("%s: %w: %s", name, err, msg)
		}
		return out, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// Stream starts the command with its standard output piped back.
func (ExecRunner) Stream(ctx context.Context, name string, args ...string) (io.ReadCloser, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	stderr := &tailBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &processStream{ReadCloser: stdout, cmd: cmd, stderr: stderr}, nil
}

// maxStderrTail is how much of a streaming tool's standard error is kept.
const maxStderrTail = 4 << 10

// tailBuffer keeps the last maxStderrTail bytes written to it, so a tool
// that runs for days and keeps writing warnings costs bounded memory.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if len(p) >= maxStderrTail {
		p = p[len(p)-maxStderrTail:]
		b.buf = b.buf[:0]
	}
	if drop := len(b.buf) + len(p) - maxStderrTail; drop > 0 {
		b.buf = append(b.buf[:0], b.buf[drop:]...)
	}
	b.buf = append(b.buf, p...)
	return n, nil
}

// String returns the kept tail.
func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// processStream stops its process on Close.
type processStream struct {
	io.ReadCloser
	cmd    *exec.Cmd
	stderr *tailBuffer
	once   sync.Once
	err    error
}

func (p *processStream) Close() error {
	p.once.Do(func() {
		if p.cmd.Process != nil {
			_ = p.cmd.Process.Kill()
		}
		_ = p.ReadCloser.Close()
		err := p.cmd.Wait()
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			p.err = err
		}
	})
	return p.err
}
