package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/collector/campaign"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// announceDevice sends a heartbeat of device over NATS, as its agent
// would, and waits until the collector lists the device.
func announceDevice(t *testing.T, natsURL string, client *api.Client, device string) {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	data, err := json.Marshal(wire.Heartbeat{Device: device, State: "idle", IntervalS: 10, SentAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(wire.HeartbeatSubject(device), data); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		list, err := client.Devices(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range list {
			if d.ID == device {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("device %s never listed after its heartbeat", device)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

const tinyArch = `{"l":2,"h":[128,128],"f":[[256],[256]],"o":[["sa_sdp_64","sa_sdp_64"],["sa_sdp_64","sa_sdp_64"]]}`

func TestBadRequestsNameTheValue(t *testing.T) {
	c, base := startCollector(t, "")
	client, err := api.NewClient(base, "")
	if err != nil {
		t.Fatal(err)
	}
	announceDevice(t, c.NATSURL(), client, "dev1")

	cases := []struct {
		path, body string
		want       int
		mention    string
	}{
		{"/api/v1/campaigns", `{}`, 400, "target.device is missing"},
		{"/api/v1/campaigns", `{"target":{"device":"ghost"},"config":{"budget":40}}`, 400, `"ghost"`},
		{"/api/v1/campaigns", `{"target":{"device":"dev1","seq_len":9999},"config":{"budget":40}}`, 400, "9999"},
		{"/api/v1/campaigns", `{"target":{"device":"dev1"},"config":{"budget":40,"metric":"speed"}}`, 400, `"speed"`},
		{"/api/v1/campaigns", `{"target":{"device":"dev1"},"config":{"budget":40,"strategy":"greedy"}}`, 400, `"greedy"`},
		{"/api/v1/campaigns", `{"target":{"device":"dev1"},"config":{"budget":3}}`, 400, "budget = 3"},
		{"/api/v1/campaigns", `{"target":{"device":"dev1","batch":2000},"config":{"budget":40}}`, 400, "batch 2000"},
		{"/api/v1/campaigns", `{"target":{"device":"dev1"},"config":{"budget":40,"job":{"repeats":1000}}}`, 400, "repeats 1000"},
		{"/api/v1/campaigns", `{"target":{"device":"dev1"},"config":{"initial":4611686018427387904,"test_size":4611686018427387904,"budget":1}}`, 400, "initial = 4611686018427387904"},
		{"/api/v1/campaigns", `{"id":"bad id!","target":{"device":"dev1"},"config":{"budget":40}}`, 400, `"bad id!"`},
		{"/api/v1/campaigns", `{"target":{"device":"dev1"},"config":{"budget":40,"space":{"layers":[2],"hidden":[100],"ff_widths":[256],"ff_depth_max":1,"head_counts":[2],"head_types":["sa_sdp"]}}}`, 400, "hidden value 100"},
		{"/api/v1/campaigns", `{"target":{"device":"dev1"},"budget":40}`, 400, `"budget"`},
		{"/api/v1/predict", `{"target":"nonsense","arch":` + tinyArch + `}`, 400, `"nonsense"`},
		{"/api/v1/predict", `{"target":"dev1/cpu/builtin/b1/s16/fp32","metric":"speed","arch":` + tinyArch + `}`, 400, `"speed"`},
		{"/api/v1/predict", `{"target":"dev1/cpu/builtin/b1/s16/fp32"}`, 400, "arch is missing"},
		{"/api/v1/predict", `{"target":"dev1/cpu/builtin/b1/s16/fp32","arch":[]}`, 400, "arch list is empty"},
		{"/api/v1/predict", `{"target":"dev1/cpu/builtin/b1/s16/fp32","arch":[` + tinyArch + `,{"l":3}]}`, 400, "arch 1"},
		{"/api/v1/predict", `{"target":"dev1/cpu/builtin/b1/s16/fp32","arch":` + tinyArch + `}`, 409, "no surrogate fitted"},
	}
	for _, tc := range cases {
		code, body := post(t, base+tc.path, tc.body)
		if code != tc.want {
			t.Errorf("POST %s %s: status %d, want %d (%s)", tc.path, tc.body, code, tc.want, body)
			continue
		}
		var e api.ErrorBody
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Errorf("POST %s %s: body %s is not an error object: %v", tc.path, tc.body, body, err)
			continue
		}
		if !strings.Contains(e.Error, tc.mention) {
			t.Errorf("POST %s %s: error %q does not mention %s", tc.path, tc.body, e.Error, tc.mention)
		}
	}
}

func TestCampaignRoutesTrackState(t *testing.T) {
	c, base := startCollector(t, "")
	client, err := api.NewClient(base, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	announceDevice(t, c.NATSURL(), client, "dev1")

	// No agent takes dev1's jobs, so the campaign stays running.
	req := api.StartCampaignRequest{ID: "c1", Target: measure.Target{Device: "dev1", SeqLen: 32}, Config: campaign.Config{Budget: 40, Seed: 3}}
	st, err := client.StartCampaign(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if st.ID != "c1" || st.Target != "dev1/cpu/builtin/b1/s32/fp32" || st.Status != campaign.Running || st.Budget != 40 {
		t.Errorf("started campaign = %+v, want c1 on dev1/cpu/builtin/b1/s32/fp32, running, budget 40", st.CampaignSummary)
	}
	if st.Config.Initial != 16 || st.Config.Metric != "latency" {
		t.Errorf("config = %+v, want the defaults filled in (initial 16, metric latency)", st.Config)
	}

	_, err = client.StartCampaign(ctx, req)
	var se *api.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusConflict {
		t.Errorf("second start of a running campaign: err = %v, want a 409 response", err)
	}

	list, err := client.Campaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != "c1" || list[0].NMSE != nil {
		t.Errorf("campaigns = %+v, want c1 alone, without an NMSE before its first fit", list)
	}
	if _, err := client.Campaign(ctx, "nope"); !api.IsNotFound(err) {
		t.Errorf("unknown campaign: err = %v, want a 404 response", err)
	}
	// The campaign starts with its 16-architecture test sample, all sent
	// at once, in the background.
	var jobs []store.Job
	deadline := time.Now().Add(time.Minute)
	for len(jobs) < 16 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if jobs, err = client.Jobs(ctx, "dev1", ""); err != nil {
			t.Fatal(err)
		}
	}
	if len(jobs) != 16 {
		t.Errorf("queued jobs = %d, want the 16 of the test sample", len(jobs))
	}
	for _, j := range jobs {
		if j.Job.CampaignID != "c1" || j.Job.SeqLen != 32 {
			t.Errorf("job %s: campaign %q, seq %d; want c1, 32", j.Job.ID, j.Job.CampaignID, j.Job.SeqLen)
		}
	}
}

func TestNewRoutesNeedToken(t *testing.T) {
	_, base := startCollector(t, "s3cret")
	for _, path := range []string{"/api/v1/surrogates", "/api/v1/campaigns", "/api/v1/campaigns/c1"} {
		if got := get(t, base+path, "").StatusCode; got != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: status %d, want 401", path, got)
		}
		if got := get(t, base+path, "s3cret").StatusCode; got == http.StatusUnauthorized {
			t.Errorf("GET %s with the token: status 401", path)
		}
	}
}
