package dashboard

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/dataset"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/pubdata"
	"github.com/edgetran/edgetran/shared/wire"
)

// publishedData returns the path of a file of the published EdgeTran
// measurements beside the checkout, or skips the test when it is absent.
func publishedData(t testing.TB, name string) string {
	t.Helper()
	p := pubdata.Path(t, name)
	return p
}

// testNow is the clock of every test: heartbeat ages are relative to it.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeSource implements Source over memory the way the collector's
// adapter over its store does: newest first, filters on exact fields.
type fakeSource struct {
	devices    []Device
	records    []measure.Measurement // newest first
	surrogates []SurrogateView
	codesign   *CoDesignView
}

func (s *fakeSource) Devices(context.Context) ([]Device, error) { return s.devices, nil }

func (s *fakeSource) Targets(context.Context) ([]TargetSummary, error) {
	byKey := map[string]*TargetSummary{}
	var order []string
	for i := range s.records {
		m := &s.records[i]
		key := m.Target.Key()
		t, ok := byKey[key]
		if !ok {
			t = &TargetSummary{Target: m.Target}
			byKey[key] = t
			order = append(order, key)
		}
		switch m.Provenance {
		case measure.Measured:
			t.Measured++
		case measure.Estimated:
			t.Estimated++
		case measure.Imported:
			t.Imported++
		}
		if t.Meter == "" && m.Power != nil {
			t.Meter, t.MeterEstimated = m.Power.Meter, m.Power.Estimated
		}
	}
	slices.Sort(order)
	out := make([]TargetSummary, len(order))
	for i, k := range order {
		out[i] = *byKey[k]
	}
	return out, nil
}

func (s *fakeSource) match(f Filter) []measure.Measurement {
	var out []measure.Measurement
	for _, m := range s.records {
		if (f.Device == "" || m.Target.Device == f.Device) && (f.Target == "" || m.Target.Key() == f.Target) &&
			(f.ArchID == "" || m.ArchID == f.ArchID) && (f.Provenance == "" || m.Provenance == f.Provenance) {
			out = append(out, m)
		}
	}
	return out
}

func (s *fakeSource) Measurements(_ context.Context, f Filter) ([]measure.Measurement, int, error) {
	all := s.match(f)
	lo := min(f.Offset, len(all))
	hi := len(all)
	if f.Limit > 0 {
		hi = min(lo+f.Limit, len(all))
	}
	// A list page carries no trace, as a store listing would not.
	page := slices.Clone(all[lo:hi])
	for i := range page {
		page[i].Trace, page[i].IterationsS = nil, nil
	}
	return page, len(all), nil
}

func (s *fakeSource) Measurement(_ context.Context, id string) (measure.Measurement, error) {
	for _, m := range s.records {
		if m.ID == id {
			return m, nil
		}
	}
	return measure.Measurement{}, fmt.Errorf("measurement %q: %w", id, ErrNotFound)
}

func (s *fakeSource) Surrogates(context.Context) ([]SurrogateView, error) { return s.surrogates, nil }
func (s *fakeSource) CoDesign(context.Context) (*CoDesignView, error)     { return s.codesign, nil }

var (
	publishedOnce sync.Once
	published     *fakeSource
	publishedErr  error
)

// newTestSource returns a source holding the 648 published records, two
// live devices with synthetic records that carry traces, surrogate parity
// points from a leave-one-out nearest-neighbour predictor and the published
// co-design run. It is built once and shared, read-only.
func newTestSource(t testing.TB) *fakeSource {
	t.Helper()
	dataPath := publishedData(t, "codesign_dataset.json")
	resultsPath := publishedData(t, "codesign_results.json")
	publishedOnce.Do(func() { published, publishedErr = buildTestSource(dataPath, resultsPath) })
	if publishedErr != nil {
		t.Fatal(publishedErr)
	}
	return published
}

func buildTestSource(dataPath, resultsPath string) (*fakeSource, error) {
	imp, err := dataset.LoadFile(dataPath, dataset.Options{Format: dataset.FormatAuto})
	if err != nil {
		return nil, err
	}
	if len(imp.Records) == 0 {
		return nil, fmt.Errorf("%s: no record imported; rejected: %v", dataPath, imp.Rejected)
	}
	s := &fakeSource{}
	s.devices = liveDevices()
	s.records = append(s.records, liveRecords()...)
	imported := make([]measure.Measurement, len(imp.Records))
	glue := map[string]float64{}
	for i, r := range imp.Records {
		imported[i] = r.Measurement
		if r.Accuracy != nil && r.Accuracy.GLUE != nil {
			glue[r.Measurement.ArchID] = *r.Accuracy.GLUE
		}
	}
	slices.SortFunc(imported, func(a, b measure.Measurement) int { return cmp.Compare(a.ID, b.ID) })
	s.records = append(s.records, imported...)
	s.surrogates = parityViews(imported)
	s.codesign, err = publishedCoDesign(resultsPath, imported, glue)
	return s, err
}

// liveDevices returns a device with a real meter, a fresh heartbeat and an
// announcement, and one whose meter is an estimate and whose heartbeat is
// ten minutes old.
func liveDevices() []Device {
	return []Device{
		{
			ID: "bench-x86",
			Announce: &wire.Announce{
				Device: "bench-x86", Name: "bench x86 box", OS: "linux", Arch: "amd64", Cores: 8,
				Meters: []wire.MeterInfo{{Name: "rapl", Rails: []string{"package-0", "dram"}, Energy: true}},
			},
			LastHeartbeat: &wire.Heartbeat{Device: "bench-x86", Seq: 41, State: "busy", IntervalS: 10},
			HeartbeatAt:   testNow.Add(-4 * time.Second),
		},
		{
			ID: "bench-pi",
			Announce: &wire.Announce{
				Device: "bench-pi", Name: "bench-pi", OS: "linux", Arch: "arm64", Board: "Raspberry Pi 4 Model B",
				Meters: []wire.MeterInfo{{Name: "estimate", Estimated: true}},
			},
			LastHeartbeat: &wire.Heartbeat{Device: "bench-pi", Seq: 7, State: "idle", IntervalS: 10, SentAt: testNow.Add(-10 * time.Minute)},
		},
	}
}

var (
	x86Target = measure.Target{Device: "bench-x86", ComputeUnit: "cpu", Runtime: "builtin", Batch: 4, SeqLen: 128, Precision: "fp32"}
	piTarget  = measure.Target{Device: "bench-pi", ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 128, Precision: "fp32"}
	tinyArch  = arch.Architecture{L: 2, H: []int{128, 128}, F: [][]int{{512}, {512}}, O: [][]string{{"sa_sdp_64", "sa_sdp_64"}, {"sa_sdp_64", "sa_sdp_64"}}}
)

// syntheticTrace returns 12 s of power at 10 Hz: 2.1 W idle, then a timed
// window from 2 s to 10 s at about 6 W with a ripple, then idle again.
func syntheticTrace() []measure.TracePoint {
	var tr []measure.TracePoint
	for i := range 120 {
		ts := float64(i) / 10
		w := 2.1
		if ts >= 2 && ts < 10 {
			w = 6 + 0.8*math.Sin(ts*3)
		}
		tr = append(tr, measure.TracePoint{TS: ts, W: w})
	}
	return tr
}

// syntheticIterations returns 200 latencies around 40 ms with a slow drift
// and a periodic outlier.
func syntheticIterations() []float64 {
	out := make([]float64, 200)
	for i := range out {
		out[i] = 0.040 + 0.002*math.Sin(float64(i)/9)
		if i%37 == 0 {
			out[i] += 0.006
		}
	}
	return out
}

// liveRecords returns the synthetic records of the two live devices: a
// measured record with a trace, an estimated one with a trace and a
// measured one without, whose id and source need CSV quoting.
func liveRecords() []measure.Measurement {
	archID := arch.Default().ID(tinyArch)
	lat := &measure.LatencyStats{Mean: 0.0405, P50: 0.0401, P90: 0.0421, P99: 0.046, Std: 0.0016, Min: 0.038, Max: 0.0465, N: 200}
	measured := measure.Measurement{
		ID: "job-x86-1#1", ArchID: archID, Arch: tinyArch, Target: x86Target, Provenance: measure.Measured,
		LatencyPerSeqS: 0.0405 / 4, Latency: lat,
		EnergyPerSeqJ: measure.Float(0.061), NetEnergyPerSeqJ: measure.Float(0.039),
		PeakPowerW: measure.Float(6.8), MeanPowerW: measure.Float(6.0), IdlePowerW: measure.Float(2.1),
		Power: &measure.PowerSource{Meter: "rapl", RateHz: 10, Rails: []string{"package-0", "dram"}},
		Runs:  3, RunSpread: 0.021, IterationsS: syntheticIterations(), Trace: syntheticTrace(),
		WindowStartS: 2, WindowEndS: 10, Params: 4_400_000,
		MeasuredAt: testNow.Add(-time.Minute),
	}
	estimated := measured
	estimated.ID = "job-pi-1#1"
	estimated.Target = piTarget
	estimated.Provenance = measure.Estimated
	estimated.Power = &measure.PowerSource{Meter: "estimate", Estimated: true, Note: "no power meter on this board"}
	estimated.MeasuredAt = testNow.Add(-2 * time.Minute)

	noTrace := measured
	noTrace.ID = `job-x86-2#1, "retry"`
	noTrace.Trace, noTrace.IterationsS = nil, nil
	noTrace.WindowStartS, noTrace.WindowEndS = 0, 0
	noTrace.Source = `local run, "cold" cache`
	noTrace.MeasuredAt = testNow.Add(-3 * time.Minute)
	return []measure.Measurement{measured, estimated, noTrace}
}

// costProxy is a rough size of an architecture: the sum over layers of the
// attention and feed-forward weight counts. The test predictor uses it as
// its only feature.
func costProxy(a arch.Architecture) float64 {
	var c float64
	for i, h := range a.H {
		c += 4 * float64(h*h)
		prev := h
		for _, w := range a.F[i] {
			c += float64(prev * w)
			prev = w
		}
		c += float64(prev * h)
	}
	return math.Log(c)
}

// parityViews fits a leave-one-out k-nearest-neighbour predictor (k = 5,
// on costProxy, averaging in log space) per published device and measure,
// giving every record a prediction and the neighbours' spread as its σ.
func parityViews(records []measure.Measurement) []SurrogateView {
	byTarget := map[string][]measure.Measurement{}
	for _, m := range records {
		byTarget[m.Target.Key()] = append(byTarget[m.Target.Key()], m)
	}
	var views []SurrogateView
	for _, key := range slices.Sorted(maps.Keys(byTarget)) {
		ms := byTarget[key]
		for _, meas := range []Measure{Latency, Energy, PeakPower} {
			value := func(m measure.Measurement) float64 {
				switch meas {
				case Energy:
					return *m.EnergyPerSeqJ
				case PeakPower:
					return *m.PeakPowerW
				}
				return m.LatencyPerSeqS
			}
			v := SurrogateView{Target: ms[0].Target, Measure: meas, Model: "5-nearest neighbours (test)", TrainN: len(ms) - 1, TargetBasis: Imported}
			for i, m := range ms {
				type nb struct{ d, v float64 }
				var nbs []nb
				for j, o := range ms {
					if j != i {
						nbs = append(nbs, nb{math.Abs(costProxy(o.Arch) - costProxy(m.Arch)), math.Log(value(o))})
					}
				}
				slices.SortFunc(nbs, func(a, b nb) int { return cmp.Compare(a.d, b.d) })
				k := min(5, len(nbs))
				var mean, sq float64
				for _, n := range nbs[:k] {
					mean += n.v / float64(k)
				}
				for _, n := range nbs[:k] {
					sq += (n.v - mean) * (n.v - mean) / float64(k)
				}
				pred := math.Exp(mean)
				v.Points = append(v.Points, ParityPoint{ArchID: m.ArchID, Measured: value(m), Predicted: pred, Std: pred * math.Sqrt(sq)})
			}
			views = append(views, v)
		}
	}
	return views
}

// publishedCoDesign turns the published co-design run into a view: the
// convergence of its five strategies, the best pair of the lowest final
// objective, and per device GLUE Pareto fronts over the imported records.
func publishedCoDesign(path string, records []measure.Measurement, glue map[string]float64) (*CoDesignView, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var runs map[string]struct {
		Embedding   []int     `json:"embedding_txf"`
		Device      string    `json:"device"`
		Performance float64   `json:"performance"`
		Convergence []float64 `json:"convergence"`
	}
	if err := json.Unmarshal(data, &runs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}

	view := &CoDesignView{
		Objective:   "1 − [0.5·glue + 0.2·(1 − latency/1000 s) + 0.2·(1 − energy/2000 J) + 0.1·(1 − peak/300 W)]",
		Constraints: []string{"none"},
		FinishedAt:  testNow,
	}
	bestName := ""
	for _, name := range []string{"Random", "Forest", "GBRT", "GP", "BOSHCODE"} {
		r, ok := runs[name]
		if !ok {
			return nil, fmt.Errorf("%s: strategy %s missing", path, name)
		}
		view.Strategies = append(view.Strategies, Convergence{Strategy: name, Objectives: r.Convergence, Basis: Predicted})
		if bestName == "" || r.Performance < runs[bestName].Performance {
			bestName = name
		}
	}
	best := runs[bestName]
	a, err := arch.Default().Decode(best.Embedding)
	if err != nil {
		return nil, fmt.Errorf("%s: best embedding of %s: %w", path, bestName, err)
	}
	tgt, err := dataset.DeviceTarget(best.Device)
	if err != nil {
		return nil, err
	}
	// Fixture figures with σ: the dashboard only lays them out, and they
	// are predicted as a co-design run's would be.
	view.Best = &BestPair{
		Strategy: bestName, ArchID: arch.Default().ID(a), Arch: a, Target: tgt, Objective: best.Performance,
		Figures: []Figure{
			{Name: "GLUE score", Value: 0.79, Std: 0.012, Basis: Predicted},
			{Name: "latency per sequence", Unit: "s", Value: 0.0121, Std: 0.0009, Basis: Predicted},
			{Name: "energy per sequence", Unit: "J", Value: 0.21, Std: 0.03, Basis: Predicted},
			{Name: "peak power", Unit: "W", Value: 14.2, Std: 1.1, Basis: Predicted},
		},
	}

	byTarget := map[string][]measure.Measurement{}
	for _, m := range records {
		byTarget[m.Target.Key()] = append(byTarget[m.Target.Key()], m)
	}
	for _, key := range slices.Sorted(maps.Keys(byTarget)) {
		ms := byTarget[key]
		for _, meas := range []Measure{Latency, Energy, PeakPower} {
			f := ParetoFront{Target: ms[0].Target, Measure: meas, AccuracyName: "GLUE score", AccuracyBasis: Predicted, ValueBasis: Imported}
			for _, m := range ms {
				v := m.LatencyPerSeqS
				switch meas {
				case Energy:
					v = *m.EnergyPerSeqJ
				case PeakPower:
					v = *m.PeakPowerW
				}
				f.Points = append(f.Points, ParetoPoint{ArchID: m.ArchID, Accuracy: glue[m.ArchID], Value: v})
			}
			markFront(f.Points)
			view.Fronts = append(view.Fronts, f)
		}
	}
	return view, nil
}

// markFront sets OnFront on every point that no other point dominates
// (accuracy at least as high and value at most as low, one strictly).
func markFront(pts []ParetoPoint) {
	for i := range pts {
		pts[i].OnFront = true
		for j := range pts {
			a, b := pts[j], pts[i]
			if a.Accuracy >= b.Accuracy && a.Value <= b.Value && (a.Accuracy > b.Accuracy || a.Value < b.Value) {
				pts[i].OnFront = false
				break
			}
		}
	}
}
