package main

import (
	"flag"
	"os"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/shared/cli"
)

// clientFlags are the flags of every command that talks to a collector.
type clientFlags struct {
	url   *string
	token *string
}

func addClientFlags(fs *flag.FlagSet) clientFlags {
	return clientFlags{
		url:   fs.String("collector", "http://127.0.0.1:8080", "collector API `URL`"),
		token: fs.String("token", "", "API bearer `token`; default $EDGETRAN_TOKEN"),
	}
}

func (f clientFlags) client() (*api.Client, error) {
	token := *f.token
	if token == "" {
		token = os.Getenv("EDGETRAN_TOKEN")
	}
	c, err := api.NewClient(*f.url, token)
	if err != nil {
		return nil, cli.Usagef("--collector: %v", err)
	}
	return c, nil
}
