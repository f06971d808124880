// Package daemon is the agent's long-running service: it connects to NATS,
// announces the device, sends heartbeats, takes profile jobs one at a time
// from the device's JetStream subject, and publishes results through a disk
// outbox so that no result is lost to a crash, a restart or an outage.
//
// Delivery contract: a job message is acknowledged (or terminated) only
// after its result is durably in the outbox; the outbox is then published in
// order with Nats-Msg-Id = wire.ResultID(job.ID, job.Attempt), and an entry
// leaves the outbox only after the server's PubAck. A crash at any point
// therefore either re-runs the job (same result id, dropped as a duplicate by
// the RESULTS stream and by the collector) or re-sends the stored result.
//
// Lifecycle: Run returns after ctx is cancelled and these steps: stop taking
// jobs; let the current job finish within Options.ShutdownGrace, else abort
// it and negative-ack it for redelivery; flush the outbox for a few seconds;
// drain the NATS connection; close the outbox.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/outbox"
	"github.com/edgetran/edgetran/agent/profile"
	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/wire"
)

// Defaults of Options fields left at zero.
const (
	DefaultAckWait       = 30 * time.Second
	DefaultShutdownGrace = 10 * time.Second
	DefaultFetchWait     = 5 * time.Second
	// flushTimeout bounds one publish of an outbox entry and the final
	// flush at shutdown.
	flushTimeout = 5 * time.Second
	// maxTransientDeliveries is how often a job's runner may fail before
	// the job is given up with an error result. Runner failures are counted
	// by the daemon, apart from deliveries, so a shutdown abort or a crash
	// before the first failure does not make that failure final.
	maxTransientDeliveries = 3
	// maxDeliveries is how often a job may be delivered before it is given
	// up without running: a job delivered this often has not finished
	// maxDeliveries−1 times, most likely because it crashes the agent. It
	// leaves room for the runner retries plus a few shutdown restarts.
	maxDeliveries = 8
)

// Facts are the probed device facts sent in the announcement.
type Facts struct {
	CPUModel    string
	Cores       int
	MemoryBytes uint64
	Board       string
	GPUs        []string
}

// Options are the daemon's dependencies; Config, Runners and Profiler are
// required.
type Options struct {
	Config  *config.Config
	Runners map[string]runner.Runner // by configured name
	// Profiler measures jobs; its Power field decides whether power is
	// measured or estimated.
	Profiler *profile.Profiler
	Meters   []wire.MeterInfo
	Facts    Facts
	Version  string
	Logger   *slog.Logger
	// AckWait is the consumer's ack deadline; a running job extends it
	// every AckWait/3.
	AckWait time.Duration
	// ShutdownGrace is how long a running job may continue after ctx ends.
	ShutdownGrace time.Duration
	// FetchWait bounds one pull request, and so how quickly the loop notices
	// shutdown and a full outbox.
	FetchWait time.Duration
}

// Daemon is one agent. Create it with New and call Run once.
type Daemon struct {
	opts   Options
	cfg    *config.Config
	device string
	space  *arch.Space
	log    *slog.Logger
	outbox *outbox.Outbox
	start  time.Time

	nc    *nats.Conn
	js    jetstream.JetStream
	flush chan struct{} // wakes the outbox flusher
	conn  chan struct{} // signals (re)connection: announce and flush

	mu    sync.Mutex
	state string // "idle", "busy" or "paused"
	jobID string
	seq   uint64

	// failures counts runner failures by result id; only the job loop
	// uses it. An entry leaves when its job is finished.
	failures map[string]int

	warn *warnLimiter
}

// New opens the outbox and checks opts; it does not connect.
func New(opts Options) (*Daemon, error) {
	if opts.Config == nil || opts.Profiler == nil || opts.Profiler.Space == nil {
		return nil, errors.New("daemon: Config, Profiler and Profiler.Space are required")
	}
	if len(opts.Runners) == 0 {
		return nil, errors.New("daemon: no runners configured")
	}
	if opts.AckWait <= 0 {
		opts.AckWait = DefaultAckWait
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = DefaultShutdownGrace
	}
	if opts.FetchWait <= 0 {
		opts.FetchWait = DefaultFetchWait
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg := opts.Config
	ob, err := outbox.Open(cfg.Outbox.Dir, int64(cfg.Outbox.MaxBytes))
	if err != nil {
		return nil, err
	}
	log := opts.Logger.With("device", cfg.Device.ID)
	return &Daemon{
		opts:   opts,
		cfg:    cfg,
		device: cfg.Device.ID,
		space:  opts.Profiler.Space,
		log:    log,
		outbox: ob,
		flush:  make(chan struct{}, 1),
		conn:   make(chan struct{}, 1),
		state:  "idle",
		warn:   newWarnLimiter(log, time.Minute),
	}, nil
}

// Run serves until ctx is cancelled, then shuts down as the package
// documentation describes. It returns nil after a clean shutdown.
func (d *Daemon) Run(ctx context.Context) error {
	d.start = time.Now()
	defer d.outbox.Close()
	d.log.Info("agent starting", "servers", d.cfg.NATS.Servers, "runners", len(d.opts.Runners), "outbox", d.outbox.Len())

	nc, err := nats.Connect(joinServers(d.cfg.NATS.Servers), d.natsOptions()...)
	if err != nil {
		return fmt.Errorf("connect to NATS %v: %w", d.cfg.NATS.Servers, err)
	}
	d.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("JetStream context: %w", err)
	}
	d.js = js

	var wg sync.WaitGroup
	bgCtx, stopBackground := context.WithCancel(context.Background())
	wg.Add(2)
	go func() { defer wg.Done(); d.heartbeatLoop(bgCtx) }()
	go func() { defer wg.Done(); d.flushLoop(bgCtx) }()

	d.jobLoop(ctx)

	d.log.Info("agent stopping: flushing outbox", "outbox", d.outbox.Len())
	stopBackground()
	wg.Wait()
	flushCtx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	if err := d.flushOutbox(flushCtx); err != nil && d.outbox.Len() > 0 {
		d.log.Warn("results stay in the outbox until the next start", "outbox", d.outbox.Len(), "err", err)
	}
	cancel()

	if err := nc.Drain(); err != nil {
		nc.Close()
	}
	d.log.Info("agent stopped", "outbox", d.outbox.Len())
	return nil
}

func (d *Daemon) setState(state, jobID string) {
	d.mu.Lock()
	d.state, d.jobID = state, jobID
	d.mu.Unlock()
}

func (d *Daemon) wakeFlusher() {
	select {
	case d.flush <- struct{}{}:
	default:
	}
}
