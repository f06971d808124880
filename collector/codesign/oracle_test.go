package codesign

import (
	"context"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/shared/arch"
)

func TestOracleNoiseIsFixedPerPair(t *testing.T) {
	d := publishedData(t)
	newOracle := func(noise bool, seed uint64) *Oracle {
		o, err := NewOracle(arch.Default(), d.Measurements, OracleOptions{Noise: noise, Seed: seed, Model: ModelForest})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	a, err := arch.Preset(arch.PresetNames()[0])
	if err != nil {
		t.Fatal(err)
	}
	eval := func(o *Oracle) float64 {
		res, err := o.Evaluate(context.Background(), a, o.Targets()[0])
		if err != nil {
			t.Fatal(err)
		}
		if res.Kind != Predicted {
			t.Errorf("oracle result kind %q, want %q", res.Kind, Predicted)
		}
		return res.Hardware[Latency].Mean
	}

	mean := eval(newOracle(false, 1))
	noisy := newOracle(true, 1)
	first, again := eval(noisy), eval(noisy)
	if first != again {
		t.Errorf("noisy oracle returned %v then %v for one pair; draws must be fixed per pair", first, again)
	}
	if first == mean {
		t.Errorf("noisy oracle returned the mean %v; want a draw around it", mean)
	}
	if other := eval(newOracle(true, 2)); other == first {
		t.Errorf("seeds 1 and 2 drew the same latency %v", other)
	}
}

func TestOracleSkipsSparseTargets(t *testing.T) {
	d := publishedData(t)
	// The Neural Compute Stick has 20 published records and the Jetson
	// Nano GPU 21; every other device has more than 60.
	o, err := NewOracle(arch.Default(), d.Measurements, OracleOptions{MinRecords: 30, Model: ModelForest})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(o.Targets()); n != 5 {
		t.Errorf("%d targets with at least 30 records, want 5", n)
	}
	if len(o.Notes) == 0 {
		t.Error("no note names the targets left out")
	}
	want := "latency unknown because it has 20 of the 30 measurements a surrogate needs"
	found := false
	for _, n := range o.Notes {
		found = found || strings.Contains(n, want)
	}
	if !found {
		t.Errorf("no note contains %q: %q", want, o.Notes)
	}
}
