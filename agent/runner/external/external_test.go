package external

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/shared/arch"
)

func fakeRunner(t *testing.T) *Runner {
	t.Helper()
	script, err := filepath.Abs("testdata/fake-runtime.sh")
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Name: "fake", Command: []string{"/bin/sh", script}, Runtime: "fake", ComputeUnit: "cpu", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func tinySpec(t *testing.T) runner.Spec {
	t.Helper()
	a, err := arch.Preset("bert-tiny")
	if err != nil {
		t.Fatal(err)
	}
	return runner.Spec{Arch: a, Batch: 1, SeqLen: 16}
}

func TestExternalRunReportsLatencies(t *testing.T) {
	m, err := fakeRunner(t).Prepare(context.Background(), tinySpec(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.MemoryBytes() != 4096 {
		t.Errorf("MemoryBytes = %d, want 4096 from the ready line", m.MemoryBytes())
	}
	for _, n := range []int{3, 5} {
		out := make([]runner.Iteration, n)
		got, err := m.Run(context.Background(), out)
		if err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Fatalf("Run returned %d passes, want %d", got, n)
		}
		for i, it := range out {
			if d := it.Duration(); d != 2*time.Millisecond {
				t.Errorf("pass %d duration = %v, want 2ms as the command reported", i, d)
			}
		}
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestExternalTooLargeIsErrTooLarge(t *testing.T) {
	t.Setenv("MODE", "toolarge")
	_, err := fakeRunner(t).Prepare(context.Background(), tinySpec(t))
	if !errors.Is(err, runner.ErrTooLarge) {
		t.Errorf("Prepare error = %v, want ErrTooLarge", err)
	}
}

func TestExternalBannerLineRejected(t *testing.T) {
	t.Setenv("MODE", "banner")
	_, err := fakeRunner(t).Prepare(context.Background(), tinySpec(t))
	if err == nil || !strings.Contains(err.Error(), "not a protocol line") {
		t.Errorf("Prepare error = %v, want a protocol line complaint", err)
	}
}

func TestExternalRelativeCommandRejected(t *testing.T) {
	_, err := New(Config{Name: "x", Command: []string{"run.sh"}})
	if err == nil || !strings.Contains(err.Error(), "absolute program path") {
		t.Errorf("New error = %v, want absolute path complaint", err)
	}
}

func TestExternalRunCancelled(t *testing.T) {
	m, err := fakeRunner(t).Prepare(context.Background(), tinySpec(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = m.Run(ctx, make([]runner.Iteration, 100000))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run error = %v, want context.Canceled", err)
	}
}
