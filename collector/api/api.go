// Package api is the collector's HTTP JSON API, its Prometheus /metrics
// endpoint and a client for both. Every route is under /api/v1 except
// /metrics; docs/api.md lists them with example requests.
//
// When a token is configured, every request except GET /api/v1/health needs
// the header "Authorization: Bearer <token>"; a missing or wrong token gets
// 401. Without a token the server must listen on loopback only, which the
// service configuration enforces.
package api

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edgetran/edgetran/collector/campaign"
	"github.com/edgetran/edgetran/collector/jobs"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/arch"
)

// MaxBodyBytes bounds a request body; an import of the largest published
// file is far below it.
const MaxBodyBytes = 64 << 20

// Options configures the API. Store, Jobs, JetStream and Space are required.
type Options struct {
	Store     store.Store
	Jobs      *jobs.Manager
	JetStream jetstream.JetStream // the import publishes to the results stream
	Space     *arch.Space
	Token     string              // empty: no authentication
	Gatherer  prometheus.Gatherer // served on /metrics; nil serves no metrics
	// Surrogates serves GET /api/v1/surrogates and POST /api/v1/predict;
	// nil leaves those routes out.
	Surrogates *surrogate.Registry
	// Campaigns serves the /api/v1/campaigns routes; nil leaves them out.
	Campaigns *campaign.Manager
	Logger    *slog.Logger
	// ImportTimeout bounds how long an import waits for the ingest to
	// store its records; 0 means two minutes.
	ImportTimeout time.Duration
}

// API serves the routes. Create it with New.
type API struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
}

// New returns the API with every route registered.
func New(opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ImportTimeout <= 0 {
		opts.ImportTimeout = 2 * time.Minute
	}
	a := &API{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /api/v1/health", a.health)
	a.mux.HandleFunc("GET /api/v1/devices", a.devices)
	a.mux.HandleFunc("GET /api/v1/devices/{id}", a.device)
	a.mux.HandleFunc("GET /api/v1/targets", a.targets)
	a.mux.HandleFunc("GET /api/v1/measurements", a.measurements)
	a.mux.HandleFunc("GET /api/v1/measurements/{id}", a.measurement)
	a.mux.HandleFunc("GET /api/v1/accuracy", a.accuracy)
	a.mux.HandleFunc("GET /api/v1/deadletters", a.deadLetters)
	a.mux.HandleFunc("POST /api/v1/jobs", a.submitJob)
	a.mux.HandleFunc("GET /api/v1/jobs", a.listJobs)
	a.mux.HandleFunc("GET /api/v1/jobs/{id}", a.job)
	a.mux.HandleFunc("POST /api/v1/import", a.importRecords)
	if opts.Surrogates != nil {
		a.mux.HandleFunc("GET /api/v1/surrogates", a.surrogates)
		a.mux.HandleFunc("POST /api/v1/predict", a.predict)
	}
	if opts.Campaigns != nil {
		a.mux.HandleFunc("POST /api/v1/campaigns", a.startCampaign)
		a.mux.HandleFunc("GET /api/v1/campaigns", a.listCampaigns)
		a.mux.HandleFunc("GET /api/v1/campaigns/{id}", a.campaign)
	}
	if opts.Gatherer != nil {
		a.mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{}))
	}
	return a
}

// Handle registers another route, such as the dashboard's, behind the same
// authentication. Call it before serving.
func (a *API) Handle(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

// ServeHTTP checks the token and dispatches the request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.opts.Token != "" && !(r.Method == http.MethodGet && r.URL.Path == "/api/v1/health") {
		if !validToken(r.Header.Get("Authorization"), a.opts.Token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="edgetran"`)
			writeError(w, http.StatusUnauthorized, errors.New("missing or wrong bearer token"))
			return
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	a.mux.ServeHTTP(w, r)
}

func validToken(header, token string) bool {
	sent, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(sent), []byte(token)) == 1
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, ErrorBody{Error: err.Error()})
}

// storeError maps a store error to a status: 404 for ErrNotFound, else 500.
func (a *API) storeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, err)
		return
	}
	a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, err)
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode request body: %w", err)
	}
	return nil
}
