package meter

import (
	"context"
	"io"
	"strings"
	"testing"
)

func TestTailBufferKeepsLastBytes(t *testing.T) {
	tests := []struct {
		name   string
		writes []int // sizes of successive writes of a rolling alphabet
	}{
		{"small writes", []int{100, 200, 300}},
		{"many small writes", nil},
		{"one huge write", []int{3 * maxStderrTail}},
		{"crossing the limit", []int{maxStderrTail - 10, 50, maxStderrTail + 7, 3}},
	}
	for i := range 5000 {
		tests[1].writes = append(tests[1].writes, 1+i%13)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b tailBuffer
			var all []byte
			k := 0
			for _, n := range tt.writes {
				p := make([]byte, n)
				for j := range p {
					p[j] = byte('a' + k%26)
					k++
				}
				all = append(all, p...)
				if got, err := b.Write(p); got != n || err != nil {
					t.Fatalf("Write returned %d, %v; want %d, nil", got, err, n)
				}
			}
			want := all[max(0, len(all)-maxStderrTail):]
			if got := b.String(); got != string(want) {
				t.Errorf("kept %d bytes, want the last %d written", len(got), len(want))
			}
		})
	}
}

func TestStreamStderrStaysBounded(t *testing.T) {
	// A real process that writes 1 MB to standard error, then "done".
	r, err := ExecRunner{}.Stream(context.Background(), "sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x >&2; echo done")
	if err != nil {
		t.Skipf("no sh to run: %v", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if strings.TrimSpace(string(out)) != "done" {
		t.Errorf("stdout %q, want done", out)
	}
	tail := r.(*processStream).stderr.String()
	if len(tail) != maxStderrTail || strings.Trim(tail, "x") != "" {
		t.Errorf("kept %d bytes of standard error, want the last %d", len(tail), maxStderrTail)
	}
}
