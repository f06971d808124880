package daemon

import (
	"testing"

	"github.com/edgetran/edgetran/shared/wire"
)

func TestDecodeKeepsRealJobID(t *testing.T) {
	long := make([]byte, MaxJobIDLen+1)
	for i := range long {
		long[i] = 'a'
	}
	seq := wire.StreamJobs + "-seq-7"
	tests := []struct {
		name    string
		data    string
		id      string
		attempt int
		code    string // "" when accepted
	}{
		{"valid fields", `{"id":"ok","attempt":2}`, "ok", 2, ""},
		{"bad batch type", `{"id":"bad-batch","attempt":3,"batch":"x"}`, "bad-batch", 3, "invalid"},
		{"bad attempt type", `{"id":"bad-attempt","attempt":"x"}`, "bad-attempt", 0, "invalid"},
		{"zero attempt", `{"id":"zero","attempt":0}`, "zero", 0, "invalid"},
		{"missing attempt", `{"id":"none"}`, "none", 0, "invalid"},
		{"empty id", `{"id":"","attempt":1}`, seq, 1, "invalid"},
		{"id too long", `{"id":"` + string(long) + `","attempt":1}`, seq, 1, "invalid"},
		{"id not a string", `{"id":5,"attempt":1}`, seq, 1, "invalid"},
		{"truncated json", `{"id": "x", "kind": `, seq, 1, "invalid"},
	}
	d := &Daemon{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job, rej := d.decode([]byte(tt.data), 7)
			if job.ID != tt.id || job.Attempt != tt.attempt {
				t.Errorf("id %q attempt %d, want %q attempt %d", job.ID, job.Attempt, tt.id, tt.attempt)
			}
			code := ""
			if rej != nil {
				code = rej.code
			}
			if code != tt.code {
				t.Errorf("rejection code %q (%v), want %q", code, rej, tt.code)
			}
		})
	}
}
