package api

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/measure"
)

// MeasurementPage is the body of GET /api/v1/measurements in JSON format.
type MeasurementPage struct {
	Measurements []measure.Measurement `json:"measurements"`
	Next         string                `json:"next,omitempty"` // pass as after= for the next page
}

// Export formats of GET /api/v1/measurements.
const (
	FormatJSON  = "json"  // one page, MeasurementPage
	FormatJSONL = "jsonl" // every matching record, one JSON object per line
	FormatCSV   = "csv"   // every matching record, CSVHeader columns
)

// CSVHeader lists the columns of the CSV export. Empty cells are unknown
// figures, never zeros. A text cell starting with =, +, - or @ gets a
// leading ', so spreadsheets do not run it as a formula.
var CSVHeader = []string{
	"id", "arch_id", "target", "device", "compute_unit", "runtime", "batch", "seq_len", "precision",
	"provenance", "latency_per_seq_s", "energy_per_seq_j", "net_energy_per_seq_j", "peak_power_w",
	"mean_power_w", "idle_power_w", "power_meter", "power_estimated", "params", "flops",
	"job_id", "source", "measured_at", "arch",
}

func (a *API) measurement(w http.ResponseWriter, r *http.Request) {
	m, err := a.opts.Store.Measurement(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (a *API) measurements(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	limit, err := intParam(r, "limit")
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	q := store.Query{Device: params.Get("device"), Target: params.Get("target"), ArchID: params.Get("arch_id"), After: params.Get("after"), Limit: limit}
	format := params.Get("format")
	switch format {
	case "", FormatJSON:
		page, err := a.opts.Store.Measurements(r.Context(), q)
		if err != nil {
			a.storeError(w, r, err)
			return
		}
		if page.Measurements == nil {
			page.Measurements = []measure.Measurement{}
		}
		writeJSON(w, http.StatusOK, MeasurementPage{Measurements: page.Measurements, Next: page.Next})
	case FormatJSONL, FormatCSV:
		a.export(w, r, q, format)
	default:
		writeError(w, http.StatusBadRequest, fmt.Errorf("format %q: want json, jsonl or csv", format))
	}
}

// export streams every record matching q page by page; limit is ignored.
func (a *API) export(w http.ResponseWriter, r *http.Request, q store.Query, format string) {
	q.Limit = store.MaxLimit
	var (
		enc *json.Encoder
		cw  *csv.Writer
	)
	if format == FormatCSV {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		cw = csv.NewWriter(w)
		cw.Write(CSVHeader)
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc = json.NewEncoder(w)
	}
	for {
		page, err := a.opts.Store.Measurements(r.Context(), q)
		if err != nil {
			// The status line is sent; end the body early so the
			// client sees a truncated file, and log why.
			a.log.Error("export measurements", "err", err)
			return
		}
		for _, m := range page.Measurements {
			if cw != nil {
				cw.Write(csvRow(m))
			} else if err := enc.Encode(m); err != nil {
				return
			}
		}
		if cw != nil {
			cw.Flush()
			if cw.Error() != nil {
				return
			}
		}
		if page.Next == "" {
			return
		}
		q.After = page.Next
	}
}

func csvRow(m measure.Measurement) []string {
	archJSON, _ := json.Marshal(m.Arch)
	meter, estimated := "", ""
	if m.Power != nil {
		meter, estimated = m.Power.Meter, strconv.FormatBool(m.Power.Estimated)
	}
	params, flops := "", ""
	if m.Params != 0 {
		params = strconv.FormatInt(m.Params, 10)
	}
	if m.FLOPs != 0 {
		flops = formatFloat(m.FLOPs)
	}
	measuredAt := ""
	if !m.MeasuredAt.IsZero() {
		measuredAt = m.MeasuredAt.UTC().Format(time.RFC3339Nano)
	}
	t := m.Target
	x := textCell
	return []string{
		x(m.ID), x(m.ArchID), x(t.Key()), x(t.Device), x(t.ComputeUnit), x(t.Runtime), strconv.Itoa(t.Batch), strconv.Itoa(t.SeqLen), x(t.Precision),
		x(string(m.Provenance)), formatFloat(m.LatencyPerSeqS), optFloat(m.EnergyPerSeqJ), optFloat(m.NetEnergyPerSeqJ), optFloat(m.PeakPowerW),
		optFloat(m.MeanPowerW), optFloat(m.IdlePowerW), x(meter), estimated, params, flops,
		x(m.JobID), x(m.Source), measuredAt, string(archJSON),
	}
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

// formatFloat writes the shortest decimal that parses back to v exactly.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func optFloat(v *float64) string {
	if v == nil {
		return ""
	}
	return formatFloat(*v)
}
