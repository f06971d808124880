package demo

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/edgetran/edgetran/collector/campaign"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// profileJobs passes the campaign's jobs to the collector's job manager
// and counts finished jobs for the progress display.
type profileJobs struct {
	jobs     campaign.Jobs
	progress *progress
}

func (p *profileJobs) Submit(ctx context.Context, job wire.Job) (store.Job, error) {
	return p.jobs.Submit(ctx, job)
}

func (p *profileJobs) Wait(ctx context.Context, jobID string) (measure.Measurement, error) {
	m, err := p.jobs.Wait(ctx, jobID)
	if ctx.Err() == nil {
		p.progress.add(err == nil)
	}
	return m, err
}

// progress shows measured/budget and the ETA, as a bar on a terminal or
// as one line per finished job otherwise.
type progress struct {
	w     io.Writer
	total int
	start time.Time
	bar   *progressbar.ProgressBar

	mu     sync.Mutex
	done   int
	failed int
}

func newProgress(w io.Writer, total int, bar bool) *progress {
	p := &progress{w: w, total: total, start: time.Now()}
	if w != nil && bar {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("profiling this host"), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *progress) add(ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if !ok {
		p.failed++
	}
	if p.w == nil {
		return
	}
	if p.bar != nil {
		p.bar.Add(1)
		return
	}
	elapsed := time.Since(p.start)
	eta := time.Duration(float64(elapsed) / float64(p.done) * float64(max(p.total-p.done, 0)))
	fmt.Fprintf(p.w, "profiling this host: %d of up to %d architectures measured (%d failed), elapsed %s, ETA %s\n",
		p.done, p.total, p.failed, elapsed.Round(time.Second), eta.Round(time.Second))
}

// finish closes the bar. When stop is set, it writes a last line with the
// counts and stop, the reason the campaign ended, because a campaign may
// converge before the budget is spent.
func (p *progress) finish(stop string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
	}
	if p.w == nil || stop == "" {
		return
	}
	fmt.Fprintf(p.w, "profiling this host: %d of up to %d architectures measured (%d failed), %s\n",
		p.done, p.total, p.failed, stop)
}
