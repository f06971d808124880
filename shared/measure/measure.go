// Package measure defines the measurement record that agents publish and the
// collector stores, the profiling target it belongs to, and accuracy records.
// Every quantity names its unit in its Go and JSON name: seconds (_s),
// joules (_j), watts (_w), hertz (_hz), bytes (_bytes).
package measure

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/edgetran/edgetran/shared/arch"
)

// Provenance says where the numbers of a record come from.
type Provenance string

const (
	// Measured: latency and power were measured on the device.
	Measured Provenance = "measured"
	// Estimated: latency was measured, but every power and energy figure
	// comes from a model (no power meter), so it is an estimate.
	Estimated Provenance = "estimated"
	// Imported: copied from a published dataset; not measured by EdgeTran.
	Imported Provenance = "imported"
)

// Target is what a surrogate belongs to: a device, the compute unit and
// runtime on it, and the input shape and precision.
type Target struct {
	Device      string `json:"device"`       // device id, e.g. "a100" or a machine id
	ComputeUnit string `json:"compute_unit"` // "cpu", "gpu" or "npu"
	Runtime     string `json:"runtime"`      // "builtin", "pytorch", "tensorflow-metal", "openvino", ...
	Batch       int    `json:"batch"`        // sequences per iteration
	SeqLen      int    `json:"seq_len"`      // tokens per sequence
	Precision   string `json:"precision"`    // "fp32", "fp16", "int8"
}

// Key returns a stable, human-readable key for t, for example
// "rpi4/cpu/pytorch/b1/s128/fp32". Device ids never contain "/".
func (t Target) Key() string {
	return fmt.Sprintf("%s/%s/%s/b%d/s%d/%s", t.Device, t.ComputeUnit, t.Runtime, t.Batch, t.SeqLen, t.Precision)
}

// ParseTargetKey is the inverse of Target.Key.
func ParseTargetKey(key string) (Target, error) {
	parts := strings.Split(key, "/")
	if len(parts) != 6 || !strings.HasPrefix(parts[3], "b") || !strings.HasPrefix(parts[4], "s") {
		return Target{}, fmt.Errorf("target key %q: want device/unit/runtime/bN/sN/precision", key)
	}
	batch, err1 := strconv.Atoi(parts[3][1:])
	seq, err2 := strconv.Atoi(parts[4][1:])
	if err1 != nil || err2 != nil {
		return Target{}, fmt.Errorf("target key %q: batch and sequence length must be integers", key)
	}
	t := Target{Device: parts[0], ComputeUnit: parts[1], Runtime: parts[2], Batch: batch, SeqLen: seq, Precision: parts[5]}
	return t, t.Validate()
}

// Validate checks that every field of t is set and sane.
func (t Target) Validate() error {
	var errs []error
	if t.Device == "" || strings.ContainsAny(t.Device, "/ .*>") {
		errs = append(errs, fmt.Errorf("target device %q: must be non-empty without '/', ' ', '.', '*' or '>'", t.Device))
	}
	switch t.ComputeUnit {
	case "cpu", "gpu", "npu":
	default:
		errs = append(errs, fmt.Errorf("target compute unit %q: want cpu, gpu or npu", t.ComputeUnit))
	}
	if t.Runtime == "" || strings.Contains(t.Runtime, "/") {
		errs = append(errs, fmt.Errorf("target runtime %q: must be non-empty without '/'", t.Runtime))
	}
	if t.Batch < 1 {
		errs = append(errs, fmt.Errorf("target batch %d: must be at least 1", t.Batch))
	}
	if t.SeqLen < 1 || t.SeqLen > 512 {
		errs = append(errs, fmt.Errorf("target sequence length %d: must be between 1 and 512", t.SeqLen))
	}
	if t.Precision == "" || strings.Contains(t.Precision, "/") {
		errs = append(errs, fmt.Errorf("target precision %q: must be non-empty without '/'", t.Precision))
	}
	return errors.Join(errs...)
}

// LatencyStats summarises the wall time of timed iterations, in seconds per
// iteration (one iteration processes Target.Batch sequences).
type LatencyStats struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Std  float64 `json:"std"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	N    int     `json:"n"` // timed iterations
}

// PowerSource describes the meter behind the power figures of a record.
type PowerSource struct {
	Meter     string   `json:"meter"`           // meter name, e.g. "rapl", "hwmon", "estimate", "ina219"
	Estimated bool     `json:"estimated"`       // true when the figures come from a model, not a sensor
	RateHz    float64  `json:"rate_hz"`         // achieved sampling rate in the timed window; 0 if unknown
	Rails     []string `json:"rails,omitempty"` // rails summed into the total
	Note      string   `json:"note,omitempty"`  // e.g. "samples missing" or the reason a window was flagged
}

// TracePoint is one power sample of a record's trace: seconds since the start
// of the idle baseline and total power in watts.
type TracePoint struct {
	TS float64 `json:"t_s"`
	W  float64 `json:"w"`
}

// Measurement is one profiled architecture on one target. Energy and power
// pointers are nil when the figure is unknown; a nil is never shown as zero.
type Measurement struct {
	ID         string            `json:"id"`      // stable result id; the store keeps one row per id
	ArchID     string            `json:"arch_id"` // arch.Space.ID of Arch
	Arch       arch.Architecture `json:"arch"`
	Target     Target            `json:"target"`
	Provenance Provenance        `json:"provenance"`

	// LatencyPerSeqS is the mean latency divided by the batch size, in
	// seconds per sequence: the figure surrogates predict.
	LatencyPerSeqS float64       `json:"latency_per_seq_s"`
	Latency        *LatencyStats `json:"latency_s,omitempty"` // per iteration; nil for imported records

	EnergyPerSeqJ    *float64 `json:"energy_per_seq_j,omitempty"`     // gross energy per sequence
	NetEnergyPerSeqJ *float64 `json:"net_energy_per_seq_j,omitempty"` // idle-subtracted energy per sequence
	PeakPowerW       *float64 `json:"peak_power_w,omitempty"`         // maximum sample in the timed window
	MeanPowerW       *float64 `json:"mean_power_w,omitempty"`
	IdlePowerW       *float64 `json:"idle_power_w,omitempty"` // baseline before the timed window

	Power *PowerSource `json:"power,omitempty"`

	Runs          int                `json:"runs,omitempty"`           // repeated timed windows
	RunSpread     float64            `json:"run_spread,omitempty"`     // (max-min)/median of per-run mean latency
	SpreadFlagged bool               `json:"spread_flagged,omitempty"` // RunSpread above the threshold
	Throttled     *bool              `json:"throttled,omitempty"`      // nil when no temperature or clock source exists
	TemperaturesC map[string]float64 `json:"temperatures_c,omitempty"` // maximum per sensor during the run
	IterationsS   []float64          `json:"iterations_s,omitempty"`   // per-iteration latency, at most the first 1000
	Trace         []TracePoint       `json:"trace,omitempty"`          // power trace, at most 2000 points
	WindowStartS  float64            `json:"window_start_s,omitempty"` // timed window in trace time
	WindowEndS    float64            `json:"window_end_s,omitempty"`
	Params        int64              `json:"params,omitempty"` // parameter count
	FLOPs         float64            `json:"flops,omitempty"`  // floating-point operations per iteration (2 per multiply-accumulate)

	JobID        string    `json:"job_id,omitempty"`
	Attempt      int       `json:"attempt,omitempty"`
	AgentVersion string    `json:"agent_version,omitempty"`
	Runtime      string    `json:"runtime_version,omitempty"`
	Source       string    `json:"source,omitempty"` // dataset file and key for imported records
	MeasuredAt   time.Time `json:"measured_at"`
}

// Validate checks that m is complete and its numbers are finite and positive
// where they must be. The collector rejects records that fail it.
func (m *Measurement) Validate() error {
	var errs []error
	if m.ID == "" {
		errs = append(errs, errors.New("id is missing"))
	}
	if m.ArchID == "" {
		errs = append(errs, errors.New("arch_id is missing"))
	}
	switch m.Provenance {
	case Measured, Estimated, Imported:
	default:
		errs = append(errs, fmt.Errorf("provenance %q: want measured, estimated or imported", m.Provenance))
	}
	if err := m.Target.Validate(); err != nil {
		errs = append(errs, err)
	}
	if !positive(m.LatencyPerSeqS) {
		errs = append(errs, fmt.Errorf("latency_per_seq_s = %v: must be a positive finite number", m.LatencyPerSeqS))
	}
	for name, v := range map[string]*float64{
		"energy_per_seq_j": m.EnergyPerSeqJ, "peak_power_w": m.PeakPowerW,
		"mean_power_w": m.MeanPowerW, "idle_power_w": m.IdlePowerW,
	} {
		if v != nil && !positive(*v) {
			errs = append(errs, fmt.Errorf("%s = %v: must be a positive finite number or absent", name, *v))
		}
	}
	if v := m.NetEnergyPerSeqJ; v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
		errs = append(errs, fmt.Errorf("net_energy_per_seq_j = %v: must be finite or absent", *v))
	}
	if m.Latency != nil {
		l := m.Latency
		for name, v := range map[string]float64{"mean": l.Mean, "p50": l.P50, "p90": l.P90, "p99": l.P99, "min": l.Min, "max": l.Max} {
			if !positive(v) {
				errs = append(errs, fmt.Errorf("latency_s.%s = %v: must be a positive finite number", name, v))
			}
		}
		if math.IsNaN(l.Std) || l.Std < 0 {
			errs = append(errs, fmt.Errorf("latency_s.std = %v: must be a non-negative number", l.Std))
		}
		if l.N < 1 {
			errs = append(errs, fmt.Errorf("latency_s.n = %d: must be at least 1", l.N))
		}
	}
	if m.Provenance == Estimated && (m.Power == nil || !m.Power.Estimated) {
		errs = append(errs, errors.New("provenance is estimated but power.estimated is not set"))
	}
	if m.Power != nil && m.Power.Estimated && m.Provenance == Measured {
		errs = append(errs, errors.New("power.estimated is set but provenance is measured; use provenance estimated"))
	}
	return errors.Join(errs...)
}

func positive(v float64) bool { return v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }

// Accuracy is an accuracy record of one architecture: a GLUE score and/or a
// masked-language-model pre-training loss. Pointers are nil when unknown.
type Accuracy struct {
	ArchID       string            `json:"arch_id"`
	Arch         arch.Architecture `json:"arch"`
	GLUE         *float64          `json:"glue,omitempty"`          // fraction in [0, 1]
	PretrainLoss *float64          `json:"pretrain_loss,omitempty"` // nats per masked token
	// Measured is true when the score comes from real fine-tuning, false when
	// the source itself predicted it (the published data fills most GLUE
	// scores with its authors' surrogate).
	Measured bool   `json:"measured"`
	Source   string `json:"source"`
}

// Float returns a pointer to v, for the optional fields above.
func Float(v float64) *float64 { return &v }
