// Package config is the agent's configuration file: a YAML document read
// with sigs.k8s.io/yaml, with defaults for every optional field and
// validation that names the offending field and what to write instead.
//
// Runner command lines live only here: a job names a configured runner and
// never carries a command.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"sigs.k8s.io/yaml"

	"github.com/edgetran/edgetran/platforms/estimate"
	"github.com/edgetran/edgetran/shared/wire"
)

// Config is the whole agent configuration. The zero value of each optional
// field means "use the default" (see Default).
type Config struct {
	Device            Device   `json:"device"`
	NATS              NATS     `json:"nats"`
	Runners           []Runner `json:"runners"`
	Meter             Meter    `json:"meter"`
	Outbox            Outbox   `json:"outbox"`
	Limits            Limits   `json:"limits"`
	HeartbeatInterval Duration `json:"heartbeat_interval"`
	Log               Log      `json:"log"`
}

// Device identifies this machine.
type Device struct {
	// ID is the device id used in subjects and target keys. Empty means
	// derived from the machine id (see DeriveDeviceID).
	ID string `json:"id"`
	// Name is a display name; empty means the host name.
	Name string `json:"name"`
	// Root is the filesystem root under which /etc/machine-id and /sys are
	// read; "/" unless testing against a fixture tree.
	Root string `json:"root"`
}

// NATS holds the connection settings. At most one of Token, User,
// NKeySeedFile and CredentialsFile may be set.
type NATS struct {
	Servers         []string `json:"servers"`
	User            string   `json:"user"`
	Password        string   `json:"password"`
	Token           string   `json:"token"`
	NKeySeedFile    string   `json:"nkey_seed_file"`
	CredentialsFile string   `json:"credentials_file"`
	TLS             TLS      `json:"tls"`
	// ReconnectWait is the first delay between reconnect attempts; it doubles
	// up to MaxReconnectWait.
	ReconnectWait    Duration `json:"reconnect_wait"`
	MaxReconnectWait Duration `json:"max_reconnect_wait"`
	// AckWait is the jobs consumer's ack deadline: a job whose agent died is
	// redelivered this long after its last progress signal.
	AckWait Duration `json:"ack_wait"`
}

// TLS names PEM files; CertFile and KeyFile go together.
type TLS struct {
	CAFile   string `json:"ca_file"`
	CertFile string `json:"cert_file"`
	KeyFile  string `json:"key_file"`
}

// Runner types.
const (
	RunnerBuiltin  = "builtin"
	RunnerExternal = "external"
)

// Runner is one runner that jobs may select by Name.
type Runner struct {
	Name string `json:"name"`
	// Type is "builtin" (the Go engine) or "external" (Command).
	Type string `json:"type"`
	// Command is the argv of an external runner; the first element is an
	// absolute path. It is never taken from a job.
	Command []string `json:"command"`
	// Runtime and ComputeUnit describe an external runner in target keys,
	// e.g. "onnxruntime" and "cpu".
	Runtime     string `json:"runtime"`
	ComputeUnit string `json:"compute_unit"`
	// Timeout bounds one external invocation; 0 means Limits.MaxDuration.
	Timeout Duration `json:"timeout"`
}

// Meter selects the power meter.
type Meter struct {
	// Name is a registry name ("rapl", "hwmon", "estimate", ...) or "auto"
	// for the first one detected.
	Name string `json:"name"`
	// Interval is the sampling interval.
	Interval Duration `json:"interval"`
	// IdleWindow is the idle-power baseline taken before the timed runs.
	IdleWindow Duration `json:"idle_window"`
	// Estimate configures the "estimate" meter, the labelled fallback for a
	// device without a power sensor.
	Estimate Estimate `json:"estimate"`
}

// Estimate is the linear utilisation model of the estimate meter: power is
// IdleW + (MaxW − IdleW) × CPU utilisation. Both zero takes the defaults
// estimate.DefaultIdleW and estimate.DefaultMaxW, as the agent's commands do.
type Estimate struct {
	IdleW float64 `json:"idle_w"`
	MaxW  float64 `json:"max_w"`
}

// Configured reports whether the model has been given its wattages.
func (e Estimate) Configured() bool { return e.IdleW != 0 || e.MaxW != 0 }

// Outbox is the disk queue of results not yet acknowledged by the server.
type Outbox struct {
	Dir      string   `json:"dir"`
	MaxBytes ByteSize `json:"max_bytes"`
}

// Limits caps what a job may ask for, beyond the protocol limits of wire.Job.
type Limits struct {
	// MaxModelMemory is the largest estimated model memory (weights plus peak
	// activations); 0 means half of the machine's physical memory.
	MaxModelMemory ByteSize `json:"max_model_memory"`
	// MaxIterations caps warmup + repeats × min_iters.
	MaxIterations int `json:"max_iterations"`
	// MaxDuration caps repeats × min_seconds and aborts a job running longer.
	MaxDuration Duration `json:"max_duration"`
}

// Log sets the log output.
type Log struct {
	Format string `json:"format"` // "text" or "json"
	Level  string `json:"level"`  // "debug", "info", "warn" or "error"
}

// Defaults.
const (
	DefaultServer            = "nats://127.0.0.1:4222"
	DefaultHeartbeatInterval = 10 * time.Second
	DefaultReconnectWait     = time.Second
	DefaultMaxReconnectWait  = 30 * time.Second
	DefaultAckWait           = 30 * time.Second
	DefaultMeterInterval     = 50 * time.Millisecond
	DefaultIdleWindow        = 2 * time.Second
	DefaultOutboxDir         = "/var/lib/edgetran-agent/outbox"
	DefaultOutboxMaxBytes    = 64 << 20
	DefaultMaxIterations     = 1_000_000
	DefaultMaxDuration       = 30 * time.Minute
)

// Default returns a configuration with every default filled in except the
// device id and name, which FillDefaults derives from the machine.
func Default() Config {
	return Config{
		Device:  Device{Root: "/"},
		NATS:    NATS{Servers: []string{DefaultServer}, ReconnectWait: Duration(DefaultReconnectWait), MaxReconnectWait: Duration(DefaultMaxReconnectWait), AckWait: Duration(DefaultAckWait)},
		Runners: []Runner{{Name: "builtin", Type: RunnerBuiltin}},
		Meter: Meter{
			Name: "auto", Interval: Duration(DefaultMeterInterval), IdleWindow: Duration(DefaultIdleWindow),
			Estimate: Estimate{IdleW: estimate.DefaultIdleW, MaxW: estimate.DefaultMaxW},
		},
		Outbox:            Outbox{Dir: DefaultOutboxDir, MaxBytes: DefaultOutboxMaxBytes},
		Limits:            Limits{MaxIterations: DefaultMaxIterations, MaxDuration: Duration(DefaultMaxDuration)},
		HeartbeatInterval: Duration(DefaultHeartbeatInterval),
		Log:               Log{Format: "text", Level: "info"},
	}
}

// Load reads, defaults and validates the file at path. Errors name the file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a YAML document, rejecting unknown fields, then fills
// defaults and validates the result.
func Parse(data []byte) (*Config, error) {
	c := Default()
	c.Runners = nil
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, err
	}
	if err := c.FillDefaults(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// FillDefaults sets every empty optional field, deriving the device id and
// name from the machine when they are empty.
func (c *Config) FillDefaults() error {
	d := Default()
	if c.Device.Root == "" {
		c.Device.Root = d.Device.Root
	}
	if c.Device.ID == "" {
		id, err := DeriveDeviceID(c.Device.Root)
		if err != nil {
			return fmt.Errorf("device.id is empty and cannot be derived: %w; set device.id", err)
		}
		c.Device.ID = id
	}
	if c.Device.Name == "" {
		c.Device.Name, _ = os.Hostname()
		if c.Device.Name == "" {
			c.Device.Name = c.Device.ID
		}
	}

	if len(c.NATS.Servers) == 0 {
		c.NATS.Servers = d.NATS.Servers
	}
	if c.NATS.ReconnectWait == 0 {
		c.NATS.ReconnectWait = d.NATS.ReconnectWait
	}
	if c.NATS.MaxReconnectWait == 0 {
		c.NATS.MaxReconnectWait = d.NATS.MaxReconnectWait
	}
	if c.NATS.AckWait == 0 {
		c.NATS.AckWait = d.NATS.AckWait
	}

	if len(c.Runners) == 0 {
		c.Runners = d.Runners
	}
	for i := range c.Runners {
		if c.Runners[i].Type == RunnerBuiltin {
			if c.Runners[i].Runtime == "" {
				c.Runners[i].Runtime = "builtin"
			}
			if c.Runners[i].ComputeUnit == "" {
				c.Runners[i].ComputeUnit = "cpu"
			}
		}
	}

	if c.Meter.Name == "" {
		c.Meter.Name = d.Meter.Name
	}
	if c.Meter.Interval == 0 {
		c.Meter.Interval = d.Meter.Interval
	}
	if c.Meter.IdleWindow == 0 {
		c.Meter.IdleWindow = d.Meter.IdleWindow
	}
	if !c.Meter.Estimate.Configured() {
		c.Meter.Estimate = d.Meter.Estimate
	}

	if c.Outbox.Dir == "" {
		c.Outbox.Dir = d.Outbox.Dir
	}
	if c.Outbox.MaxBytes == 0 {
		c.Outbox.MaxBytes = d.Outbox.MaxBytes
	}
	if c.Limits.MaxIterations == 0 {
		c.Limits.MaxIterations = d.Limits.MaxIterations
	}
	if c.Limits.MaxDuration == 0 {
		c.Limits.MaxDuration = d.Limits.MaxDuration
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = d.HeartbeatInterval
	}
	if c.Log.Format == "" {
		c.Log.Format = d.Log.Format
	}
	if c.Log.Level == "" {
		c.Log.Level = d.Log.Level
	}
	return nil
}

// Validate checks every field and joins all problems into one error.
func (c *Config) Validate() error {
	var errs []error
	if err := wire.ValidateDeviceID(c.Device.ID); err != nil {
		errs = append(errs, fmt.Errorf("device.id: %w", err))
	}
	for i, s := range c.NATS.Servers {
		if !strings.Contains(s, "://") {
			errs = append(errs, fmt.Errorf("nats.servers[%d] %q: want a URL such as nats://host:4222 or tls://host:4222", i, s))
		}
	}

	errs = append(errs, c.NATS.validateAuth()...)
	if (c.NATS.TLS.CertFile == "") != (c.NATS.TLS.KeyFile == "") {
		errs = append(errs, errors.New("nats.tls: cert_file and key_file must be set together"))
	}
	for _, f := range []struct{ name, path string }{
		{"nats.nkey_seed_file", c.NATS.NKeySeedFile}, {"nats.credentials_file", c.NATS.CredentialsFile},
		{"nats.tls.ca_file", c.NATS.TLS.CAFile}, {"nats.tls.cert_file", c.NATS.TLS.CertFile}, {"nats.tls.key_file", c.NATS.TLS.KeyFile},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	if c.NATS.ReconnectWait < 0 || c.NATS.MaxReconnectWait < c.NATS.ReconnectWait {
		errs = append(errs, fmt.Errorf("nats.reconnect_wait %v and max_reconnect_wait %v: want 0 < reconnect_wait <= max_reconnect_wait", c.NATS.ReconnectWait, c.NATS.MaxReconnectWait))
	}

	if c.NATS.AckWait < Duration(time.Second) {
		errs = append(errs, fmt.Errorf("nats.ack_wait %v: must be at least 1s", c.NATS.AckWait))
	}
	errs = append(errs, validateRunners(c.Runners)...)
	if e := c.Meter.Estimate; e.Configured() && (e.IdleW < 0 || e.MaxW <= e.IdleW) {
		errs = append(errs, fmt.Errorf("meter.estimate: idle_w %g and max_w %g: want 0 <= idle_w < max_w, in watts", e.IdleW, e.MaxW))
	}
	if c.Meter.Interval < Duration(time.Millisecond) {
		errs = append(errs, fmt.Errorf("meter.interval %v: must be at least 1ms", c.Meter.Interval))
	}
	if c.Meter.IdleWindow < 0 || c.Meter.IdleWindow >= c.Limits.MaxDuration {
		// The baseline is taken inside the job's time, so it must leave
		// room for the runs; an unbounded value also overflowed the
		// sampler's ring size.
		errs = append(errs, fmt.Errorf("meter.idle_window %v: want at least 0 and below limits.max_duration %v", c.Meter.IdleWindow, c.Limits.MaxDuration))
	}

	if !filepath.IsAbs(c.Outbox.Dir) {
		errs = append(errs, fmt.Errorf("outbox.dir %q: must be an absolute path", c.Outbox.Dir))
	}
	if c.Outbox.MaxBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("outbox.max_bytes %v: must be at least 1MiB", c.Outbox.MaxBytes))
	}
	if c.Limits.MaxModelMemory < 0 {
		errs = append(errs, fmt.Errorf("limits.max_model_memory %v: must not be negative", c.Limits.MaxModelMemory))
	}
	if c.Limits.MaxIterations < 1 {
		errs = append(errs, fmt.Errorf("limits.max_iterations %d: must be at least 1", c.Limits.MaxIterations))
	}
	if c.Limits.MaxDuration < Duration(time.Second) {
		errs = append(errs, fmt.Errorf("limits.max_duration %v: must be at least 1s", c.Limits.MaxDuration))
	}

	if c.HeartbeatInterval < Duration(100*time.Millisecond) {
		errs = append(errs, fmt.Errorf("heartbeat_interval %v: must be at least 100ms", c.HeartbeatInterval))
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs = append(errs, fmt.Errorf("log.format %q: want text or json", c.Log.Format))
	}
	if _, err := c.Log.SlogLevel(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (n NATS) validateAuth() []error {
	var set []string
	if n.Token != "" {
		set = append(set, "token")
	}
	if n.User != "" || n.Password != "" {
		set = append(set, "user/password")
	}
	if n.NKeySeedFile != "" {
		set = append(set, "nkey_seed_file")
	}
	if n.CredentialsFile != "" {
		set = append(set, "credentials_file")
	}
	var errs []error
	if len(set) > 1 {
		errs = append(errs, fmt.Errorf("nats: %s are all set; choose one way to authenticate", strings.Join(set, ", ")))
	}
	if (n.User == "") != (n.Password == "") {
		errs = append(errs, errors.New("nats: user and password must be set together"))
	}
	return errs
}

func validateRunners(runners []Runner) []error {
	var errs []error
	seen := map[string]bool{}
	for i, r := range runners {
		at := fmt.Sprintf("runners[%d]", i)
		if err := wire.ValidateDeviceID(r.Name); err != nil {
			errs = append(errs, fmt.Errorf("%s.name: %w", at, err))
		}
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("%s.name %q: used twice; runner names must be unique", at, r.Name))
		}
		seen[r.Name] = true
		switch r.Type {
		case RunnerBuiltin:
			if len(r.Command) > 0 {
				errs = append(errs, fmt.Errorf("%s %q: a builtin runner takes no command", at, r.Name))
			}
		case RunnerExternal:
			if len(r.Command) == 0 || !filepath.IsAbs(r.Command[0]) {
				errs = append(errs, fmt.Errorf("%s %q: command must start with an absolute program path", at, r.Name))
			}
			if r.Runtime == "" || strings.Contains(r.Runtime, "/") {
				errs = append(errs, fmt.Errorf("%s %q: runtime %q must be non-empty without '/'", at, r.Name, r.Runtime))
			}
			switch r.ComputeUnit {
			case "cpu", "gpu", "npu":
			default:
				errs = append(errs, fmt.Errorf("%s %q: compute_unit %q: want cpu, gpu or npu", at, r.Name, r.ComputeUnit))
			}
		default:
			errs = append(errs, fmt.Errorf("%s %q: type %q: want builtin or external", at, r.Name, r.Type))
		}
		if r.Timeout < 0 {
			errs = append(errs, fmt.Errorf("%s %q: timeout %v must not be negative", at, r.Name, r.Timeout))
		}
	}
	if len(runners) == 0 {
		errs = append(errs, errors.New("runners: at least one runner is required"))
	}
	return errs
}

// SlogLevel returns the slog level named by l.Level.
func (l Log) SlogLevel() (slog.Level, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.Level)); err != nil {
		return 0, fmt.Errorf("log.level %q: want debug, info, warn or error", l.Level)
	}
	return lv, nil
}

// DeriveDeviceID returns a stable device id for the machine under root: the
// first 16 hex digits of SHA-256 over the machine id and an application key,
// so the raw machine id (which systemd documents as confidential) never
// leaves the device. It reads etc/machine-id, then var/lib/dbus/machine-id.
func DeriveDeviceID(root string) (string, error) {
	var errs []error
	for _, p := range []string{"etc/machine-id", "var/lib/dbus/machine-id"} {
		data, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		id := strings.TrimSpace(string(data))
		if id == "" {
			errs = append(errs, fmt.Errorf("%s is empty", filepath.Join(root, p)))
			continue
		}
		sum := sha256.Sum256([]byte("edgetran-agent:" + id))
		return hex.EncodeToString(sum[:8]), nil
	}
	return "", errors.Join(errs...)
}

// Duration is a time.Duration written as a Go duration string ("10s",
// "1m30s") in the file.
type Duration time.Duration

// UnmarshalJSON accepts a duration string; a bare number is rejected because
// its unit would be a guess.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration %s: write it as a string with a unit, e.g. \"10s\"", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// String returns the Go duration string.
func (d Duration) String() string { return time.Duration(d).String() }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ByteSize is a size in bytes, written as an integer or with a unit ("64MiB",
// "2GB") in the file.
type ByteSize int64

// UnmarshalJSON accepts an integer byte count or a size string.
func (b *ByteSize) UnmarshalJSON(data []byte) error {
	var n int64
	if err := json.Unmarshal(data, &n); err == nil {
		*b = ByteSize(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("size %s: want bytes as an integer or a string such as \"64MiB\"", data)
	}
	v, err := humanize.ParseBytes(s)
	if err != nil || v > 1<<62 {
		return fmt.Errorf("size %q: want bytes as an integer or a string such as \"64MiB\"", s)
	}
	*b = ByteSize(v)
	return nil
}

// MarshalJSON writes the byte count.
func (b ByteSize) MarshalJSON() ([]byte, error) { return json.Marshal(int64(b)) }

// String returns the size in IEC units.
func (b ByteSize) String() string {
	if b < 0 {
		return fmt.Sprintf("%d B", int64(b))
	}
	return humanize.IBytes(uint64(b))
}
