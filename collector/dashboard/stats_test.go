package dashboard

import (
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/edgetran/edgetran/shared/measure"
)

func TestParityStatsByHand(t *testing.T) {
	// Relative errors 5%, 25% and 0%: MAPE (5+25+0)/3 = 10%, and two of
	// three points lie within ±10%. The point with a zero measured value has
	// no relative error and is skipped.
	s := SurrogateView{Points: []ParityPoint{
		{Measured: 1, Predicted: 1.05},
		{Measured: 2, Predicted: 2.5},
		{Measured: 4, Predicted: 4},
		{Measured: 0, Predicted: 3},
	}}
	st := s.Stats()
	if st.N != 3 {
		t.Errorf("N = %d, want 3", st.N)
	}
	if math.Abs(st.MAPE-10) > 1e-9 {
		t.Errorf("MAPE = %v, want 10", st.MAPE)
	}
	if math.Abs(st.Within10-2.0/3) > 1e-12 {
		t.Errorf("Within10 = %v, want 2/3", st.Within10)
	}
}

func TestParityStatsWithoutPoints(t *testing.T) {
	st := SurrogateView{}.Stats()
	if st.N != 0 || !math.IsNaN(st.MAPE) || !math.IsNaN(st.Within10) {
		t.Errorf("Stats of no points = %+v, want N 0 and NaN errors", st)
	}
}

func TestBestSoFarKeepsMinimum(t *testing.T) {
	got := bestSoFar([]float64{math.NaN(), 0.5, 0.7, 0.3, math.NaN(), 0.4})
	want := []float64{math.Inf(1), 0.5, 0.5, 0.3, 0.3, 0.3}
	if !slices.Equal(got, want) {
		t.Errorf("bestSoFar = %v, want %v", got, want)
	}
	best, at, ok := Convergence{Objectives: []float64{0.5, 0.7, 0.3, 0.3}}.Best()
	if best != 0.3 || at != 3 || !ok {
		t.Errorf("Best = %v at %d (ok %v), want 0.3 at 3", best, at, ok)
	}
	if _, _, ok := (Convergence{Objectives: []float64{math.NaN()}}).Best(); ok {
		t.Error("Best of only NaN objectives reports ok")
	}
}

func TestParityPlotAxes(t *testing.T) {
	tests := []struct {
		name    string
		points  []ParityPoint
		wantLog bool
		wantErr string
	}{
		{
			name: "decades use log axes",
			// σ larger than the prediction: the bar must stop above zero.
			points:  []ParityPoint{{Measured: 0.004, Predicted: 0.005, Std: 0.01}, {Measured: 85, Predicted: 70, Std: 9}},
			wantLog: true,
		},
		{
			name:   "one decade stays linear",
			points: []ParityPoint{{Measured: 4, Predicted: 5, Std: 1}, {Measured: 30, Predicted: 28, Std: 2}},
		},
		{
			name:   "zero value stays linear",
			points: []ParityPoint{{Measured: 0, Predicted: 0.001}, {Measured: 500, Predicted: 450}},
		},
		{
			name:    "no finite point",
			points:  []ParityPoint{{Measured: math.NaN(), Predicted: 1}, {Measured: 1, Predicted: math.Inf(1)}},
			wantErr: "no held-out points",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fig := parityPlot(SurrogateView{Target: x86Target, Measure: Latency, Points: tc.points})
			if tc.wantErr != "" {
				if !strings.Contains(fig.Error, tc.wantErr) {
					t.Errorf("Error = %q, want it to contain %q", fig.Error, tc.wantErr)
				}
				return
			}
			if fig.Error != "" {
				t.Fatalf("plot failed: %s", fig.Error)
			}
			if got := strings.Contains(fig.Caption, "logarithmic axes"); got != tc.wantLog {
				t.Errorf("log axes = %v, want %v (caption %q)", got, tc.wantLog, fig.Caption)
			}
			if !strings.HasPrefix(string(fig.SVG), `<svg role="img" aria-label="`) {
				t.Errorf("SVG starts %.60q, want an accessible <svg> element", fig.SVG)
			}
		})
	}
}

func TestRenderSVGRecoversPanic(t *testing.T) {
	p := newPlot("bad", "x", "y")
	s, err := plotter.NewScatter(plotter.XYs{{X: -1, Y: 1}, {X: 10, Y: 2}})
	if err != nil {
		t.Fatal(err)
	}
	p.Add(s)
	p.X.Scale = plot.LogScale{} // gonum/plot panics on the negative x
	p.X.Tick.Marker = plot.LogTicks{}
	if _, err := renderSVG(p, wideSize, "bad"); err == nil || !strings.Contains(err.Error(), `draw plot "bad"`) {
		t.Errorf("renderSVG err = %v, want a draw plot error", err)
	}
}

func TestTracePlotNeedsPoints(t *testing.T) {
	tests := []struct {
		name  string
		trace []measure.TracePoint
		want  bool
	}{
		{"no trace", nil, false},
		{"only NaN samples", []measure.TracePoint{{TS: 0, W: math.NaN()}}, false},
		{"one sample", []measure.TracePoint{{TS: 0, W: 3}}, true},
	}
	for _, tc := range tests {
		m := measure.Measurement{ID: "t", Trace: tc.trace, WindowStartS: 0, WindowEndS: 1}
		if _, ok := tracePlot(&m); ok != tc.want {
			t.Errorf("%s: tracePlot ok = %v, want %v", tc.name, ok, tc.want)
		}
	}
}

func TestConvergencePlotWithoutFiniteObjective(t *testing.T) {
	fig := convergencePlot([]Convergence{{Strategy: "random", Objectives: []float64{math.NaN()}}})
	if !strings.Contains(fig.Error, "no strategy has a finite objective") {
		t.Errorf("Error = %q, want a message about finite objectives", fig.Error)
	}
}

func TestParetoPlotLogAxisOnDecades(t *testing.T) {
	f := ParetoFront{Target: piTarget, Measure: Latency, AccuracyName: "GLUE score", Points: []ParetoPoint{
		{Accuracy: 0.7, Value: 0.003, OnFront: true}, {Accuracy: 0.8, Value: 40, OnFront: true}, {Accuracy: 0.75, Value: 60},
	}}
	fig := paretoPlot(f)
	if fig.Error != "" {
		t.Fatal(fig.Error)
	}
	if !strings.Contains(fig.Caption, "logarithmic latency per sequence axis") {
		t.Errorf("caption %q does not mention the log axis", fig.Caption)
	}
}
