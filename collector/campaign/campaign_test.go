package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/dataset"
	"github.com/edgetran/edgetran/shared/pubdata"
)

// publishedPool returns a pool of one device's latencies from the published
// co-design dataset beside the checkout, or skips the test when it is absent.
func publishedPool(t *testing.T, device string) *Pool {
	t.Helper()
	p := pubdata.Path(t, "codesign_dataset.json")
	imp, err := dataset.LoadFile(p, dataset.Options{Device: device})
	if err != nil {
		t.Fatal(err)
	}
	var items []PoolItem
	for _, r := range imp.Records {
		items = append(items, PoolItem{Key: r.Key, Arch: r.Measurement.Arch, Value: r.Measurement.LatencyPerSeqS})
	}
	pool, err := NewPool(nil, items)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

func simulate(t *testing.T, pool *Pool, cfg Config) *State {
	t.Helper()
	st, err := New("test", "a100", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), st, pool, nil, Hooks{}); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSimulateStopsByRule(t *testing.T) {
	pool := publishedPool(t, "a100")
	st := simulate(t, pool, Config{Model: surrogate.KindLinear, Budget: pool.Len(), Patience: 3, Seed: 1})
	if st.Status != Converged {
		t.Fatalf("status = %s (%s), want converged", st.Status, st.Reason)
	}
	if st.Holding != 3 {
		t.Errorf("holding = %d, want the patience 3", st.Holding)
	}
	last := st.Rounds[len(st.Rounds)-1]
	if last.NMSE >= st.Config.Threshold {
		t.Errorf("final NMSE = %v, want below %v", last.NMSE, st.Config.Threshold)
	}
	if st.Measured() >= pool.Len() {
		t.Errorf("measured %d of %d: the rule should stop the campaign before the pool runs out", st.Measured(), pool.Len())
	}
}

func TestSimulateStopsAtBudget(t *testing.T) {
	pool := publishedPool(t, "a100")
	// A threshold no fit reaches leaves only the budget to stop the run.
	st := simulate(t, pool, Config{Model: surrogate.KindLinear, Budget: 40, Threshold: 1e-12, Batch: 3, Seed: 2})
	if st.Status != Budget {
		t.Fatalf("status = %s (%s), want budget", st.Status, st.Reason)
	}
	if st.Measured() != 40 {
		t.Errorf("measured = %d, want the budget 40", st.Measured())
	}
}

func TestSimulateIsDeterministicPerSeed(t *testing.T) {
	pool := publishedPool(t, "cpu_m1-pro")
	for _, s := range []Strategy{Uncertainty, Random} {
		cfg := Config{Model: surrogate.KindLinear, Strategy: s, Budget: 45, Threshold: 1e-12, Batch: 2, Seed: 7}
		a, _ := json.Marshal(simulate(t, pool, cfg))
		b, _ := json.Marshal(simulate(t, pool, cfg))
		if string(a) != string(b) {
			t.Errorf("%s: two runs with one seed differ", s)
		}
	}
}

func TestResumedCampaignMatchesUninterrupted(t *testing.T) {
	pool := publishedPool(t, "cpu_m1-pro")
	cfg := Config{Model: surrogate.KindLinear, Budget: 44, Threshold: 1e-12, Batch: 2, Seed: 9}
	whole, _ := json.Marshal(simulate(t, pool, cfg))

	st, err := New("test", "a100", cfg)
	if err != nil {
		t.Fatal(err)
	}
	errStop := errors.New("stop")
	saves := 0
	stopAfter3 := Hooks{Save: func(*State) error {
		if saves++; saves == 3 {
			return errStop
		}
		return nil
	}}
	if err := Run(context.Background(), st, pool, nil, stopAfter3); !errors.Is(err, errStop) {
		t.Fatalf("first run: err = %v, want the save error", err)
	}
	saved, _ := json.Marshal(st)
	var resumed State
	if err := json.Unmarshal(saved, &resumed); err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), &resumed, pool, nil, Hooks{}); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(&resumed)
	if string(got) != string(whole) {
		t.Error("resumed campaign differs from the uninterrupted one")
	}
}

func TestInitialSampleMixesNarrowAndWide(t *testing.T) {
	pool := publishedPool(t, "a100")
	init, err := pool.Initial(roundRNG(1, 0), 16, map[string]bool{})
	if err != nil {
		t.Fatal(err)
	}
	wide := 0
	seen := map[string]bool{}
	for _, c := range init {
		if c.Wide {
			wide++
		}
		seen[pool.space.ID(c.Arch)] = true
	}
	if len(init) != 16 || len(seen) != 16 {
		t.Fatalf("initial sample has %d items, %d distinct; want 16 distinct", len(init), len(seen))
	}
	if wide != 8 {
		t.Errorf("wide models = %d of 16, want 8", wide)
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	cases := map[string]Config{
		"unknown strategy": {Strategy: "greedy"},
		"unknown metric":   {Metric: "speed"},
		"tiny budget":      {Budget: 10},
		"negative thresh":  {Threshold: -1},
		"one initial":      {Initial: 1},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := New("x", "t", cfg); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
}
