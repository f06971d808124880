package main

import (
	"testing"

	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/measure"
)

func TestJobResultTextShowsLatency(t *testing.T) {
	measured := &measure.Measurement{Provenance: measure.Measured, LatencyPerSeqS: 0.01234}
	estimated := &measure.Measurement{Provenance: measure.Estimated, LatencyPerSeqS: 9.26}
	tests := []struct {
		name string
		job  store.Job
		m    *measure.Measurement
		want string
	}{
		{"measured power", store.Job{ResultID: "j1#1"}, measured, "0.01234 s/seq"},
		{"estimated power", store.Job{ResultID: "j1#1"}, estimated, "9.26 s/seq (power estimated)"},
		{"failed job", store.Job{Error: "runner crashed"}, nil, "runner crashed"},
		{"result not stored", store.Job{ResultID: "j1#1"}, nil, "result j1#1"},
		{"queued job", store.Job{}, nil, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jobResultText(tt.job, tt.m); got != tt.want {
				t.Errorf("jobResultText = %q, want %q", got, tt.want)
			}
		})
	}
}
