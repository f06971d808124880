package campaign

import (
	"strings"
	"testing"

	"github.com/edgetran/edgetran/shared/arch"
)

func TestWithinNamesOutsideValues(t *testing.T) {
	base := arch.Space{
		Layers: []int{2}, Hidden: []int{128}, FFWidths: []int{256}, FFDepthMax: 1,
		HeadCounts: []int{2}, HeadTypes: []arch.HeadType{arch.ScaledDotProduct, arch.FourierTransform},
	}
	cases := []struct {
		name    string
		edit    func(s *arch.Space)
		mention string // "" means inside the default space
	}{
		{"narrow space fits", func(*arch.Space) {}, ""},
		{"layer depth outside", func(s *arch.Space) { s.Layers = []int{3} }, "layers value 3"},
		{"hidden size outside", func(s *arch.Space) { s.Hidden = []int{100} }, "hidden value 100"},
		{"width outside", func(s *arch.Space) { s.FFWidths = []int{300} }, "ff_widths value 300"},
		{"head count outside", func(s *arch.Space) { s.HeadCounts = []int{3} }, "head_counts value 3"},
		{"stack too deep", func(s *arch.Space) { s.FFDepthMax = 4 }, "ff_depth_max 4"},
		{"head types reordered", func(s *arch.Space) {
			s.HeadTypes = []arch.HeadType{arch.FourierTransform, arch.ScaledDotProduct}
		}, `"sa_sdp" is out of order`},
	}
	for _, c := range cases {
		s := base
		c.edit(&s)
		inner, err := arch.NewSpace(s)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		err = Within(inner, arch.Default())
		switch {
		case c.mention == "" && err != nil:
			t.Errorf("%s: %v, want nil", c.name, err)
		case c.mention != "" && (err == nil || !strings.Contains(err.Error(), c.mention)):
			t.Errorf("%s: error %v, want one mentioning %s", c.name, err, c.mention)
		}
	}
}
