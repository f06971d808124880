package surrogate

import (
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/dataset"
)

func TestZZExperiment(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	imp, err := dataset.LoadFile("/work/shared/data/edgetran/codesign_dataset.json", dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{"a100", "cpu_jetson-nano", "cpu_m1-pro", "gpu_m1-pro", "cpu_rpi"} {
		for _, m := range []Metric{Latency, Energy} {
			var archs []arch.Architecture
			var y []float64
			for _, r := range imp.Records {
				if r.Device != dev {
					continue
				}
				if v, ok := m.Of(&r.Measurement); ok {
					archs = append(archs, r.Measurement.Arch)
					y = append(y, v)
				}
			}
			preds := map[string][]float64{}
			variants := map[string]Options{
				"linear":    {Kind: KindLinear},
				"gbdt":      {Kind: KindGBDT},
				"gbdt-both": {Kind: KindGBDT, Features: BothFeatures},
				"gbdt-d2":   {Kind: KindGBDT, GBDT: GBDT{MaxDepth: 2, Rounds: 600}},
				"gp":        {Kind: KindGP, GP: GP{Restarts: -1}},
			}
			for name, o := range variants {
				o.Seed = 1
				r, err := CrossValidate(archs, y, 5, o)
				if err != nil {
					t.Fatal(err)
				}
				preds[name] = r.Mean
			}
			combo := func(names ...string) []float64 {
				out := make([]float64, len(y))
				for i := range y {
					s := 0.0
					for _, n := range names {
						s += math.Log(preds[n][i])
					}
					out[i] = math.Exp(s / float64(len(names)))
				}
				return out
			}
			preds["lin+gbdt"] = combo("linear", "gbdt")
			preds["lin+gbdt+gp"] = combo("linear", "gbdt", "gp")
			preds["gbdt+gp"] = combo("gbdt", "gp")
			names := make([]string, 0)
			for k := range preds {
				names = append(names, k)
			}
			slices.Sort(names)
			for _, n := range names {
				s := Score(y, preds[n], make([]float64, len(y)), slices.Repeat([]float64{slices.Max(y)}, len(y)))
				fmt.Printf("%-16s %-8s %-12s w10=%.1f%% mape=%.1f nmse=%.2e\n", dev, m, n, 100*s.Within10, s.MAPE, s.NMSE)
			}
		}
	}
}
