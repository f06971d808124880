package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServeDashboardShowsParityPlots(t *testing.T) {
	if testing.Short() {
		t.Skip("fits cross-validated surrogates of the published data; skipped with -short")
	}
	path := datasetPath(t)
	proc := startServe(t, "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--dashboard-refresh", "200ms")

	page := func() string {
		resp, err := http.Get(proc.apiURL + "/dashboard/surrogates")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /dashboard/surrogates: %s", resp.Status)
		}
		return string(body)
	}
	if strings.Contains(page(), "<svg") {
		t.Fatal("parity plot shown before any measurement was stored")
	}

	if code, out, errOut := runCLI("import", "--collector", proc.apiURL, "--format", "edgetran", path); code != 0 {
		t.Fatalf("import exited %d: %s%s", code, out, errOut)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		body := page()
		if strings.Contains(body, "<svg") && strings.Contains(body, "a100/gpu/pytorch/b128/s128/fp32") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no parity plot of the imported a100 target after 90 s; page:\n%.2000s", body)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
