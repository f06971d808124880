package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/edgetran/edgetran/shared/measure"
)

// ReportView is everything the offline report shows. The collector fills
// it, usually through BuildReport.
type ReportView struct {
	Title       string    // empty means "EdgeTran report"
	GeneratedAt time.Time // zero means the time WriteReport runs
	Devices     []Device
	Targets     []TargetSummary
	// Measurements are the rows of the measurements table.
	Measurements []measure.Measurement
	// TotalMeasurements is the number of records in the store. The table
	// caption shows it, so a reader sees when Measurements is a part.
	TotalMeasurements int
	// Details are records shown in full, with their power trace and
	// per-iteration latency plots.
	Details    []measure.Measurement
	Surrogates []SurrogateView
	CoDesign   *CoDesignView
}

// ReportOptions bounds what BuildReport copies from a source. The zero
// value is valid.
type ReportOptions struct {
	Title string
	Now   func() time.Time // nil means time.Now
	// MaxRows is the number of measurement table rows, newest first; 0
	// means 200.
	MaxRows int
	// MaxDetails is the number of records shown in full, at most one per
	// target; 0 means 8.
	MaxDetails int
}

// BuildReport reads a report's content from src: all devices, targets,
// surrogates and the latest co-design run, the newest MaxRows
// measurements, and per target the newest non-imported record in full.
func BuildReport(ctx context.Context, src Source, opt ReportOptions) (ReportView, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxRows <= 0 {
		opt.MaxRows = 200
	}
	if opt.MaxDetails <= 0 {
		opt.MaxDetails = 8
	}
	v := ReportView{Title: opt.Title, GeneratedAt: opt.Now()}
	var err error
	if v.Devices, err = src.Devices(ctx); err != nil {
		return v, fmt.Errorf("report: list devices: %w", err)
	}
	if v.Targets, err = src.Targets(ctx); err != nil {
		return v, fmt.Errorf("report: list targets: %w", err)
	}
	if v.Measurements, v.TotalMeasurements, err = src.Measurements(ctx, Filter{Limit: opt.MaxRows}); err != nil {
		return v, fmt.Errorf("report: list measurements: %w", err)
	}
	if v.Surrogates, err = src.Surrogates(ctx); err != nil {
		return v, fmt.Errorf("report: list surrogates: %w", err)
	}
	if v.CoDesign, err = src.CoDesign(ctx); err != nil {
		return v, fmt.Errorf("report: read co-design result: %w", err)
	}

	for _, t := range v.Targets {
		if len(v.Details) == opt.MaxDetails {
			break
		}
		if t.Measured+t.Estimated == 0 {
			continue // imported records have no trace to show
		}
		m, err := newestOwnRecord(ctx, src, t.Target)
		if err != nil {
			return v, fmt.Errorf("report: %w", err)
		}
		if m != nil {
			v.Details = append(v.Details, *m)
		}
	}
	return v, nil
}

// newestOwnRecord returns the newest measured or estimated record of t in
// full, or nil when the first page of t holds none.
func newestOwnRecord(ctx context.Context, src Source, t measure.Target) (*measure.Measurement, error) {
	for _, p := range []measure.Provenance{measure.Measured, measure.Estimated} {
		rows, _, err := src.Measurements(ctx, Filter{Target: t.Key(), Provenance: p, Limit: 1})
		if err != nil {
			return nil, fmt.Errorf("list %s measurements of %s: %w", p, t.Key(), err)
		}
		if len(rows) == 0 {
			continue
		}
		m, err := src.Measurement(ctx, rows[0].ID)
		if errors.Is(err, ErrNotFound) {
			continue // deleted between the two calls
		}
		if err != nil {
			return nil, fmt.Errorf("read measurement %q: %w", rows[0].ID, err)
		}
		return &m, nil
	}
	return nil, nil
}

// WriteReport writes view as one self-contained HTML file: styles and SVG
// plots are inline, and nothing refers to a script, font or network
// resource, so the file opens offline.
func WriteReport(w io.Writer, view ReportView) error {
	t, err := parseTemplates()
	if err != nil {
		return err
	}
	return writeReport(w, t, view)
}

func writeReport(w io.Writer, t *templates, view ReportView) error {
	if view.Title == "" {
		view.Title = "EdgeTran report"
	}
	if view.GeneratedAt.IsZero() {
		view.GeneratedAt = time.Now()
	}

	details := make([]detailView, len(view.Details))
	anchors := make(map[string]string, len(view.Details))
	for i := range view.Details {
		details[i] = detail(&view.Details[i])
		anchors[view.Details[i].ID] = "#" + details[i].Anchor
	}
	errs := surrogateErrors(view.Surrogates)
	co := codesign(view.CoDesign)

	caption := fmt.Sprintf("Newest %d of %d measurements", len(view.Measurements), max(view.TotalMeasurements, len(view.Measurements)))
	data := struct {
		Title, GeneratedAt string
		CSS                template.CSS
		Summary            reportSummary
		Devices            []deviceRow
		Targets            []targetRow
		Table              any
		Details            []detailView
		Cards              []surrogateCard
		CoDesign           *codesignView
	}{
		Title:       view.Title,
		GeneratedAt: view.GeneratedAt.UTC().Format("2006-01-02 15:04:05"),
		CSS:         t.css,
		Summary:     summarise(view, errs, co),
		Devices:     deviceRows(view.Devices, view.GeneratedAt),
		Targets:     targetRows(view.Targets, errs, nil),
		Table:       tableData(caption, measurementRows(view.Measurements, func(id string) string { return anchors[id] })),
		Details:     details,
		Cards:       surrogateCards(view.Surrogates),
		CoDesign:    co,
	}

	var buf bytes.Buffer
	if err := t.report.ExecuteTemplate(&buf, "report", data); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// reportSummary is the header of the report.
type reportSummary struct {
	Targets      []targetRow
	Best         *bestView
	AccuracyNote string
	NotMeasured  []string // one sentence per kind of figure that was not measured
}

func summarise(view ReportView, errs map[string][]string, co *codesignView) reportSummary {
	s := reportSummary{Targets: targetRows(view.Targets, errs, nil)}
	for _, t := range view.Targets {
		if t.Estimated > 0 {
			meter := ""
			if t.MeterEstimated && t.Meter != "" {
				meter = fmt.Sprintf(" by a power model (meter %s)", t.Meter)
			}
			s.NotMeasured = append(s.NotMeasured, fmt.Sprintf("Power and energy of %d measurements on %s are estimated%s, not measured; their latency is measured.", t.Estimated, t.Target.Key(), meter))
		}
		if t.Imported > 0 {
			s.NotMeasured = append(s.NotMeasured, fmt.Sprintf("%d measurements on %s are imported from a published dataset, not measured by EdgeTran.", t.Imported, t.Target.Key()))
		}
	}
	if n := len(view.Surrogates); n > 0 {
		s.NotMeasured = append(s.NotMeasured, fmt.Sprintf("The predicted side of all %d surrogate parity plots comes from surrogate models.", n))
	}
	if co != nil {
		s.Best = co.Best
		s.AccuracyNote = co.AccuracyNote
		if co.Predicted {
			s.NotMeasured = append(s.NotMeasured, "Co-design objectives were scored by surrogates, so they are predicted.")
		}
		if co.Best != nil {
			for _, f := range co.Best.Figures {
				if l := f.Basis.label(); l != "" {
					s.NotMeasured = append(s.NotMeasured, fmt.Sprintf("Best pair: %s: %s.", f.Name, l))
				}
			}
		}
	}
	if view.CoDesign != nil {
		seen := map[string]bool{}
		for _, f := range view.CoDesign.Fronts {
			for _, b := range []struct {
				name  string
				basis Basis
			}{{f.AccuracyName, f.AccuracyBasis}, {f.Measure.Label(), f.ValueBasis}} {
				line := fmt.Sprintf("Pareto fronts: %s: %s.", b.name, b.basis.label())
				if b.basis.label() != "" && b.name != "" && !seen[line] {
					seen[line] = true
					s.NotMeasured = append(s.NotMeasured, line)
				}
			}
		}
	}
	return s
}
