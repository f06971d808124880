// Package service wires the collector together: store, NATS (embedded or
// external), ingest, job tracking and the HTTP API, behind one Collector
// with Start and Stop that the serve command and the demo both use.
package service

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/edgetran/edgetran/collector/broker"
)

// Config is the collector's configuration file (YAML or JSON). Zero fields
// take the Default* values; command-line flags override the file.
type Config struct {
	// DataDir holds the database (collector.db) and, for the embedded
	// NATS server, its JetStream store (nats/).
	DataDir string `json:"data_dir"`
	// NATSURL connects to an existing NATS server or cluster (comma-
	// separated URLs); when empty the collector embeds a server.
	NATSURL string `json:"nats_url,omitempty"`
	// NATSListen is the address of the embedded NATS server, host:port.
	NATSListen string `json:"nats_listen,omitempty"`
	// NATSCredentials is a NATS credentials file for NATSURL.
	NATSCredentials string `json:"nats_credentials,omitempty"`
	// Auth lists the devices allowed on the embedded NATS server. With
	// none, the server needs no authentication and must listen on
	// loopback.
	Auth Auth `json:"auth,omitzero"`
	// StreamReplicas is the replica count of the streams; 0 means 1.
	StreamReplicas int `json:"stream_replicas,omitempty"`
	// HTTP is the API address, host:port; port 0 picks a free port.
	HTTP string `json:"http,omitempty"`
	// Token is the API bearer token; required unless HTTP is loopback.
	Token string `json:"token,omitempty"`
	// MaxAttempts is the number of attempts per job.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// DeviceTimeoutS is the heartbeat silence, in seconds, after which a
	// device counts as gone and its running job is re-queued.
	DeviceTimeoutS float64 `json:"device_timeout_s,omitempty"`
	// IngestBatch is the most results written per transaction.
	IngestBatch int `json:"ingest_batch,omitempty"`
	// AckWaitS is the time, in seconds, after which the server delivers
	// an unacknowledged result again, e.g. after a crash; 0 means 30.
	AckWaitS float64 `json:"ack_wait_s,omitempty"`
	// SurrogateMinRecords is the number of measurements of a target and
	// metric before its surrogate is fitted; 0 means 8.
	SurrogateMinRecords int `json:"surrogate_min_records,omitempty"`
	// SurrogateDebounceS is the quiet time, in seconds, after the last
	// new measurement of a target before its surrogates are refitted;
	// 0 means 5.
	SurrogateDebounceS float64 `json:"surrogate_debounce_s,omitempty"`
}

// Auth is the authentication of the embedded NATS server.
type Auth struct {
	// Devices are the agents that may connect, each limited to its own
	// subjects (wire.AgentPermissions). The collector connects with an
	// nkey created at every start and kept only in memory.
	Devices []broker.DeviceCredential `json:"devices,omitempty"`
}

// Enabled reports whether the embedded server requires authentication.
func (a Auth) Enabled() bool { return len(a.Devices) > 0 }

// Defaults of Config.
const (
	DefaultDataDir    = "edgetran-data"
	DefaultNATSListen = "127.0.0.1:4222"
	DefaultHTTP       = "127.0.0.1:8080"
)

// LoadConfig reads a YAML or JSON configuration file, rejecting unknown
// fields. It does not fill defaults; see WithDefaults.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	var c Config
	if err := yaml.UnmarshalStrict(bytes.TrimSpace(data), &c); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.NATSListen == "" {
		c.NATSListen = DefaultNATSListen
	}
	if c.HTTP == "" {
		c.HTTP = DefaultHTTP
	}
	return c
}

// DeviceTimeout returns DeviceTimeoutS as a duration; 0 when unset.
func (c Config) DeviceTimeout() time.Duration {
	return time.Duration(c.DeviceTimeoutS * float64(time.Second))
}

// SurrogateDebounce returns SurrogateDebounceS as a duration; 0 when unset.
func (c Config) SurrogateDebounce() time.Duration {
	return time.Duration(c.SurrogateDebounceS * float64(time.Second))
}

// Validate checks c after WithDefaults. An API address that is not
// loopback needs a token, so the API is never open to the network.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir is empty"))
	}
	loopback, err := isLoopback(c.HTTP)
	if err != nil {
		errs = append(errs, fmt.Errorf("http address %q: %w", c.HTTP, err))
	} else if !loopback && c.Token == "" {
		errs = append(errs, fmt.Errorf("http address %q is not loopback: set a token (token in the config file or --token) or listen on 127.0.0.1", c.HTTP))
	}
	if c.NATSURL == "" {
		errs = append(errs, c.validateNATSListen()...)
	} else if c.Auth.Enabled() {
		errs = append(errs, errors.New("auth.devices is set but nats_url is set too; auth applies to the embedded server, so configure users on the external server instead"))
	}
	if c.NATSCredentials != "" && c.NATSURL == "" {
		errs = append(errs, errors.New("nats_credentials is set but nats_url is empty; credentials apply to an external server"))
	}
	if c.StreamReplicas < 0 || c.StreamReplicas > 5 {
		errs = append(errs, fmt.Errorf("stream_replicas %d: want 0 to 5", c.StreamReplicas))
	}
	if c.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("max_attempts %d: must not be negative", c.MaxAttempts))
	}
	if c.DeviceTimeoutS < 0 {
		errs = append(errs, fmt.Errorf("device_timeout_s %v: must not be negative", c.DeviceTimeoutS))
	}
	if c.AckWaitS < 0 {
		errs = append(errs, fmt.Errorf("ack_wait_s %v: must not be negative", c.AckWaitS))
	}
	if c.SurrogateMinRecords < 0 || c.SurrogateMinRecords == 1 {
		errs = append(errs, fmt.Errorf("surrogate_min_records %d: want 0 (the default) or at least 2", c.SurrogateMinRecords))
	}
	if c.SurrogateDebounceS < 0 {
		errs = append(errs, fmt.Errorf("surrogate_debounce_s %v: must not be negative", c.SurrogateDebounceS))
	}
	if c.IngestBatch < 0 {
		errs = append(errs, fmt.Errorf("ingest_batch %d: must not be negative", c.IngestBatch))
	}
	return errors.Join(errs...)
}

// validateNATSListen checks the embedded server's address and credentials.
// A server that is not on loopback needs device credentials, so the
// results and jobs are never open to the network.
func (c Config) validateNATSListen() []error {
	var errs []error
	loopback, err := isLoopback(c.NATSListen)
	if err != nil {
		errs = append(errs, fmt.Errorf("nats_listen %q: %w", c.NATSListen, err))
	} else if !loopback && !c.Auth.Enabled() {
		errs = append(errs, fmt.Errorf("nats_listen %q is not loopback: add device credentials under auth.devices (\"edgetran-collector devices add --id ID\" prints an entry) or listen on 127.0.0.1", c.NATSListen))
	}
	if err := broker.ValidateDevices(c.Auth.Devices); err != nil {
		errs = append(errs, fmt.Errorf("auth: %w", err))
	}
	return errs
}

// isLoopback reports whether the host of addr is a loopback address or
// "localhost". An empty host (all interfaces) is not loopback.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

func (c Config) databasePath() string { return filepath.Join(c.DataDir, "collector.db") }
func (c Config) natsStoreDir() string { return filepath.Join(c.DataDir, "nats") }
