// Package broker runs the collector's NATS side: it can embed a NATS server
// with JetStream, and it creates or updates the streams and durable
// consumers of the wire protocol on whichever server the collector uses.
//
// Streams (all file storage, replicas set by Options.Replicas):
//
//	EDGETRAN_RESULTS     edgetran.v1.results.*    limits retention, max age 7 days,
//	                                              duplicate window 15 minutes
//	EDGETRAN_JOBS        edgetran.v1.jobs.*       work-queue retention, max age 7 days,
//	                                              duplicate window 15 minutes
//	EDGETRAN_HEARTBEATS  edgetran.v1.heartbeat.*  limits retention, max age 24 hours,
//	                     edgetran.v1.announce.*   at most 10 messages per subject
//	EDGETRAN_DEADLETTER  edgetran.v1.deadletter   limits retention, max age 30 days
//
// Results keep limits retention so they stay replayable for a week after the
// collector stored them. The duplicate window drops a re-sent result whose
// Nats-Msg-Id (Result.ID) the server saw in the last 15 minutes. The server
// keeps every id of the window in memory, so a longer window costs memory
// at high rates. Re-sends older than the window are dropped by the store,
// which keeps one row per id.
//
// Jobs use work-queue retention: a job is removed once its agent
// acknowledges it, and a work-queue stream allows one consumer per subject.
// That consumer belongs to the agent: each agent creates or binds the durable
// pull consumer AgentConsumer(device), filtered on wire.JobsSubject(device).
// The collector creates no consumer on the jobs stream.
//
// The collector's own durable pull consumers are IngestConsumer on the
// results stream and HeartbeatConsumer on the heartbeats stream, both with
// explicit acknowledgement.
//
// The embedded server needs no authentication unless EmbeddedOptions lists
// devices. Then it accepts only those devices, each limited to the subjects
// of wire.AgentPermissions, and the collector, which signs in with an nkey
// created at start and kept in memory (Embedded.ConnectOptions).
package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/shared/wire"
)

// Consumer names.
const (
	IngestConsumer    = "collector-ingest"
	HeartbeatConsumer = "collector-heartbeats"
)

// AgentConsumer returns the name of the durable consumer through which the
// agent of device pulls its jobs; it is wire.AgentConsumer.
func AgentConsumer(device string) string { return wire.AgentConsumer(device) }

// Stream limits; see the package documentation.
const (
	DuplicateWindow      = 15 * time.Minute
	ResultsMaxAge        = 7 * 24 * time.Hour
	JobsMaxAge           = 7 * 24 * time.Hour
	HeartbeatsMaxAge     = 24 * time.Hour
	HeartbeatsPerSubject = 10
	DeadLetterMaxAge     = 30 * 24 * time.Hour
	// DefaultAckWait is how long the server waits for the ingest to
	// acknowledge a result before it delivers the result again, when
	// Options.AckWait is zero.
	DefaultAckWait = 30 * time.Second
	// IngestMaxAckPending bounds the results in flight to the ingest.
	IngestMaxAckPending = 20000
)

// Options tunes Setup.
type Options struct {
	// Replicas is the stream replica count; 0 means 1. Use 3 on a
	// three-node cluster.
	Replicas int
	// AckWait is the ingest consumer's acknowledgement timeout; 0 means
	// DefaultAckWait. After a crash, results delivered but not
	// acknowledged are delivered again once it passes.
	AckWait time.Duration
}

// StreamConfigs returns the configuration of every stream, for Setup and
// for the documentation test.
func StreamConfigs(opts Options) []jetstream.StreamConfig {
	replicas := max(opts.Replicas, 1)
	return []jetstream.StreamConfig{
		{
			Name:        wire.StreamResults,
			Description: "Measurement and error results from agents",
			Subjects:    []string{wire.AllResults},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			MaxAge:      ResultsMaxAge,
			Duplicates:  DuplicateWindow,
			Replicas:    replicas,
		},
		{
			Name:        wire.StreamJobs,
			Description: "Profile jobs for agents, one subject per device",
			Subjects:    []string{wire.AllJobs},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			MaxAge:      JobsMaxAge,
			Duplicates:  DuplicateWindow,
			Replicas:    replicas,
		},
		{
			Name:              wire.StreamHeartbeats,
			Description:       "Agent heartbeats and announcements",
			Subjects:          []string{wire.AllHeartbeats, wire.AllAnnounces},
			Retention:         jetstream.LimitsPolicy,
			Storage:           jetstream.FileStorage,
			MaxAge:            HeartbeatsMaxAge,
			MaxMsgsPerSubject: HeartbeatsPerSubject,
			Replicas:          replicas,
		},
		{
			Name:        wire.StreamDeadLetter,
			Description: "Results the collector rejected, with the reason in a header",
			Subjects:    []string{wire.DeadLetter},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			MaxAge:      DeadLetterMaxAge,
			Replicas:    replicas,
		},
	}
}

// Setup creates or updates every stream and the collector's consumers, and
// returns the ingest and heartbeat consumers.
func Setup(ctx context.Context, js jetstream.JetStream, opts Options) (ingest, heartbeats jetstream.Consumer, err error) {
	ackWait := opts.AckWait
	if ackWait <= 0 {
		ackWait = DefaultAckWait
	}
	for _, cfg := range StreamConfigs(opts) {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return nil, nil, fmt.Errorf("create or update stream %s: %w", cfg.Name, err)
		}
	}
	ingest, err = js.CreateOrUpdateConsumer(ctx, wire.StreamResults, jetstream.ConsumerConfig{
		Durable:       IngestConsumer,
		Description:   "Collector ingest: stores results, acknowledges after commit",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxAckPending: IngestMaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		FilterSubject: wire.AllResults,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create or update consumer %s: %w", IngestConsumer, err)
	}
	heartbeats, err = js.CreateOrUpdateConsumer(ctx, wire.StreamHeartbeats, jetstream.ConsumerConfig{
		Durable:       HeartbeatConsumer,
		Description:   "Collector device registry",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       DefaultAckWait,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create or update consumer %s: %w", HeartbeatConsumer, err)
	}
	return ingest, heartbeats, nil
}

// Embedded is a NATS server with JetStream running inside the process.
type Embedded struct {
	srv      *server.Server
	internal *internalUser // nil when the server needs no authentication
}

// EmbeddedOptions configures StartEmbeddedWith.
type EmbeddedOptions struct {
	// Listen is the address, "host:port"; port 0 picks a free port.
	Listen string
	// StoreDir keeps the JetStream streams.
	StoreDir string
	// Devices are the agents allowed to connect, each limited to the
	// subjects of wire.AgentPermissions. When it is empty the server needs
	// no authentication. Otherwise it rejects every client that is neither
	// a listed device nor the collector itself (see ConnectOptions).
	Devices []DeviceCredential
}

// StartEmbedded starts a NATS server with JetStream and no authentication.
// It listens on listen, "host:port" where port 0 picks a free port, and
// keeps its streams under storeDir. It returns once the server accepts
// connections.
func StartEmbedded(listen, storeDir string) (*Embedded, error) {
	return StartEmbeddedWith(EmbeddedOptions{Listen: listen, StoreDir: storeDir})
}

// StartEmbeddedWith starts a NATS server with JetStream configured by opts
// and returns once it accepts connections.
func StartEmbeddedWith(opts EmbeddedOptions) (*Embedded, error) {
	host, portText, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("NATS listen address %q: %w; want host:port", opts.Listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("NATS listen address %q: port %q is not a number from 0 to 65535", opts.Listen, portText)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}

	if opts.StoreDir == "" {
		return nil, errors.New("NATS store directory is empty; set a data directory")
	}
	if err := ValidateDevices(opts.Devices); err != nil {
		return nil, err
	}

	serverOpts := &server.Options{
		Host:      host,
		Port:      port,
		JetStream: true,
		StoreDir:  opts.StoreDir,
		NoLog:     true,
		NoSigs:    true,
	}
	e := &Embedded{}
	if len(opts.Devices) > 0 {
		if e.internal, err = newInternalUser(); err != nil {
			return nil, err
		}
		authOptions(serverOpts, opts.Devices, e.internal)
	}

	e.srv, err = server.NewServer(serverOpts)
	if err != nil {
		return nil, fmt.Errorf("configure embedded NATS server: %w", err)
	}
	e.srv.Start()
	if !e.srv.ReadyForConnections(10 * time.Second) {
		e.srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS server on %s did not become ready in 10s; is the port in use?", opts.Listen)
	}
	return e, nil
}

// ConnectOptions returns the options with which the collector connects to
// the server: its internal nkey when the server needs authentication,
// nothing otherwise.
func (e *Embedded) ConnectOptions() []nats.Option {
	if e.internal == nil {
		return nil
	}
	return []nats.Option{e.internal.option()}
}

// AuthRequired reports whether the server rejects clients that do not
// authenticate.
func (e *Embedded) AuthRequired() bool { return e.internal != nil }

// ClientURL returns the nats:// URL clients connect to.
func (e *Embedded) ClientURL() string { return e.srv.ClientURL() }

// Shutdown stops the server and waits until it has stopped.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}
