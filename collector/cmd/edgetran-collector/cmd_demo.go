package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/term"

	"github.com/edgetran/edgetran/collector/demo"
	"github.com/edgetran/edgetran/shared/cli"
)

func demoCommand() cli.Command {
	return cli.Command{
		Name:    "demo",
		Summary: "run the whole job on this host: collector, agent, profiling, co-design, dashboard",
		Run:     runDemo,
	}
}

func runDemo(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "demo", "demo [--import FILE ...] [--budget N] [--data-dir DIR] [--http ADDR] [--exit-when-done] [--json]", `
Run EdgeTran end to end in one process: a collector with an embedded NATS
server on a free loopback port, and an agent for this host that takes jobs
and sends results over NATS like a deployed one (builtin runner, the best
available power meter). Published measurements given with --import are
loaded first through the collector's import path. An active-learning
campaign then profiles up to --budget architectures on this host (it stops
early when its test error converges, and says so), surrogates are
fitted per target, and the co-design search (BOSHCODE with random and
evolution baselines, on the surrogates) looks for the best
architecture × target pair over every known target. A summary is printed,
an HTML report is written into the data directory, and the dashboard is
served at --http under /dashboard/ until SIGINT or SIGTERM, unless
--exit-when-done is given. The data directory is kept after the demo ends;
delete it when done. An interruption before the report exits with status
130.`)
	var imports repeated
	fs.Var(&imports, "import", "published measurement `FILE` to load first, repeatable")
	budget := fs.Int("budget", demo.DefaultBudget, fmt.Sprintf("profile up to `N` architectures on this host (at least %d); the campaign may stop earlier when it converges", demo.MinBudget))
	seqLen := fs.Int("seq", demo.DefaultSeqLen, "tokens per sequence of the host's jobs (1 to 512)")
	codesignBudget := fs.Int("codesign-budget", demo.DefaultCodesignBudget, "co-design evaluations per search strategy")
	seed := fs.Uint64("seed", 1, "random seed of the campaign and the search")
	dataDir := fs.String("data-dir", "", "`directory` of the store, NATS data and report; default: a new directory under the user cache directory")
	httpAddr := fs.String("http", "127.0.0.1:8080", "API and dashboard address, `host:port`; a free port is used when it is taken")
	exitWhenDone := fs.Bool("exit-when-done", false, "exit after writing the report instead of serving the dashboard")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object on the last line of stdout, with keys targets, best, estimated, report, host_target, jobs_done, host_status, host_stop_reason, objective and notes")
	idleW := fs.Float64("estimate-idle-w", demo.DefaultEstimateIdleW, "estimate meter: host power at 0% CPU, in `watts`, used when no power sensor exists")
	maxW := fs.Float64("estimate-max-w", demo.DefaultEstimateMaxW, "estimate meter: host power at 100% CPU, in `watts`")
	logLevel := fs.String("log-level", "warn", "log `level`: debug, info, warn or error")
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
	if *budget < demo.MinBudget {
		return cli.Usagef("--budget %d: profile at least %d architectures, the fewest the co-design surrogates of this host can be fitted on", *budget, demo.MinBudget)
	}
	if *seqLen < 1 || *seqLen > 512 {
		return cli.Usagef("--seq %d: want 1 to 512 tokens", *seqLen)
	}
	if *codesignBudget < 1 {
		return cli.Usagef("--codesign-budget %d: want at least 1", *codesignBudget)
	}
	if !(*idleW >= 0 && *maxW > *idleW) {
		return cli.Usagef("--estimate-idle-w %g and --estimate-max-w %g: want 0 ≤ idle < max", *idleW, *maxW)
	}

	if !loopbackAddr(*httpAddr) {
		return cli.Usagef("--http %q: the demo has no API token, so it serves on a loopback address only, e.g. 127.0.0.1:8080", *httpAddr)
	}

	addr, err := demo.FreeHTTP(*httpAddr)
	if err != nil {
		return cli.Usagef("--http: %v", err)
	}

	imp, err := demo.LoadImports(imports)
	var importErr *demo.ImportError
	if errors.As(err, &importErr) {
		return cli.Usagef("--import %s: %v", importErr.Path, importErr.Err)
	}
	if err != nil {
		return err
	}
	keptNote := ""
	if *dataDir == "" {
		if *dataDir, err = newDemoDir(); err != nil {
			return err
		}
		keptNote = "; delete it when done"
	}
	fmt.Fprintf(env.Stderr, "demo data directory: %s\n", *dataDir)

	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	opt := demo.Options{
		DataDir: *dataDir, HTTP: addr, Imports: imports, Budget: *budget, SeqLen: *seqLen,
		CodesignBudget: *codesignBudget, Seed: *seed, EstimateIdleW: *idleW, EstimateMaxW: *maxW,
		Logger: logger, Progress: env.Stderr, ProgressBar: isTerminal(env.Stderr),
	}
	d, err := demo.Start(ctx, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "dashboard: %s (device %s)\n", d.DashboardURL(), d.Device())

	sum, runErr := d.Run(ctx, imp)
	if runErr == nil {
		runErr = printDemoSummary(env, sum, *asJSON)
	}
	if runErr == nil && !*exitWhenDone {
		fmt.Fprintf(env.Stderr, "serving the dashboard at %s; press Ctrl-C to stop\n", d.DashboardURL())
		<-ctx.Done()
	}

	// Shutdown order: the agent first, so it does not lose a result to a
	// closed server, then the collector.
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stopErr := d.Stop(stopCtx)
	// A run that failed after SIGINT or SIGTERM failed because of it, whatever
	// error text the cancelled step chose.
	interrupted := runErr != nil && ctx.Err() != nil
	switch {
	case interrupted:
		return &cli.ExitError{Code: exitInterrupted, Message: fmt.Sprintf("interrupted before the report; data kept in %s%s", *dataDir, keptNote)}
	case runErr != nil:
		return runErr
	case stopErr != nil:
		return stopErr
	}
	fmt.Fprintf(env.Stderr, "data kept in %s%s\n", *dataDir, keptNote)
	return nil
}

// exitInterrupted is the exit status of a demo stopped by SIGINT or SIGTERM
// before its report: 128 + 2, the shell convention for a SIGINT.
const exitInterrupted = 130

func printDemoSummary(env cli.Env, s *demo.Summary, asJSON bool) error {
	if !asJSON {
		return s.WriteText(env.Stdout)
	}
	if err := s.WriteText(env.Stderr); err != nil {
		return err
	}
	line, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "%s\n", line)
	return err
}

// newDemoDir creates a fresh data directory under the user cache directory,
// or under the temporary directory when there is no cache directory.
func newDemoDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	base = filepath.Join(base, "edgetran")
	if err := os.MkdirAll(base, 0o750); err != nil {
		return "", fmt.Errorf("create demo directory: %w", err)
	}
	dir, err := os.MkdirTemp(base, "demo-"+time.Now().UTC().Format("20060102-150405")+"-")
	if err != nil {
		return "", fmt.Errorf("create demo directory: %w", err)
	}
	return dir, nil
}

// loopbackAddr reports whether addr is host:port with a loopback host.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// isTerminal reports whether w is a terminal, where a progress bar can
// redraw itself.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
