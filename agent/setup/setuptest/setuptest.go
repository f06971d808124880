// Package setuptest starts a real in-process agent for tests of other
// packages, built from a configuration exactly as the run command builds it.
// Only tests import it.
package setuptest

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/setup"
)

// Start builds the agent of cfg, runs its daemon in the background and
// stops it when tb ends, failing tb if the daemon returned an error other
// than the cancellation. cfg must be filled and valid.
func Start(tb testing.TB, cfg *config.Config, logger *slog.Logger) {
	tb.Helper()
	a, err := setup.New(context.Background(), cfg, logger)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := a.Daemon()
	if err != nil {
		a.Close()
		tb.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			tb.Errorf("agent stopped with an error: %v", err)
		}
		a.Close()
	})
}
