package dashboard

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgetran/edgetran/shared/measure"
)

// csvHeader names the CSV columns. Units are in the names, as in the JSON
// record. The power_basis column records whether energy and power were
// measured, estimated or imported. An unknown figure is an empty cell, never 0.
// A text cell starting with =, +, - or @ gets a leading ' (see textCell).
var csvHeader = []string{
	"id", "arch_id", "device", "target", "provenance", "power_basis",
	"latency_per_seq_s", "latency_mean_s", "latency_p50_s", "latency_p90_s", "latency_p99_s", "latency_std_s", "iterations",
	"energy_per_seq_j", "net_energy_per_seq_j", "peak_power_w", "mean_power_w", "idle_power_w",
	"meter", "meter_rate_hz", "runs", "run_spread", "spread_flagged", "params", "flops",
	"measured_at", "source", "arch",
}

// csvRecord writes m as one CSV row in csvHeader order. Floats use the
// shortest representation that parses back to the same value.
func csvRecord(m *measure.Measurement) ([]string, error) {
	archJSON, err := json.Marshal(m.Arch)
	if err != nil {
		return nil, fmt.Errorf("measurement %q: encode architecture: %w", m.ID, err)
	}
	basis := BasisOf(m.Provenance)
	if estimatedPower(m) {
		basis = Estimated
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	opt := func(v *float64) string {
		if v == nil {
			return ""
		}
		return f(*v)
	}

	var mean, p50, p90, p99, std, n string
	if l := m.Latency; l != nil {
		mean, p50, p90, p99, std, n = f(l.Mean), f(l.P50), f(l.P90), f(l.P99), f(l.Std), strconv.Itoa(l.N)
	}
	var meter, rate string
	if p := m.Power; p != nil {
		meter = p.Meter
		if p.RateHz > 0 {
			rate = f(p.RateHz)
		}
	}
	var runs, spread, flagged, params, flops, at string
	if m.Runs > 0 {
		runs, spread, flagged = strconv.Itoa(m.Runs), f(m.RunSpread), strconv.FormatBool(m.SpreadFlagged)
	}
	if m.Params > 0 {
		params = strconv.FormatInt(m.Params, 10)
	}
	if m.FLOPs > 0 {
		flops = f(m.FLOPs)
	}
	if !m.MeasuredAt.IsZero() {
		at = m.MeasuredAt.UTC().Format(time.RFC3339Nano)
	}
	x := textCell
	return []string{
		x(m.ID), x(m.ArchID), x(m.Target.Device), x(m.Target.Key()), x(string(m.Provenance)), string(basis),
		f(m.LatencyPerSeqS), mean, p50, p90, p99, std, n,
		opt(m.EnergyPerSeqJ), opt(m.NetEnergyPerSeqJ), opt(m.PeakPowerW), opt(m.MeanPowerW), opt(m.IdlePowerW),
		x(meter), rate, runs, spread, flagged, params, flops,
		at, x(m.Source), string(archJSON),
	}, nil
}

// textCell returns s with a leading ' when it starts with =, +, - or @, so
// a spreadsheet opening the CSV shows text from a device instead of running
// it as a formula. Number columns never get the mark.
func textCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes every measurement matching f (its Offset and Limit are
// ignored) as CSV with a header row, fetching csvChunk rows at a time so a
// large store is never held in memory at once.
func WriteCSV(ctx context.Context, w io.Writer, src Source, f Filter) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("write CSV header: %w", err)
	}
	f.Offset, f.Limit = 0, csvChunk
	for {
		rows, total, err := src.Measurements(ctx, f)
		if err != nil {
			return fmt.Errorf("list measurements from offset %d: %w", f.Offset, err)
		}
		for i := range rows {
			rec, err := csvRecord(&rows[i])
			if err != nil {
				return err
			}
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("write CSV row %q: %w", rows[i].ID, err)
			}
		}
		f.Offset += len(rows)
		// A short page ends the export even if total is larger, because the
		// store may have shrunk meanwhile and looping on it would never end.
		if len(rows) < f.Limit || f.Offset >= total {
			break
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

func (h *Handler) csv(w http.ResponseWriter, r *http.Request) {
	f, _, err := h.parseFilter(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="measurements.csv"`)
	// Headers are sent with the first rows, so a later failure can only cut
	// the body short. The log line names the request.
	if err := WriteCSV(r.Context(), w, h.src, f); err != nil {
		h.log.Error("CSV download failed", "err", err, "query", r.URL.RawQuery)
	}
}
