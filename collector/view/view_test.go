package view

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgetran/edgetran/collector/codesign"
	"github.com/edgetran/edgetran/collector/dashboard"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/dataset"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/pubdata"
)

// publishedPath returns the path of the published co-design file,
// skipping the test when it is absent.
func publishedPath(t *testing.T) string {
	t.Helper()
	p := pubdata.Path(t, "codesign_dataset.json")
	return p
}

// published returns the records of one device of the published co-design
// file.
func published(t *testing.T, device string) []measure.Measurement {
	t.Helper()
	imp, err := dataset.LoadFile(publishedPath(t), dataset.Options{Device: device})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]measure.Measurement, len(imp.Records))
	for i, r := range imp.Records {
		out[i] = r.Measurement
	}
	return out
}

// hostRecords returns n estimated records of a host target, copied from
// base with new ids, measured one minute apart from start.
func hostRecords(base []measure.Measurement, n int, start time.Time) []measure.Measurement {
	out := make([]measure.Measurement, n)
	for i := range out {
		m := base[i]
		m.ID = fmt.Sprintf("host-%02d", i)
		m.Target = measure.Target{Device: "host", ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 64, Precision: "fp32"}
		m.Provenance = measure.Estimated
		m.Power = &measure.PowerSource{Meter: "estimate", Estimated: true}
		m.Source = ""
		m.MeasuredAt = start.Add(time.Duration(i) * time.Minute)
		out[i] = m
	}
	return out
}

func openStore(t *testing.T, ms []measure.Measurement) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "collector.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, m := range ms {
		if _, err := st.InsertMeasurement(ctx, m); err != nil {
			t.Fatalf("insert %s: %v", m.ID, err)
		}
	}
	return st
}

func TestSourceTargetsCountByProvenance(t *testing.T) {
	rpi := published(t, "cpu_rpi")
	host := hostRecords(rpi, 3, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	src := New(openStore(t, append(rpi, host...)))

	targets, err := src.Targets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 2 {
		t.Fatalf("got %d targets, want 2", len(targets))
	}
	byDevice := map[string]dashboard.TargetSummary{}
	for _, tg := range targets {
		byDevice[tg.Target.Device] = tg
	}
	if got := byDevice["rpi4"]; got.Imported != len(rpi) || got.Measured+got.Estimated != 0 {
		t.Errorf("rpi4 counts %+v, want %d imported only", got, len(rpi))
	}
	h := byDevice["host"]
	if h.Estimated != 3 || h.Imported+h.Measured != 0 {
		t.Errorf("host counts %+v, want 3 estimated only", h)
	}
	if h.Meter != "estimate" || !h.MeterEstimated {
		t.Errorf("host meter %q estimated=%v, want the estimate meter labelled", h.Meter, h.MeterEstimated)
	}
	if want := host[2].MeasuredAt; !h.LastMeasuredAt.Equal(want) {
		t.Errorf("host last measured %v, want %v", h.LastMeasuredAt, want)
	}
}

func TestSourceMeasurementsNewestFirstAndPaged(t *testing.T) {
	rpi := published(t, "cpu_rpi")
	host := hostRecords(rpi, 5, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	src := New(openStore(t, append(rpi[:10], host...)))
	ctx := context.Background()

	rows, total, err := src.Measurements(ctx, dashboard.Filter{Provenance: measure.Estimated, Offset: 1, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if total != 5 {
		t.Errorf("total %d, want 5 estimated records", total)
	}
	if len(rows) != 2 || rows[0].ID != "host-03" || rows[1].ID != "host-02" {
		t.Errorf("page ids %v, want [host-03 host-02] (newest first, one skipped)", ids(rows))
	}

	rows, total, err = src.Measurements(ctx, dashboard.Filter{Device: "rpi4"})
	if err != nil {
		t.Fatal(err)
	}
	if total != 10 || len(rows) != 10 {
		t.Errorf("device filter returned %d of %d rows, want 10 of 10", len(rows), total)
	}

	rows, _, err = src.Measurements(ctx, dashboard.Filter{Offset: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Errorf("offset past the end returned %d rows, want 0", len(rows))
	}
}

func ids(ms []measure.Measurement) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func TestSourceMeasurementNotFound(t *testing.T) {
	src := New(openStore(t, nil))
	_, err := src.Measurement(context.Background(), "no-such-id")
	if !errors.Is(err, dashboard.ErrNotFound) {
		t.Errorf("error %v, want one wrapping dashboard.ErrNotFound", err)
	}
}

func TestCrossValidateLabelsAndSkipsSparse(t *testing.T) {
	rpi := published(t, "cpu_rpi")
	host := hostRecords(rpi, 4, time.Now())
	fits, err := CrossValidate(context.Background(), append(rpi, host...), FitOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The host has 4 records, under the minimum of 5, so only the three
	// measures of the Raspberry Pi are fitted.
	if len(fits) != 3 {
		t.Fatalf("got %d fits, want 3", len(fits))
	}
	for _, f := range fits {
		if f.View.Target.Device != "rpi4" {
			t.Errorf("fit of %s, want only rpi4", f.View.Target.Key())
		}
		if f.View.TargetBasis != dashboard.Imported {
			t.Errorf("%s basis %q, want imported", f.View.Measure, f.View.TargetBasis)
		}
		if len(f.View.Points) != len(rpi) {
			t.Errorf("%s has %d parity points, want one per record (%d)", f.View.Measure, len(f.View.Points), len(rpi))
		}
		if f.Scores.N != len(rpi) || !(f.Scores.MAPE > 0) {
			t.Errorf("%s scores %+v, want %d records and a positive MAPE", f.View.Measure, f.Scores, len(rpi))
		}
	}
}

func TestCrossValidateEstimatedPowerBasis(t *testing.T) {
	host := hostRecords(published(t, "cpu_rpi"), 8, time.Now())
	fits, err := CrossValidate(context.Background(), host, FitOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[dashboard.Measure]dashboard.Basis{
		dashboard.Latency: dashboard.Measured, dashboard.Energy: dashboard.Estimated, dashboard.PeakPower: dashboard.Estimated,
	}
	if len(fits) != len(want) {
		t.Fatalf("got %d fits, want %d", len(fits), len(want))
	}
	for _, f := range fits {
		if f.View.TargetBasis != want[f.View.Measure] {
			t.Errorf("%s basis %q, want %q", f.View.Measure, f.View.TargetBasis, want[f.View.Measure])
		}
	}
}

func TestCoDesignViewLabelsPredictions(t *testing.T) {
	rpi := published(t, "cpu_rpi")
	nano := published(t, "cpu_jetson-nano")
	imp, err := dataset.LoadFile(publishedPath(t), dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var acc []measure.Accuracy
	for _, r := range imp.Records {
		if r.Accuracy != nil {
			acc = append(acc, *r.Accuracy)
		}
	}
	p, err := codesign.NewOfflineProblem(arch.Default(), codesign.Data{Measurements: append(rpi, nano...), Accuracy: acc}, codesign.DefaultObjective(), nil, codesign.OracleOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := codesign.Run(context.Background(), p, codesign.Options{Budget: 16, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	finished := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v := CoDesign(rep, finished)

	if len(v.Strategies) != len(rep.Strategies) {
		t.Errorf("got %d strategies, want %d", len(v.Strategies), len(rep.Strategies))
	}
	for _, s := range v.Strategies {
		if s.Basis != dashboard.Predicted {
			t.Errorf("strategy %s basis %q, want predicted", s.Strategy, s.Basis)
		}
	}
	if v.Best == nil {
		t.Fatal("no best pair")
	}
	if v.Best.ArchID != rep.Best.ArchID || v.Best.Target.Key() != rep.Best.Target {
		t.Errorf("best %s on %s, want %s on %s", v.Best.ArchID, v.Best.Target.Key(), rep.Best.ArchID, rep.Best.Target)
	}
	names := map[string]bool{}
	for _, f := range v.Best.Figures {
		names[f.Name] = true
		if f.Basis != dashboard.Predicted {
			t.Errorf("figure %s basis %q, want predicted", f.Name, f.Basis)
		}
	}
	for _, n := range []string{"accuracy (GLUE score)", "latency per sequence", "energy per sequence", "peak power"} {
		if !names[n] {
			t.Errorf("best pair lacks figure %q", n)
		}
	}
	if v.AccuracyNote != "" {
		t.Errorf("accuracy note %q, want none when accuracy records exist", v.AccuracyNote)
	}
	if len(v.Fronts) == 0 {
		t.Fatal("no Pareto fronts")
	}
	for _, f := range v.Fronts {
		onFront := 0
		for _, pt := range f.Points {
			if pt.OnFront {
				onFront++
			}
		}
		if onFront == 0 {
			t.Errorf("front %s %s has no point on the front", f.Target.Key(), f.Measure)
		}
	}
	if !v.FinishedAt.Equal(finished) {
		t.Errorf("finished at %v, want %v", v.FinishedAt, finished)
	}
}
