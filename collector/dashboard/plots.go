package dashboard

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/edgetran/edgetran/shared/measure"
)

// estimatedPower reports whether the power figures of m come from a model.
func estimatedPower(m *measure.Measurement) bool {
	return m.Provenance == measure.Estimated || (m.Power != nil && m.Power.Estimated)
}

// tracePlot draws the power trace of m with its timed window shaded and the
// idle baseline dashed. ok is false when m has no trace to draw.
func tracePlot(m *measure.Measurement) (fig figureView, ok bool) {
	if len(m.Trace) == 0 {
		return figureView{}, false
	}
	title, yLabel := "Power trace", "power (W)"
	caption := "Power trace of " + m.ID + " with the timed window shaded"
	if estimatedPower(m) {
		title += " (estimated, not measured)"
		yLabel = "estimated power (W)"
		caption += "; power is estimated, not measured"
	}
	p := newPlot(title, "time since baseline start (s)", yLabel)

	pts := make(plotter.XYs, 0, len(m.Trace))
	peak := 0.0
	for _, tp := range m.Trace {
		if math.IsNaN(tp.TS) || math.IsNaN(tp.W) || math.IsInf(tp.TS, 0) || math.IsInf(tp.W, 0) {
			continue
		}
		pts = append(pts, plotter.XY{X: tp.TS, Y: tp.W})
		peak = math.Max(peak, tp.W)
	}
	if len(pts) == 0 {
		return figureView{}, false
	}
	top := peak * 1.3 // headroom for the legend
	if top <= 0 {
		top = 1
	}

	if m.WindowEndS > m.WindowStartS {
		band, err := plotter.NewPolygon(plotter.XYs{
			{X: m.WindowStartS, Y: 0}, {X: m.WindowEndS, Y: 0},
			{X: m.WindowEndS, Y: top}, {X: m.WindowStartS, Y: top},
		})
		if err == nil {
			band.Color = windowTint
			band.LineStyle.Width = 0
			p.Add(band)
			p.Legend.Add(fmt.Sprintf("timed window %.3g–%.3g s", m.WindowStartS, m.WindowEndS), band)
		}
	}

	line, err := plotter.NewLine(pts)
	if err != nil {
		return figureView{Caption: caption, Error: err.Error()}, true
	}
	line.LineStyle = lineStyle(palette[0], 1.2)
	p.Add(line)
	p.Legend.Add("power", line)

	if m.IdlePowerW != nil && *m.IdlePowerW > 0 {
		idle := plotter.NewFunction(func(float64) float64 { return *m.IdlePowerW })
		idle.LineStyle = dashed(palette[6])
		p.Add(idle)
		p.Legend.Add(fmt.Sprintf("idle baseline %.3g W", *m.IdlePowerW), idle)
	}

	p.Y.Min, p.Y.Max = 0, top
	p.Legend.Top = true
	return figure(p, wideSize, caption), true
}

// latencyPlot draws the latency of every timed iteration of m, in the SI
// prefix that suits its mean, with the mean dashed. ok is false without
// per-iteration data.
func latencyPlot(m *measure.Measurement) (fig figureView, ok bool) {
	if len(m.IterationsS) == 0 {
		return figureView{}, false
	}
	var sum float64
	for _, v := range m.IterationsS {
		sum += v
	}
	mean := sum / float64(len(m.IterationsS))
	prefix, scale := siScale(mean)

	p := newPlot("Latency per iteration", "timed iteration", fmt.Sprintf("latency (%ss)", prefix))
	pts := make(plotter.XYs, 0, len(m.IterationsS))
	for i, v := range m.IterationsS {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		pts = append(pts, plotter.XY{X: float64(i + 1), Y: v / scale})
	}
	caption := fmt.Sprintf("Latency of each of the first %d timed iterations of %s", len(m.IterationsS), m.ID)
	line, points, err := plotter.NewLinePoints(pts)
	if err != nil {
		return figureView{Caption: caption, Error: err.Error()}, true
	}
	line.LineStyle = lineStyle(palette[2], 0.8)
	points.GlyphStyle.Color = palette[2]
	points.GlyphStyle.Radius = vg.Points(1.5)
	p.Add(line, points)
	p.Legend.Add("iteration", line, points)

	meanLine := plotter.NewFunction(func(float64) float64 { return mean / scale })
	meanLine.LineStyle = dashed(palette[1])
	p.Add(meanLine)
	p.Legend.Add(fmt.Sprintf("mean %s", formatSI(mean, "s")), meanLine)
	p.Y.Min = 0
	p.Y.Max = slices.Max(m.IterationsS) / scale * 1.3 // headroom for the legend
	p.Legend.Top = true
	return figure(p, wideSize, caption), true
}

// parityXYs holds parity points with ±1σ error bars for plotter.YErrorBars.
// On a log axis a bar must stay positive, so with log set the lower half of
// a bar stops at a tenth of the prediction.
type parityXYs struct {
	pts []ParityPoint
	log bool
}

func (d parityXYs) Len() int                { return len(d.pts) }
func (d parityXYs) XY(i int) (x, y float64) { return d.pts[i].Measured, d.pts[i].Predicted }
func (d parityXYs) YError(i int) (low, high float64) {
	p := d.pts[i]
	low = p.Std
	if d.log && p.Predicted-low < p.Predicted/10 {
		low = p.Predicted * 0.9
	}
	return low, p.Std
}

// parityPlot draws predicted against measured values of one surrogate, with
// ±1σ error bars, the y = x line and the ±10% band. Axes turn logarithmic
// when the values span two decades or more.
func parityPlot(s SurrogateView) figureView {
	unit := s.Measure.Unit()
	caption := fmt.Sprintf("%s on %s: predicted against measured (%d held-out points)", s.Measure.Label(), s.Target.Key(), len(s.Points))

	pts := make([]ParityPoint, 0, len(s.Points))
	var all []float64
	for _, pt := range s.Points {
		if !finite(pt.Measured) || !finite(pt.Predicted) || !finite(pt.Std) || pt.Std < 0 {
			continue
		}
		pts = append(pts, pt)
		all = append(all, pt.Measured, pt.Predicted)
	}
	if len(pts) == 0 {
		return figureView{Caption: caption, Error: "no held-out points with finite values"}
	}
	logAxes := spansDecades(all)

	measuredLabel := "measured"
	if s.TargetBasis == Estimated || s.TargetBasis == Imported {
		measuredLabel = string(s.TargetBasis)
	}
	p := newPlot(fmt.Sprintf("%s — %s", s.Target.Key(), s.Measure.Label()),
		fmt.Sprintf("%s (%s)", measuredLabel, unit), fmt.Sprintf("predicted (%s), ±1σ", unit))

	data := parityXYs{pts: pts, log: logAxes}
	bars, err := plotter.NewYErrorBars(data)
	if err != nil {
		return figureView{Caption: caption, Error: err.Error()}
	}
	bars.LineStyle = lineStyle(grey, 0.7)
	bars.CapWidth = vg.Points(3)
	scatter, err := plotter.NewScatter(data)
	if err != nil {
		return figureView{Caption: caption, Error: err.Error()}
	}
	scatter.GlyphStyle.Color = palette[0]
	scatter.GlyphStyle.Radius = vg.Points(2)
	scatter.GlyphStyle.Shape = draw.CircleGlyph{}

	lo, hi := slices.Min(all), slices.Max(all)
	for i := range pts {
		low, high := data.YError(i)
		lo = math.Min(lo, pts[i].Predicted-low)
		hi = math.Max(hi, pts[i].Predicted+high)
	}
	if !logAxes {
		lo = math.Max(0, lo) // measures are non-negative
	}
	if hi <= lo {
		hi = lo + 1
	}

	diag, _ := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
	diag.LineStyle = lineStyle(palette[6], 1)
	upper, _ := plotter.NewLine(plotter.XYs{{X: lo, Y: 1.1 * lo}, {X: hi / 1.1, Y: hi}})
	upper.LineStyle = dashed(grey)
	lower, _ := plotter.NewLine(plotter.XYs{{X: lo / 0.9, Y: lo}, {X: hi, Y: 0.9 * hi}})
	lower.LineStyle = dashed(grey)
	if lo == 0 {
		lower.XYs[0].X = 0
	}

	p.Add(upper, lower, diag, bars, scatter)
	p.Legend.Add("y = x", diag)
	p.Legend.Add("±10%", upper)
	p.Legend.Add("held-out point", scatter)
	p.Legend.Top, p.Legend.Left = true, true

	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
	if logAxes {
		useLogScale(&p.X)
		useLogScale(&p.Y)
		caption += "; logarithmic axes"
	}
	return figure(p, squareSize, caption)
}

// convergencePlot draws the best objective so far against evaluations, one
// step line per strategy.
func convergencePlot(strategies []Convergence) figureView {
	caption := "Best objective so far against evaluations, per search strategy (lower is better)"
	yLabel := "best objective"
	if len(strategies) > 0 && allPredicted(strategies) {
		yLabel += " (predicted)"
		caption += "; objectives scored by surrogates, so predicted"
	}
	p := newPlot("Co-design convergence", "evaluations", yLabel)

	drawn := 0
	for i, s := range strategies {
		best := bestSoFar(s.Objectives)
		pts := make(plotter.XYs, 0, len(best))
		for j, v := range best {
			if finite(v) {
				pts = append(pts, plotter.XY{X: float64(j + 1), Y: v})
			}
		}
		if len(pts) == 0 {
			continue
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		line.StepStyle = plotter.PostStep
		line.LineStyle = lineStyle(palette[i%len(palette)], 1.5)
		if i >= len(palette) {
			line.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(2)}
		}
		p.Add(line)
		p.Legend.Add(s.Strategy, line)
		drawn++
	}
	if drawn == 0 {
		return figureView{Caption: caption, Error: "no strategy has a finite objective"}
	}
	p.Legend.Top = true
	return figure(p, wideSize, caption)
}

func allPredicted(strategies []Convergence) bool {
	for _, s := range strategies {
		if s.Basis != Predicted {
			return false
		}
	}
	return true
}

// paretoPlot draws accuracy against one hardware measure: every candidate
// in grey and the non-dominated front in colour, joined in order of the
// measure.
func paretoPlot(f ParetoFront) figureView {
	unit := f.Measure.Unit()
	accuracy := f.AccuracyName
	if accuracy == "" {
		accuracy = "accuracy"
	}
	caption := fmt.Sprintf("%s against %s on %s", accuracy, f.Measure.Label(), f.Target.Key())
	xLabel := fmt.Sprintf("%s (%s)", f.Measure.Label(), unit)
	if l := f.ValueBasis.label(); l != "" {
		xLabel += ", " + l
		caption += fmt.Sprintf("; %s: %s", f.Measure.Label(), l)
	}
	yLabel := accuracy
	if l := f.AccuracyBasis.label(); l != "" {
		yLabel += ", " + l
		caption += fmt.Sprintf("; %s: %s", accuracy, l)
	}
	p := newPlot(fmt.Sprintf("%s — %s vs %s", f.Target.Key(), accuracy, f.Measure.Label()), xLabel, yLabel)

	var others, front plotter.XYs
	var values []float64
	for _, pt := range f.Points {
		if !finite(pt.Accuracy) || !finite(pt.Value) {
			continue
		}
		values = append(values, pt.Value)
		if pt.OnFront {
			front = append(front, plotter.XY{X: pt.Value, Y: pt.Accuracy})
		} else {
			others = append(others, plotter.XY{X: pt.Value, Y: pt.Accuracy})
		}
	}
	if len(values) == 0 {
		return figureView{Caption: caption, Error: "no candidate with finite accuracy and " + f.Measure.Label()}
	}

	if len(others) > 0 {
		s, err := plotter.NewScatter(others)
		if err == nil {
			s.GlyphStyle.Color = grey
			s.GlyphStyle.Radius = vg.Points(1.8)
			p.Add(s)
			p.Legend.Add("candidate", s)
		}
	}
	if len(front) > 0 {
		slices.SortFunc(front, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
		line, points, err := plotter.NewLinePoints(front)
		if err == nil {
			line.LineStyle = lineStyle(palette[1], 1.2)
			line.StepStyle = plotter.PostStep
			points.GlyphStyle.Color = palette[1]
			points.GlyphStyle.Radius = vg.Points(2.5)
			p.Add(line, points)
			p.Legend.Add("Pareto front", line, points)
		}
	}
	if spansDecades(values) {
		useLogScale(&p.X)
		caption += "; logarithmic " + f.Measure.Label() + " axis"
	}
	p.Legend.Top = false
	return figure(p, gridSize, caption)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
