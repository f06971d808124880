package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/collector/broker"
	"github.com/edgetran/edgetran/collector/campaign"
	"github.com/edgetran/edgetran/collector/ingest"
	"github.com/edgetran/edgetran/collector/jobs"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// Collector is the running collector service. Create it with New, register
// extra routes and callbacks, then Start; Stop shuts it down.
type Collector struct {
	cfg   Config
	log   *slog.Logger
	space *arch.Space
	reg   *prometheus.Registry

	// Set by Start.
	store    *store.SQLite
	embedded *broker.Embedded
	nc       *nats.Conn
	js       jetstream.JetStream
	ingest   *ingest.Ingest
	jobs     *jobs.Manager
	surr     *surrogate.Registry
	camps    *campaign.Manager
	api      *api.API
	http     *http.Server
	httpAddr string

	routes        []route
	onMeasurement []func(measure.Measurement)

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type route struct {
	pattern string
	handler http.Handler
}

// New checks cfg (after WithDefaults) and returns a collector that is not
// started. A nil logger discards logs.
func New(cfg Config, log *slog.Logger) (*Collector, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{cfg: cfg, log: log, space: arch.Default(), reg: prometheus.NewRegistry()}, nil
}

// Handle adds an HTTP route served behind the API's authentication, e.g.
// the dashboard. Call it before Start.
func (c *Collector) Handle(pattern string, h http.Handler) {
	c.routes = append(c.routes, route{pattern, h})
}

// OnMeasurement registers fn to be called with every newly stored
// measurement, after commit, on the ingest goroutine: fn must return
// quickly. Call it before Start.
func (c *Collector) OnMeasurement(fn func(measure.Measurement)) {
	c.onMeasurement = append(c.onMeasurement, fn)
}

// Start opens the store, starts or joins NATS, creates the streams and
// consumers, starts the ingest and job tracking, and serves the API. It
// returns once the API listens; on error everything started is stopped.
func (c *Collector) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			c.Stop(context.Background())
		}
	}()

	// Step 1: the store, which must be ready before anything is consumed.
	if err := os.MkdirAll(c.cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	c.store, err = store.Open(ctx, c.cfg.databasePath())
	if err != nil {
		return err
	}

	// Step 2: NATS, embedded unless a URL is configured.
	url := c.cfg.NATSURL
	if url == "" {
		c.embedded, err = broker.StartEmbeddedWith(broker.EmbeddedOptions{
			Listen: c.cfg.NATSListen, StoreDir: c.cfg.natsStoreDir(), Devices: c.cfg.Auth.Devices,
		})
		if err != nil {
			return err
		}
		url = c.embedded.ClientURL()
		c.log.Info("embedded NATS server started", "url", url, "store", c.cfg.natsStoreDir(),
			"auth_required", c.embedded.AuthRequired(), "devices", len(c.cfg.Auth.Devices))
	}
	opts := []nats.Option{
		nats.Name("edgetran-collector"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				c.log.Warn("NATS disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { c.log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted()) }),
	}
	if c.cfg.NATSCredentials != "" {
		opts = append(opts, nats.UserCredentials(c.cfg.NATSCredentials))
	}
	if c.embedded != nil {
		opts = append(opts, c.embedded.ConnectOptions()...)
	}
	c.nc, err = nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	c.js, err = jetstream.New(c.nc)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	setupCtx, cancelSetup := context.WithTimeout(ctx, 30*time.Second)
	results, heartbeats, err := broker.Setup(setupCtx, c.js, broker.Options{
		Replicas: c.cfg.StreamReplicas, AckWait: time.Duration(c.cfg.AckWaitS * float64(time.Second)),
	})
	cancelSetup()
	if err != nil {
		return err
	}

	// Step 3: the surrogates, trained on what is stored so far. The ingest
	// feeds them every later measurement, so none is missed or read twice.
	c.surr = surrogate.NewRegistry(surrogate.RegistryOptions{
		Fit: surrogate.Options{Space: c.space}, Debounce: c.cfg.SurrogateDebounce(),
		MinRecords: c.cfg.SurrogateMinRecords, Logger: c.log,
	})
	stored, err := store.All(ctx, c.store, store.Query{})
	if err != nil {
		return fmt.Errorf("load measurements for the surrogates: %w", err)
	}
	c.surr.Observe(stored...)

	// Step 4: ingest, job tracking and campaigns.
	c.ingest = ingest.New(ingest.Options{
		Store: c.store, JetStream: c.js, Space: c.space, Registry: c.reg,
		Logger: c.log.With("component", "ingest"), MaxBatch: c.cfg.IngestBatch,
	})
	c.jobs = jobs.New(jobs.Options{
		Store: c.store, JetStream: c.js, Space: c.space, Logger: c.log.With("component", "jobs"),
		MaxAttempts: c.cfg.MaxAttempts, DeviceTimeout: c.cfg.DeviceTimeout(),
	})
	c.ingest.OnResult(c.jobs.HandleResult)
	c.ingest.OnHeartbeat(c.jobs.HandleHeartbeat)
	c.ingest.OnMeasurement(func(m measure.Measurement) { c.surr.Observe(m) })
	for _, fn := range c.onMeasurement {
		c.ingest.OnMeasurement(fn)
	}
	c.reg.MustRegister(newStateCollector(c.store, c.jobs, results, c.log))

	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.goRun("ingest", func() error { return c.ingest.Run(runCtx, results) })
	c.goRun("heartbeats", func() error { return c.ingest.RunHeartbeats(runCtx, heartbeats) })
	c.goRun("jobs", func() error { c.jobs.Run(runCtx); return nil })
	c.goRun("progress", func() error { c.logProgress(runCtx, results); return nil })
	c.goRun("surrogates", func() error {
		c.log.Info("fitting surrogates on stored measurements", "measurements", len(stored))
		return c.surr.Refit(runCtx)
	})

	// Campaigns resume after the ingest runs, because they wait for
	// results it stores. One that cannot resume is logged, not fatal.
	c.camps = campaign.NewManager(campaign.ManagerOptions{
		Store: c.store, Jobs: c.jobs, Space: c.space, Logger: c.log,
	})
	if err := c.camps.Resume(ctx); err != nil {
		c.log.Error("resume campaigns", "err", err)
	}

	// Step 5: the HTTP API.
	c.api = api.New(api.Options{
		Store: c.store, Jobs: c.jobs, JetStream: c.js, Space: c.space, Token: c.cfg.Token,
		Gatherer: c.reg, Logger: c.log.With("component", "api"), Surrogates: c.surr, Campaigns: c.camps,
	})
	for _, r := range c.routes {
		c.api.Handle(r.pattern, r.handler)
	}
	ln, err := net.Listen("tcp", c.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("listen for the API on %s: %w", c.cfg.HTTP, err)
	}
	c.httpAddr = ln.Addr().String()
	c.http = &http.Server{Handler: c.api, ReadHeaderTimeout: 10 * time.Second}
	c.goRun("http", func() error {
		if err := c.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	c.log.Info("collector started", "http", "http://"+c.httpAddr, "nats", url, "data_dir", c.cfg.DataDir)
	return nil
}

func (c *Collector) goRun(name string, fn func() error) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := fn(); err != nil {
			c.log.Error("component stopped with an error", "component", name, "err", err)
		}
	}()
}

// Stop shuts the collector down in reverse order of Start. The API stops
// taking requests. Campaigns pause and stay stored as running, so the next
// Start resumes them. The ingest finishes its current batch, the surrogates
// finish a refit in progress, then NATS and the store close. Results
// received but not committed are redelivered by the server on the next
// start. It is safe to call on a partly started collector.
func (c *Collector) Stop(ctx context.Context) error {
	var errs []error
	if c.http != nil {
		if err := c.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop API: %w", err))
		}
	}
	if c.camps != nil {
		c.camps.Close()
	}
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	if c.surr != nil {
		c.surr.Close()
	}

	if c.nc != nil {
		// Send acknowledgements still buffered in the client; any lost
		// here are redelivered and found already stored.
		if err := c.nc.FlushTimeout(2 * time.Second); err != nil && c.nc.IsConnected() {
			c.log.Warn("flush NATS connection", "err", err)
		}
		c.nc.Close()
	}
	if c.embedded != nil {
		c.embedded.Shutdown()
	}
	if c.store != nil {
		if err := c.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	c.log.Info("collector stopped")
	return errors.Join(errs...)
}

// Store returns the store; valid after Start.
func (c *Collector) Store() store.Store { return c.store }

// Jobs returns the job manager; valid after Start.
func (c *Collector) Jobs() *jobs.Manager { return c.jobs }

// Surrogates returns the per-target surrogate models, refitted as
// measurements arrive; valid after Start.
func (c *Collector) Surrogates() *surrogate.Registry { return c.surr }

// Campaigns returns the active-learning campaign manager; valid after
// Start.
func (c *Collector) Campaigns() *campaign.Manager { return c.camps }

// JetStream returns the collector's JetStream context; valid after Start.
func (c *Collector) JetStream() jetstream.JetStream { return c.js }

// Registry returns the Prometheus registry served on /metrics, for other
// components to add their metrics to.
func (c *Collector) Registry() *prometheus.Registry { return c.reg }

// HTTPAddr returns the address the API listens on, with the port chosen;
// valid after Start.
func (c *Collector) HTTPAddr() string { return c.httpAddr }

// NATSURL returns the URL of the NATS server in use; valid after Start.
func (c *Collector) NATSURL() string {
	if c.embedded != nil {
		return c.embedded.ClientURL()
	}
	return c.cfg.NATSURL
}

// Space returns the design space results are validated against.
func (c *Collector) Space() *arch.Space { return c.space }

// progressInterval is how often a running collector logs its ingest counts.
const progressInterval = time.Minute

// logProgress logs the ingest counts and backlog every progressInterval
// while they change, until ctx is cancelled.
func (c *Collector) logProgress(ctx context.Context, consumer jetstream.Consumer) {
	ticker := time.NewTicker(progressInterval)
	defer ticker.Stop()
	var last ingest.Stats
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		stats := c.ingest.Stats()
		if stats == last {
			continue
		}
		var pending uint64
		infoCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if info, err := consumer.Info(infoCtx); err == nil {
			pending = info.NumPending + uint64(info.NumAckPending)
		}
		cancel()
		c.log.Info("ingest progress", "stored", stats.Stored, "stored_last_interval", stats.Stored-last.Stored,
			"duplicates", stats.Duplicates, "rejected", stats.Rejected, "job_errors", stats.JobErrors, "pending", pending)
		last = stats
	}
}
