package ingest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/collector/ingest"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/wire"
)

func TestCheckAcceptsValidResult(t *testing.T) {
	r := measurementResult("r#1", "dev1", 0)
	data, _ := json.Marshal(r)
	got, err := ingest.Check(wire.ResultsSubject("dev1"), data, arch.Default())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "r#1" || got.Measurement == nil {
		t.Errorf("Check returned id %q, measurement %v; want r#1 with a measurement", got.ID, got.Measurement)
	}
}

func TestCheckNamesTheProblem(t *testing.T) {
	mismatch := measurementResult("other#1", "dev1", 0)
	mismatch.Measurement.ID = "else#1"
	cases := []struct {
		name    string
		subject string
		data    []byte
		want    string
	}{
		{"foreign subject", "other.results.dev1", []byte(`{}`), "not an edgetran"},
		{"bad JSON", wire.ResultsSubject("dev1"), []byte(`{`), "decode result JSON"},
		{"missing measurement", wire.ResultsSubject("dev1"), []byte(`{"id":"a","kind":"measurement","device":"dev1"}`), "has no measurement"},
		{"id mismatch", wire.ResultsSubject("dev1"), mustJSON(t, mismatch), `measurement id "else#1" differs`},
		{"error without message", wire.ResultsSubject("dev1"), []byte(`{"id":"a","kind":"error","device":"dev1","job_id":"j"}`), "has no error"},
	}
	for _, c := range cases {
		_, err := ingest.Check(c.subject, c.data, arch.Default())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func FuzzCheck(f *testing.F) {
	valid, _ := json.Marshal(measurementResult("r#1", "dev1", 0))
	f.Add(valid)
	f.Add([]byte(`{"id":"e#1","kind":"error","device":"dev1","job_id":"j","error":{"code":"invalid","message":"x"}}`))
	f.Add([]byte(`{"id":"x","kind":"measurement","device":"dev1","measurement":{"id":"x","latency_per_seq_s":1e308}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ingest.Check(wire.ResultsSubject("dev1"), data, arch.Default())
		if err != nil {
			return
		}
		// Whatever Check accepts, the store must accept too.
		if r.Kind == wire.ResultMeasurement {
			if err := r.Measurement.Validate(); err != nil {
				t.Fatalf("Check accepted a measurement that fails Validate: %v", err)
			}
		}
	})
}
