package broker_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/collector/broker"
	"github.com/edgetran/edgetran/shared/wire"
)

func connect(t *testing.T) jetstream.JetStream {
	t.Helper()
	srv, err := broker.StartEmbedded("127.0.0.1:0", filepath.Join(t.TempDir(), "nats"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func TestSetupCreatesStreamsAndConsumers(t *testing.T) {
	js := connect(t)
	ctx := context.Background()
	if _, _, err := broker.Setup(ctx, js, broker.Options{AckWait: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	// A second start updates in place instead of failing.
	ingest, _, err := broker.Setup(ctx, js, broker.Options{AckWait: 7 * time.Second})
	if err != nil {
		t.Fatalf("second Setup: %v", err)
	}
	info, err := ingest.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.AckWait != 7*time.Second {
		t.Errorf("ingest ack wait = %v, want the updated 7s", info.Config.AckWait)
	}

	want := map[string]struct {
		retention jetstream.RetentionPolicy
		dupes     time.Duration
		subjects  []string
	}{
		wire.StreamResults:    {jetstream.LimitsPolicy, 15 * time.Minute, []string{"edgetran.v1.results.*"}},
		wire.StreamJobs:       {jetstream.WorkQueuePolicy, 15 * time.Minute, []string{"edgetran.v1.jobs.*"}},
		wire.StreamHeartbeats: {jetstream.LimitsPolicy, 0, []string{"edgetran.v1.heartbeat.*", "edgetran.v1.announce.*"}},
		wire.StreamDeadLetter: {jetstream.LimitsPolicy, 0, []string{"edgetran.v1.deadletter"}},
	}
	for name, w := range want {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Errorf("stream %s: %v", name, err)
			continue
		}
		cfg := s.CachedInfo().Config
		if cfg.Retention != w.retention {
			t.Errorf("%s retention = %v, want %v", name, cfg.Retention, w.retention)
		}
		if w.dupes != 0 && cfg.Duplicates != w.dupes {
			t.Errorf("%s duplicate window = %v, want %v", name, cfg.Duplicates, w.dupes)
		}
		if strings.Join(cfg.Subjects, ",") != strings.Join(w.subjects, ",") {
			t.Errorf("%s subjects = %v, want %v", name, cfg.Subjects, w.subjects)
		}
		if cfg.Storage != jetstream.FileStorage {
			t.Errorf("%s storage = %v, want file", name, cfg.Storage)
		}
	}
}

func TestAgentConsumerFitsJobsQueue(t *testing.T) {
	js := connect(t)
	ctx := context.Background()
	if _, _, err := broker.Setup(ctx, js, broker.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, device := range []string{"dev1", "dev2"} {
		_, err := js.CreateOrUpdateConsumer(ctx, wire.StreamJobs, jetstream.ConsumerConfig{
			Durable: broker.AgentConsumer(device), FilterSubject: wire.JobsSubject(device), AckPolicy: jetstream.AckExplicitPolicy,
		})
		if err != nil {
			t.Errorf("agent consumer of %s: %v", device, err)
		}
	}
}

// TestDocsListEveryStream keeps docs/api.md in step with the streams.
func TestDocsListEveryStream(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	if err != nil {
		t.Skipf("docs/api.md not readable: %v", err)
	}
	for _, cfg := range broker.StreamConfigs(broker.Options{}) {
		if !strings.Contains(string(doc), "`"+cfg.Name+"`") {
			t.Errorf("docs/api.md does not list stream %s", cfg.Name)
		}
		for _, subject := range cfg.Subjects {
			documented := strings.Replace(subject, "*", "<device>", 1)
			if !strings.Contains(string(doc), documented) {
				t.Errorf("docs/api.md does not list subject %s", documented)
			}
		}
	}
	for _, name := range []string{broker.IngestConsumer, broker.HeartbeatConsumer, broker.AgentConsumer("<device>")} {
		if !strings.Contains(string(doc), name) {
			t.Errorf("docs/api.md does not name consumer %s", name)
		}
	}
}

func TestStartEmbeddedRejectsBadAddress(t *testing.T) {
	for _, addr := range []string{"nohost", "127.0.0.1:http", "127.0.0.1:70000"} {
		if _, err := broker.StartEmbedded(addr, t.TempDir()); err == nil {
			t.Errorf("StartEmbedded(%q) succeeded, want an error", addr)
		}
	}
}
