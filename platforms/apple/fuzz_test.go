package apple

import (
	"math"
	"os"
	"testing"

	"github.com/edgetran/edgetran/platforms/meter"
)

func checkReadings(t *testing.T, rs []meter.Reading) {
	t.Helper()
	if len(rs) == 0 {
		t.Fatal("no error and no readings")
	}
	for _, r := range rs {
		if math.IsNaN(r.PowerW) || math.IsInf(r.PowerW, 0) || r.PowerW < 0 {
			t.Fatalf("invalid reading %+v", r)
		}
	}
}

func FuzzParseText(f *testing.F) {
	for _, file := range []string{"testdata/powermetrics-text-macos12.txt", "testdata/powermetrics-text-macos14.txt"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, rec string) {
		rs, err := ParseText([]byte(rec))
		if err == nil {
			checkReadings(t, rs)
		}
	})
}

func FuzzParsePlist(f *testing.F) {
	for _, file := range []string{"testdata/powermetrics-m2-plist.bin", "testdata/powermetrics-no-gpu-plist.bin"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		rs, err := ParsePlist(doc)
		if err == nil {
			checkReadings(t, rs)
		}
	})
}
