// Command edgetran-collector is the central EdgeTran service: it embeds or
// joins a NATS server, stores measurements from agents, fits surrogates, runs
// active-learning campaigns and the model/device co-design search, and
// serves an HTTP API and dashboard.
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
		// One entry per subcommand, e.g. datasetCheckCommand(),
		serveCommand(),
		importCommand(),
		jobsSubmitCommand(),
		jobsListCommand(),
		devicesListCommand(),
		devicesAddCommand(),
		measurementsExportCommand(),
		surrogateEvalCommand(),
		surrogateFitCommand(),
		surrogatePredictCommand(),
		campaignSimulateCommand(),
		campaignStartCommand(),
		campaignStatusCommand(),
		datasetCheckCommand(),
		codesignCommand(),
		demoCommand(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.StdEnv("edgetran-collector"), commands(), os.Args[1:])
	stop()
	os.Exit(code)
}
