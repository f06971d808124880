package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/dataset"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/pubdata"
)

// fittedRegistry returns a registry with surrogates of the published a100
// records, or an empty one when the published data is absent.
func fittedRegistry(f *testing.F) *surrogate.Registry {
	f.Helper()
	reg := surrogate.NewRegistry(surrogate.RegistryOptions{Fit: surrogate.Options{Kind: surrogate.KindLinear}})
	f.Cleanup(reg.Close)
	path := filepath.Join(pubdata.Dir(), "codesign_dataset.json")
	if _, err := os.Stat(path); err != nil {
		return reg
	}
	imp, err := dataset.LoadFile(path, dataset.Options{Device: "a100"})
	if err != nil {
		f.Fatal(err)
	}
	var ms []measure.Measurement
	for _, r := range imp.Records {
		ms = append(ms, r.Measurement)
	}
	reg.Observe(ms...)
	if err := reg.Refit(context.Background()); err != nil {
		f.Fatal(err)
	}
	return reg
}

func FuzzPredictBody(f *testing.F) {
	f.Add([]byte(`{"target":"a100/gpu/pytorch/b128/s128/fp32","arch":` + tinyArch + `}`))
	f.Add([]byte(`{"target":"a100/gpu/pytorch/b128/s128/fp32","metric":"energy","arch":[` + tinyArch + `,` + tinyArch + `]}`))
	f.Add([]byte(`{"target":"a100/gpu/pytorch/b128/s128/fp32","arch":{"l":2,"h":[128,128],"f":[[256],[256]],"o":[["sa_sdp_64"],["x_1"]]}}`))
	f.Add([]byte(`{"target":"x/y","arch":null}`))
	f.Add([]byte(`{"arch":[[]]}`))
	a := api.New(api.Options{Space: arch.Default(), Surrogates: fittedRegistry(f)})

	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/predict", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)

		switch rec.Code {
		case http.StatusOK:
			var out api.PredictResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("200 body is not a prediction: %v", err)
			}
			if out.Basis != api.BasisPredicted || len(out.Predictions) == 0 {
				t.Errorf("prediction = %+v, want predictions labelled %q", out, api.BasisPredicted)
			}
		case http.StatusBadRequest, http.StatusConflict:
			var e api.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Errorf("status %d body %q: want an error message", rec.Code, rec.Body.String())
			}
		default:
			t.Errorf("status %d for body %q: want 200, 400 or 409", rec.Code, body)
		}
	})
}
