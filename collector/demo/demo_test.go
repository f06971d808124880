package demo

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStartServesDashboardAndStops(t *testing.T) {
	ctx := context.Background()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := Start(ctx, Options{DataDir: t.TempDir(), HTTP: "127.0.0.1:0", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			d.Stop(context.Background())
		}
	})

	// The agent announces itself after connecting; poll until the
	// dashboard lists it.
	deadline := time.Now().Add(20 * time.Second)
	var body string
	for time.Now().Before(deadline) {
		resp, err := http.Get(d.DashboardURL())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d: %s", d.DashboardURL(), resp.StatusCode, b)
		}
		body = string(b)
		if strings.Contains(body, d.Device()) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(body, d.Device()) {
		t.Errorf("dashboard does not list the agent's device %s", d.Device())
	}

	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := d.Stop(stopCtx); err != nil {
		t.Errorf("stop: %v", err)
	}
	stopped = true
	if _, err := http.Get(d.DashboardURL()); err == nil {
		t.Error("dashboard still answers after Stop")
	}

	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Count(line, " component=") > 1 {
			t.Errorf("log line repeats the component key: %s", line)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestOptionsRejectInvalid(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
		want string
	}{
		{"no data directory", Options{}, "data directory is empty"},
		{"tiny budget", Options{DataDir: "x", Budget: 5}, "budget 5"},
		{"long sequence", Options{DataDir: "x", SeqLen: 600}, "sequence length 600"},
		{"negative search budget", Options{DataDir: "x", CodesignBudget: -1}, "co-design budget -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opt.withDefaults().Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestFreeHTTPFallsBackWhenTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	got, err := FreeHTTP(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if got != "127.0.0.1:0" {
		t.Errorf("FreeHTTP(%s) = %s, want 127.0.0.1:0 for a taken port", ln.Addr(), got)
	}

	free := ln.Addr().String()
	ln.Close()
	if got, err := FreeHTTP(free); err != nil || got != free {
		t.Errorf("FreeHTTP(%s) = %s, %v, want the address itself once free", free, got, err)
	}
}
