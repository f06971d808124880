// Package runner defines how the agent runs a model: the Runner interface
// that every runtime implements (the builtin Go engine, PyTorch, external
// tools configured on the device) and the timing record it returns.
package runner

import (
	"context"
	"errors"
	"time"

	"github.com/edgetran/edgetran/shared/arch"
)

// Spec is what a model is prepared for.
type Spec struct {
	Arch      arch.Architecture
	Batch     int    // sequences per iteration
	SeqLen    int    // tokens per sequence, at most 512
	Precision string // "fp32" unless the runner supports others
	Seed      uint64 // weight initialisation seed, for runners with random weights
	// MaxMemoryBytes rejects a model whose estimated memory (weights plus
	// peak activations) exceeds it, before anything is allocated. 0 means no
	// limit.
	MaxMemoryBytes int64
}

// Iteration is one timed forward pass. Start and End come from time.Now and
// so carry the monotonic clock reading; End.Sub(Start) is immune to wall
// clock steps.
type Iteration struct {
	Start, End time.Time
}

// Duration returns End − Start.
func (it Iteration) Duration() time.Duration { return it.End.Sub(it.Start) }

// Info describes a runner.
type Info struct {
	Name        string // configured name, e.g. "builtin" or "torch-gpu"
	Runtime     string // runtime family, e.g. "builtin", "pytorch", "external"
	Version     string
	ComputeUnit string // "cpu", "gpu" or "npu"
}

// Runner prepares models. Implementations must be safe for use by one
// goroutine at a time; the agent runs one job at a time.
type Runner interface {
	Info() Info
	// Prepare builds a model for spec. It returns an error wrapping
	// ErrTooLarge when the memory estimate exceeds spec.MaxMemoryBytes and
	// ErrUnsupported when the runner cannot run spec at all.
	Prepare(ctx context.Context, spec Spec) (Model, error)
}

// Model is a prepared model.
type Model interface {
	// Run executes len(out) forward passes back to back and fills out with
	// their timings. It returns ctx.Err() promptly (at the latest after the
	// pass in flight) when ctx is cancelled; out is then filled up to the
	// returned count.
	Run(ctx context.Context, out []Iteration) (int, error)
	// MemoryBytes returns the estimated memory of the model (weights plus
	// peak activations).
	MemoryBytes() int64
	// Close releases the model's memory or processes.
	Close() error
}

// Errors returned by Prepare.
var (
	ErrTooLarge    = errors.New("model exceeds the memory limit")
	ErrUnsupported = errors.New("not supported by this runner")
)
