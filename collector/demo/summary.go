package demo

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/edgetran/edgetran/collector/codesign"
	"github.com/edgetran/edgetran/collector/view"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// Summary is the outcome of a demo run. Its JSON form has the keys
// targets, best, estimated, report, host_target, jobs_done, host_status,
// host_stop_reason, objective and notes.
type Summary struct {
	Targets []TargetSummary `json:"targets"`
	// Best is nil when no pair was found.
	Best *BestPair `json:"best"`
	// Estimated is true when any stored power or energy figure comes from
	// a power model instead of a sensor.
	Estimated bool   `json:"estimated"`
	Report    string `json:"report"` // path of the HTML report
	// HostTarget is the key of the target profiled on this host, and
	// JobsDone the number of its jobs that returned a measurement.
	HostTarget string `json:"host_target"`
	JobsDone   int    `json:"jobs_done"`
	// HostStatus is the final status of the campaign on this host
	// (converged, budget or exhausted), and HostStopReason its explanation
	// with the figures.
	HostStatus     string `json:"host_status"`
	HostStopReason string `json:"host_stop_reason"`
	// Objective is the co-design objective in codesign's flag syntax,
	// weights then normalisers, e.g. "accuracy=0.5,latency=0.2 /
	// latency=1000".
	Objective string   `json:"objective"`
	Notes     []string `json:"notes"`

	objective codesign.Objective
}

// TargetSummary is one target with its measurement count and the
// cross-validated error of its latency surrogate.
type TargetSummary struct {
	Name         string `json:"name"`            // target key
	Alias        string `json:"alias,omitempty"` // published device name or "this host"
	Measurements int    `json:"measurements"`
	// Provenance of the records: measured, estimated (latency measured,
	// power modelled) or imported.
	Provenance string `json:"provenance"`
	// LatencyWithin10 is the share of cross-validated latency predictions
	// within ±10% of the measured value. LatencyMAPE is their mean absolute
	// percentage error, in percent. Both are absent without a surrogate.
	LatencyWithin10 *float64 `json:"latency_within10,omitempty"`
	LatencyMAPE     *float64 `json:"latency_mape,omitempty"`
}

// BestPair is the pair the co-design search chose. Every measure in
// Predicted is a surrogate prediction, mean and standard deviation.
type BestPair struct {
	ArchID       string                                 `json:"arch_id"`
	Architecture arch.Architecture                      `json:"architecture"`
	Target       string                                 `json:"target"`
	Alias        string                                 `json:"alias,omitempty"`
	Strategy     string                                 `json:"strategy"`
	Objective    float64                                `json:"objective"`
	Predicted    map[codesign.Measure]codesign.Estimate `json:"predicted"`
}

func (d *Demo) summarise(ctx context.Context, data codesign.Data, fits []view.Fit, rep *codesign.Report, host profileOutcome, reportPath string) (*Summary, error) {
	counts, err := d.collector.Store().Targets(ctx)
	if err != nil {
		return nil, err
	}
	provenance := map[string]map[measure.Provenance]bool{}
	s := &Summary{
		Report: reportPath, HostTarget: d.HostTarget().Key(), JobsDone: host.jobsDone,
		HostStatus: string(host.status), HostStopReason: host.reason,
		Objective: rep.Objective.String(), objective: rep.Objective, Notes: []string{},
	}
	for _, m := range data.Measurements {
		k := m.Target.Key()
		if provenance[k] == nil {
			provenance[k] = map[measure.Provenance]bool{}
		}
		provenance[k][m.Provenance] = true
		s.Estimated = s.Estimated || m.Provenance == measure.Estimated
	}
	for _, c := range counts {
		t := TargetSummary{Name: c.Key, Alias: data.Aliases[c.Key], Measurements: c.Measurements, Provenance: provenanceText(provenance[c.Key])}
		for _, f := range fits {
			if f.View.Target.Key() == c.Key && f.View.Measure == "latency_per_seq_s" {
				w, m := f.Scores.Within10, f.Scores.MAPE
				t.LatencyWithin10, t.LatencyMAPE = &w, &m
			}
		}
		s.Targets = append(s.Targets, t)
	}
	if b := rep.Best; b != nil {
		s.Best = &BestPair{ArchID: b.ArchID, Architecture: b.Arch, Target: b.Target, Alias: data.Aliases[b.Target], Strategy: b.Strategy, Objective: b.Objective, Predicted: b.Measures}
	}

	if s.Estimated {
		s.Notes = append(s.Notes, fmt.Sprintf("this host has no power sensor: its energy and peak power are estimated from CPU utilisation between %g W idle and %g W maximum (a model, not a measurement); its latency is measured", d.opt.EstimateIdleW, d.opt.EstimateMaxW))
	}
	s.Notes = append(s.Notes, "every co-design figure is a surrogate prediction, not a measurement")
	if rep.AccuracyUsed {
		s.Notes = append(s.Notes, "accuracy comes from a surrogate fitted on the imported GLUE scores, which are themselves mostly the dataset authors' predictions: only a few architectures were really fine-tuned")
	}
	s.Notes = append(s.Notes, rep.Notes...)
	return s, nil
}

func provenanceText(p map[measure.Provenance]bool) string {
	var parts []string
	for _, v := range []measure.Provenance{measure.Measured, measure.Estimated, measure.Imported} {
		if p[v] {
			parts = append(parts, string(v))
		}
	}
	return strings.Join(parts, "+")
}

// WriteText prints the summary for a reader: targets, the best pair and
// what was estimated or predicted.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Targets (%d):\n", len(s.Targets))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  target\tname\tmeasurements\tsource\tlatency surrogate (%s model, 5-fold CV)\n", SurrogateModel)
	for _, t := range s.Targets {
		fit := "none (too few records)"
		if t.LatencyWithin10 != nil {
			fit = fmt.Sprintf("%.0f%% within ±10%%, MAPE %.1f%%", 100**t.LatencyWithin10, *t.LatencyMAPE)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", t.Name, t.Alias, t.Measurements, t.Provenance, fit)
	}
	tw.Flush()
	fmt.Fprintf(&b, "This host: %d profiling jobs returned a measurement (target %s).\n", s.JobsDone, s.HostTarget)
	if s.HostStopReason != "" {
		fmt.Fprintf(&b, "Profiling stopped (%s): %s.\n", s.HostStatus, s.HostStopReason)
	}
	if terms := objectiveText(s.objective); terms != "" {
		fmt.Fprintf(&b, "Objective, minimised: %s; set another with codesign --weights, --normalisers and --constraint.\n", terms)
	}

	if s.Best == nil {
		b.WriteString("Best pair: none found.\n")
	} else {
		p := s.Best
		name := p.Target
		if p.Alias != "" {
			name += " (" + p.Alias + ")"
		}
		fmt.Fprintf(&b, "Best pair (by %s, objective %.4g, lower is better): architecture %s on %s\n", p.Strategy, p.Objective, p.ArchID, name)
		for _, m := range []codesign.Measure{codesign.Accuracy, codesign.Latency, codesign.Energy, codesign.PeakPower, codesign.Params} {
			if e, ok := p.Predicted[m]; ok {
				fmt.Fprintf(&b, "  %-10s %s\n", m, estimateText(m, e))
			}
		}
	}
	b.WriteString("What is not measured:\n")
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "  - %s\n", n)
	}
	fmt.Fprintf(&b, "Report: %s\n", s.Report)
	_, err := io.WriteString(w, b.String())
	return err
}

// negligibleStd is the relative standard deviation below which a figure is
// printed without "±": such a spread is floating-point rounding, e.g. of a
// surrogate fitted on identical values.
const negligibleStd = 1e-6

// estimateText formats a predicted measure as "mean ± std unit", or as
// "mean unit" when the value is exact: params is counted from the
// architecture, and a spread below negligibleStd of the mean is rounding.
func estimateText(m codesign.Measure, e codesign.Estimate) string {
	if m == codesign.Params || e.Std <= negligibleStd*math.Abs(e.Mean) {
		return fmt.Sprintf("%.4g %s", e.Mean, m.Unit())
	}
	return fmt.Sprintf("%.4g ± %.2g %s", e.Mean, e.Std, m.Unit())
}

// objectiveText writes o as a sum of its weighted terms, e.g.
// "0.5·(1 − accuracy) + 0.2·latency/(1000 s/sequence)".
func objectiveText(o codesign.Objective) string {
	var terms []string
	for _, m := range o.Terms() {
		if m == codesign.Accuracy {
			terms = append(terms, fmt.Sprintf("%g·(1 − %s)", o.Weights[m], m))
			continue
		}
		terms = append(terms, fmt.Sprintf("%g·%s/(%g %s)", o.Weights[m], m, o.Normalisers[m], m.Unit()))
	}
	return strings.Join(terms, " + ")
}
