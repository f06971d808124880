package demo

import (
	"bytes"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/collector/codesign"
)

func TestEstimateTextDropsExactSpread(t *testing.T) {
	tests := []struct {
		name    string
		measure codesign.Measure
		est     codesign.Estimate
		want    string
	}{
		{"rounding spread", codesign.PeakPower, codesign.Estimate{Mean: 65, Std: 8.5e-14}, "65 W"},
		{"params count", codesign.Params, codesign.Estimate{Mean: 7.153e6, Std: 0}, "7.153e+06 parameters"},
		{"params with spread", codesign.Params, codesign.Estimate{Mean: 7.153e6, Std: 12}, "7.153e+06 parameters"},
		{"real spread", codesign.Latency, codesign.Estimate{Mean: 9.26, Std: 0.41}, "9.26 ± 0.41 s/sequence"},
		{"zero mean and spread", codesign.Energy, codesign.Estimate{Mean: 0, Std: 0}, "0 J/sequence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := estimateText(tt.measure, tt.est); got != tt.want {
				t.Errorf("estimateText(%s, %+v) = %q, want %q", tt.measure, tt.est, got, tt.want)
			}
		})
	}
}

func TestObjectiveTextNamesNormalisers(t *testing.T) {
	got := objectiveText(codesign.DefaultObjective())
	want := "0.5·(1 − accuracy) + 0.2·latency/(1000 s/sequence) + 0.2·energy/(2000 J/sequence) + 0.1·peak_power/(300 W)"
	if got != want {
		t.Errorf("objectiveText(default) =\n%q\nwant\n%q", got, want)
	}
}

func TestSummaryTextStatesStopAndObjective(t *testing.T) {
	s := &Summary{
		HostTarget: "host/cpu/builtin/b1/s64/fp32", JobsDone: 33,
		HostStatus: "converged", HostStopReason: "stopping rule held for 10 rounds (normalised test MSE 0.001968, threshold 0.005)",
		objective: codesign.DefaultObjective(), Report: "/tmp/report.html",
	}
	var out bytes.Buffer
	if err := s.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"Profiling stopped (converged): stopping rule held for 10 rounds",
		"Objective, minimised: 0.5·(1 − accuracy) + 0.2·latency/(1000 s/sequence)",
		"codesign --weights, --normalisers and --constraint",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
}

func TestProgressFinishWritesStopReason(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, 40, false)
	p.add(true)
	p.add(false)
	p.finish("stopped (converged): stopping rule held for 10 rounds")

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	want := "profiling this host: 2 of up to 40 architectures measured (1 failed), stopped (converged): stopping rule held for 10 rounds"
	if last != want {
		t.Errorf("last progress line = %q, want %q", last, want)
	}
}
