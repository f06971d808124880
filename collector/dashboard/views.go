package dashboard

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// The types below are what the templates render. They hold formatted
// strings, so every unit and basis label is decided here, in Go, where it
// is tested, and the templates only lay them out.

type deviceRow struct {
	ID, Name, Platform string
	State              string // heartbeat state, "" without heartbeat
	Age                string // time since the latest heartbeat, "" without heartbeat
	Stale              bool   // no heartbeat for three intervals
	Meters             []meterView
}

type meterView struct {
	Name      string
	Estimated bool
}

type targetRow struct {
	Key                           string
	Measured, Estimated, Imported int
	Total                         int
	Meter                         string
	MeterEstimated                bool
	Link                          string // filtered measurements, "" in the report
	Errors                        []string
}

type measurementRow struct {
	ID, Link, ArchID, Target string
	Provenance               measure.Provenance
	PowerBasis               Basis
	Latency, Energy, Peak    string
	MeasuredAt               string
}

type valueRow struct {
	Name, Value string
	Basis       Basis
}

type layerRow struct {
	Layer       int
	Hidden      int
	FeedForward string
	Heads       string
}

type detailView struct {
	ID, Anchor  string
	Target      string
	ArchID      string
	Provenance  measure.Provenance
	Estimated   bool
	Meter       string
	Values      []valueRow
	Layers      []layerRow
	Trace       *figureView // nil when the record has no trace
	Iterations  *figureView // nil without per-iteration latencies
	NoTraceNote string
}

type surrogateCard struct {
	Target, Measure, Model string
	TrainN, N              int
	MAPE, Within10         string
	TargetBasis            Basis
	Figure                 figureView
}

type strategyRow struct {
	Strategy    string
	Evaluations int
	Best        string
	ReachedAt   int
}

type codesignView struct {
	Objective    string
	Constraints  []string
	Convergence  *figureView
	Strategies   []strategyRow
	Fronts       []figureView
	Best         *bestView
	AccuracyNote string
	FinishedAt   string
	Predicted    bool // objectives were scored by surrogates
}

type bestView struct {
	Strategy, ArchID, Target, Objective string
	Layers                              []layerRow
	Figures                             []valueRow
}

// staleAfter is the number of heartbeat intervals that may pass before a
// device is shown as stale. defaultInterval replaces a missing interval.
const (
	staleAfter      = 3
	defaultInterval = 30 * time.Second
)

func deviceRows(devices []Device, now time.Time) []deviceRow {
	rows := make([]deviceRow, 0, len(devices))
	for _, d := range devices {
		row := deviceRow{ID: d.ID, Name: d.ID}
		if a := d.Announce; a != nil {
			if a.Name != "" {
				row.Name = a.Name
			}
			row.Platform = strings.Trim(a.OS+"/"+a.Arch, "/")
			if a.Board != "" {
				row.Platform += ", " + a.Board
			}
			for _, m := range a.Meters {
				row.Meters = append(row.Meters, meterView{Name: m.Name, Estimated: m.Estimated})
			}
		}
		if hb := d.LastHeartbeat; hb != nil {
			at := d.HeartbeatAt
			if at.IsZero() {
				at = hb.SentAt
			}
			age := now.Sub(at)
			interval := time.Duration(hb.IntervalS * float64(time.Second))
			if interval <= 0 {
				interval = defaultInterval
			}
			row.State = hb.State
			row.Age = formatAge(age)
			row.Stale = age > staleAfter*interval
		}
		rows = append(rows, row)
	}
	return rows
}

func targetRows(targets []TargetSummary, errs map[string][]string, link func(measure.Target) string) []targetRow {
	rows := make([]targetRow, 0, len(targets))
	for _, t := range targets {
		key := t.Target.Key()
		row := targetRow{
			Key: key, Measured: t.Measured, Estimated: t.Estimated, Imported: t.Imported, Total: t.Total(),
			Meter: t.Meter, MeterEstimated: t.MeterEstimated, Errors: errs[key],
		}
		if link != nil {
			row.Link = link(t.Target)
		}
		rows = append(rows, row)
	}
	return rows
}

// surrogateErrors returns, per target key, one "measure: MAPE" line per
// surrogate, for the target tables.
func surrogateErrors(views []SurrogateView) map[string][]string {
	out := make(map[string][]string)
	for _, s := range views {
		st := s.Stats()
		if st.N == 0 {
			continue
		}
		key := s.Target.Key()
		out[key] = append(out[key], fmt.Sprintf("%s: MAPE %.1f%%, %s within ±10%%", s.Measure.Label(), st.MAPE, formatPercent(st.Within10)))
	}
	return out
}

func measurementRows(ms []measure.Measurement, link func(id string) string) []measurementRow {
	rows := make([]measurementRow, 0, len(ms))
	for i := range ms {
		m := &ms[i]
		basis := BasisOf(m.Provenance)
		if estimatedPower(m) {
			basis = Estimated
		}
		row := measurementRow{
			ID: m.ID, ArchID: m.ArchID, Target: m.Target.Key(), Provenance: m.Provenance, PowerBasis: basis,
			Latency: formatSI(m.LatencyPerSeqS, "s"), Energy: optional(m.EnergyPerSeqJ, "J"), Peak: optional(m.PeakPowerW, "W"),
		}
		if !m.MeasuredAt.IsZero() {
			row.MeasuredAt = m.MeasuredAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		if link != nil {
			row.Link = link(m.ID)
		}
		rows = append(rows, row)
	}
	return rows
}

func optional(v *float64, unit string) string {
	if v == nil {
		return "—"
	}
	return formatSI(*v, unit)
}

// detail builds the view of one measurement. Latency is measured unless the
// record was imported; power and energy carry the record's power basis.
func detail(m *measure.Measurement) detailView {
	powerBasis := BasisOf(m.Provenance)
	if estimatedPower(m) {
		powerBasis = Estimated
	}
	latencyBasis := Measured
	if m.Provenance == measure.Imported {
		latencyBasis = Imported
	}
	v := detailView{
		ID: m.ID, Anchor: anchor(m.ID), Target: m.Target.Key(), ArchID: m.ArchID,
		Provenance: m.Provenance, Estimated: powerBasis == Estimated, Layers: layers(m.Arch),
	}
	if m.Power != nil {
		v.Meter = m.Power.Meter
		if m.Power.RateHz > 0 {
			v.Meter += fmt.Sprintf(" at %.3g Hz", m.Power.RateHz)
		}
		if m.Power.Note != "" {
			v.Meter += "; " + m.Power.Note
		}
	}

	add := func(name, value string, basis Basis) {
		v.Values = append(v.Values, valueRow{Name: name, Value: value, Basis: basis})
	}
	add("latency per sequence", formatSI(m.LatencyPerSeqS, "s"), latencyBasis)
	if l := m.Latency; l != nil {
		add("latency per iteration, mean ± std", formatSI(l.Mean, "s")+" ± "+formatSI(l.Std, "s"), latencyBasis)
		add("latency per iteration, p50 / p90 / p99", formatSI(l.P50, "s")+" / "+formatSI(l.P90, "s")+" / "+formatSI(l.P99, "s"), latencyBasis)
		add("timed iterations", strconv.Itoa(l.N), latencyBasis)
	}
	for _, f := range []struct {
		name, unit string
		v          *float64
	}{
		{"energy per sequence", "J", m.EnergyPerSeqJ},
		{"net energy per sequence (idle subtracted)", "J", m.NetEnergyPerSeqJ},
		{"peak power", "W", m.PeakPowerW},
		{"mean power", "W", m.MeanPowerW},
		{"idle power", "W", m.IdlePowerW},
	} {
		if f.v != nil {
			add(f.name, formatSI(*f.v, f.unit), powerBasis)
		}
	}
	if m.Runs > 0 {
		spread := formatPercent(m.RunSpread)
		if m.SpreadFlagged {
			spread += " (flagged: above the threshold)"
		}
		add("runs, spread of run means", strconv.Itoa(m.Runs)+", "+spread, latencyBasis)
	}
	if m.Throttled != nil {
		add("throttled", strconv.FormatBool(*m.Throttled), Measured)
	}
	if m.Params > 0 {
		add("parameters", strconv.FormatInt(m.Params, 10), notApplicable)
	}
	if m.Source != "" {
		add("source", m.Source, notApplicable)
	}

	if fig, ok := tracePlot(m); ok {
		v.Trace = &fig
	} else {
		v.NoTraceNote = "This record has no power trace"
		switch {
		case m.Provenance == measure.Imported:
			v.NoTraceNote += ": it was imported from a published dataset, which holds summary figures only."
		case m.Power == nil:
			v.NoTraceNote += ": no power meter was used."
		default:
			v.NoTraceNote += "."
		}
	}
	if fig, ok := latencyPlot(m); ok {
		v.Iterations = &fig
	}
	return v
}

// layers lists an architecture layer by layer, for the detail and best-pair
// tables.
func layers(a arch.Architecture) []layerRow {
	rows := make([]layerRow, 0, a.L)
	for i := 0; i < len(a.H); i++ {
		row := layerRow{Layer: i + 1, Hidden: a.H[i]}
		if i < len(a.F) {
			widths := make([]string, len(a.F[i]))
			for j, w := range a.F[i] {
				widths[j] = strconv.Itoa(w)
			}
			row.FeedForward = strings.Join(widths, " → ")
		}
		if i < len(a.O) {
			row.Heads = summariseHeads(a.O[i])
		}
		rows = append(rows, row)
	}
	return rows
}

// summariseHeads counts heads by written form: ["sa_sdp_64", "sa_sdp_64",
// "c_5_64"] becomes "2× sa_sdp_64, 1× c_5_64", in first-seen order.
func summariseHeads(heads []string) string {
	var order []string
	count := map[string]int{}
	for _, h := range heads {
		if count[h] == 0 {
			order = append(order, h)
		}
		count[h]++
	}
	parts := make([]string, len(order))
	for i, h := range order {
		parts[i] = fmt.Sprintf("%d× %s", count[h], h)
	}
	return strings.Join(parts, ", ")
}

func surrogateCards(views []SurrogateView) []surrogateCard {
	sorted := slices.Clone(views)
	slices.SortStableFunc(sorted, func(a, b SurrogateView) int {
		return cmp.Or(cmp.Compare(a.Target.Key(), b.Target.Key()), cmp.Compare(measureRank(a.Measure), measureRank(b.Measure)))
	})
	cards := make([]surrogateCard, 0, len(sorted))
	for _, s := range sorted {
		st := s.Stats()
		card := surrogateCard{
			Target: s.Target.Key(), Measure: s.Measure.Label(), Model: s.Model, TrainN: s.TrainN, N: st.N,
			MAPE: "n/a", Within10: formatPercent(st.Within10), TargetBasis: s.TargetBasis, Figure: parityPlot(s),
		}
		if st.N > 0 {
			card.MAPE = strconv.FormatFloat(st.MAPE, 'f', 1, 64) + "%"
		}
		cards = append(cards, card)
	}
	return cards
}

// measureRank orders measures as the pages list them: latency, energy,
// peak power, then any other.
func measureRank(m Measure) int {
	switch m {
	case Latency:
		return 0
	case Energy:
		return 1
	case PeakPower:
		return 2
	}
	return 3
}

func codesign(c *CoDesignView) *codesignView {
	if c == nil {
		return nil
	}
	v := &codesignView{Objective: c.Objective, Constraints: c.Constraints, AccuracyNote: c.AccuracyNote}
	if !c.FinishedAt.IsZero() {
		v.FinishedAt = c.FinishedAt.UTC().Format("2006-01-02 15:04:05Z")
	}
	if len(c.Strategies) > 0 {
		fig := convergencePlot(c.Strategies)
		v.Convergence = &fig
		v.Predicted = allPredicted(c.Strategies)
	}
	for _, s := range c.Strategies {
		row := strategyRow{Strategy: s.Strategy, Evaluations: len(s.Objectives), Best: "n/a"}
		if best, at, ok := s.Best(); ok {
			row.Best = strconv.FormatFloat(best, 'g', 4, 64)
			row.ReachedAt = at
		}
		v.Strategies = append(v.Strategies, row)
	}
	for _, f := range c.Fronts {
		v.Fronts = append(v.Fronts, paretoPlot(f))
	}
	if b := c.Best; b != nil {
		bv := &bestView{
			Strategy: b.Strategy, ArchID: b.ArchID, Target: b.Target.Key(),
			Objective: strconv.FormatFloat(b.Objective, 'g', 4, 64), Layers: layers(b.Arch),
		}
		if v.Predicted {
			bv.Objective += " (predicted)"
		}
		for _, f := range b.Figures {
			bv.Figures = append(bv.Figures, valueRow{Name: f.Name, Value: formatFigure(f), Basis: f.Basis})
		}
		v.Best = bv
	}
	return v
}

// anchor returns an HTML id for a measurement id, which may contain
// characters such as '#' that are awkward in fragments. Every byte outside
// [A-Za-z0-9_-] becomes ".<hex byte>.", so distinct ids keep distinct
// anchors, invalid UTF-8 included.
func anchor(id string) string {
	var b strings.Builder
	b.WriteString("m-")
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, ".%02x.", c)
		}
	}
	return b.String()
}
