package dashboard

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/shared/measure"
)

func TestCSVEscapesFormulaText(t *testing.T) {
	src := &fakeSource{records: liveRecords()}
	m := &src.records[0]
	m.Source = "=SUM(A1:A9)"
	m.Power = &measure.PowerSource{Meter: "@meter", RateHz: 10}
	var b strings.Builder
	if err := WriteCSV(t.Context(), &b, src, Filter{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var row []string
	for _, r := range rows[1:] {
		if r[0] == m.ID {
			row = r
		}
	}
	if row == nil {
		t.Fatalf("no CSV row for %s", m.ID)
	}
	cases := map[string]string{"source": "'" + m.Source, "meter": "'@meter"}
	for name, want := range cases {
		if got := row[column(t, rows[0], name)]; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := row[column(t, rows[0], "latency_per_seq_s")]; strings.HasPrefix(got, "'") {
		t.Errorf("latency_per_seq_s = %q: a number got the text mark", got)
	}
}

func TestTextCellMarksFormulaStarts(t *testing.T) {
	cases := map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@a": "'@a",
		"rapl": "rapl", "": "", "a=b": "a=b",
	}
	for in, want := range cases {
		if got := textCell(in); got != want {
			t.Errorf("textCell(%q) = %q, want %q", in, got, want)
		}
	}
}
