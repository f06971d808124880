package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"github.com/edgetran/edgetran/collector/broker"
	"github.com/edgetran/edgetran/collector/service"
	"github.com/edgetran/edgetran/collector/store/storetest"
	"github.com/edgetran/edgetran/shared/wire"
)

// Two devices: devA signs in with an nkey, devB with a bcrypt password.
const (
	devA, devB = "dev-a", "dev-b"
	devBPass   = "dev-b-secret"
)

// newUserKey returns a fresh user nkey pair and its public key.
func newUserKey(t *testing.T) (nkeys.KeyPair, string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return kp, pub
}

// startAuthCollector starts a collector whose embedded server lists devA
// (key kpA) and devB (password devBPass).
func startAuthCollector(t *testing.T, pubA string) *service.Collector {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(devBPass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return startCollector(t, service.Config{Auth: service.Auth{Devices: []broker.DeviceCredential{
		{ID: devA, NKey: pubA},
		{ID: devB, PasswordBcrypt: string(hash)},
	}}})
}

// asyncErrors collects the asynchronous errors of a connection, where the
// server's permission violations arrive.
type asyncErrors struct {
	mu   sync.Mutex
	errs []error
}

func (a *asyncErrors) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	a.mu.Lock()
	a.errs = append(a.errs, err)
	a.mu.Unlock()
}

func (a *asyncErrors) permissionViolations() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, err := range a.errs {
		if strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			n++
		}
	}
	return n
}

func connectAs(t *testing.T, url string, opts ...nats.Option) (jetstream.JetStream, *asyncErrors) {
	t.Helper()
	errs := &asyncErrors{}
	nc, err := nats.Connect(url, append(opts, nats.ErrorHandler(errs.handler))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js, errs
}

func resultMessage(t *testing.T, device, id string) *nats.Msg {
	t.Helper()
	m := storetest.Measurement(id, device, 0)
	data, err := json.Marshal(wire.Result{ID: id, Kind: wire.ResultMeasurement, Device: device, Measurement: &m})
	if err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg(wire.ResultsSubject(device))
	msg.Data = data
	msg.Header.Set(nats.MsgIdHdr, id)
	return msg
}

func TestEmbeddedAuthDeviceOwnResultsStored(t *testing.T) {
	kpA, pubA := newUserKey(t)
	c := startAuthCollector(t, pubA)
	js, _ := connectAs(t, c.NATSURL(), nats.Nkey(pubA, kpA.Sign), nats.CustomInboxPrefix(wire.AgentInboxPrefix(devA)))
	ctx := context.Background()

	ack, err := js.PublishMsg(ctx, resultMessage(t, devA, "a-1"))
	if err != nil {
		t.Fatalf("publish own result: %v", err)
	}
	if ack.Stream != wire.StreamResults {
		t.Errorf("ack stream %q, want %s", ack.Stream, wire.StreamResults)
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := c.Store().Measurement(ctx, "a-1")
		if err == nil {
			if m.Target.Device != devA {
				t.Errorf("stored device %q, want %s", m.Target.Device, devA)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector did not store the result within 10s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEmbeddedAuthRejectsOtherDeviceSubjects(t *testing.T) {
	kpA, pubA := newUserKey(t)
	c := startAuthCollector(t, pubA)
	js, errs := connectAs(t, c.NATSURL(), nats.Nkey(pubA, kpA.Sign), nats.CustomInboxPrefix(wire.AgentInboxPrefix(devA)))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_, err := js.PublishMsg(ctx, resultMessage(t, devB, "b-1"))
	cancel()
	if err == nil {
		t.Error("publishing devB's result as devA got an acknowledgement")
	}
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
	_, err = js.CreateOrUpdateConsumer(ctx, wire.StreamJobs, jetstream.ConsumerConfig{
		Durable: wire.AgentConsumer(devB), FilterSubject: wire.JobsSubject(devB), AckPolicy: jetstream.AckExplicitPolicy,
	})
	cancel()
	if err == nil {
		t.Error("devA created devB's jobs consumer")
	}
	if n := errs.permissionViolations(); n != 2 {
		t.Errorf("server reported %d permission violations, want 2 (results and consumer)", n)
	}
	if _, err := c.Store().Measurement(context.Background(), "b-1"); err == nil {
		t.Error("result published on another device's subject was stored")
	}
}

func TestEmbeddedAuthDeviceConsumesOwnJobs(t *testing.T) {
	_, pubA := newUserKey(t)
	c := startAuthCollector(t, pubA)
	js, _ := connectAs(t, c.NATSURL(), nats.UserInfo(devB, devBPass), nats.CustomInboxPrefix(wire.AgentInboxPrefix(devB)))
	ctx := context.Background()

	sj, err := c.Jobs().Submit(ctx, wire.Job{Device: devB, Arch: storetest.Arch(0), Batch: 1, SeqLen: 128})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, wire.StreamJobs, jetstream.ConsumerConfig{
		Durable: wire.AgentConsumer(devB), FilterSubject: wire.JobsSubject(devB), AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatalf("create own jobs consumer: %v", err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatalf("fetch own job: %v", err)
	}
	var job wire.Job
	if err := json.Unmarshal(msg.Data(), &job); err != nil {
		t.Fatal(err)
	}
	if job.ID != sj.Job.ID {
		t.Errorf("fetched job %s, want %s", job.ID, sj.Job.ID)
	}
	if err := msg.DoubleAck(ctx); err != nil {
		t.Errorf("acknowledge own job: %v", err)
	}
}

func TestEmbeddedAuthRejectsBadCredentials(t *testing.T) {
	_, pubA := newUserKey(t)
	c := startAuthCollector(t, pubA)
	wrongKey, wrongPub := newUserKey(t)
	cases := []struct {
		name string
		opts []nats.Option
	}{
		{"no credentials", nil},
		{"unknown nkey", []nats.Option{nats.Nkey(wrongPub, wrongKey.Sign)}},
		{"devA key with another seed", []nats.Option{nats.Nkey(pubA, wrongKey.Sign)}},
		{"wrong password", []nats.Option{nats.UserInfo(devB, "not-the-password")}},
	}
	for _, tc := range cases {
		nc, err := nats.Connect(c.NATSURL(), append(tc.opts, nats.NoReconnect())...)
		if err == nil {
			nc.Close()
			t.Errorf("%s: connected, want an authorization error", tc.name)
			continue
		}
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("%s: err = %v, want an authorization error", tc.name, err)
		}
	}
}

func TestConfigValidateNATSListenNeedsAuth(t *testing.T) {
	_, pub := newUserKey(t)
	devices := []broker.DeviceCredential{{ID: devA, NKey: pub}}
	cases := []struct {
		listen  string
		devices []broker.DeviceCredential
		wantErr string
	}{
		{"127.0.0.1:4222", nil, ""},
		{"[::1]:4222", nil, ""},
		{"localhost:4222", nil, ""},
		{"0.0.0.0:4222", nil, `nats_listen "0.0.0.0:4222" is not loopback: add device credentials under auth.devices`},
		{":4222", nil, `nats_listen ":4222" is not loopback`},
		{"192.0.2.10:4222", nil, `nats_listen "192.0.2.10:4222" is not loopback`},
		{"0.0.0.0:4222", devices, ""},
		{"127.0.0.1:4222", devices, ""},
	}
	for _, tc := range cases {
		cfg := service.Config{NATSListen: tc.listen, Auth: service.Auth{Devices: tc.devices}}.WithDefaults()
		err := cfg.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("listen %q with %d devices: %v, want no error", tc.listen, len(tc.devices), err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("listen %q with %d devices: err = %v, want one containing %q", tc.listen, len(tc.devices), err, tc.wantErr)
		}
	}

	if _, err := service.New(service.Config{NATSListen: "0.0.0.0:4222", DataDir: t.TempDir()}, nil); err == nil {
		t.Error("New accepted a non-loopback NATS address without auth")
	}
}

func TestConfigValidateDeviceCredentials(t *testing.T) {
	_, pub := newUserKey(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	seedKey, _ := newUserKey(t)
	seed, err := seedKey.Seed()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		devices []broker.DeviceCredential
		wantErr string
	}{
		{"nkey", []broker.DeviceCredential{{ID: "d1", NKey: pub}}, ""},
		{"bcrypt", []broker.DeviceCredential{{ID: "d1", PasswordBcrypt: string(hash)}}, ""},
		{"bad id", []broker.DeviceCredential{{ID: "d 1", NKey: pub}}, `device id "d 1"`},
		{"no credential", []broker.DeviceCredential{{ID: "d1"}}, "set nkey"},
		{"both credentials", []broker.DeviceCredential{{ID: "d1", NKey: pub, PasswordBcrypt: string(hash)}}, "not both"},
		{"seed as nkey", []broker.DeviceCredential{{ID: "d1", NKey: string(seed)}}, "not a public user nkey"},
		{"plain password", []broker.DeviceCredential{{ID: "d1", PasswordBcrypt: "hunter2"}}, "not a bcrypt hash"},
		{"duplicate id", []broker.DeviceCredential{{ID: "d1", NKey: pub}, {ID: "d1", PasswordBcrypt: string(hash)}}, `"d1" is listed twice`},
		{"shared nkey", []broker.DeviceCredential{{ID: "d1", NKey: pub}, {ID: "d2", NKey: pub}}, "reuses the nkey"},
	}
	for _, tc := range cases {
		err := service.Config{Auth: service.Auth{Devices: tc.devices}}.WithDefaults().Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v, want no error", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), string(seed)) {
			t.Errorf("%s: error shows the seed", tc.name)
		}
	}

	err = service.Config{NATSURL: "nats://127.0.0.1:4222", Auth: service.Auth{Devices: []broker.DeviceCredential{{ID: "d1", NKey: pub}}}}.WithDefaults().Validate()
	if err == nil || !strings.Contains(err.Error(), "auth applies to the embedded server") {
		t.Errorf("auth with nats_url: err = %v, want one saying auth applies to the embedded server", err)
	}
}
