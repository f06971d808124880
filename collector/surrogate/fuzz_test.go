package surrogate

import (
	"bytes"
	"testing"

	"github.com/edgetran/edgetran/shared/arch"
)

// FuzzLoad feeds arbitrary bytes to Load: it must return an error or a
// predictor that predicts without panicking.
func FuzzLoad(f *testing.F) {
	s := arch.Default()
	a := arch.Architecture{L: 2, H: []int{128, 128}, F: [][]int{{512}, {512}}, O: [][]string{{"sa_sdp_64", "sa_sdp_64"}, {"l_dft_64", "c_5_64"}}}
	b := arch.Architecture{L: 2, H: []int{256, 256}, F: [][]int{{1024}, {1024}}, O: [][]string{{"sa_sdp_128", "sa_wma_128"}, {"sa_sdp_128", "c_9_128"}}}
	c := arch.Architecture{L: 4, H: []int{256, 256, 256, 256}, F: [][]int{{1024}, {1024}, {512}, {512}}, O: [][]string{{"sa_sdp_128", "sa_wma_128"}, {"sa_sdp_128", "c_9_128"}, {"sa_sdp_64", "sa_sdp_64", "sa_sdp_64", "sa_sdp_64"}, {"l_dct_128", "l_dct_128"}}}
	archs := []arch.Architecture{a, b, c, a, b, c}
	y := []float64{1, 2, 3, 1.1, 2.1, 3.2}
	for _, k := range []Kind{KindLinear, KindPaper, KindGBDT} {
		p, err := Fit(archs, y, Options{Kind: k, Space: s, GBDT: GBDT{Members: 1, Rounds: 2}, AdaBoost: AdaBoost{Trees: 2}})
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := p.Save(&buf); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Load(bytes.NewReader(data))
		if err != nil {
			return
		}
		_, _, _ = p.Predict(a)
	})
}
