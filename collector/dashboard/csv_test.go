package dashboard

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// column returns the index of name in header, failing the test without it.
func column(t *testing.T, header []string, name string) int {
	t.Helper()
	i := slices.Index(header, name)
	if i < 0 {
		t.Fatalf("CSV header %v lacks column %q", header, name)
	}
	return i
}

func TestCSVRoundTripsRows(t *testing.T) {
	src := newTestSource(t)
	srv := newTestServer(t, src, "")
	tests := []struct {
		query string
		want  Filter
	}{
		{"", Filter{}},
		{"?provenance=measured", Filter{Provenance: measure.Measured}},
		{"?device=rpi4", Filter{Device: "rpi4"}},
		{"?target=a100%2Fgpu%2Fpytorch%2Fb128%2Fs128%2Ffp32&page=3", Filter{Target: "a100/gpu/pytorch/b128/s128/fp32"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			status, ctype, body := get(t, srv, "/measurements.csv"+tc.query)
			if status != http.StatusOK {
				t.Fatalf("status %d, want 200", status)
			}
			if ctype != "text/csv; charset=utf-8" {
				t.Errorf("content type %q, want text/csv; charset=utf-8", ctype)
			}
			rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatalf("CSV does not parse: %v", err)
			}
			header, rows := rows[0], rows[1:]
			want := src.match(tc.want) // every page: the CSV ignores page
			if len(rows) != len(want) {
				t.Fatalf("CSV has %d rows, want %d", len(rows), len(want))
			}
			for i, row := range rows {
				checkCSVRow(t, header, row, &want[i])
			}
		})
	}
}

// checkCSVRow compares one parsed row with the record it came from.
func checkCSVRow(t *testing.T, header, row []string, m *measure.Measurement) {
	t.Helper()
	text := map[string]string{
		"id": m.ID, "arch_id": m.ArchID, "device": m.Target.Device, "target": m.Target.Key(),
		"provenance": string(m.Provenance), "source": m.Source,
	}
	for name, want := range text {
		if got := row[column(t, header, name)]; got != want {
			t.Errorf("row %s: %s = %q, want %q", m.ID, name, got, want)
		}
	}

	numbers := map[string]*float64{
		"latency_per_seq_s": &m.LatencyPerSeqS, "energy_per_seq_j": m.EnergyPerSeqJ,
		"net_energy_per_seq_j": m.NetEnergyPerSeqJ, "peak_power_w": m.PeakPowerW, "idle_power_w": m.IdlePowerW,
	}
	for name, want := range numbers {
		cell := row[column(t, header, name)]
		if want == nil {
			if cell != "" {
				t.Errorf("row %s: %s = %q, want an empty cell for an unknown figure", m.ID, name, cell)
			}
			continue
		}
		got, err := strconv.ParseFloat(cell, 64)
		if err != nil || got != *want {
			t.Errorf("row %s: %s = %q, want %v exactly", m.ID, name, cell, *want)
		}
	}

	var a arch.Architecture
	if err := json.Unmarshal([]byte(row[column(t, header, "arch")]), &a); err != nil {
		t.Errorf("row %s: arch column does not decode: %v", m.ID, err)
	} else if arch.Default().ID(a) != m.ArchID {
		t.Errorf("row %s: arch column decodes to id %s, want %s", m.ID, arch.Default().ID(a), m.ArchID)
	}
}

func TestCSVPowerBasisLabelsEstimates(t *testing.T) {
	src := newTestSource(t)
	tests := map[string]string{"job-x86-1#1": "measured", "job-pi-1#1": "estimated", src.records[3].ID: "imported"}
	var b strings.Builder
	if err := WriteCSV(t.Context(), &b, src, Filter{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	basis := column(t, rows[0], "power_basis")
	for _, row := range rows[1:] {
		if want, ok := tests[row[0]]; ok && row[basis] != want {
			t.Errorf("row %s: power_basis = %q, want %q", row[0], row[basis], want)
		}
	}
}

// shrinkingSource reports more rows than it returns, as a store does when
// records are deleted during an export.
type shrinkingSource struct{ fakeSource }

func (s *shrinkingSource) Measurements(_ context.Context, f Filter) ([]measure.Measurement, int, error) {
	rows, _, err := s.fakeSource.Measurements(context.Background(), f)
	return rows, 10_000, err
}

func TestCSVStopsOnShortPage(t *testing.T) {
	src := &shrinkingSource{fakeSource{records: liveRecords()}}
	var b strings.Builder
	if err := WriteCSV(t.Context(), &b, src, Filter{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+3 {
		t.Errorf("CSV has %d lines, want a header and 3 rows", len(rows))
	}
}
