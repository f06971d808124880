package dashboard

import (
	"math"
	"testing"
	"time"

	"github.com/edgetran/edgetran/shared/measure"
)

func TestFormatSIPicksPrefix(t *testing.T) {
	tests := []struct {
		v    float64
		unit string
		want string
	}{
		{0.00750752891604689, "s", "7.51 ms"},
		{0.33857201597787195, "J", "339 mJ"},
		{119.1, "W", "119 W"},
		{85.7, "s", "85.7 s"},
		{4.2e-6, "s", "4.2 µs"},
		{0.9996, "W", "1 W"},    // rounds up into the next prefix, not "1e+03 mW"
		{999.7, "W", "1 kW"},    // likewise
		{-0.012, "J", "-12 mJ"}, // net energy may be negative
		{0, "W", "0 W"},
		{0.812, "", "0.812"},
		{math.NaN(), "W", "n/a"},
		{math.Inf(1), "s", "n/a"},
	}
	for _, tc := range tests {
		if got := formatSI(tc.v, tc.unit); got != tc.want {
			t.Errorf("formatSI(%v, %q) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
	}
}

func TestFormatFigureShowsUncertainty(t *testing.T) {
	tests := []struct {
		f    Figure
		want string
	}{
		{Figure{Value: 0.0121, Std: 0.0009, Unit: "s", Basis: Predicted}, "12.1 ms ± 900 µs"},
		{Figure{Value: 14.2, Unit: "W", Basis: Measured}, "14.2 W"},
		{Figure{Value: 81.25, Std: 1.5, Unit: "%"}, "81.2% ± 1.5%"},
	}
	for _, tc := range tests {
		if got := formatFigure(tc.f); got != tc.want {
			t.Errorf("formatFigure(%+v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestFormatAgeReadsNaturally(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0 s"}, // clock skew between agent and collector
		{4 * time.Second, "4 s"},
		{3*time.Minute + 10*time.Second, "3 min"},
		{2*time.Hour + 5*time.Minute, "2 h 5 min"},
		{72 * time.Hour, "3 d"},
	}
	for _, tc := range tests {
		if got := formatAge(tc.d); got != tc.want {
			t.Errorf("formatAge(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestBasisOfProvenance(t *testing.T) {
	tests := map[measure.Provenance]Basis{
		measure.Measured: Measured, measure.Estimated: Estimated, measure.Imported: Imported,
	}
	for p, want := range tests {
		if got := BasisOf(p); got != want {
			t.Errorf("BasisOf(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestAnchorEscapesIDs(t *testing.T) {
	tests := map[string]string{
		"job-x86-1#1": "m-job-x86-1.23.1",
		"a_b":         "m-a_b",
		`x "y"`:       "m-x.20..22.y.22.",
		"édition":     "m-.c3..a9.dition",
	}
	for id, want := range tests {
		if got := anchor(id); got != want {
			t.Errorf("anchor(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestSummariseHeadsCounts(t *testing.T) {
	got := summariseHeads([]string{"sa_sdp_64", "c_5_64", "sa_sdp_64"})
	if want := "2× sa_sdp_64, 1× c_5_64"; got != want {
		t.Errorf("summariseHeads = %q, want %q", got, want)
	}
}
