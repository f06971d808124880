package dataset

import (
	"bytes"
	"testing"
)

// FuzzParse checks that no input makes Parse panic and that every record it
// accepts is a valid measurement.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"f36d5c40c770e4f787c78b43a2a09d78_a100": {"model_dict": {"l": 2, "h": [128, 128], "f": [[512], [512]], "o": [["sa_sdp_64", "sa_sdp_64"], ["sa_sdp_64", "sa_sdp_64"]]}, "model_type": "shallow_narrow", "performance": {"latency": 0.0075, "energy": 0.33, "peak_power": 119.1, "pretrain_loss": 2.45, "glue": 0.81}, "embedding_txf": "[0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]", "embedding_device": "[1, 0, 0, 0, 0, 0, 0]"}}`))
	f.Add([]byte(`{"a_a100": {"performance": {"latency": NaN, "energy": -Infinity}}, "b_npu_ncs": [1, "x\"]"]}`))
	f.Add([]byte(`{"h": {"embedding": "[]", "glue": " 0.5", "pretrain": {"loss": "x"}}}`))
	f.Add([]byte(`{"a": }`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opt := range []Options{{}, {Format: FormatDevice, Device: "cpu_rpi"}} {
			imp, err := Parse(bytes.NewReader(data), opt)
			if err != nil {
				continue
			}
			for _, r := range imp.Records {
				if err := r.Measurement.Validate(); err != nil {
					t.Fatalf("accepted row %q has an invalid measurement: %v", r.Key, err)
				}
			}
		}
	})
}
