package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/edgetran/edgetran/collector/jobs"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// Health is the body of GET /api/v1/health.
type Health struct {
	Status        string `json:"status"` // "ok"
	SchemaVersion int    `json:"schema_version"`
	Measurements  int    `json:"measurements"`
}

func (a *API) health(w http.ResponseWriter, r *http.Request) {
	n, err := a.opts.Store.CountMeasurements(r.Context())
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Health{Status: "ok", SchemaVersion: store.SchemaVersion(), Measurements: n})
}

// DeviceStatus is a device with whether it sent a heartbeat recently.
type DeviceStatus struct {
	store.Device
	Alive bool `json:"alive"`
}

func (a *API) devices(w http.ResponseWriter, r *http.Request) {
	list, err := a.opts.Store.Devices(r.Context())
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	now := time.Now()
	out := make([]DeviceStatus, len(list))
	for i, d := range list {
		out[i] = DeviceStatus{Device: d, Alive: a.opts.Jobs.Alive(d, now)}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) device(w http.ResponseWriter, r *http.Request) {
	d, err := a.opts.Store.Device(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, DeviceStatus{Device: d, Alive: a.opts.Jobs.Alive(d, time.Now())})
}

func (a *API) targets(w http.ResponseWriter, r *http.Request) {
	list, err := a.opts.Store.Targets(r.Context())
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	if list == nil {
		list = []store.TargetCount{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *API) accuracy(w http.ResponseWriter, r *http.Request) {
	list, err := a.opts.Store.Accuracies(r.Context(), r.URL.Query().Get("arch_id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	if list == nil {
		list = []measure.Accuracy{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *API) deadLetters(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit")
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	list, err := a.opts.Store.DeadLetters(r.Context(), limit)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *API) submitJob(w http.ResponseWriter, r *http.Request) {
	var job wire.Job
	if err := decodeBody(r, &job); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	sj, err := a.opts.Jobs.Submit(r.Context(), job)
	switch {
	case errors.Is(err, jobs.ErrInvalidJob):
		writeError(w, http.StatusBadRequest, err)
	case errors.Is(err, jobs.ErrDuplicateID):
		writeError(w, http.StatusConflict, err)
	case err != nil:
		a.log.Error("submit job", "job", job.ID, "device", job.Device, "err", err)
		writeError(w, http.StatusServiceUnavailable, err)
	default:
		writeJSON(w, http.StatusCreated, sj)
	}
}

func (a *API) listJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(r, "limit")
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	list, err := a.opts.Store.Jobs(r.Context(), store.JobQuery{
		Device: q.Get("device"), Status: store.JobStatus(q.Get("status")), Campaign: q.Get("campaign"), Limit: limit,
	})
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	if list == nil {
		list = []store.Job{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *API) job(w http.ResponseWriter, r *http.Request) {
	j, err := a.opts.Store.Job(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func intParam(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("query parameter %s=%q: want a non-negative integer", name, v)
	}
	return n, nil
}
