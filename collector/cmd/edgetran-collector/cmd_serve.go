package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/edgetran/edgetran/collector/dashboard"
	"github.com/edgetran/edgetran/collector/service"
	"github.com/edgetran/edgetran/collector/view"
	"github.com/edgetran/edgetran/shared/cli"
)

func serveCommand() cli.Command {
	return cli.Command{
		Name:    "serve",
		Summary: "run the collector: NATS, ingest, store and HTTP API",
		Run:     runServe,
	}
}

func runServe(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "serve", "serve [--config FILE] [flags]", `
Run the collector in the foreground until SIGINT or SIGTERM. By default it
embeds a NATS server with JetStream on --nats-listen that keeps its streams
under --data-dir; with --nats-url it joins an existing server or cluster
and starts none. It creates or updates the streams and consumers it needs,
stores results in --data-dir/collector.db and serves the HTTP API on --http.
Flags override the configuration file. An --http address that is not
loopback needs a token, and a --nats-listen address that is not loopback
needs device credentials (auth.devices, see "devices add").`)
	configPath := fs.String("config", "", "configuration `file` (YAML or JSON; keys as in docs/api.md)")
	dataDir := fs.String("data-dir", service.DefaultDataDir, "`directory` of the database and the embedded NATS store")
	natsListen := fs.String("nats-listen", service.DefaultNATSListen, "embedded NATS server address, `host:port`")
	natsURL := fs.String("nats-url", "", "join this NATS `URL` (comma-separated for a cluster) instead of embedding a server")
	natsCreds := fs.String("nats-creds", "", "NATS credentials `file` for --nats-url")
	httpAddr := fs.String("http", service.DefaultHTTP, "HTTP API address, `host:port`")
	token := fs.String("token", "", "API bearer `token`; default $EDGETRAN_TOKEN")
	maxAttempts := fs.Int("max-attempts", 0, "attempts per job before it expires (default 3)")
	deviceTimeout := fs.Duration("device-timeout", 0, "heartbeat silence after which a running job is re-queued (default 60s)")
	ingestBatch := fs.Int("ingest-batch", 0, "maximum results per store transaction (default 1000)")
	ackWait := fs.Duration("ack-wait", 0, "time after which an unacknowledged result is delivered again (default 30s)")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	parityEvery := fs.Duration("dashboard-refresh", 5*time.Minute, "how often the dashboard's surrogate parity plots are re-fitted when measurements changed; 0 turns them off")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return cli.Usagef("--log-level %q: want debug, info, warn or error", *logLevel)
	}

	var cfg service.Config
	if *configPath != "" {
		var err error
		if cfg, err = service.LoadConfig(*configPath); err != nil {
			return cli.Usagef("%v", err)
		}
	}
	if cfg.Token == "" {
		cfg.Token = os.Getenv("EDGETRAN_TOKEN")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	overrideString(set, "data-dir", &cfg.DataDir, *dataDir)
	overrideString(set, "nats-listen", &cfg.NATSListen, *natsListen)
	overrideString(set, "nats-url", &cfg.NATSURL, *natsURL)
	overrideString(set, "nats-creds", &cfg.NATSCredentials, *natsCreds)
	overrideString(set, "http", &cfg.HTTP, *httpAddr)
	overrideString(set, "token", &cfg.Token, *token)
	if set["max-attempts"] {
		cfg.MaxAttempts = *maxAttempts
	}
	if set["device-timeout"] {
		cfg.DeviceTimeoutS = deviceTimeout.Seconds()
	}
	if set["ack-wait"] {
		cfg.AckWaitS = ackWait.Seconds()
	}
	if set["ingest-batch"] {
		cfg.IngestBatch = *ingestBatch
	}

	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	c, err := service.New(cfg, logger)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	// The dashboard shows devices, targets and measurements from the store
	// and cross-validated parity plots refreshed in the background; the
	// co-design page stays empty, because searches run from the codesign
	// command, not inside serve.
	src := view.NewFunc(c.Store)
	dash, err := dashboard.New(src, dashboard.Options{Prefix: "/dashboard", Logger: logger})
	if err != nil {
		return err
	}
	c.Handle("/dashboard/", dash)
	if err := c.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "API on http://%s, dashboard on http://%s/dashboard/, NATS at %s\n", c.HTTPAddr(), c.HTTPAddr(), c.NATSURL())
	if *parityEvery > 0 {
		go refreshParity(ctx, c.Store(), src, *parityEvery, logger.With("component", "dashboard"))
	}

	<-ctx.Done()
	logger.Info("shutting down")
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.Stop(stopCtx)
}

// overrideString sets *dst to value when the flag was given or *dst is
// still empty, so flags beat the file and defaults fill only gaps.
func overrideString(set map[string]bool, name string, dst *string, value string) {
	if set[name] || *dst == "" {
		*dst = value
	}
}
