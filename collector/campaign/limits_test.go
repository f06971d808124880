package campaign

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
)

func TestConfigRejectsHugeSizes(t *testing.T) {
	huge := 1 << 62
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"overflowing sample sum", Config{Initial: huge, TestSize: huge, Budget: 1}, "initial = 4611686018427387904"},
		{"huge budget", Config{Budget: 10_001}, "budget = 10001"},
		{"huge batch", Config{Batch: 10_001}, "batch = 10001"},
		{"huge patience", Config{Patience: 10_001}, "patience = 10001"},
		{"huge candidates", Config{Candidates: 100_001}, "candidates = 100001"},
		{"huge test sample", Config{TestSize: 10_001, Budget: 10_000}, "test_size = 10001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New("c", "dev", tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: err = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func TestConfigAcceptsLimits(t *testing.T) {
	cfg := Config{Initial: 5000, TestSize: 5000, Batch: 10_000, Budget: 10_000, Patience: 10_000, Candidates: 100_000}
	if _, err := New("c", "dev", cfg); err != nil {
		t.Errorf("New at the limits: %v", err)
	}
}

func TestResumeFailsInvalidStoredCampaign(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "collector.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A state as an older build without upper bounds stored it.
	bad := State{Version: StateVersion, ID: "big", TargetKey: managerTarget.Key(), Status: Running,
		Config: Config{Initial: 1 << 62, TestSize: 1 << 62, Budget: 1, Batch: 1, Patience: 1, Candidates: 1, Threshold: 0.1}.Defaults()}
	data, err := json.Marshal(bad)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.PutCampaign(ctx, store.Campaign{ID: "big", Target: bad.TargetKey, Status: string(Running), State: data, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	m := NewManager(ManagerOptions{Store: st})
	defer m.Close()
	if err := m.Resume(ctx); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if err := m.Wait(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	got, err := m.Status(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != Failed || !strings.Contains(got.Reason, "initial") {
		t.Errorf("stored campaign: status %s (%s), want failed naming initial", got.Status, got.Reason)
	}
}

// panicky is an evaluator whose every call panics.
type panicky struct{}

func (panicky) Candidates(*rand.Rand, int, map[string]bool) ([]Candidate, error) {
	panic("evaluator bug")
}

func (panicky) Initial(*rand.Rand, int, map[string]bool) ([]Candidate, error) {
	panic("evaluator bug")
}

func (panicky) Evaluate(context.Context, []arch.Architecture) ([]Outcome, error) {
	panic("evaluator bug")
}

func TestRunSafelyReportsPanic(t *testing.T) {
	st, err := New("p", "dev", Config{})
	if err != nil {
		t.Fatal(err)
	}
	err = runSafely(context.Background(), st, panicky{}, arch.Default(), Hooks{})
	if err == nil || !strings.Contains(err.Error(), "evaluator bug") {
		t.Errorf("runSafely: err = %v, want the panic as an error", err)
	}
}
