package dashboard

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Plot sizes. The SVG scales with the page through CSS, so these fix the
// aspect ratio and the text size relative to the plot.
var (
	wideSize   = plotSize{6.5 * vg.Inch, 3.6 * vg.Inch} // time series and convergence
	squareSize = plotSize{4.6 * vg.Inch, 4.2 * vg.Inch} // parity plots, equal axes
	gridSize   = plotSize{5 * vg.Inch, 3.6 * vg.Inch}   // Pareto fronts, two per row
)

const (
	// logSpan is the max/min ratio from which an axis turns logarithmic.
	logSpan = 100
)

// palette is the Okabe–Ito set, distinguishable with the common forms of
// colour blindness.
var palette = []color.RGBA{
	{0x00, 0x72, 0xb2, 0xff}, // blue
	{0xd5, 0x5e, 0x00, 0xff}, // vermillion
	{0x00, 0x9e, 0x73, 0xff}, // bluish green
	{0xcc, 0x79, 0xa7, 0xff}, // reddish purple
	{0xe6, 0x9f, 0x00, 0xff}, // orange
	{0x56, 0xb4, 0xe9, 0xff}, // sky blue
	{0x00, 0x00, 0x00, 0xff}, // black
}

var (
	grey       = color.RGBA{0x99, 0x99, 0x99, 0xff}
	windowTint = color.NRGBA{0xe6, 0x9f, 0x00, 0x60} // translucent orange band; NRGBA because RGBA is alpha-premultiplied
)

type plotSize struct{ w, h vg.Length }

// figureView is one rendered plot as the templates show it.
type figureView struct {
	Caption string
	SVG     template.HTML // empty when Error is set
	Error   string        // reason the plot could not be drawn
}

// newPlot returns a plot with a title, axis labels and sans-serif text, so
// the SVG reads like the surrounding page.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel

	sans := font.Font{Typeface: "Liberation", Variant: "Sans"}
	p.Title.TextStyle.Font = font.From(sans, 12)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 11)
		a.Tick.Label.Font = font.From(sans, 9)
	}
	p.Legend.TextStyle.Font = font.From(sans, 9)
	p.Add(plotter.NewGrid())
	return p
}

// renderSVG draws p into an SVG element ready to inline in HTML: the XML
// prologue is dropped and the element gets role="img" and label as its
// accessible name. Plotting code in gonum/plot panics on some bad input,
// for example a non-positive value on a log axis. Such a panic comes back
// as an error, so one bad plot never fails a whole page.
func renderSVG(p *plot.Plot, size plotSize, label string) (svg template.HTML, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("draw plot %q: %v", label, r)
		}
	}()

	c := vgsvg.New(size.w, size.h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("write plot %q as SVG: %w", label, err)
	}

	out := buf.String()
	start := strings.Index(out, "<svg")
	if start < 0 {
		return "", fmt.Errorf("write plot %q as SVG: no <svg> element in the output", label)
	}
	out = out[start:]
	attrs := fmt.Sprintf(`<svg role="img" aria-label="%s" class="plot"`, html.EscapeString(label))
	out = attrs + strings.TrimPrefix(out, "<svg")
	// vgsvg escapes all text it draws, so the markup is safe to inline.
	return template.HTML(out), nil
}

// figure renders p and wraps the result or the error for a template.
func figure(p *plot.Plot, size plotSize, caption string) figureView {
	svg, err := renderSVG(p, size, caption)
	if err != nil {
		return figureView{Caption: caption, Error: err.Error()}
	}
	return figureView{Caption: caption, SVG: svg}
}

// useLogScale switches a to a logarithmic scale with decade ticks.
func useLogScale(a *plot.Axis) {
	a.Scale = plot.LogScale{}
	a.Tick.Marker = plot.LogTicks{Prec: -1}
}

// spansDecades reports whether the positive values vs span at least logSpan
// from smallest to largest. Any non-positive value rules a log axis out.
func spansDecades(vs []float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if !(v > 0) || math.IsInf(v, 0) {
			return false
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return len(vs) > 1 && hi/lo >= logSpan
}

// siScale picks the SI prefix for values around v, for axis labels:
// siScale(0.0075) returns ("m", 1e-3).
func siScale(v float64) (prefix string, scale float64) {
	v = math.Abs(v)
	prefix, scale = "", 1
	for _, p := range siPrefixes {
		if v >= p.scale*0.9995 {
			prefix, scale = p.symbol, p.scale
		}
	}
	return prefix, scale
}

// lineStyle returns a solid line of the given colour and width in points.
func lineStyle(c color.Color, width float64) draw.LineStyle {
	return draw.LineStyle{Color: c, Width: vg.Points(width)}
}

// dashed returns a dashed line of the given colour.
func dashed(c color.Color) draw.LineStyle {
	s := lineStyle(c, 1)
	s.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	return s
}
