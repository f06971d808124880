package dashboard

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgetran/edgetran/shared/measure"
)

// writeTestReport builds and writes the report of the test source.
func writeTestReport(t *testing.T) (string, ReportView) {
	t.Helper()
	src := newTestSource(t)
	view, err := BuildReport(t.Context(), src, ReportOptions{Title: "Fleet report", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteReport(&b, view); err != nil {
		t.Fatal(err)
	}
	return b.String(), view
}

// svgNamespaces are the only URLs a report may contain: XML namespace names
// in the SVG elements, which browsers never fetch.
var svgNamespaces = regexp.MustCompile(`xmlns(:xlink)?="http://www\.w3\.org/(2000/svg|1999/xlink)"`)

func TestReportIsSelfContained(t *testing.T) {
	html, _ := writeTestReport(t)
	stripped := svgNamespaces.ReplaceAllString(html, "")
	for _, banned := range []string{"http://", "https://", "<script", "<link", "<iframe", "@import", "url(", " src="} {
		if strings.Contains(stripped, banned) {
			i := strings.Index(stripped, banned)
			t.Errorf("report contains %q: …%s…", banned, stripped[max(0, i-60):min(len(stripped), i+60)])
		}
	}
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if !strings.HasPrefix(m[1], "#") {
			t.Errorf("report links to %q, want only in-page #anchors", m[1])
		}
	}
	if n := strings.Count(html, "<html"); n != 1 {
		t.Errorf("report has %d <html> elements, want 1", n)
	}
}

func TestReportHasOneSVGPerPlot(t *testing.T) {
	html, view := writeTestReport(t)
	traces, iterations := 0, 0
	for _, m := range view.Details {
		if len(m.Trace) > 0 {
			traces++
		}
		if len(m.IterationsS) > 0 {
			iterations++
		}
	}
	if traces != 2 || iterations != 2 {
		t.Fatalf("report details have %d traces and %d iteration series, want the 2 synthetic records", traces, iterations)
	}
	want := traces + iterations + len(view.Surrogates) + 1 + len(view.CoDesign.Fronts)
	if got := strings.Count(html, "<svg"); got != want {
		t.Errorf("report has %d <svg> elements, want %d", got, want)
	}
	if got := strings.Count(html, "</svg>"); got != want {
		t.Errorf("report has %d </svg> end tags, want %d", got, want)
	}
	if strings.Contains(html, "could not be drawn") {
		t.Error("report contains a plot that could not be drawn")
	}
}

func TestReportSummaryLabelsEstimates(t *testing.T) {
	html, _ := writeTestReport(t)
	if !strings.Contains(html, "<h1>Fleet report</h1>") {
		t.Error("report lacks its title heading")
	}
	summary := html[strings.Index(html, `<section id="summary"`):strings.Index(html, `<section id="devices"`)]
	for _, want := range []string{
		"a100/gpu/pytorch/b128/s128/fp32</span>: 194 measurements",
		"latency per sequence: MAPE",
		"Architecture <span class=\"id\">",
		"GLUE score: 0.79 ± 0.012<span class=\"badge badge-predicted\"",
		`Power and energy of 1 measurements on bench-pi/cpu/builtin/b1/s128/fp32 are estimated by a power model (meter estimate), not measured`,
		"194 measurements on a100/gpu/pytorch/b128/s128/fp32 are imported from a published dataset",
		"Co-design objectives were scored by surrogates",
		"Best pair: peak power: predicted.",
		"Pareto fronts: GLUE score: predicted.",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	if strings.Contains(summary, "Nothing: every figure in this report was measured.") {
		t.Error("summary claims every figure was measured")
	}
}

func TestReportOfMeasuredOnlyData(t *testing.T) {
	records := liveRecords()
	view := ReportView{
		Targets:      []TargetSummary{{Target: x86Target, Measured: 2, Meter: "rapl"}},
		Measurements: []measure.Measurement{records[0], records[2]},
		Details:      []measure.Measurement{records[0]},
	}
	var b strings.Builder
	if err := WriteReport(&b, view); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{"<h1>EdgeTran report</h1>", "Nothing: every figure in this report was measured.", `href="#m-job-x86-1.23.1"`, `id="m-job-x86-1.23.1"`} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, reject := range []string{`class="badge badge-estimated"`, `class="badge badge-predicted"`} {
		if strings.Contains(html, reject) {
			t.Errorf("report of measured data contains %q", reject)
		}
	}
}

func TestUnknownBasisIsNeverMeasured(t *testing.T) {
	view := ReportView{CoDesign: &CoDesignView{
		Best: &BestPair{Strategy: "random", Target: x86Target, Arch: tinyArch, Figures: []Figure{
			{Name: "latency per sequence", Unit: "s", Value: 0.01},
		}},
		Fronts: []ParetoFront{{Target: x86Target, Measure: Energy, AccuracyName: "GLUE score", AccuracyBasis: Measured,
			Points: []ParetoPoint{{Accuracy: 0.8, Value: 0.2, OnFront: true}, {Accuracy: 0.7, Value: 0.3}}}},
	}}
	var b strings.Builder
	if err := WriteReport(&b, view); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{
		"Best pair: latency per sequence: basis unknown.",
		"Pareto fronts: energy per sequence: basis unknown.",
		`10 ms<span class="badge badge-estimated" title="the source did not say whether this was measured">basis unknown</span>`,
		"energy per sequence (J), basis unknown",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(html, "Nothing: every figure in this report was measured.") {
		t.Error("report calls figures of unknown basis measured")
	}
}
