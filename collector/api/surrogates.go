package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// MaxPredictArchs bounds the architectures of one predict request.
const MaxPredictArchs = 10_000

// BasisPredicted labels every figure of a prediction response, so a
// surrogate's output is never mistaken for a measurement.
const BasisPredicted = "predicted"

// PredictRequest is the body of POST /api/v1/predict. Arch is one
// architecture in the published JSON format, or a JSON list of them.
type PredictRequest struct {
	Target string          `json:"target"` // measure.Target key, e.g. "pi5/cpu/builtin/b1/s128/fp32"
	Metric string          `json:"metric"` // latency, energy or peak_power; "" means latency
	Arch   json.RawMessage `json:"arch"`
}

// Prediction is a surrogate's figure for one architecture.
type Prediction struct {
	ArchID string  `json:"arch_id"`
	Mean   float64 `json:"mean"` // in Unit
	Std    float64 `json:"std"`  // standard deviation, in Unit
}

// PredictResponse is the body of a successful POST /api/v1/predict, with
// one prediction per requested architecture, in request order.
type PredictResponse struct {
	Target      string       `json:"target"`
	Metric      string       `json:"metric"`
	Unit        string       `json:"unit"`
	Basis       string       `json:"basis"` // always BasisPredicted
	Model       string       `json:"model"`
	Records     int          `json:"records"` // training measurements of the model
	FittedAt    time.Time    `json:"fitted_at"`
	Predictions []Prediction `json:"predictions"`
}

func (a *API) surrogates(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.opts.Surrogates.Models())
}

func (a *API) predict(w http.ResponseWriter, r *http.Request) {
	var req PredictRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	target, err := measure.ParseTargetKey(req.Target)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if req.Metric == "" {
		req.Metric = string(surrogate.Latency)
	}
	metric, err := surrogate.ParseMetric(req.Metric)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	archs, err := a.parseArchs(req.Arch)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}

	key := target.Key()
	p, ok := a.opts.Surrogates.Predictor(key, metric)
	if !ok {
		writeError(w, http.StatusConflict, fmt.Errorf("target %s metric %s: %w; the collector fits one once the target has enough measurements (GET /api/v1/surrogates lists the fitted ones)", key, metric, surrogate.ErrNoModel))
		return
	}
	out := PredictResponse{Target: key, Metric: string(metric), Unit: metric.Unit(), Basis: BasisPredicted, Model: string(p.Kind())}
	for _, info := range a.opts.Surrogates.Models() {
		if info.TargetKey == key && info.Metric == metric {
			out.Records, out.FittedAt = info.Records, info.FittedAt
		}
	}
	out.Predictions = make([]Prediction, len(archs))
	for i, x := range archs {
		mean, std, err := p.Predict(x)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("arch %d: %w", i, err))
			return
		}
		out.Predictions[i] = Prediction{ArchID: a.opts.Space.ID(x), Mean: mean, Std: std}
	}
	writeJSON(w, http.StatusOK, out)
}

// parseArchs reads one architecture object or a list of them and checks
// each against the collector's design space.
func (a *API) parseArchs(raw json.RawMessage) ([]arch.Architecture, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New(`arch is missing: send one architecture, e.g. {"l":2,"h":[128,128],...}, or a list of them`)
	}
	var list []json.RawMessage
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("arch list: %w", err)
		}
		if len(list) == 0 {
			return nil, errors.New("arch list is empty")
		}
		if len(list) > MaxPredictArchs {
			return nil, fmt.Errorf("arch list has %d architectures, more than the %d allowed per request", len(list), MaxPredictArchs)
		}
	} else {
		list = []json.RawMessage{raw}
	}
	out := make([]arch.Architecture, len(list))
	for i, item := range list {
		x, err := arch.ParseArchitecture(item)
		if err == nil {
			err = a.opts.Space.Validate(x)
		}
		if err != nil {
			return nil, fmt.Errorf("arch %d: %w", i, err)
		}
		out[i] = x
	}
	return out, nil
}
