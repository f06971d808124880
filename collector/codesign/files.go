package codesign

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// WriteFiles writes the report into dir, creating it if needed:
// report.json (the --json object), convergence.csv (one row per
// evaluation, one column per strategy, empty before the first feasible
// pair), pareto.csv (one row per front point), convergence.svg and one
// pareto-<n>.svg per target with a front, n counting targets from 1 in
// report order.
func (r *Report) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(dir, "convergence.csv"), r.convergenceRows()); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(dir, "pareto.csv"), r.paretoRows()); err != nil {
		return err
	}
	if err := r.plotConvergence(filepath.Join(dir, "convergence.svg")); err != nil {
		return fmt.Errorf("plot convergence: %w", err)
	}
	for i, f := range r.Pareto {
		if err := r.plotFront(filepath.Join(dir, fmt.Sprintf("pareto-%d.svg", i+1)), f); err != nil {
			return fmt.Errorf("plot Pareto front of %s: %w", f.Target, err)
		}
	}
	return nil
}

func writeCSV(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func (r *Report) convergenceRows() [][]string {
	header := []string{"evaluation"}
	n := 0
	for _, s := range r.Strategies {
		header = append(header, s.Name)
		n = max(n, len(s.Curve))
	}
	rows := [][]string{header}
	for i := range n {
		row := []string{strconv.Itoa(i + 1)}
		for _, s := range r.Strategies {
			cell := ""
			if i < len(s.Curve) && !math.IsInf(s.Curve[i], 0) {
				cell = strconv.FormatFloat(s.Curve[i], 'g', 8, 64)
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	return rows
}

// paretoRows lists every front point with each measure's mean and standard
// deviation; accuracy cells are empty when accuracy is unknown.
func (r *Report) paretoRows() [][]string {
	header := []string{"target", "arch_id", "strategy", "kind", "objective", "objective_std"}
	for _, m := range measures {
		header = append(header, string(m)+"_"+unitSuffix(m), string(m)+"_std")
	}
	rows := [][]string{header}
	for _, f := range r.Pareto {
		for _, p := range f.Points {
			row := []string{f.Target, p.ArchID, p.Strategy, string(p.Kind), fmtG(p.Objective), fmtG(p.ObjectiveStd)}
			for _, m := range measures {
				if e, ok := p.Measures[m]; ok {
					row = append(row, fmtG(e.Mean), fmtG(e.Std))
				} else {
					row = append(row, "", "")
				}
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// unitSuffix returns the column suffix naming m's unit.
func unitSuffix(m Measure) string {
	switch m {
	case Latency:
		return "s"
	case Energy:
		return "j"
	case PeakPower:
		return "w"
	case Memory:
		return "bytes"
	case Accuracy:
		return "glue"
	}
	return "count"
}

func fmtG(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }

func (r *Report) plotConvergence(path string) error {
	p := plot.New()
	p.Title.Text = "Best feasible objective after each evaluation"
	p.X.Label.Text = "evaluations"
	p.Y.Label.Text = "objective (lower is better)"
	p.Legend.Top = true
	for i, s := range r.Strategies {
		var xy plotter.XYs
		for j, v := range s.Curve {
			if !math.IsInf(v, 0) && !math.IsNaN(v) {
				xy = append(xy, plotter.XY{X: float64(j + 1), Y: v})
			}
		}
		if len(xy) == 0 {
			continue
		}
		line, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(s.Name, line)
	}
	return saveSVG(path, 16*vg.Centimeter, 10*vg.Centimeter, [][]*plot.Plot{{p}})
}

// plotFront draws the front of one target projected on each hardware
// measure (x, log scale when it spans a decade) against accuracy, or against the objective when
// accuracy is unknown. Grey points are the other feasible pairs of the
// target.
func (r *Report) plotFront(path string, f Front) error {
	yName := "accuracy (GLUE fraction)"
	yOf := func(e map[Measure]Estimate, objective float64) (float64, bool) {
		v, ok := e[Accuracy]
		return v.Mean, ok
	}
	if !r.AccuracyUsed {
		yName = "objective"
		yOf = func(_ map[Measure]Estimate, objective float64) (float64, bool) { return objective, true }
	}

	var row []*plot.Plot
	for _, m := range []Measure{Latency, Energy, PeakPower} {
		front, rest := plotter.XYs{}, plotter.XYs{}
		onFront := map[string]bool{}
		for _, pt := range f.Points {
			onFront[pt.ArchID] = true
			if x, ok := pt.Measures[m]; ok && x.Mean > 0 {
				if y, ok := yOf(pt.Measures, pt.Objective); ok {
					front = append(front, plotter.XY{X: x.Mean, Y: y})
				}
			}
		}
		for _, e := range r.targetEvaluations(f.Target) {
			if onFront[e.ArchID] {
				continue
			}
			if x, ok := e.Measures[m]; ok && x.Mean > 0 {
				if y, ok := yOf(e.Measures, e.Objective); ok {
					rest = append(rest, plotter.XY{X: x.Mean, Y: y})
				}
			}
		}
		if len(front) == 0 {
			continue
		}
		p := plot.New()
		p.Title.Text = shortTarget(f.Target)
		p.X.Label.Text = string(m) + " (" + m.Unit() + ")"
		p.Y.Label.Text = yName
		if spansDecade(front, rest) {
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		}
		if len(rest) > 0 {
			s, err := plotter.NewScatter(rest)
			if err != nil {
				return err
			}
			s.GlyphStyle.Color = color.Gray{Y: 190}
			s.GlyphStyle.Radius = vg.Points(1.5)
			p.Add(s)
		}
		s, err := plotter.NewScatter(front)
		if err != nil {
			return err
		}
		s.GlyphStyle.Color = plotutil.Color(0)
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		s.GlyphStyle.Radius = vg.Points(2.5)
		p.Add(s)
		row = append(row, p)
	}
	if len(row) == 0 {
		return nil
	}
	return saveSVG(path, vg.Length(len(row))*9*vg.Centimeter, 9*vg.Centimeter, [][]*plot.Plot{row})
}

// spansDecade reports whether the x values span more than a factor of ten,
// the range from which a log axis shows at least two labelled ticks.
func spansDecade(sets ...plotter.XYs) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, xy := range sets {
		for _, p := range xy {
			lo, hi = min(lo, p.X), max(hi, p.X)
		}
	}
	return lo > 0 && hi > 10*lo
}

// targetEvaluations returns the feasible evaluations of the target with
// key key, across strategies.
func (r *Report) targetEvaluations(key string) []*Evaluation {
	var out []*Evaluation
	for _, s := range r.Strategies {
		for _, e := range s.evaluations {
			if e.Feasible && r.problem.Targets[e.Target].Key() == key {
				out = append(out, e)
			}
		}
	}
	return out
}

// shortTarget drops the precision from a target key for plot titles.
func shortTarget(key string) string {
	if i := strings.LastIndexByte(key, '/'); i > 0 {
		return key[:i]
	}
	return key
}

func saveSVG(path string, w, h vg.Length, plots [][]*plot.Plot) error {
	canvas := vgsvg.New(w, h)
	dc := draw.New(canvas)
	tiles := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Millimeter, PadY: vg.Millimeter, PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	canvases := plot.Align(plots, tiles, dc)
	for i, row := range plots {
		for j, p := range row {
			p.Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := canvas.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
