// Package demo runs EdgeTran's main job end to end in one process tree. It
// starts a collector with an embedded NATS server and an agent for this
// host that talks to it over NATS. It imports published measurements,
// profiles this host with an active-learning campaign, fits per-target
// surrogates and runs the co-design search over every known target. The
// results go into a self-contained HTML report and the dashboard.
//
// Lifecycle: Start starts the collector, then the agent; Run does the work;
// Stop stops the agent first (so no result is left half sent), then the
// collector. The agent uses agent/setup, the same wiring as a deployed
// agent, and every job and result goes through NATS JetStream.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/setup"
	"github.com/edgetran/edgetran/collector/dashboard"
	"github.com/edgetran/edgetran/collector/service"
	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/collector/view"
	"github.com/edgetran/edgetran/platforms/estimate"
	"github.com/edgetran/edgetran/shared/measure"
)

// Defaults of Options.
const (
	// SurrogateModel is the per-target regressor of the oracle and of the
	// cross-validated errors in the summary. "best" chooses between a
	// linear cost model and boosted trees per target and measure. In one
	// 5-fold run on the published Raspberry Pi latencies its MAPE was 8.9%
	// against 21.9% for boosted trees alone. Fitting all eight targets took
	// 1.7 s instead of 0.3 s on the 2-core development VM.
	SurrogateModel = surrogate.KindBest

	DefaultBudget = 40
	// MinBudget is the fewest architectures a demo profiles: the offline
	// co-design oracle needs 5 latencies of a target to fit its surrogate,
	// and one more leaves room for a failed job.
	MinBudget             = 6
	DefaultSeqLen         = 64
	DefaultCodesignBudget = 64
	// DefaultEstimateIdleW and DefaultEstimateMaxW are the wattages of the
	// CPU-utilisation power model used when this host has no power sensor.
	// They are the estimate meter's defaults, not a property of this host,
	// so every such figure is labelled estimated.
	DefaultEstimateIdleW = estimate.DefaultIdleW
	DefaultEstimateMaxW  = estimate.DefaultMaxW
	// DashboardPrefix is the path the dashboard is served under.
	DashboardPrefix = "/dashboard"
)

const minBudgetReason = "profile at least 6 architectures, the fewest the co-design surrogates of this host can be fitted on"

// Options configure a demo. DataDir is required; other zero values take
// the defaults stated on each field.
type Options struct {
	DataDir string
	// HTTP is the API and dashboard address; "" means 127.0.0.1:0.
	HTTP string
	// Imports are published measurement files loaded before profiling.
	Imports []string
	// Budget is the number of architectures profiled on this host; 0 means
	// DefaultBudget. It must be at least MinBudget.
	Budget int
	// SeqLen is the tokens per sequence of the host's jobs; 0 means
	// DefaultSeqLen.
	SeqLen int
	// Job sets the profiling effort per architecture; zero fields take
	// the values of DefaultJobSettings.
	Job JobSettings
	// CodesignBudget is the evaluations per search strategy; 0 means
	// DefaultCodesignBudget.
	CodesignBudget int
	Seed           uint64
	// EstimateIdleW and EstimateMaxW configure the estimate meter; 0 means
	// the defaults above.
	EstimateIdleW, EstimateMaxW float64
	// Logger receives the components' logs; nil discards them.
	Logger *slog.Logger
	// Progress receives the campaign's progress; nil means none. With
	// ProgressBar set it draws a bar, else it writes a line per
	// architecture.
	Progress    io.Writer
	ProgressBar bool
}

// JobSettings are the profiling settings of the host's jobs. The demo keeps
// them small so an architecture takes seconds, at the price of a noisier
// latency than the collector's defaults give.
type JobSettings struct {
	Warmup     int     // untimed forward passes
	MinIters   int     // timed passes per repeat, at least
	MinSeconds float64 // timed seconds per repeat, at least
	Repeats    int     // timed repeats
	// IdleWindow is the idle-power baseline before the timed repeats.
	IdleWindow time.Duration
}

// DefaultJobSettings: one warm-up pass, one repeat of at least 3 passes and
// 1 s. The estimate meter samples every 50 ms and the profiler needs about
// 20 samples in a window for an energy figure, hence the 1 s.
var DefaultJobSettings = JobSettings{Warmup: 1, MinIters: 3, MinSeconds: 1, Repeats: 1, IdleWindow: 500 * time.Millisecond}

func (o Options) withDefaults() Options {
	if o.HTTP == "" {
		o.HTTP = "127.0.0.1:0"
	}
	if o.Budget == 0 {
		o.Budget = DefaultBudget
	}
	if o.SeqLen == 0 {
		o.SeqLen = DefaultSeqLen
	}

	d := DefaultJobSettings
	if o.Job.Warmup == 0 {
		o.Job.Warmup = d.Warmup
	}
	if o.Job.MinIters == 0 {
		o.Job.MinIters = d.MinIters
	}
	if o.Job.MinSeconds == 0 {
		o.Job.MinSeconds = d.MinSeconds
	}
	if o.Job.Repeats == 0 {
		o.Job.Repeats = d.Repeats
	}
	if o.Job.IdleWindow == 0 {
		o.Job.IdleWindow = d.IdleWindow
	}

	if o.CodesignBudget == 0 {
		o.CodesignBudget = DefaultCodesignBudget
	}
	if o.EstimateIdleW == 0 && o.EstimateMaxW == 0 {
		o.EstimateIdleW, o.EstimateMaxW = DefaultEstimateIdleW, DefaultEstimateMaxW
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate checks o after defaults.
func (o Options) Validate() error {
	var errs []error
	if o.DataDir == "" {
		errs = append(errs, errors.New("data directory is empty"))
	}
	if o.Budget < MinBudget {
		errs = append(errs, fmt.Errorf("budget %d: %s", o.Budget, minBudgetReason))
	}
	if o.SeqLen < 1 || o.SeqLen > 512 {
		errs = append(errs, fmt.Errorf("sequence length %d: want 1 to 512", o.SeqLen))
	}
	if o.CodesignBudget < 1 {
		errs = append(errs, fmt.Errorf("co-design budget %d: want at least 1", o.CodesignBudget))
	}
	if o.Job.Warmup < 0 || o.Job.MinIters < 1 || o.Job.MinSeconds < 0 || o.Job.Repeats < 1 {
		errs = append(errs, fmt.Errorf("job settings %+v: warm-up must not be negative, min iterations and repeats at least 1", o.Job))
	}
	return errors.Join(errs...)
}

// Demo is a started demo: a collector and an in-process agent.
type Demo struct {
	opt       Options
	log       *slog.Logger
	collector *service.Collector
	source    *view.Source
	agent     *setup.Agent
	device    string // the agent's device id
	httpAddr  string // the API's address, kept after Stop

	stopAgent context.CancelFunc
	agentDone chan error
}

// Start starts the collector (embedded NATS on a free loopback port, store
// in opt.DataDir, API and dashboard on opt.HTTP) and then the agent. On
// error everything started is stopped.
func Start(ctx context.Context, opt Options) (d *Demo, err error) {
	opt = opt.withDefaults()
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	d = &Demo{opt: opt, log: opt.Logger}
	defer func() {
		if err != nil {
			d.Stop(context.Background())
		}
	}()

	// A port chosen by the kernel never clashes with a running server. The
	// collector and the agent label their own parts with "component", so
	// the demo tells the two sides apart with "role" to keep that key
	// single in each line.
	c, err := service.New(service.Config{DataDir: opt.DataDir, NATSListen: "127.0.0.1:0", HTTP: opt.HTTP}, opt.Logger.With("role", "collector"))
	if err != nil {
		return nil, err
	}
	d.collector = c
	d.source = view.NewFunc(c.Store)
	h, err := dashboard.New(d.source, dashboard.Options{Prefix: DashboardPrefix, Logger: opt.Logger, ReportTitle: "EdgeTran demo report"})
	if err != nil {
		return nil, err
	}
	c.Handle(DashboardPrefix+"/", h)
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	d.httpAddr = c.HTTPAddr()

	if err := d.startAgent(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// startAgent builds the agent configuration in code (builtin runner, best
// available meter, outbox under the data directory) and runs the daemon.
func (d *Demo) startAgent(ctx context.Context) error {
	cfg := config.Default()
	cfg.NATS.Servers = []string{d.collector.NATSURL()}
	cfg.Outbox.Dir = filepath.Join(d.opt.DataDir, "agent-outbox")
	cfg.Meter.IdleWindow = config.Duration(d.opt.Job.IdleWindow)
	cfg.Meter.Estimate = config.Estimate{IdleW: d.opt.EstimateIdleW, MaxW: d.opt.EstimateMaxW}
	cfg.HeartbeatInterval = config.Duration(2 * time.Second)
	if err := cfg.FillDefaults(); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("agent config: %w", err)
	}
	d.device = cfg.Device.ID

	logger := d.log.With("role", "agent")
	a, err := setup.New(ctx, &cfg, logger)
	if err != nil {
		return err
	}
	d.agent = a
	daemon, err := a.Daemon()
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	d.stopAgent = cancel
	d.agentDone = make(chan error, 1)
	go func() { d.agentDone <- daemon.Run(runCtx) }()
	return nil
}

// Stop shuts down in order: the agent (it finishes or aborts its job,
// flushes its outbox and drains its connection), then the collector (API,
// ingest, NATS, store). It is safe on a partly started demo.
func (d *Demo) Stop(ctx context.Context) error {
	var errs []error
	if d.stopAgent != nil {
		d.stopAgent()
		select {
		case err := <-d.agentDone:
			if err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, fmt.Errorf("agent: %w", err))
			}
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("agent did not stop: %w", ctx.Err()))
		}
		d.stopAgent = nil
	}
	if d.agent != nil {
		d.agent.Close()
		d.agent = nil
	}
	if d.collector != nil {
		if err := d.collector.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
		d.collector = nil
	}
	return errors.Join(errs...)
}

// HTTPAddr returns the address of the API and dashboard.
func (d *Demo) HTTPAddr() string { return d.httpAddr }

// DashboardURL returns the dashboard's address.
func (d *Demo) DashboardURL() string {
	return "http://" + d.httpAddr + DashboardPrefix + "/"
}

// Device returns the agent's device id.
func (d *Demo) Device() string { return d.device }

// Collector returns the running collector; nil after Stop.
func (d *Demo) Collector() *service.Collector { return d.collector }

// HostTarget returns the target the demo profiles this host on.
func (d *Demo) HostTarget() measure.Target {
	return measure.Target{Device: d.device, ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: d.opt.SeqLen, Precision: "fp32"}
}

// FreeHTTP returns addr when it can be listened on now, else the same host
// with a port the kernel picks.
func FreeHTTP(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		return addr, nil
	}
	host, _, serr := net.SplitHostPort(addr)
	if serr != nil {
		return "", fmt.Errorf("http address %q: %w", addr, serr)
	}
	return net.JoinHostPort(host, "0"), nil
}
