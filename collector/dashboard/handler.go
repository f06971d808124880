package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// Page size limits of the measurements table and the CSV export.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
	csvChunk        = 500 // rows fetched from the source per CSV query
)

// Options configures the dashboard handler. The zero value is valid.
type Options struct {
	// Prefix is the path the handler is mounted at, without a trailing
	// slash, for example "/dashboard". The handler strips it itself and
	// writes it into every link. Empty means the root.
	Prefix string
	// PageSize is the number of table rows per page; 0 means
	// DefaultPageSize.
	PageSize int
	// Now returns the current time, for heartbeat ages; nil means time.Now.
	Now func() time.Time
	// Logger receives source and template errors; nil means slog.Default().
	Logger *slog.Logger
	// ReportTitle is the title of /report.html; empty means "EdgeTran report".
	ReportTitle string
}

// Handler serves the dashboard pages. Create it with New.
type Handler struct {
	src  Source
	opt  Options
	tmpl *templates
	mux  *http.ServeMux
	log  *slog.Logger
}

// New returns the dashboard handler over src. It fails when src is nil,
// when the prefix does not start with '/', or when the embedded templates
// do not parse.
func New(src Source, opt Options) (*Handler, error) {
	if src == nil {
		return nil, errors.New("dashboard: source is nil")
	}
	opt.Prefix = strings.TrimSuffix(opt.Prefix, "/")
	if opt.Prefix != "" && !strings.HasPrefix(opt.Prefix, "/") {
		return nil, fmt.Errorf("dashboard prefix %q: must start with '/'", opt.Prefix)
	}
	if opt.PageSize <= 0 {
		opt.PageSize = DefaultPageSize
	}
	opt.PageSize = min(opt.PageSize, MaxPageSize)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}

	h := &Handler{src: src, opt: opt, tmpl: tmpl, mux: http.NewServeMux(), log: opt.Logger.With("component", "dashboard")}
	h.mux.HandleFunc("GET /{$}", h.overview)
	h.mux.HandleFunc("GET /measurements", h.measurements)
	h.mux.HandleFunc("GET /measurements.csv", h.csv)
	h.mux.HandleFunc("GET /measurements/{id}", h.measurement)
	h.mux.HandleFunc("GET /measurements/{id}/trace.svg", h.traceSVG)
	h.mux.HandleFunc("GET /surrogates", h.surrogates)
	h.mux.HandleFunc("GET /codesign", h.codesign)
	h.mux.HandleFunc("GET /report.html", h.report)
	return h, nil
}

// ServeHTTP strips Options.Prefix and routes the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.opt.Prefix == "" {
		h.mux.ServeHTTP(w, r)
		return
	}
	http.StripPrefix(h.opt.Prefix, h.mux).ServeHTTP(w, r)
}

type navLink struct {
	Href, Label string
	Current     bool
}

// layoutData is the part of every page outside its content: title, style and navigation.
type layoutData struct {
	Title string
	CSS   template.CSS
	Nav   []navLink
	Now   string
}

func (h *Handler) layout(title, current string) layoutData {
	links := []struct{ path, label string }{
		{"/", "Devices and targets"}, {"/measurements", "Measurements"},
		{"/surrogates", "Surrogates"}, {"/codesign", "Co-design"}, {"/report.html", "Report"},
	}
	nav := make([]navLink, len(links))
	for i, l := range links {
		nav[i] = navLink{Href: h.opt.Prefix + l.path, Label: l.label, Current: l.path == current}
	}
	return layoutData{Title: title, CSS: h.tmpl.css, Nav: nav, Now: h.opt.Now().UTC().Format("2006-01-02 15:04:05")}
}

// render executes a page into a buffer first, so a template error becomes
// a 500 instead of half a page.
func (h *Handler) render(w http.ResponseWriter, page string, data any) {
	var buf bytes.Buffer
	if err := h.tmpl.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		h.fail(w, fmt.Errorf("render page %s: %w", page, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	setSecurityHeaders(w)
	_, _ = buf.WriteTo(w)
}

// setSecurityHeaders forbids scripts and every outside resource. The pages
// need none, so an injected tag could not load or run anything.
func setSecurityHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

// fail logs err and responds with status 500 without exposing details of the source.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	h.log.Error("dashboard request failed", "err", err)
	http.Error(w, "internal error: the dashboard could not read its data; see the collector log", http.StatusInternalServerError)
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	devices, err := h.src.Devices(ctx)
	if err != nil {
		h.fail(w, fmt.Errorf("list devices: %w", err))
		return
	}
	targets, err := h.src.Targets(ctx)
	if err != nil {
		h.fail(w, fmt.Errorf("list targets: %w", err))
		return
	}
	surrogates, err := h.src.Surrogates(ctx)
	if err != nil {
		h.fail(w, fmt.Errorf("list surrogates: %w", err))
		return
	}
	h.render(w, "overview", struct {
		layoutData
		Devices []deviceRow
		Targets []targetRow
	}{
		layoutData: h.layout("Devices and targets", "/"),
		Devices:    deviceRows(devices, h.opt.Now()),
		Targets:    targetRows(targets, surrogateErrors(surrogates), h.targetLink),
	})
}

func (h *Handler) targetLink(t measure.Target) string {
	return h.opt.Prefix + "/measurements?" + url.Values{"target": {t.Key()}}.Encode()
}

func (h *Handler) measurementLink(id string) string {
	return h.opt.Prefix + "/measurements/" + url.PathEscape(id)
}

// parseFilter reads the filter and page of the measurements table from the
// query; a bad value is a client error naming the parameter.
func (h *Handler) parseFilter(q url.Values) (f Filter, page int, err error) {
	f = Filter{
		Device: strings.TrimSpace(q.Get("device")), Target: strings.TrimSpace(q.Get("target")),
		ArchID: strings.TrimSpace(q.Get("arch")), Provenance: measure.Provenance(q.Get("provenance")),
		Limit: h.opt.PageSize,
	}

	if f.Device != "" {
		if err := wire.ValidateDeviceID(f.Device); err != nil {
			return f, 0, fmt.Errorf("query parameter device: %w", err)
		}
	}
	if f.Target != "" {
		if _, err := measure.ParseTargetKey(f.Target); err != nil {
			return f, 0, fmt.Errorf("query parameter target: %w", err)
		}
	}
	if len(f.ArchID) > 128 {
		return f, 0, fmt.Errorf("query parameter arch: %d characters, more than 128", len(f.ArchID))
	}
	switch f.Provenance {
	case "", measure.Measured, measure.Estimated, measure.Imported:
	default:
		return f, 0, fmt.Errorf("query parameter provenance %q: want measured, estimated or imported", f.Provenance)
	}

	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			return f, 0, fmt.Errorf("query parameter limit %q: want an integer from 1 to %d", s, MaxPageSize)
		}
		f.Limit = n
	}
	page = 1
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > math.MaxInt32 {
			return f, 0, fmt.Errorf("query parameter page %q: want a positive integer", s)
		}
		page = n
	}
	if page-1 > math.MaxInt32/f.Limit {
		return f, 0, fmt.Errorf("query parameter page %d: too large", page)
	}
	f.Offset = (page - 1) * f.Limit
	return f, page, nil
}

// query writes f back as query parameters, leaving out empty ones.
func (f Filter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"device": f.Device, "target": f.Target, "arch": f.ArchID, "provenance": string(f.Provenance)} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

func (h *Handler) measurements(w http.ResponseWriter, r *http.Request) {
	f, page, err := h.parseFilter(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rows, total, err := h.src.Measurements(r.Context(), f)
	if err != nil {
		h.fail(w, fmt.Errorf("list measurements: %w", err))
		return
	}

	pages := max(1, (total+f.Limit-1)/f.Limit)
	link := func(p int) string {
		q := f.query()
		if f.Limit != h.opt.PageSize {
			q.Set("limit", strconv.Itoa(f.Limit))
		}
		q.Set("page", strconv.Itoa(p))
		return h.opt.Prefix + "/measurements?" + q.Encode()
	}
	data := struct {
		layoutData
		Filter             Filter
		Provenances        []measure.Provenance
		Action, CSVLink    string
		Table              any
		Page, Pages, Total int
		PrevLink, NextLink string
	}{
		layoutData:  h.layout("Measurements", "/measurements"),
		Filter:      f,
		Provenances: []measure.Provenance{measure.Measured, measure.Estimated, measure.Imported},
		Action:      h.opt.Prefix + "/measurements",
		CSVLink:     h.opt.Prefix + "/measurements.csv?" + f.query().Encode(),
		Table:       tableData(fmt.Sprintf("Measurements %d–%d of %d", min(f.Offset+1, total), f.Offset+len(rows), total), measurementRows(rows, h.measurementLink)),
		Page:        page, Pages: pages, Total: total,
	}
	if page > 1 {
		data.PrevLink = link(min(page-1, pages))
	}
	if page < pages {
		data.NextLink = link(page + 1)
	}
	h.render(w, "measurements", data)
}

func tableData(caption string, rows []measurementRow) any {
	return struct {
		Caption string
		Rows    []measurementRow
	}{caption, rows}
}

// lookup fetches one measurement. When it fails, lookup itself responds
// with 404 or 500 and returns ok = false.
func (h *Handler) lookup(ctx context.Context, w http.ResponseWriter, id string) (m measure.Measurement, ok bool) {
	m, err := h.src.Measurement(ctx, id)
	if errors.Is(err, ErrNotFound) {
		http.Error(w, fmt.Sprintf("measurement %q not found; list them at %s/measurements", id, h.opt.Prefix), http.StatusNotFound)
		return m, false
	}
	if err != nil {
		h.fail(w, fmt.Errorf("read measurement %q: %w", id, err))
		return m, false
	}
	return m, true
}

func (h *Handler) measurement(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m, ok := h.lookup(r.Context(), w, id)
	if !ok {
		return
	}
	h.render(w, "measurement", struct {
		layoutData
		Back, TraceSVG string
		Detail         detailView
	}{
		layoutData: h.layout("Measurement", ""),
		Back:       h.opt.Prefix + "/measurements",
		TraceSVG:   h.measurementLink(id) + "/trace.svg",
		Detail:     detail(&m),
	})
}

// traceSVG serves the power trace plot alone, as an SVG document.
func (h *Handler) traceSVG(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m, ok := h.lookup(r.Context(), w, id)
	if !ok {
		return
	}
	fig, ok := tracePlot(&m)
	if !ok {
		http.Error(w, fmt.Sprintf("measurement %q has no power trace", id), http.StatusNotFound)
		return
	}
	if fig.Error != "" {
		h.fail(w, errors.New(fig.Error))
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	setSecurityHeaders(w)
	_, _ = w.Write([]byte(fig.SVG))
}

func (h *Handler) surrogates(w http.ResponseWriter, r *http.Request) {
	views, err := h.src.Surrogates(r.Context())
	if err != nil {
		h.fail(w, fmt.Errorf("list surrogates: %w", err))
		return
	}
	h.render(w, "surrogates", struct {
		layoutData
		Cards []surrogateCard
	}{h.layout("Surrogates", "/surrogates"), surrogateCards(views)})
}

func (h *Handler) codesign(w http.ResponseWriter, r *http.Request) {
	c, err := h.src.CoDesign(r.Context())
	if err != nil {
		h.fail(w, fmt.Errorf("read co-design result: %w", err))
		return
	}
	h.render(w, "codesign", struct {
		layoutData
		CoDesign *codesignView
	}{h.layout("Co-design", "/codesign"), codesign(c)})
}

func (h *Handler) report(w http.ResponseWriter, r *http.Request) {
	view, err := BuildReport(r.Context(), h.src, ReportOptions{Title: h.opt.ReportTitle, Now: h.opt.Now})
	if err != nil {
		h.fail(w, err)
		return
	}
	var buf bytes.Buffer
	if err := writeReport(&buf, h.tmpl, view); err != nil {
		h.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	setSecurityHeaders(w)
	_, _ = buf.WriteTo(w)
}
