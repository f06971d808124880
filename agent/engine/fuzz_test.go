package engine

import (
	"errors"
	"testing"

	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/shared/arch"
)

// FuzzCheckSpec feeds architecture JSON to the validation and memory plan
// that run before New allocates anything: they must return an error or a
// plan with positive sizes, never panic.
func FuzzCheckSpec(f *testing.F) {
	f.Add([]byte(`{"l":2,"h":[128,256],"f":[[512],[256,512,1024]],"o":[["sa_sdp_64","c_9_64"],["l_dft_128","l_dct_128"]]}`), 1, 128)
	f.Add([]byte(`{"l":1,"h":[7],"f":[[1]],"o":[["c_13_1","sa_wma_1","c_1_1","l_dct_1","l_dft_1","sa_sdp_1","c_5_1"]]}`), 3, 1)
	f.Add([]byte(`{"l":1,"h":[64],"f":[[64]],"o":[["c_0_64"]]}`), 1, 8)
	f.Fuzz(func(t *testing.T, data []byte, batch, seq int) {
		a, err := arch.ParseArchitecture(data)
		if err != nil {
			return
		}
		spec := runner.Spec{Arch: a, Batch: batch, SeqLen: seq, MaxMemoryBytes: 1 << 30}
		_, p, err := checkSpec(spec, 2)
		if err != nil {
			if errors.Is(err, runner.ErrTooLarge) && p.weights != 0 {
				t.Errorf("rejected spec returned a plan")
			}
			return
		}
		if p.totalBytes() <= 0 || p.totalBytes() > 1<<30 {
			t.Errorf("accepted plan of %d bytes", p.totalBytes())
		}
	})
}
