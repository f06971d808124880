package dashboard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// newTestServer serves the dashboard over src on a loopback port.
func newTestServer(t *testing.T, src Source, prefix string) *httptest.Server {
	t.Helper()
	h, err := New(src, Options{Prefix: prefix, Now: func() time.Time { return testNow }, PageSize: 25})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// get fetches path and returns the status, content type and body.
func get(t *testing.T, srv *httptest.Server, path string) (int, string, string) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// cspOf returns the Content-Security-Policy header of path.
func cspOf(t *testing.T, srv *httptest.Server, path string) string {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Content-Security-Policy")
}

func TestPagesShowExpectedContent(t *testing.T) {
	src := newTestSource(t)
	srv := newTestServer(t, src, "")
	tests := []struct {
		name, path string
		want       []string
		reject     []string
	}{
		{
			name: "overview", path: "/",
			want: []string{
				"<h1>Devices and targets</h1>", "bench-x86", "4 s ago", "rapl",
				"10 min ago", `badge-stale">stale`, // bench-pi: 10 min is over three 10 s intervals
				`estimate<span class="badge badge-estimated"`,
				"a100/gpu/pytorch/b128/s128/fp32", "<td class=\"num\">194</td>",
				"latency per sequence: MAPE",
				`href="/measurements?target=bench-pi%2Fcpu%2Fbuiltin%2Fb1%2Fs128%2Ffp32"`,
			},
		},
		{
			name: "measurements first page", path: "/measurements",
			want:   []string{"Measurements 1–25 of 651", "Page 1 of 27", `rel="next"`, `href="/measurements/job-x86-1%231"`, "estimated, not measured"},
			reject: []string{`rel="prev"`},
		},
		{
			name: "measurements filtered by provenance", path: "/measurements?provenance=estimated",
			want:   []string{"Measurements 1–1 of 1", "job-pi-1#1", `<option value="estimated" selected>`},
			reject: []string{"job-x86-1#1", `rel="next"`},
		},
		{
			name: "measurements filtered by target and paged", path: "/measurements?target=rpi4%2Fcpu%2Fpytorch%2Fb1%2Fs128%2Ffp32&page=2&limit=10",
			want: []string{"Measurements 11–20 of 68", "Page 2 of 7", `rel="prev"`, "limit=10", "page=3"},
		},
		{
			name: "measured record with trace", path: "/measurements/" + url.PathEscape("job-x86-1#1"),
			want:   []string{"<h2", "job-x86-1#1", "Power trace of job-x86-1#1", "Latency per iteration", "2× sa_sdp_64", "<svg"},
			reject: []string{"estimated, not measured", "no power trace"},
		},
		{
			name: "estimated record labels power", path: "/measurements/" + url.PathEscape("job-pi-1#1"),
			want: []string{"Power is estimated, not measured.", "Power trace (estimated, not measured)", "estimated power (W)", `badge-estimated`},
		},
		{
			name: "record without trace says so", path: "/measurements/" + url.PathEscape(`job-x86-2#1, "retry"`),
			want:   []string{"This record has no power trace.", "No per-iteration latencies were recorded."},
			reject: []string{"<svg"},
		},
		{
			name: "imported record explains missing trace", path: "/measurements/" + url.PathEscape(src.records[3].ID),
			want:   []string{"imported from a published dataset", "This record has no power trace: it was imported"},
			reject: []string{"<svg"},
		},
		{
			name: "surrogates", path: "/surrogates",
			want: []string{"<h1>Surrogates</h1>", "MAPE", "within ±10%", "ncs2/npu/openvino/b1/s128/fp32 — peak power"},
		},
		{
			name: "codesign", path: "/codesign",
			want: []string{"<h1>Co-design</h1>", "BOSHCODE", "Best objective per strategy", "Pareto front", "GLUE score, predicted",
				"12.1 ms ± 900 µs", "predicted</span>", "Architecture of the best pair"},
			reject: []string{"Accuracy was unavailable"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, ctype, body := get(t, srv, tc.path)
			if status != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200; body: %.300s", tc.path, status, body)
			}
			if ctype != "text/html; charset=utf-8" {
				t.Errorf("content type %q, want text/html; charset=utf-8", ctype)
			}
			if csp := cspOf(t, srv, tc.path); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("Content-Security-Policy %q, want default-src 'none'", csp)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page %s lacks %q", tc.path, w)
				}
			}
			for _, r := range tc.reject {
				if strings.Contains(body, r) {
					t.Errorf("page %s contains %q", tc.path, r)
				}
			}
		})
	}
}

func TestPagesCountPlots(t *testing.T) {
	src := newTestSource(t)
	srv := newTestServer(t, src, "")
	tests := []struct {
		path string
		want int
	}{
		{"/surrogates", len(src.surrogates)},
		{"/codesign", 1 + len(src.codesign.Fronts)}, // convergence plus one per front
		{"/measurements/" + url.PathEscape("job-pi-1#1"), 2},
	}
	for _, tc := range tests {
		_, _, body := get(t, srv, tc.path)
		if got := strings.Count(body, "<svg"); got != tc.want {
			t.Errorf("%s has %d <svg> elements, want %d", tc.path, got, tc.want)
		}
		if strings.Contains(body, "could not be drawn") {
			t.Errorf("%s reports a plot that could not be drawn", tc.path)
		}
	}
}

func TestBadRequestsNameTheValue(t *testing.T) {
	srv := newTestServer(t, newTestSource(t), "")
	tests := []struct {
		path   string
		status int
		want   string
	}{
		{"/measurements?provenance=guessed", http.StatusBadRequest, `provenance "guessed"`},
		{"/measurements?page=0", http.StatusBadRequest, `page "0"`},
		{"/measurements?limit=5000", http.StatusBadRequest, `limit "5000"`},
		{"/measurements?target=a100", http.StatusBadRequest, `target key "a100"`},
		{"/measurements?device=bad%20id", http.StatusBadRequest, `device id "bad id"`},
		{"/measurements.csv?provenance=x", http.StatusBadRequest, `provenance "x"`},
		{"/measurements/no-such-id", http.StatusNotFound, `measurement "no-such-id" not found`},
		{"/measurements/" + url.PathEscape(`job-x86-2#1, "retry"`) + "/trace.svg", http.StatusNotFound, "has no power trace"},
		{"/nowhere", http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		status, _, body := get(t, srv, tc.path)
		if status != tc.status {
			t.Errorf("GET %s: status %d, want %d", tc.path, status, tc.status)
		}
		if !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: body %q lacks %q", tc.path, body, tc.want)
		}
	}
}

func TestTraceSVGIsStandalone(t *testing.T) {
	srv := newTestServer(t, newTestSource(t), "")
	status, ctype, body := get(t, srv, "/measurements/"+url.PathEscape("job-x86-1#1")+"/trace.svg")
	if status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	if ctype != "image/svg+xml" {
		t.Errorf("content type %q, want image/svg+xml", ctype)
	}
	if !strings.HasPrefix(body, "<svg ") || !strings.HasSuffix(strings.TrimSpace(body), "</svg>") {
		t.Errorf("body is not one <svg> element: %.80s … %.20s", body, body[max(0, len(body)-20):])
	}
}

func TestPrefixIsInLinks(t *testing.T) {
	srv := newTestServer(t, newTestSource(t), "/dashboard")
	status, _, body := get(t, srv, "/dashboard/measurements?provenance=measured")
	if status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	for _, want := range []string{`href="/dashboard/measurements/job-x86-1%231"`, `href="/dashboard/surrogates"`, `action="/dashboard/measurements"`, `href="/dashboard/measurements.csv?provenance=measured"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if status, _, _ := get(t, srv, "/measurements"); status != http.StatusNotFound {
		t.Errorf("path outside the prefix: status %d, want 404", status)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil source) succeeded, want an error")
	}
	if _, err := New(&fakeSource{}, Options{Prefix: "dashboard"}); err == nil || !strings.Contains(err.Error(), `"dashboard"`) {
		t.Errorf("New with prefix without slash: err = %v, want one naming the prefix", err)
	}
}

func TestEmptySourceRendersEveryPage(t *testing.T) {
	srv := newTestServer(t, &fakeSource{}, "")
	tests := map[string]string{
		"/":                 "No device has announced itself yet.",
		"/measurements":     "No measurement matches.",
		"/surrogates":       "No surrogate has been fitted yet.",
		"/codesign":         "No co-design run has finished yet.",
		"/report.html":      "No co-design result.",
		"/measurements.csv": "id,arch_id,device",
	}
	for path, want := range tests {
		status, _, body := get(t, srv, path)
		if status != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", path, status)
		}
		if !strings.Contains(body, want) {
			t.Errorf("GET %s lacks %q", path, want)
		}
	}
}

func TestAccuracyNoteIsShown(t *testing.T) {
	src := &fakeSource{codesign: &CoDesignView{
		Objective:    "hardware measures only",
		AccuracyNote: "no accuracy source configured: the objective uses hardware measures only",
		Strategies:   []Convergence{{Strategy: "random", Objectives: []float64{0.5, 0.4, 0.45}, Basis: Measured}},
	}}
	srv := newTestServer(t, src, "")
	_, _, body := get(t, srv, "/codesign")
	for _, want := range []string{"Accuracy was unavailable.", "no accuracy source configured", "No Pareto front: accuracy was unavailable.", "No candidate satisfied the constraints."} {
		if !strings.Contains(body, want) {
			t.Errorf("co-design page lacks %q", want)
		}
	}
	if strings.Contains(body, "(predicted)") {
		t.Error("co-design page calls measured objectives predicted")
	}
}
