// Command edgetran-agent is the EdgeTran device agent: it benchmarks
// FlexiBERT 2.0 transformers on this device, reads its power meters, and
// serves profiling jobs from a collector over NATS.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/edgetran/edgetran/shared/cli"
)

// commands lists every subcommand; each lives in its own cmd_*.go file.
func commands() []cli.Command {
	return []cli.Command{
		// One entry per subcommand, e.g. benchCommand(),
		benchCommand(),
		runCommand(),
		installCommand(),
		uninstallCommand(),
		startCommand(),
		stopCommand(),
		statusCommand(),
		serviceRenderCommand(),
		probeCommand(),
		powerCommand(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.StdEnv("edgetran-agent"), commands(), os.Args[1:])
	stop()
	os.Exit(code)
}
