package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/collector/ingest"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// ImportRequest is the body of POST /api/v1/import: records a client read
// from a published dataset (see the import command).
type ImportRequest struct {
	Measurements []measure.Measurement `json:"measurements"`
	Accuracy     []measure.Accuracy    `json:"accuracy,omitempty"`
}

// ImportReport is the response of POST /api/v1/import.
type ImportReport struct {
	Received       int         `json:"received"`        // measurements in the request
	Stored         int         `json:"stored"`          // newly stored by this import
	AlreadyStored  int         `json:"already_stored"`  // ids that were stored before
	Rejected       []Rejection `json:"rejected"`        // measurements not accepted
	AccuracyStored int         `json:"accuracy_stored"` // new accuracy records
	AccuracyKnown  int         `json:"accuracy_already_stored"`
}

// Rejection names a rejected record and why.
type Rejection struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// importRecords stores imported measurements through the same path as live
// results. Each becomes a wire.Result published to the results stream with
// its id as Nats-Msg-Id. ingest.Check runs first, so the caller hears of a
// bad record instead of it being only dead-lettered. The request waits until
// the ingest committed every published id. Accuracy records have no wire
// form and are written to the store directly.
func (a *API) importRecords(w http.ResponseWriter, r *http.Request) {
	var req ImportRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.opts.ImportTimeout)
	defer cancel()
	report := ImportReport{Received: len(req.Measurements), Rejected: []Rejection{}}

	ids := make([]string, 0, len(req.Measurements))
	for _, m := range req.Measurements {
		ids = append(ids, m.ID)
	}
	before, err := a.opts.Store.ExistingMeasurements(ctx, ids)
	if err != nil {
		a.storeError(w, r, err)
		return
	}

	var pending []string
	var acks []jetstream.PubAckFuture
	seen := make(map[string]bool)
	for _, m := range req.Measurements {
		if seen[m.ID] || before[m.ID] {
			report.AlreadyStored++
			continue
		}
		seen[m.ID] = true
		msg, err := a.resultMessage(m)
		if err != nil {
			report.Rejected = append(report.Rejected, Rejection{ID: m.ID, Reason: err.Error()})
			continue
		}
		ack, err := a.opts.JetStream.PublishMsgAsync(msg)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, fmt.Errorf("publish imported result %s: %w", m.ID, err))
			return
		}
		acks = append(acks, ack)
		pending = append(pending, m.ID)
	}
	for _, ack := range acks {
		select {
		case <-ack.Ok():
		case err := <-ack.Err():
			writeError(w, http.StatusServiceUnavailable, fmt.Errorf("publish imported result %s: %w", ack.Msg().Header.Get(nats.MsgIdHdr), err))
			return
		case <-ctx.Done():
			writeError(w, http.StatusGatewayTimeout, fmt.Errorf("publish imported results: %w", ctx.Err()))
			return
		}
	}
	if err := a.waitStored(ctx, pending); err != nil {
		writeError(w, http.StatusGatewayTimeout, err)
		return
	}
	report.Stored = len(pending)

	for _, acc := range req.Accuracy {
		inserted, err := a.opts.Store.InsertAccuracy(ctx, acc)
		if err != nil {
			report.Rejected = append(report.Rejected, Rejection{ID: "accuracy:" + acc.ArchID, Reason: err.Error()})
			continue
		}
		if inserted {
			report.AccuracyStored++
		} else {
			report.AccuracyKnown++
		}
	}
	a.log.Info("import finished", "received", report.Received, "stored", report.Stored,
		"already_stored", report.AlreadyStored, "rejected", len(report.Rejected))
	writeJSON(w, http.StatusOK, report)
}

// resultMessage wraps m as a live result would arrive and checks it.
func (a *API) resultMessage(m measure.Measurement) (*nats.Msg, error) {
	res := wire.Result{ID: m.ID, Kind: wire.ResultMeasurement, Device: m.Target.Device, Measurement: &m, SentAt: time.Now().UTC()}
	if err := wire.ValidateDeviceID(res.Device); err != nil {
		return nil, err
	}
	data, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	subject := wire.ResultsSubject(res.Device)
	if _, err := ingest.Check(subject, data, a.opts.Space); err != nil {
		return nil, err
	}
	msg := nats.NewMsg(subject)
	msg.Data = data
	msg.Header.Set(nats.MsgIdHdr, res.ID)
	return msg, nil
}

// waitStored polls the store until every id is stored or ctx ends.
func (a *API) waitStored(ctx context.Context, ids []string) error {
	for len(ids) > 0 {
		found, err := a.opts.Store.ExistingMeasurements(ctx, ids)
		if err != nil {
			return err
		}
		rest := ids[:0]
		for _, id := range ids {
			if !found[id] {
				rest = append(rest, id)
			}
		}
		ids = rest
		if len(ids) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d imported results were published but not stored yet; they will be stored when the ingest catches up: %w", len(ids), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}
