package jetson

import (
	"math"
	"os"
	"strings"
	"testing"
)

func FuzzParseTegrastats(f *testing.F) {
	for _, file := range []string{"testdata/tegrastats-jetpack4-nano.txt", "testdata/tegrastats-jetpack5-orin-nano.txt"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			f.Add(line)
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		rs, err := ParseTegrastats([]byte(line))
		if err != nil {
			return
		}
		if len(rs) == 0 {
			t.Fatal("no error and no readings")
		}
		for _, r := range rs {
			if math.IsNaN(r.PowerW) || math.IsInf(r.PowerW, 0) || r.PowerW < 0 || r.Rail == "" {
				t.Fatalf("invalid reading %+v from %q", r, line)
			}
		}
	})
}
