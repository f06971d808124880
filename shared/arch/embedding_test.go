package arch

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/edgetran/edgetran/shared/pubdata"
)

// publishedDataPath returns the path of a file of the published EdgeTran
// measurements beside the checkout, or skips the test when it is absent.
func publishedDataPath(t testing.TB, name string) string {
	t.Helper()
	p := pubdata.Path(t, name)
	return p
}

func TestDefaultSpaceTableSizes(t *testing.T) {
	s := Default()
	if got := s.NumStacks(); got != 258 {
		t.Errorf("stacks = %d, want 6+36+216 = 258", got)
	}
	if got := s.NumMultisets(); got != 21805 {
		t.Errorf("multisets = %d, want C(8,2)+C(10,4)+C(14,8)+C(18,12) = 28+210+3003+18564 = 21805", got)
	}
	if got := s.EmbeddingLen(); got != 37 {
		t.Errorf("embedding length = %d, want 37", got)
	}
}

func TestEmbeddingMatchesPublishedData(t *testing.T) {
	data, err := os.ReadFile(publishedDataPath(t, "codesign_dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	var records map[string]struct {
		ModelDict Architecture `json:"model_dict"`
		Embedding string       `json:"embedding_txf"`
	}
	if err := json.Unmarshal(data, &records); err != nil {
		t.Fatal(err)
	}
	if len(records) != 648 {
		t.Fatalf("read %d records, want 648", len(records))
	}
	s := Default()
	for key, r := range records {
		var want []int
		if err := json.Unmarshal([]byte(r.Embedding), &want); err != nil {
			t.Fatalf("%s: embedding_txf: %v", key, err)
		}
		got, err := s.Encode(r.ModelDict)
		if err != nil {
			t.Errorf("%s: encode: %v", key, err)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: encode = %v, published %v", key, got, want)
		}
		back, err := s.Decode(got)
		if err != nil {
			t.Errorf("%s: decode: %v", key, err)
			continue
		}
		if canon := s.Canonical(r.ModelDict); s.ID(back) != s.ID(canon) || !equalArch(back, canon) {
			t.Errorf("%s: decode(encode(a)) = %+v, want canonical %+v", key, back, canon)
		}
	}
}

func equalArch(a, b Architecture) bool {
	if a.L != b.L || !slices.Equal(a.H, b.H) || len(a.F) != len(b.F) || len(a.O) != len(b.O) {
		return false
	}
	for i := range a.F {
		if !slices.Equal(a.F[i], b.F[i]) {
			return false
		}
	}
	for i := range a.O {
		if !slices.Equal(a.O[i], b.O[i]) {
			return false
		}
	}
	return true
}
