package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/collector/service"
	"github.com/edgetran/edgetran/collector/store/storetest"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

func startCollector(t *testing.T, token string) (*service.Collector, string) {
	t.Helper()
	c, err := service.New(service.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0", Token: token}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(context.Background()) })
	return c, "http://" + c.HTTPAddr()
}

func get(t *testing.T, url, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestTokenGuardsEveryRouteButHealth(t *testing.T) {
	_, base := startCollector(t, "s3cret")
	cases := []struct {
		path, token string
		want        int
	}{
		{"/api/v1/health", "", http.StatusOK},
		{"/api/v1/devices", "", http.StatusUnauthorized},
		{"/api/v1/devices", "wrong", http.StatusUnauthorized},
		{"/api/v1/devices", "s3cret", http.StatusOK},
		{"/api/v1/measurements?format=csv", "s3cret0", http.StatusUnauthorized},
		{"/metrics", "", http.StatusUnauthorized},
		{"/metrics", "s3cret", http.StatusOK},
	}
	for _, c := range cases {
		if got := get(t, base+c.path, c.token).StatusCode; got != c.want {
			t.Errorf("GET %s with token %q: status %d, want %d", c.path, c.token, got, c.want)
		}
	}
}

// importRecords imports n test measurements on dev1 and m on dev2.
func importRecords(t *testing.T, client *api.Client, n, m int) api.ImportReport {
	t.Helper()
	var req api.ImportRequest
	for i := range n {
		req.Measurements = append(req.Measurements, storetest.Measurement(storetest.ID(i), "dev1", i))
	}
	for i := range m {
		req.Measurements = append(req.Measurements, storetest.Measurement("dev2-"+storetest.ID(i), "dev2", i))
	}
	rep, err := client.Import(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestImportReportsRejectedRecords(t *testing.T) {
	_, base := startCollector(t, "")
	client, _ := api.NewClient(base, "")
	bad := storetest.Measurement("bad-1", "dev1", 0)
	bad.ArchID = "not-the-id"
	badDevice := storetest.Measurement("bad#2", "dev1", 0)
	badDevice.Target.Device = "has.dot"
	req := api.ImportRequest{
		Measurements: []measure.Measurement{storetest.Measurement("ok-1", "dev1", 0), bad, badDevice},
		Accuracy:     []measure.Accuracy{{ArchID: "a1", GLUE: measure.Float(0.7), Source: "test"}},
	}
	rep, err := client.Import(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != 1 || len(rep.Rejected) != 2 || rep.AccuracyStored != 1 {
		t.Fatalf("report = %+v, want 1 stored, 2 rejected, 1 accuracy record", rep)
	}
	if rep.Rejected[0].ID != "bad-1" || !strings.Contains(rep.Rejected[0].Reason, "arch_id") {
		t.Errorf("first rejection = %+v, want bad-1 naming arch_id", rep.Rejected[0])
	}
}

func TestMeasurementsFilterPageAndExport(t *testing.T) {
	_, base := startCollector(t, "")
	client, _ := api.NewClient(base, "")
	if rep := importRecords(t, client, 5, 2); rep.Stored != 7 {
		t.Fatalf("stored %d, want 7", rep.Stored)
	}

	var page api.MeasurementPage
	resp := get(t, base+"/api/v1/measurements?device=dev1&limit=3", "")
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if len(page.Measurements) != 3 || page.Next != storetest.ID(2) {
		t.Fatalf("first page: %d records, next %q; want 3 and %s", len(page.Measurements), page.Next, storetest.ID(2))
	}
	resp = get(t, base+"/api/v1/measurements?device=dev1&limit=3&after="+url.QueryEscape(page.Next), "")
	page = api.MeasurementPage{}
	json.NewDecoder(resp.Body).Decode(&page)
	if len(page.Measurements) != 2 || page.Next != "" {
		t.Errorf("second page: %d records, next %q; want 2 and none", len(page.Measurements), page.Next)
	}

	var jsonl bytes.Buffer
	if err := client.Export(context.Background(), &jsonl, api.FormatJSONL, "dev2"); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&jsonl)
	lines := 0
	for sc.Scan() {
		var m measure.Measurement
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", lines+1, err)
		}
		if m.Target.Device != "dev2" {
			t.Errorf("exported record of device %s, want dev2 only", m.Target.Device)
		}
		lines++
	}
	if lines != 2 {
		t.Errorf("JSONL export has %d lines, want 2", lines)
	}

	if got := get(t, base+"/api/v1/measurements?format=xml", "").StatusCode; got != http.StatusBadRequest {
		t.Errorf("format=xml: status %d, want 400", got)
	}
	if got := get(t, base+"/api/v1/measurements/nope", "").StatusCode; got != http.StatusNotFound {
		t.Errorf("unknown id: status %d, want 404", got)
	}
	if got := get(t, base+"/api/v1/measurements?limit=-1", "").StatusCode; got != http.StatusBadRequest {
		t.Errorf("limit=-1: status %d, want 400", got)
	}
}

func TestEmptyCSVCellsForUnknownFigures(t *testing.T) {
	_, base := startCollector(t, "")
	client, _ := api.NewClient(base, "")
	m := storetest.Measurement("noenergy-1", "dev1", 0)
	m.EnergyPerSeqJ, m.PeakPowerW, m.Power = nil, nil, nil
	if _, err := client.Import(context.Background(), api.ImportRequest{Measurements: []measure.Measurement{m}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := client.Export(context.Background(), &out, api.FormatCSV, ""); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("CSV has %d lines, want header and one row", len(lines))
	}
	header := strings.Split(lines[0], ",")
	row := strings.SplitN(lines[1], ",", len(api.CSVHeader))
	for i, name := range header {
		if name == "energy_per_seq_j" || name == "peak_power_w" {
			if row[i] != "" {
				t.Errorf("%s = %q, want an empty cell", name, row[i])
			}
		}
		if name == "latency_per_seq_s" && row[i] != "0.001" {
			t.Errorf("latency_per_seq_s = %q, want 0.001", row[i])
		}
	}
}

func TestJobSubmitStatusCodes(t *testing.T) {
	_, base := startCollector(t, "")
	client, _ := api.NewClient(base, "")
	ctx := context.Background()
	good := wire.Job{ID: "j1", Device: "dev1", Arch: storetest.Arch(0), Batch: 1, SeqLen: 128}
	if _, err := client.SubmitJob(ctx, good); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		job  wire.Job
		want int
	}{
		{"reused id", good, http.StatusConflict},
		{"seq too long", wire.Job{Device: "dev1", Arch: storetest.Arch(0), Batch: 1, SeqLen: 4096}, http.StatusBadRequest},
		{"no device", wire.Job{Arch: storetest.Arch(0), Batch: 1, SeqLen: 128}, http.StatusBadRequest},
	}
	for _, c := range cases {
		_, err := client.SubmitJob(ctx, c.job)
		se, ok := err.(*api.StatusError)
		if !ok || se.Code != c.want {
			t.Errorf("%s: err = %v, want status %d", c.name, err, c.want)
		}
	}
	list, err := client.Jobs(ctx, "dev1", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Job.ID != "j1" || list[0].Status != "queued" {
		t.Errorf("jobs = %+v, want j1 queued", list)
	}
	if got := get(t, base+"/api/v1/jobs/nope", "").StatusCode; got != http.StatusNotFound {
		t.Errorf("unknown job: status %d, want 404", got)
	}
}

func TestCSVMarksFormulaText(t *testing.T) {
	_, base := startCollector(t, "")
	client, _ := api.NewClient(base, "")
	m := storetest.Measurement("formula-1", "dev1", 0)
	m.Source = "=cmd|' /C calc'!A0"
	m.Power.Meter = "+meter"
	if _, err := client.Import(context.Background(), api.ImportRequest{Measurements: []measure.Measurement{m}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := client.Export(context.Background(), &out, api.FormatCSV, ""); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("CSV has %d rows, want header and one row", len(rows))
	}
	cell := map[string]string{}
	for i, name := range rows[0] {
		cell[name] = rows[1][i]
	}
	want := map[string]string{"source": "'" + m.Source, "power_meter": "'+meter", "id": "formula-1", "latency_per_seq_s": "0.001"}
	for name, w := range want {
		if cell[name] != w {
			t.Errorf("%s = %q, want %q", name, cell[name], w)
		}
	}
}
