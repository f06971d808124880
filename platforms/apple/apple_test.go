package apple

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/edgetran/edgetran/platforms/internal/fixture"
	"github.com/edgetran/edgetran/platforms/meter"
)

// documents splits a recorded plist stream at its NUL separators.
func documents(t *testing.T, path string) [][]byte {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(fixture.Recording(t, path)))
	sc.Split(splitNUL)
	var docs [][]byte
	for sc.Scan() {
		docs = append(docs, append([]byte(nil), sc.Bytes()...))
	}
	return docs
}

func readingsMap(rs []meter.Reading) map[string]float64 {
	m := map[string]float64{}
	for _, r := range rs {
		m[r.Rail] = r.PowerW
	}
	return m
}

func TestParsePlistEnergyOverElapsed(t *testing.T) {
	docs := documents(t, "testdata/powermetrics-m2-plist.bin")
	if len(docs) != 2 {
		t.Fatalf("split %d documents, want 2", len(docs))
	}
	tests := []struct {
		doc  int
		want map[string]float64
	}{
		// 52 mJ over 0.1 s is 0.52 W; combined_power 550 mW.
		{0, map[string]float64{RailCPU: 0.52, RailGPU: 0.03, RailANE: 0, RailCombined: 0.55}},
		// 300 mJ over 0.2 s is 1.5 W.
		{1, map[string]float64{RailCPU: 1.5, RailGPU: 0.5, RailANE: 0.1, RailCombined: 2.1}},
	}
	for _, tc := range tests {
		rs, err := ParsePlist(docs[tc.doc])
		if err != nil {
			t.Fatal(err)
		}
		got := readingsMap(rs)
		if len(got) != len(tc.want) {
			t.Errorf("doc %d rails = %v, want %v", tc.doc, got, tc.want)
		}
		for rail, w := range tc.want {
			if math.Abs(got[rail]-w) > 1e-12 {
				t.Errorf("doc %d %s = %v W, want %v W", tc.doc, rail, got[rail], w)
			}
		}
	}
}

func TestParsePlistWithoutGPUSampler(t *testing.T) {
	docs := documents(t, "testdata/powermetrics-no-gpu-plist.bin")
	rs, err := ParsePlist(docs[0])
	if err != nil {
		t.Fatal(err)
	}
	got := readingsMap(rs)
	if _, ok := got[RailGPU]; ok {
		t.Errorf("rails = %v, want no gpu_power without the GPU sampler", got)
	}
	if math.Abs(got[RailCPU]-0.52) > 1e-12 {
		t.Errorf("cpu_power = %v W, want 0.52 W", got[RailCPU])
	}
}

func TestParsePlistTruncatedIsError(t *testing.T) {
	docs := documents(t, "testdata/powermetrics-truncated-plist.bin")
	if len(docs) != 3 {
		t.Fatalf("split %d documents, want 3", len(docs))
	}
	if _, err := ParsePlist(docs[1]); err == nil {
		t.Error("truncated document parsed without error")
	}
	if _, err := ParsePlist(docs[2]); err != nil {
		t.Errorf("document after the truncated one: %v", err)
	}
	for _, bad := range []string{"", "<plist", "<plist version=\"1.0\"><dict><key>elapsed_ns</key><integer>0</integer></dict></plist>"} {
		if _, err := ParsePlist([]byte(bad)); err == nil {
			t.Errorf("ParsePlist(%q) succeeded", bad)
		}
	}
}

func TestParseTextOldAndNew(t *testing.T) {
	tests := []struct {
		file string
		want map[string]float64
	}{
		{"testdata/powermetrics-text-macos12.txt", map[string]float64{RailCPU: 0.497, RailGPU: 0.028, RailANE: 0, RailCombined: 0.526}},
		{"testdata/powermetrics-text-macos14.txt", map[string]float64{RailCPU: 0.612, RailGPU: 0.031, RailANE: 0, RailCombined: 0.643}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			rs, err := ParseText(fixture.Recording(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got := readingsMap(rs)
			for rail, w := range tc.want {
				if got[rail] != w {
					t.Errorf("%s = %v W, want %v W", rail, got[rail], w)
				}
			}
		})
	}
	for _, bad := range []string{"", "CPU Power: lots mW", "CPU Power: -5 mW", "CPU Power: 5 mW\nCPU Power: 6 mW"} {
		if _, err := ParseText([]byte(bad)); err == nil {
			t.Errorf("ParseText(%q) succeeded", bad)
		}
	}
}

func TestPowermetricsNeedsRoot(t *testing.T) {
	d := meter.NewDeps(t.TempDir(), t.TempDir(), nil)
	d.Runner = fixture.Runner{Streams: map[string][]byte{"powermetrics": nil}}
	_, err := New(context.Background(), d, Config{Geteuid: func() int { return 501 }}, time.Second)
	if !errors.Is(err, meter.ErrNotSupported) || !strings.Contains(err.Error(), "needs root") {
		t.Fatalf("err = %v, want a not-root error", err)
	}
}

func TestPowermetricsStream(t *testing.T) {
	d := meter.NewDeps(t.TempDir(), t.TempDir(), nil)
	d.Runner = fixture.Runner{Streams: map[string][]byte{"powermetrics": fixture.Recording(t, "testdata/powermetrics-m2-plist.bin")}}
	m, err := New(context.Background(), d, Config{Geteuid: func() int { return 0 }}, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	info := m.Info()
	total := info.TotalRails()
	if len(total) != 1 || info.Rails[total[0]].Name != RailCombined {
		t.Fatalf("rails = %+v, want combined_power as the total", info.Rails)
	}
	var s meter.Sample
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := m.Read(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		if w, _ := s.SumPower(total); w == 2.1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if w, _ := s.SumPower(total); w != 2.1 {
		t.Errorf("total = %v W, want 2.1 W from the second document", w)
	}
}
