package codesign

import (
	"slices"
	"testing"

	"github.com/edgetran/edgetran/shared/measure"
)

func TestParetoIndicesHandMadeSet(t *testing.T) {
	points := [][]float64{
		{1, 5}, // 0: best first column
		{2, 3}, // 1: trade-off
		{3, 3}, // 2: dominated by 1
		{4, 1}, // 3: best second column
		{2, 3}, // 4: duplicate of 1, kept
		{5, 5}, // 5: dominated by all of 0, 1, 3
		{4, 2}, // 6: dominated by 3
	}
	got := ParetoIndices(points)
	if want := []int{0, 1, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("ParetoIndices = %v, want %v", got, want)
	}
}

func TestParetoIndicesEmptyAndSingle(t *testing.T) {
	if got := ParetoIndices(nil); len(got) != 0 {
		t.Errorf("ParetoIndices(nil) = %v, want none", got)
	}
	if got := ParetoIndices([][]float64{{3, 4, 5}}); !slices.Equal(got, []int{0}) {
		t.Errorf("ParetoIndices of one point = %v, want [0]", got)
	}
}

func TestReportFrontMaximisesAccuracy(t *testing.T) {
	target := measure.Target{Device: "d", ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 128, Precision: "fp32"}
	other := target
	other.Device = "e"
	eval := func(id string, tgt int, acc, lat float64, feasible bool) *Evaluation {
		return &Evaluation{
			Candidate: Candidate{ArchID: id, Target: tgt},
			Feasible:  feasible,
			Measures: map[Measure]Estimate{
				Accuracy: {Mean: acc}, Latency: {Mean: lat}, Energy: {Mean: 1}, PeakPower: {Mean: 1},
			},
		}
	}
	r := &Report{
		AccuracyUsed: true,
		problem:      &Problem{Targets: []measure.Target{target, other}},
		Strategies: []*StrategyReport{{Name: StrategyRandom, evaluations: []*Evaluation{
			eval("accurate-slow", 0, 0.84, 2.0, true),
			eval("balanced", 0, 0.80, 1.0, true),
			eval("worse", 0, 0.79, 1.5, true), // dominated by balanced
			eval("fast-inaccurate", 0, 0.70, 0.5, true),
			eval("infeasible-best", 0, 0.90, 0.1, false), // not feasible: left out
			eval("other-target", 1, 0.75, 9.0, true),
		}}},
	}
	fronts := r.fronts()
	if len(fronts) != 2 {
		t.Fatalf("%d fronts, want one per target with feasible pairs (2)", len(fronts))
	}
	var ids []string
	for _, p := range fronts[0].Points {
		ids = append(ids, p.ArchID)
	}
	slices.Sort(ids)
	if want := []string{"accurate-slow", "balanced", "fast-inaccurate"}; !slices.Equal(ids, want) {
		t.Errorf("front of %s = %v, want %v", fronts[0].Target, ids, want)
	}
	if want := []Measure{Accuracy, Latency, Energy, PeakPower}; !slices.Equal(fronts[0].Measures, want) {
		t.Errorf("front measures = %v, want %v", fronts[0].Measures, want)
	}
	if len(fronts[1].Points) != 1 || fronts[1].Points[0].ArchID != "other-target" {
		t.Errorf("front of %s = %+v, want the single pair other-target", fronts[1].Target, fronts[1].Points)
	}
}
