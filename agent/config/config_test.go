package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseFillsDefaults(t *testing.T) {
	c, err := Parse([]byte("device:\n  id: lab-pi4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Device.ID != "lab-pi4" {
		t.Errorf("device id = %q, want lab-pi4", c.Device.ID)
	}
	if len(c.NATS.Servers) != 1 || c.NATS.Servers[0] != DefaultServer {
		t.Errorf("servers = %v, want [%s]", c.NATS.Servers, DefaultServer)
	}
	if len(c.Runners) != 1 || c.Runners[0].Name != "builtin" || c.Runners[0].Runtime != "builtin" {
		t.Errorf("runners = %+v, want one builtin runner", c.Runners)
	}
	if c.HeartbeatInterval.D() != 10*time.Second {
		t.Errorf("heartbeat interval = %v, want 10s", c.HeartbeatInterval)
	}
	if c.Outbox.MaxBytes != 64<<20 {
		t.Errorf("outbox max bytes = %d, want %d", c.Outbox.MaxBytes, 64<<20)
	}
}

func TestParseReadsUnits(t *testing.T) {
	doc := `
device: {id: d1}
heartbeat_interval: 2s
outbox: {dir: /tmp/ob, max_bytes: 8MiB}
limits: {max_model_memory: 1GiB, max_duration: 90s, max_iterations: 500}
meter: {name: estimate, interval: 20ms, estimate: {idle_w: 2.5, max_w: 6.4}}
`
	c, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if c.HeartbeatInterval.D() != 2*time.Second {
		t.Errorf("heartbeat = %v, want 2s", c.HeartbeatInterval)
	}
	if c.Outbox.MaxBytes != 8<<20 {
		t.Errorf("outbox max = %d, want %d", c.Outbox.MaxBytes, 8<<20)
	}
	if c.Limits.MaxModelMemory != 1<<30 {
		t.Errorf("max model memory = %d, want %d", c.Limits.MaxModelMemory, 1<<30)
	}
	if c.Limits.MaxDuration.D() != 90*time.Second {
		t.Errorf("max duration = %v, want 90s", c.Limits.MaxDuration)
	}
	if c.Meter.Interval.D() != 20*time.Millisecond {
		t.Errorf("meter interval = %v, want 20ms", c.Meter.Interval)
	}
}

func TestParseRejectsBadFields(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"unknown field", "device: {id: d1}\nbogus: 1\n", "bogus"},
		{"bad device id", "device: {id: 'a.b'}\n", "device.id"},
		{"bare number duration", "device: {id: d1}\nheartbeat_interval: 10\n", "with a unit"},
		{"two auth methods", "device: {id: d1}\nnats: {token: x, user: u, password: p}\n", "choose one way"},
		{"user without password", "device: {id: d1}\nnats: {user: u}\n", "set together"},
		{"server without scheme", "device: {id: d1}\nnats: {servers: ['host:4222']}\n", "nats.servers[0]"},
		{"external relative path", "device: {id: d1}\nrunners: [{name: x, type: external, command: [run.sh], runtime: onnx, compute_unit: cpu}]\n", "absolute program path"},
		{"external bad unit", "device: {id: d1}\nrunners: [{name: x, type: external, command: [/bin/x], runtime: onnx, compute_unit: tpu}]\n", "compute_unit"},
		{"duplicate runner", "device: {id: d1}\nrunners: [{name: b, type: builtin}, {name: b, type: builtin}]\n", "used twice"},
		{"unknown runner type", "device: {id: d1}\nrunners: [{name: b, type: docker}]\n", "want builtin or external"},
		{"relative outbox", "device: {id: d1}\noutbox: {dir: spool}\n", "absolute path"},
		{"tiny outbox", "device: {id: d1}\noutbox: {max_bytes: 1000}\n", "at least 1MiB"},
		{"bad log format", "device: {id: d1}\nlog: {format: xml}\n", "log.format"},
		{"bad log level", "device: {id: d1}\nlog: {level: loud}\n", "log.level"},
		{"missing tls file", "device: {id: d1}\nnats: {tls: {ca_file: /nonexistent/ca.pem}}\n", "nats.tls.ca_file"},
		{"estimate max below idle", "device: {id: d1}\nmeter: {estimate: {idle_w: 5, max_w: 3}}\n", "idle_w 5 and max_w 3"},
		{"negative idle window", "device: {id: d1}\nmeter: {idle_window: -1s}\n", "meter.idle_window -1s"},
		{"idle window past limit", "device: {id: d1}\nmeter: {idle_window: 1h}\nlimits: {max_duration: 30m}\n", "below limits.max_duration"},
		{"huge idle window", "device: {id: d1}\nmeter: {idle_window: 2000000h}\n", "meter.idle_window"},
		{"bad size string", "device: {id: d1}\noutbox: {max_bytes: lots}\n", "size \"lots\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse accepted %q", tt.doc)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestDeviceIDDerivedFromMachineID(t *testing.T) {
	c, err := Parse([]byte("device: {root: testdata/root}\n"))
	if err != nil {
		t.Fatal(err)
	}
	// sha256("edgetran-agent:0123456789abcdef0123456789abcdef")[:8] in hex,
	// computed with: printf 'edgetran-agent:%s' 0123...cdef | sha256sum
	const want = "e13112381ef550eb"
	if c.Device.ID != want {
		t.Errorf("device id = %q, want %q", c.Device.ID, want)
	}
}

func TestDeviceIDMissingMachineID(t *testing.T) {
	_, err := Parse([]byte("device: {root: testdata/nonexistent}\n"))
	if err == nil || !strings.Contains(err.Error(), "set device.id") {
		t.Errorf("error = %v, want advice to set device.id", err)
	}
}

func TestExampleConfigParses(t *testing.T) {
	data, err := os.ReadFile("../../installers/agent.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Give an id so the test does not depend on this machine's machine-id.
	doc := strings.Replace(string(data), "  id: \"\"", "  id: example-device", 1)
	c, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if c.Device.ID != "example-device" {
		t.Fatalf("device id = %q; the example's id line changed", c.Device.ID)
	}
	d := Default()
	if c.Outbox.Dir != d.Outbox.Dir || c.Outbox.MaxBytes != d.Outbox.MaxBytes {
		t.Errorf("outbox = %+v, want the defaults %+v", c.Outbox, d.Outbox)
	}
	if c.HeartbeatInterval != d.HeartbeatInterval || c.NATS.AckWait != d.NATS.AckWait {
		t.Errorf("heartbeat %v ack wait %v, want the defaults %v and %v", c.HeartbeatInterval, c.NATS.AckWait, d.HeartbeatInterval, d.NATS.AckWait)
	}
	if c.Limits.MaxIterations != d.Limits.MaxIterations || c.Limits.MaxDuration != d.Limits.MaxDuration {
		t.Errorf("limits = %+v, want the defaults %+v", c.Limits, d.Limits)
	}
	if want := (Estimate{IdleW: 10, MaxW: 65}); c.Meter.Estimate != want {
		t.Errorf("meter.estimate = %+v, want the bench and demo defaults %+v", c.Meter.Estimate, want)
	}
	if len(c.Runners) != 1 || c.Runners[0].Name != "builtin" {
		t.Errorf("runners = %+v, want the builtin runner", c.Runners)
	}
}

func TestEstimateWattsDefault(t *testing.T) {
	tests := []struct {
		name, doc string
		want      Estimate
	}{
		{"omitted", "device: {id: d1}\nmeter: {name: estimate}\n", Estimate{IdleW: 10, MaxW: 65}},
		{"both zero", "device: {id: d1}\nmeter: {estimate: {idle_w: 0, max_w: 0}}\n", Estimate{IdleW: 10, MaxW: 65}},
		{"zero idle kept", "device: {id: d1}\nmeter: {estimate: {idle_w: 0, max_w: 7}}\n", Estimate{IdleW: 0, MaxW: 7}},
		{"set", "device: {id: d1}\nmeter: {estimate: {idle_w: 2.7, max_w: 6.4}}\n", Estimate{IdleW: 2.7, MaxW: 6.4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if c.Meter.Estimate != tt.want {
				t.Errorf("meter.estimate = %+v, want %+v", c.Meter.Estimate, tt.want)
			}
		})
	}
}
