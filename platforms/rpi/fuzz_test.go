package rpi

import (
	"math"
	"os"
	"testing"
)

func FuzzParsePMIC(f *testing.F) {
	data, err := os.ReadFile("testdata/pmic-read-adc-pi5.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
	f.Add("  VDD_CORE_A current(7)=1.54489000A\n  VDD_CORE_V volt(15)=0.88725180V\n")
	f.Add("EXT5V_V volt(24)=5.12680000V\n")
	f.Fuzz(func(t *testing.T, out string) {
		adcs, err := ParsePMIC([]byte(out))
		if err != nil {
			return
		}
		for _, a := range adcs {
			if math.IsNaN(a.Value) || math.IsInf(a.Value, 0) || a.Value < 0 || a.Rail == "" {
				t.Fatalf("invalid reading %+v", a)
			}
		}
		for _, r := range RailPower(adcs) {
			if math.IsNaN(r.PowerW) || r.PowerW < 0 {
				t.Fatalf("invalid rail power %+v", r)
			}
		}
	})
}
