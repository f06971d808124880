package daemon

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

func TestEncodeResultTrimsLargeParts(t *testing.T) {
	m := &measure.Measurement{ID: "big#1", LatencyPerSeqS: 0.01, IterationsS: make([]float64, 1000)}
	for i := range 40000 {
		m.Trace = append(m.Trace, measure.TracePoint{TS: float64(i) * 0.123456789, W: 12.3456789})
	}
	data, err := encodeResult(wire.Result{ID: "big#1", Kind: wire.ResultMeasurement, Measurement: m})
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > MaxResultBytes {
		t.Fatalf("encoded %d bytes, want at most %d", len(data), MaxResultBytes)
	}
	var got wire.Result
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Measurement.Trace != nil {
		t.Error("trace kept although it made the result too large")
	}
	if len(got.Measurement.IterationsS) != 1000 {
		t.Errorf("kept %d iterations, want all 1000 since dropping the trace was enough", len(got.Measurement.IterationsS))
	}
	if len(m.Trace) != 40000 {
		t.Error("encodeResult modified the caller's measurement")
	}
}

func TestEncodeResultCutsLongError(t *testing.T) {
	res := wire.Result{ID: "e#1", Kind: wire.ResultError, Error: &wire.JobError{Code: "invalid", Message: strings.Repeat("y", 1<<20)}}
	data, err := encodeResult(res)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 8<<10 {
		t.Errorf("encoded %d bytes, want the message cut to about 4 KiB", len(data))
	}
	if !strings.Contains(string(data), "(cut)") {
		t.Error("cut message does not say it was cut")
	}
}
