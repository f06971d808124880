package measure

import (
	"math"
	"strings"
	"testing"
	"time"
)

func validMeasurement() Measurement {
	return Measurement{
		ID:             "job-1#1",
		ArchID:         "0123456789abcdef0123456789abcdef",
		Target:         Target{Device: "rpi5", ComputeUnit: "cpu", Runtime: "builtin", Batch: 1, SeqLen: 128, Precision: "fp32"},
		Provenance:     Measured,
		LatencyPerSeqS: 0.25,
		Latency:        &LatencyStats{Mean: 0.25, P50: 0.24, P90: 0.3, P99: 0.31, Std: 0.02, Min: 0.2, Max: 0.31, N: 10},
		EnergyPerSeqJ:  Float(1.5),
		PeakPowerW:     Float(6.2),
		Power:          &PowerSource{Meter: "rpi5-pmic", RateHz: 1000},
		MeasuredAt:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func TestTargetKeyRoundTrip(t *testing.T) {
	want := Target{Device: "jetson-nano", ComputeUnit: "gpu", Runtime: "pytorch", Batch: 8, SeqLen: 256, Precision: "fp16"}
	key := want.Key()
	if key != "jetson-nano/gpu/pytorch/b8/s256/fp16" {
		t.Fatalf("Key() = %q", key)
	}
	got, err := ParseTargetKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("ParseTargetKey(%q) = %+v, want %+v", key, got, want)
	}
}

func TestParseTargetKeyRejectsMalformed(t *testing.T) {
	for _, key := range []string{
		"",
		"dev/cpu/builtin/b1/s128",
		"dev/cpu/builtin/1/s128/fp32",
		"dev/cpu/builtin/bX/s128/fp32",
		"dev/tpu/builtin/b1/s128/fp32",
		"dev/cpu/builtin/b0/s128/fp32",
		"dev/cpu/builtin/b1/s513/fp32",
	} {
		if _, err := ParseTargetKey(key); err == nil {
			t.Errorf("ParseTargetKey(%q) succeeded, want an error", key)
		}
	}
}

func TestValidateAcceptsCompleteRecord(t *testing.T) {
	m := validMeasurement()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRejectsBadRecords(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Measurement)
		want   string
	}{
		{"missing id", func(m *Measurement) { m.ID = "" }, "id is missing"},
		{"missing arch id", func(m *Measurement) { m.ArchID = "" }, "arch_id is missing"},
		{"unknown provenance", func(m *Measurement) { m.Provenance = "guessed" }, `provenance "guessed"`},
		{"NaN latency", func(m *Measurement) { m.LatencyPerSeqS = math.NaN() }, "latency_per_seq_s = NaN"},
		{"zero latency", func(m *Measurement) { m.LatencyPerSeqS = 0 }, "latency_per_seq_s = 0"},
		{"negative energy", func(m *Measurement) { m.EnergyPerSeqJ = Float(-1) }, "energy_per_seq_j = -1"},
		{"infinite peak", func(m *Measurement) { m.PeakPowerW = Float(math.Inf(1)) }, "peak_power_w = +Inf"},
		{"NaN net energy", func(m *Measurement) { m.NetEnergyPerSeqJ = Float(math.NaN()) }, "net_energy_per_seq_j"},
		{"no timed iterations", func(m *Measurement) { m.Latency.N = 0 }, "latency_s.n = 0"},
		{"negative std", func(m *Measurement) { m.Latency.Std = -0.1 }, "latency_s.std"},
		{"bad device", func(m *Measurement) { m.Target.Device = "a/b" }, `target device "a/b"`},
		{"estimated without label", func(m *Measurement) { m.Provenance = Estimated }, "power.estimated is not set"},
		{"label without provenance", func(m *Measurement) { m.Power.Estimated = true }, "use provenance estimated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validMeasurement()
			lat := *m.Latency
			m.Latency = &lat
			power := *m.Power
			m.Power = &power
			tt.mutate(&m)
			err := m.Validate()
			if err == nil {
				t.Fatalf("Validate succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate error %q does not contain %q", err, tt.want)
			}
		})
	}
}
