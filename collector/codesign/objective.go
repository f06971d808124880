package codesign

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Measure names one quantity of an architecture × target pair. Accuracy is
// a GLUE score as a fraction in [0, 1]. Latency is in seconds per sequence,
// energy in joules per sequence and peak_power in watts. Params is a
// parameter count and memory is in bytes.
type Measure string

// The measures the objective and the constraints understand.
const (
	Accuracy  Measure = "accuracy"
	Latency   Measure = "latency"
	Energy    Measure = "energy"
	PeakPower Measure = "peak_power"
	Params    Measure = "params"
	Memory    Measure = "memory"
)

// measures lists every Measure in report order.
var measures = []Measure{Accuracy, Latency, Energy, PeakPower, Params, Memory}

// Unit returns the unit of m as written in help text and reports.
func (m Measure) Unit() string {
	switch m {
	case Accuracy:
		return "fraction"
	case Latency:
		return "s/sequence"
	case Energy:
		return "J/sequence"
	case PeakPower:
		return "W"
	case Params:
		return "parameters"
	case Memory:
		return "bytes"
	}
	return "?"
}

// Hardware reports whether m is measured on a target (latency, energy, peak
// power), as opposed to derived from the architecture or its accuracy.
func (m Measure) Hardware() bool { return m == Latency || m == Energy || m == PeakPower }

// ParseMeasure returns the measure named s. It accepts "peak" and "peak-power"
// as spellings of peak_power.
func ParseMeasure(s string) (Measure, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "accuracy", "glue":
		return Accuracy, nil
	case "latency":
		return Latency, nil
	case "energy":
		return Energy, nil
	case "peak_power", "peak-power", "peak":
		return PeakPower, nil
	case "params", "parameters":
		return Params, nil
	case "memory":
		return Memory, nil
	}
	return "", fmt.Errorf("unknown measure %q: want one of accuracy, latency, energy, peak_power, params, memory", s)
}

// Objective is a weighted sum to minimise,
//
//	objective = w_accuracy·(1 − accuracy) + Σ_m w_m·value_m / normaliser_m
//
// over the measures m with a non-zero weight. With weights summing to 1 it
// equals the EdgeTran paper's form 1 − [w_a·glue + Σ w_m·(1 − value_m/norm_m)].
// Accuracy needs no normaliser; every other weighted measure needs a
// positive one in the measure's unit.
type Objective struct {
	Weights     map[Measure]float64 `json:"weights"`
	Normalisers map[Measure]float64 `json:"normalisers"`
}

// DefaultObjective returns the EdgeTran paper's objective: weights 0.5 for
// accuracy, 0.2 for latency, 0.2 for energy and 0.1 for peak power, with
// latency normalised by 1000 s, energy by 2000 J and peak power by 300 W.
func DefaultObjective() Objective {
	return Objective{
		Weights:     map[Measure]float64{Accuracy: 0.5, Latency: 0.2, Energy: 0.2, PeakPower: 0.1},
		Normalisers: map[Measure]float64{Latency: 1000, Energy: 2000, PeakPower: 300},
	}
}

// Terms returns the measures with a non-zero weight, in report order.
func (o Objective) Terms() []Measure {
	var out []Measure
	for _, m := range measures {
		if o.Weights[m] != 0 {
			out = append(out, m)
		}
	}
	return out
}

// Validate checks that every weight is finite and non-negative, at least one
// is positive, and every weighted measure other than accuracy has a positive
// finite normaliser.
func (o Objective) Validate() error {
	positive := false
	for _, m := range sortedKeys(o.Weights) {
		w := o.Weights[m]
		if _, err := ParseMeasure(string(m)); err != nil {
			return fmt.Errorf("weight for %w", err)
		}
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return fmt.Errorf("weight %s=%v: must be a finite number ≥ 0", m, w)
		}
		if w == 0 {
			continue
		}
		positive = true
		if m == Accuracy {
			continue
		}
		n, ok := o.Normalisers[m]
		if !ok {
			return fmt.Errorf("weight %s=%v has no normaliser: add %s=<value in %s> to the normalisers", m, w, m, m.Unit())
		}
		if math.IsNaN(n) || math.IsInf(n, 0) || n <= 0 {
			return fmt.Errorf("normaliser %s=%v: must be a positive finite number in %s", m, n, m.Unit())
		}
	}
	if !positive {
		return fmt.Errorf("objective has no positive weight: give at least one of accuracy, latency, energy, peak_power, params, memory a weight > 0")
	}
	return nil
}

// WithoutAccuracy returns a copy of o without the accuracy weight. The other
// weights keep their values, so objective values stay comparable term by
// term but are no longer on the paper's scale.
func (o Objective) WithoutAccuracy() Objective {
	c := Objective{Weights: map[Measure]float64{}, Normalisers: map[Measure]float64{}}
	for m, w := range o.Weights {
		if m != Accuracy {
			c.Weights[m] = w
		}
	}
	for m, n := range o.Normalisers {
		c.Normalisers[m] = n
	}
	return c
}

// Value returns the objective of the given values (means) and an error
// naming the first weighted measure that values lacks.
func (o Objective) Value(values map[Measure]float64) (float64, error) {
	total := 0.0
	for _, m := range o.Terms() {
		v, ok := values[m]
		if !ok {
			return 0, fmt.Errorf("objective needs %s, which is unknown for this pair", m)
		}
		if m == Accuracy {
			total += o.Weights[m] * (1 - v)
			continue
		}
		total += o.Weights[m] * v / o.Normalisers[m]
	}
	return total, nil
}

// Std returns the standard deviation of the objective implied by the
// standard deviations of its terms, treating the terms as independent.
func (o Objective) Std(stds map[Measure]float64) float64 {
	variance := 0.0
	for _, m := range o.Terms() {
		s := stds[m]
		if m != Accuracy {
			s /= o.Normalisers[m]
		}
		s *= o.Weights[m]
		variance += s * s
	}
	return math.Sqrt(variance)
}

// String returns o in the flag syntax, e.g.
// "accuracy=0.5,latency=0.2 / latency=1000".
func (o Objective) String() string {
	return formatPairs(o.Weights) + " / " + formatPairs(o.Normalisers)
}

// ParseWeights parses "measure=value,measure=value" as given to --weights.
// Measures left out get weight 0.
func ParseWeights(s string) (map[Measure]float64, error) {
	return parsePairs("weights", s)
}

// ParseNormalisers parses "measure=value,..." as given to --normalisers;
// values are in the measure's unit (latency s, energy J, peak_power W,
// params count, memory bytes).
func ParseNormalisers(s string) (map[Measure]float64, error) {
	return parsePairs("normalisers", s)
}

func parsePairs(what, s string) (map[Measure]float64, error) {
	out := map[Measure]float64{}
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("%s %q: empty list; want measure=value pairs separated by commas, e.g. latency=0.2,energy=0.2", what, s)
	}
	for _, part := range strings.Split(s, ",") {
		name, raw, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%s %q: item %q has no '=': want measure=value", what, s, part)
		}
		m, err := ParseMeasure(name)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", what, s, err)
		}
		if _, dup := out[m]; dup {
			return nil, fmt.Errorf("%s %q: %s is given twice", what, s, m)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fmt.Errorf("%s %q: value %q for %s is not a finite number ≥ 0", what, s, raw, m)
		}
		out[m] = v
	}
	return out, nil
}

func formatPairs(p map[Measure]float64) string {
	parts := make([]string, 0, len(p))
	for _, m := range sortedKeys(p) {
		parts = append(parts, string(m)+"="+strconv.FormatFloat(p[m], 'g', -1, 64))
	}
	return strings.Join(parts, ",")
}

// sortedKeys returns the keys of p in report order, unknown names last in
// alphabetical order.
func sortedKeys(p map[Measure]float64) []Measure {
	keys := make([]Measure, 0, len(p))
	for m := range p {
		keys = append(keys, m)
	}
	rank := func(m Measure) int {
		if i := slices.Index(measures, m); i >= 0 {
			return i
		}
		return len(measures)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	return keys
}
