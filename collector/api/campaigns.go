package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/edgetran/edgetran/collector/campaign"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// Target defaults of a campaign request: the builtin Go engine on a CPU,
// one sequence of 128 tokens per iteration, fp32.
const (
	DefaultCampaignComputeUnit = "cpu"
	DefaultCampaignRuntime     = "builtin"
	DefaultCampaignBatch       = 1
	DefaultCampaignSeqLen      = 128
	DefaultCampaignPrecision   = "fp32"
)

// campaignIDPattern keeps campaign ids short enough that the job ids
// derived from them stay within wire.Job's 128 characters.
var campaignIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// StartCampaignRequest is the body of POST /api/v1/campaigns. Target needs
// only its device; its other zero fields take the DefaultCampaign* values.
// Config's zero fields take campaign.Config's defaults.
type StartCampaignRequest struct {
	ID     string          `json:"id,omitempty"` // "" means "<device>-<UTC time>-<random hex>"
	Target measure.Target  `json:"target"`
	Config campaign.Config `json:"config"`
}

// CampaignSummary is one campaign in GET /api/v1/campaigns.
type CampaignSummary struct {
	ID       string          `json:"id"`
	Target   string          `json:"target"`
	Status   campaign.Status `json:"status"`
	Reason   string          `json:"reason,omitempty"`
	Metric   string          `json:"metric"`
	Strategy string          `json:"strategy"`
	Budget   int             `json:"budget"`
	// Measured counts every architecture sent for measurement, failed
	// ones included. Failed counts those without a measurement.
	Measured int `json:"measured"`
	Failed   int `json:"failed"`
	Rounds   int `json:"rounds"`
	// NMSE is the normalised test MSE of the last round, absent before
	// the first fit.
	NMSE      *float64  `json:"nmse,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CampaignStatus is the body of GET /api/v1/campaigns/{id}: the summary,
// the configuration and every round with its test NMSE.
type CampaignStatus struct {
	CampaignSummary
	Config    campaign.Config  `json:"config"`
	RoundList []campaign.Round `json:"round_list"`
	// MeasurementIDs are the stored measurements of the campaign's test
	// and training samples.
	MeasurementIDs []string `json:"measurement_ids"`
}

func summarise(row store.Campaign, st *campaign.State) CampaignSummary {
	s := CampaignSummary{
		ID: st.ID, Target: st.TargetKey, Status: st.Status, Reason: st.Reason,
		Metric: string(st.Config.Metric), Strategy: string(st.Config.Strategy), Budget: st.Config.Budget,
		Measured: st.Measured(), Failed: len(st.Failed), Rounds: len(st.Rounds),
		CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt,
	}
	if n := len(st.Rounds); n > 0 {
		v := st.Rounds[n-1].NMSE
		s.NMSE = &v
	}
	return s
}

func (a *API) startCampaign(w http.ResponseWriter, r *http.Request) {
	var req StartCampaignRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	t := &req.Target
	if t.Device == "" {
		writeError(w, http.StatusBadRequest, errors.New("target.device is missing: name the device id of a running agent (GET /api/v1/devices lists them)"))
		return
	}
	t.ComputeUnit = orString(t.ComputeUnit, DefaultCampaignComputeUnit)
	t.Runtime = orString(t.Runtime, DefaultCampaignRuntime)
	t.Precision = orString(t.Precision, DefaultCampaignPrecision)
	if t.Batch == 0 {
		t.Batch = DefaultCampaignBatch
	}
	if t.SeqLen == 0 {
		t.SeqLen = DefaultCampaignSeqLen
	}
	if err := t.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("target %s: %w", t.Key(), err))
		return
	}
	if _, err := a.opts.Store.Device(r.Context(), t.Device); errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusBadRequest, fmt.Errorf("device %q not found: start its agent first (GET /api/v1/devices lists the known devices)", t.Device))
		return
	} else if err != nil {
		a.storeError(w, r, err)
		return
	}
	if req.ID == "" {
		req.ID = newCampaignID(t.Device, time.Now())
	} else if !campaignIDPattern.MatchString(req.ID) {
		writeError(w, http.StatusBadRequest, fmt.Errorf("campaign id %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", req.ID))
		return
	}
	space := a.opts.Space
	if req.Config.Space != nil {
		sp, err := arch.NewSpace(*req.Config.Space)
		if err == nil {
			err = campaign.Within(sp, a.opts.Space)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("config.space: %w", err))
			return
		}
		space = sp
	}
	if err := req.Config.Defaults().Validate(); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("campaign config: %w", err))
		return
	}
	// The agent refuses a job beyond the wire limits, so such a campaign
	// could never measure anything.
	if err := campaign.CheckJobs(*t, req.Config.Defaults(), space); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}

	st, err := a.opts.Campaigns.Start(req.ID, *t, req.Config)
	switch {
	case errors.Is(err, campaign.ErrRunning):
		writeError(w, http.StatusConflict, err)
		return
	case err != nil:
		a.log.Error("start campaign", "campaign", req.ID, "target", t.Key(), "err", err)
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	a.log.Info("campaign started", "campaign", st.ID, "target", st.TargetKey, "budget", st.Config.Budget)
	a.writeCampaign(w, r, http.StatusCreated, st.ID)
}

func (a *API) listCampaigns(w http.ResponseWriter, r *http.Request) {
	rows, err := a.opts.Store.Campaigns(r.Context())
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	out := []CampaignSummary{}
	for _, row := range rows {
		st, err := campaign.Decode(row)
		if err != nil {
			// One unreadable state must not hide the others.
			a.log.Warn("campaign state unreadable", "campaign", row.ID, "err", err)
			continue
		}
		out = append(out, summarise(row, st))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) campaign(w http.ResponseWriter, r *http.Request) {
	a.writeCampaign(w, r, http.StatusOK, r.PathValue("id"))
}

func (a *API) writeCampaign(w http.ResponseWriter, r *http.Request, code int, id string) {
	row, err := a.opts.Store.Campaign(r.Context(), id)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	st, err := campaign.Decode(row)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	out := CampaignStatus{CampaignSummary: summarise(row, st), Config: st.Config, RoundList: st.Rounds, MeasurementIDs: []string{}}
	if out.RoundList == nil {
		out.RoundList = []campaign.Round{}
	}
	for _, list := range [][]campaign.Sample{st.Test, st.Train} {
		for _, s := range list {
			if s.MeasurementID != "" {
				out.MeasurementIDs = append(out.MeasurementIDs, s.MeasurementID)
			}
		}
	}
	writeJSON(w, code, out)
}

// newCampaignID returns "<device>-<UTC time>-<4 random hex digits>", cut
// so it matches campaignIDPattern.
func newCampaignID(device string, now time.Time) string {
	var b [2]byte
	rand.Read(b[:])
	suffix := "-" + now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
	prefix := device
	if limit := 64 - len(suffix); len(prefix) > limit {
		prefix = prefix[:limit]
	}
	id := prefix + suffix
	if !campaignIDPattern.MatchString(id) {
		return "campaign" + suffix
	}
	return id
}

func orString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
