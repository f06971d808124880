package engine

import (
	"context"
	"runtime"

	"github.com/edgetran/edgetran/agent/runner"
)

// Version is the engine version reported in runner.Info, followed there by
// the Go release that built it, since both change the measured speed.
const Version = "0.1.0"

// Runner is the builtin runner: it runs models with this package's pure-Go
// float32 engine on the CPU.
type Runner struct {
	opts Options
}

var _ runner.Runner = (*Runner)(nil)
var _ runner.Model = (*Model)(nil)

// NewRunner returns a builtin runner that prepares models with opts.
func NewRunner(opts Options) *Runner { return &Runner{opts: opts} }

// Info returns name and runtime "builtin" on compute unit "cpu".
func (r *Runner) Info() runner.Info {
	return runner.Info{
		Name:        "builtin",
		Runtime:     "builtin",
		Version:     Version + " " + runtime.Version(),
		ComputeUnit: "cpu",
	}
}

// Prepare builds a model for spec with New.
func (r *Runner) Prepare(ctx context.Context, spec runner.Spec) (runner.Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, err := New(spec, r.opts)
	if err != nil {
		return nil, err
	}
	return m, nil
}
