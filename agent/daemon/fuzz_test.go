package daemon

import (
	"encoding/json"
	"testing"

	"github.com/edgetran/edgetran/agent/config"
	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/wire"
)

// FuzzJobMessage checks that any job message is either accepted or
// rejected with a code and a result id, and never panics.
func FuzzJobMessage(f *testing.F) {
	a, err := arch.Preset("bert-tiny")
	if err != nil {
		f.Fatal(err)
	}
	good, _ := json.Marshal(wire.Job{ID: "seed", Kind: wire.JobProfile, Device: testDevice, Runner: "builtin", Arch: a,
		Batch: 1, SeqLen: 16, MinIters: 1, Repeats: 1, Attempt: 1})
	f.Add(good)
	f.Add([]byte(`{"id":"x","kind":"profile","runner":"builtin","arch":{"l":1},"batch":1,"seq_len":1,"min_iters":1,"repeats":1,"attempt":1}`))
	f.Add([]byte(`{"id": 5}`))
	f.Add([]byte(`null`))

	cfg := config.Default()
	cfg.Device.ID = testDevice
	cfg.Limits.MaxModelMemory = 64 << 20
	d := &Daemon{
		cfg: &cfg, device: testDevice, space: arch.Default(),
		opts: Options{Runners: map[string]runner.Runner{"builtin": nil}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		job, rej := d.decode(data, 7)
		if rej == nil {
			rej = d.check(&job)
		}
		if job.ID == "" {
			t.Errorf("job id is empty: a result id needs one")
		}
		if rej == nil && job.Attempt < 1 {
			t.Errorf("job %q with attempt %d accepted", job.ID, job.Attempt)
		}
		if rej != nil && (rej.code == "" || rej.err == nil) {
			t.Errorf("rejection without code or error: %+v", rej)
		}
	})
}
