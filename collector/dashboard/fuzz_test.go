package dashboard

import (
	"net/url"
	"regexp"
	"testing"

	"github.com/edgetran/edgetran/shared/measure"
)

func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		"", "provenance=estimated&page=2&limit=10", "target=a100%2Fgpu%2Fpytorch%2Fb128%2Fs128%2Ffp32",
		"page=9223372036854775807&limit=1000", "page=-1", "limit=0", "device=bad%20id", "arch=%00%ff",
	} {
		f.Add(seed)
	}
	h, err := New(&fakeSource{}, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		filter, page, err := h.parseFilter(q)
		if err != nil {
			return
		}
		if page < 1 || filter.Offset < 0 || filter.Offset != (page-1)*filter.Limit {
			t.Errorf("query %q: page %d, offset %d, limit %d are inconsistent", raw, page, filter.Offset, filter.Limit)
		}
		if filter.Limit < 1 || filter.Limit > MaxPageSize {
			t.Errorf("query %q: limit %d outside 1..%d", raw, filter.Limit, MaxPageSize)
		}
		switch filter.Provenance {
		case "", measure.Measured, measure.Estimated, measure.Imported:
		default:
			t.Errorf("query %q: accepted provenance %q", raw, filter.Provenance)
		}
	})
}

var anchorPattern = regexp.MustCompile(`^m-[A-Za-z0-9._-]*$`)

func FuzzAnchorIsSafe(f *testing.F) {
	seeds := [][2]string{{"job-x86-1#1", "job-x86-1.23.1"}, {`x "y" <z>`, "éa"}, {"\u0e9a", "éa"}, {"\x00", "a.b"}}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		got := anchor(a)
		if !anchorPattern.MatchString(got) {
			t.Errorf("anchor(%q) = %q, want only letters, digits, '.', '-' and '_'", a, got)
		}
		if a != b && got == anchor(b) {
			t.Errorf("anchor(%q) = anchor(%q) = %q, want distinct anchors", a, b, got)
		}
	})
}
