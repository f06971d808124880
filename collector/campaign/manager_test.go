package campaign

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/measure"
)

var managerTarget = measure.Target{Device: liveDevice, ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 128, Precision: "fp32"}

func managerConfig() Config {
	return Config{Model: surrogate.KindLinear, Initial: 4, TestSize: 4, Batch: 2, Budget: 16, Threshold: 1e-12, Candidates: 40, Seed: 5}
}

func TestManagerRunsCampaignToBudget(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	jm, js, st := startCollector(t, ctx)
	runAgent(t, ctx, js)

	m := NewManager(ManagerOptions{Store: st, Jobs: jm, Timeout: 30 * time.Second})
	defer m.Close()
	if _, err := m.Start("c1", managerTarget, managerConfig()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start("c1", managerTarget, managerConfig()); !errors.Is(err, ErrRunning) && err != nil {
		t.Errorf("second start: err = %v, want ErrRunning (or nil if the first already finished)", err)
	}
	if err := m.Wait(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	got, err := m.Status(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != Budget || got.Measured() != 16 {
		t.Errorf("stored campaign: status %s after %d measurements, want budget after 16", got.Status, got.Measured())
	}
	row, err := st.Campaign(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if row.Status != string(Budget) || row.Target != managerTarget.Key() {
		t.Errorf("campaign row: status %q, target %q; want %q, %q", row.Status, row.Target, Budget, managerTarget.Key())
	}
}

func TestManagerResumesAfterRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	jm, js, st := startCollector(t, ctx)
	runAgent(t, ctx, js)

	first := NewManager(ManagerOptions{Store: st, Jobs: jm, Timeout: 30 * time.Second})
	if _, err := first.Start("c2", managerTarget, managerConfig()); err != nil {
		t.Fatal(err)
	}
	first.Close() // a collector shutdown, at whatever step the campaign reached

	paused, err := first.Status(ctx, "c2")
	if err != nil {
		t.Fatal(err)
	}
	if paused.Status != Running {
		t.Skipf("campaign finished before the shutdown (%s); nothing to resume", paused.Status)
	}

	second := NewManager(ManagerOptions{Store: st, Jobs: jm, Timeout: 30 * time.Second})
	defer second.Close()
	if err := second.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(ctx, "c2"); err != nil {
		t.Fatal(err)
	}
	got, err := second.Status(ctx, "c2")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != Budget || got.Measured() != 16 {
		t.Errorf("resumed campaign: status %s after %d measurements, want budget after 16", got.Status, got.Measured())
	}
}

func TestManagerRejectsBadStart(t *testing.T) {
	m := NewManager(ManagerOptions{})
	if _, err := m.Start("", managerTarget, managerConfig()); err == nil {
		t.Error("empty id: Start succeeded, want an error")
	}
	if _, err := m.Start("x", measure.Target{Device: "a/b"}, managerConfig()); err == nil {
		t.Error("invalid target: Start succeeded, want an error")
	}
	if _, err := m.Start("x", managerTarget, Config{Strategy: "greedy"}); err == nil {
		t.Error("invalid config: Start succeeded, want an error")
	}
}
