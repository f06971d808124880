package dashboard

import (
	"io"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkWriteReport renders the report of the published data: 47 plots,
// 200 table rows and two records in full.
func BenchmarkWriteReport(b *testing.B) {
	src := newTestSource(b)
	view, err := BuildReport(b.Context(), src, ReportOptions{Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := WriteReport(io.Discard, view); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParityPlot draws the parity plot of the largest published
// target, 194 points with error bars.
func BenchmarkParityPlot(b *testing.B) {
	src := newTestSource(b)
	view := src.surrogates[0]
	b.ReportMetric(float64(len(view.Points)), "points")
	for b.Loop() {
		if fig := parityPlot(view); fig.Error != "" {
			b.Fatal(fig.Error)
		}
	}
}

// BenchmarkMeasurementsPage serves one 50-row page of the table.
func BenchmarkMeasurementsPage(b *testing.B) {
	h, err := New(newTestSource(b), Options{Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/measurements?page=3", nil))
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
