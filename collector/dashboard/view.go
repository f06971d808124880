package dashboard

import (
	"context"
	"errors"
	"time"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// ErrNotFound is returned, possibly wrapped, by Source.Measurement when no
// measurement has the requested id. The dashboard then responds with 404.
var ErrNotFound = errors.New("not found")

// Source is the read-only data access of the dashboard. The collector
// implements it over its store, surrogates and co-design results. Methods
// must be safe for concurrent use. The dashboard never writes through them.
type Source interface {
	// Devices returns every known device, in display order.
	Devices(ctx context.Context) ([]Device, error)
	// Targets returns every target with at least one measurement.
	Targets(ctx context.Context) ([]TargetSummary, error)
	// Measurements returns the page of records matching f, newest first,
	// and the number of records matching f across all pages.
	Measurements(ctx context.Context, f Filter) (rows []measure.Measurement, total int, err error)
	// Measurement returns one record with its trace and per-iteration
	// latencies, or an error wrapping ErrNotFound.
	Measurement(ctx context.Context, id string) (measure.Measurement, error)
	// Surrogates returns the held-out parity points of every fitted
	// surrogate, one view per target and measure.
	Surrogates(ctx context.Context) ([]SurrogateView, error)
	// CoDesign returns the latest co-design result, or nil when none ran.
	CoDesign(ctx context.Context) (*CoDesignView, error)
}

// Filter selects measurements. Empty fields match everything.
type Filter struct {
	Device     string             // device id
	Target     string             // measure.Target.Key
	ArchID     string             // arch.Space.ID
	Provenance measure.Provenance // measured, estimated or imported
	Offset     int                // records to skip
	Limit      int                // maximum records to return; 0 means no limit
}

// Device is one agent as recorded by the collector.
type Device struct {
	ID string
	// Announce is the latest announcement, nil when the agent never sent one
	// (for example a device known only from imported data).
	Announce *wire.Announce
	// LastHeartbeat is the latest heartbeat, nil when none arrived.
	LastHeartbeat *wire.Heartbeat
	// HeartbeatAt is when the collector received LastHeartbeat, on the
	// collector's clock. Zero means unknown; the dashboard then falls back
	// to the heartbeat's own SentAt.
	HeartbeatAt time.Time
}

// TargetSummary counts the measurements of one target.
type TargetSummary struct {
	Target    measure.Target
	Measured  int // records with measured power
	Estimated int // records whose power and energy come from a model
	Imported  int // records copied from a published dataset
	// Meter names the power meter of the latest measurement; empty for
	// imported-only targets.
	Meter          string
	MeterEstimated bool      // the meter is a model, not a sensor
	LastMeasuredAt time.Time // zero when unknown
}

// Total returns the number of measurements of the target.
func (t TargetSummary) Total() int { return t.Measured + t.Estimated + t.Imported }

// Basis is the origin of a number shown by the dashboard.
type Basis string

// Bases of a figure. Only Measured is shown without a label. The zero
// value, Unknown, means the producer left the basis empty. Such a figure is
// labelled "basis unknown" and never shown as measured.
const (
	Unknown   Basis = ""
	Measured  Basis = "measured"  // measured on the device by EdgeTran
	Estimated Basis = "estimated" // from a power model because the device has no meter
	Predicted Basis = "predicted" // from a surrogate model
	Imported  Basis = "imported"  // copied from a published dataset

	notApplicable Basis = "n/a" // for rows that are no measure, such as a parameter count
)

// label returns the text shown beside a figure of basis b: "" for
// measured figures, "basis unknown" for Unknown, else the basis itself.
func (b Basis) label() string {
	switch b {
	case Measured, notApplicable:
		return ""
	case Unknown:
		return "basis unknown"
	}
	return string(b)
}

// BasisOf returns the basis of the power and energy figures of a record.
// Latency is measured for measured and estimated records alike.
func BasisOf(p measure.Provenance) Basis {
	switch p {
	case measure.Estimated:
		return Estimated
	case measure.Imported:
		return Imported
	default:
		return Measured
	}
}

// Measure names one hardware measure that surrogates predict, by its JSON
// name in measure.Measurement.
type Measure string

// Measures that surrogates and Pareto fronts use.
const (
	Latency   Measure = "latency_per_seq_s"
	Energy    Measure = "energy_per_seq_j"
	PeakPower Measure = "peak_power_w"
)

// Label returns a short human name of m.
func (m Measure) Label() string {
	switch m {
	case Latency:
		return "latency per sequence"
	case Energy:
		return "energy per sequence"
	case PeakPower:
		return "peak power"
	}
	return string(m)
}

// Unit returns the SI unit of m: "s", "J" or "W", or "" when unknown.
func (m Measure) Unit() string {
	switch m {
	case Latency:
		return "s"
	case Energy:
		return "J"
	case PeakPower:
		return "W"
	}
	return ""
}

// SurrogateView is the held-out evaluation of one surrogate: one target,
// one measure.
type SurrogateView struct {
	Target  measure.Target
	Measure Measure
	Model   string // e.g. "gp" or "boosted trees"
	TrainN  int    // training records
	// Points are held-out records: measured value against prediction.
	Points []ParityPoint
	// TargetBasis is the basis of the measured side: Estimated when the
	// surrogate learned from estimated power, Imported for published data.
	TargetBasis Basis
}

// ParityPoint is one held-out record, in the unit of the measure.
type ParityPoint struct {
	ArchID    string
	Measured  float64
	Predicted float64
	Std       float64 // predictive standard deviation; 0 when the model gives none
}

// CoDesignView is one co-design run.
type CoDesignView struct {
	Objective   string // human description of the objective; lower is better
	Constraints []string
	Strategies  []Convergence
	Fronts      []ParetoFront
	Best        *BestPair // nil when no candidate satisfied the constraints
	// AccuracyNote explains a missing accuracy source, for example "no
	// accuracy source configured: the objective uses hardware measures
	// only". Empty when accuracy was available.
	AccuracyNote string
	FinishedAt   time.Time
}

// Convergence is the objective of every evaluation of one search strategy,
// in evaluation order. Lower is better.
type Convergence struct {
	Strategy   string
	Objectives []float64
	Basis      Basis // Predicted when candidates were scored by surrogates
}

// ParetoFront is accuracy against one hardware measure on one target.
type ParetoFront struct {
	Target        measure.Target
	Measure       Measure
	AccuracyName  string // e.g. "GLUE score"
	AccuracyBasis Basis
	ValueBasis    Basis
	// Points are the evaluated candidates; those with OnFront set are
	// non-dominated (higher accuracy, lower value).
	Points []ParetoPoint
}

// ParetoPoint is one candidate architecture of a front.
type ParetoPoint struct {
	ArchID   string
	Accuracy float64
	Value    float64 // in the unit of the measure
	OnFront  bool
}

// BestPair is the architecture and target that a co-design run chose.
type BestPair struct {
	Strategy  string
	ArchID    string
	Arch      arch.Architecture
	Target    measure.Target
	Objective float64
	// Figures are the measures of the pair: accuracy and hardware measures,
	// each with its basis and uncertainty.
	Figures []Figure
}

// Figure is one number with its unit, uncertainty and basis.
type Figure struct {
	Name  string  // e.g. "latency per sequence"
	Unit  string  // SI unit, "" for a fraction or score
	Value float64 // in Unit
	Std   float64 // one standard deviation; 0 when unknown
	Basis Basis
}
