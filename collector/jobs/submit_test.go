package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/edgetran/edgetran/collector/jobs"
	"github.com/edgetran/edgetran/collector/store/storetest"
	"github.com/edgetran/edgetran/shared/wire"
)

func TestConcurrentSameIDOneWins(t *testing.T) {
	r := startRig(t, 3)
	for round := range 20 {
		id := fmt.Sprintf("dup-%d", round)
		errs := make(chan error, 2)
		for v := range 2 {
			go func() {
				_, err := r.jobs.Submit(context.Background(), wire.Job{ID: id, Device: "dev1", Arch: storetest.Arch(v), Batch: 1, SeqLen: 128})
				errs <- err
			}()
		}
		first, second := <-errs, <-errs
		dups := 0
		for _, err := range []error{first, second} {
			if errors.Is(err, jobs.ErrDuplicateID) {
				dups++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if dups != 1 {
			t.Fatalf("round %d: %d of 2 submits with one id rejected, want exactly 1", round, dups)
		}
	}
}
