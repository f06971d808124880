package daemon

import (
	"math/rand/v2"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/edgetran/edgetran/shared/wire"
)

// natsOptions builds the connection options: endless reconnects with
// exponential backoff and jitter, authentication and TLS from the
// configuration, and handlers that log connection changes and wake the
// announce and flush steps after a reconnect.
func (d *Daemon) natsOptions() []nats.Option {
	n := d.cfg.NATS
	log := d.log.With("component", "nats")
	opts := []nats.Option{
		nats.Name("edgetran-agent " + d.device),
		nats.CustomInboxPrefix(wire.AgentInboxPrefix(d.device)),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(backoff(n.ReconnectWait.D(), n.MaxReconnectWait.D())),
		nats.ConnectHandler(func(c *nats.Conn) {
			log.Info("connected", "server", c.ConnectedUrlRedacted())
			d.signalConnected()
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("reconnected", "server", c.ConnectedUrlRedacted())
			d.signalConnected()
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("disconnected", "err", err)
			} else {
				log.Info("disconnected")
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			d.warn.Warn("nats-async", "NATS error", "err", err)
		}),
	}
	switch {
	case n.Token != "":
		opts = append(opts, nats.Token(n.Token))
	case n.User != "":
		opts = append(opts, nats.UserInfo(n.User, n.Password))
	case n.CredentialsFile != "":
		opts = append(opts, nats.UserCredentials(n.CredentialsFile))
	case n.NKeySeedFile != "":
		opt, err := nats.NkeyOptionFromSeed(n.NKeySeedFile)
		if err != nil {
			// The file existed at validation; connecting without it would
			// fail authorisation, so report it and let that happen.
			log.Error("reading nkey seed failed", "err", err)
		} else {
			opts = append(opts, opt)
		}
	}
	if n.TLS.CAFile != "" {
		opts = append(opts, nats.RootCAs(n.TLS.CAFile))
	}
	if n.TLS.CertFile != "" {
		opts = append(opts, nats.ClientCert(n.TLS.CertFile, n.TLS.KeyFile))
	}
	return opts
}

func (d *Daemon) signalConnected() {
	select {
	case d.conn <- struct{}{}:
	default:
	}
	d.wakeFlusher()
}

// backoff returns a reconnect delay that doubles from first up to limit per
// attempt, with up to 25% random jitter so a fleet does not reconnect in step.
func backoff(first, limit time.Duration) func(attempts int) time.Duration {
	return func(attempts int) time.Duration {
		d := first
		for i := 1; i < attempts && d < limit; i++ {
			d *= 2
		}
		d = min(d, limit)
		return d + time.Duration(rand.Int64N(int64(d)/4+1))
	}
}

func joinServers(s []string) string { return strings.Join(s, ",") }
