package arch

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzParseArchitecture checks that no input makes parsing, validation,
// features or the id panic, and that every valid architecture survives an
// Encode/Decode round trip with its id unchanged.
func FuzzParseArchitecture(f *testing.F) {
	for _, name := range PresetNames() {
		a, _ := Preset(name)
		data, _ := json.Marshal(a)
		f.Add(data)
	}
	data, _ := json.Marshal(mixedArch)
	f.Add(data)
	f.Add([]byte(`{"l":2,"h":[128],"f":[[]],"o":[[""]]}`))
	f.Add([]byte(`{"l":12,"h":[768,768],"f":[[3072]],"o":[["c_0_1","_5","sa_sdp_-3"]]}`))
	f.Add([]byte(`{"l":-1}`))

	s := Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseArchitecture(data)
		if err != nil {
			return
		}
		_ = s.ID(a)
		_ = s.Features(a, 1, 16)
		if s.Validate(a) != nil {
			return
		}
		e, err := s.Encode(a)
		if err != nil {
			t.Fatalf("Encode(valid %+v): %v", a, err)
		}
		back, err := s.Decode(e)
		if err != nil {
			t.Fatalf("Decode(Encode(%+v)) = %v", a, err)
		}
		if s.ID(back) != s.ID(a) {
			t.Fatalf("round trip changed the id: %+v became %+v", a, back)
		}
	})
}

// FuzzDecodeEmbedding checks that Decode never panics and that every
// embedding it accepts is valid and encodes back to itself.
func FuzzDecodeEmbedding(f *testing.F) {
	f.Add([]byte(`[2, 3, 128, 127, 1, 39, 95, 3, 186, 119, 1, 11, 57, 0, 102, 123, 1, 47, 213, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]`))
	f.Add([]byte(`[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]`))
	f.Add([]byte(`[5, 3, 257, 21804, 3, 257, 21804, 3, 257, 21804, 3, 257, 21804, 3, 257, 21804, 3, 257, 21804, 3, 257, 21804, 3, 257, 21804, 3, 257, 21804, 3, 257, 21804, 3, 257, 21804, 3, 257, 21804]`))
	f.Add([]byte(`[6, 0, 0, 0]`))
	f.Add([]byte(`[0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]`))

	s := Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		var e []int
		if json.Unmarshal(data, &e) != nil {
			return
		}
		a, err := s.Decode(e)
		if err != nil {
			return
		}
		if err := s.Validate(a); err != nil {
			t.Fatalf("Decode(%v) = invalid %+v: %v", e, a, err)
		}
		back, err := s.Encode(a)
		if err != nil {
			t.Fatalf("Encode(Decode(%v)): %v", e, err)
		}
		if !slices.Equal(back, e) {
			t.Fatalf("Encode(Decode(%v)) = %v", e, back)
		}
	})
}
