package nvidia

import (
	"math"
	"testing"
)

func FuzzParseSMILine(f *testing.F) {
	f.Add("0, NVIDIA H100 80GB HBM3, 71.23, 72.05", true, true)
	f.Add("0, Tesla V100-SXM2-16GB, 42.12", true, false)
	f.Add("1, [Not Supported], [N/A]", false, true)
	f.Add(`1, "Board, rev 2", 10.5`, true, false)
	f.Fuzz(func(t *testing.T, line string, withName, withInstant bool) {
		g, err := ParseSMILine([]byte(line), withName, withInstant)
		if err != nil {
			return
		}
		if g.Index < 0 || math.IsInf(g.PowerW, 0) || g.PowerW < 0 {
			t.Fatalf("invalid row %+v from %q", g, line)
		}
	})
}
