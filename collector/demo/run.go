package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/edgetran/edgetran/collector/api"
	"github.com/edgetran/edgetran/collector/campaign"
	"github.com/edgetran/edgetran/collector/codesign"
	"github.com/edgetran/edgetran/collector/dashboard"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/collector/view"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/dataset"
)

// ImportError is a published measurement file that could not be read.
type ImportError struct {
	Path string
	Err  error
}

func (e *ImportError) Error() string { return fmt.Sprintf("import %s: %v", e.Path, e.Err) }
func (e *ImportError) Unwrap() error { return e.Err }

// Imports holds the records of published files, read before the demo
// starts so a bad file fails at once.
type Imports struct {
	Request api.ImportRequest
	// Aliases maps an imported target key to its published device name.
	Aliases map[string]string
	// Rejected counts rows the file reader rejected.
	Rejected int
}

// LoadImports reads the published measurement files at paths.
func LoadImports(paths []string) (*Imports, error) {
	imp := &Imports{Aliases: map[string]string{}}
	for _, path := range paths {
		f, err := dataset.LoadFile(path, dataset.Options{Space: arch.Default()})
		if err != nil {
			return nil, &ImportError{Path: path, Err: err}
		}
		imp.Rejected += len(f.Rejected)
		for _, r := range f.Records {
			imp.Request.Measurements = append(imp.Request.Measurements, r.Measurement)
			if r.Accuracy != nil {
				imp.Request.Accuracy = append(imp.Request.Accuracy, *r.Accuracy)
			}
			imp.Aliases[r.Measurement.Target.Key()] = r.Device
		}
	}
	return imp, nil
}

// Run imports imp (may be nil), profiles this host with an active-learning
// campaign, fits the surrogates, runs the co-design search, writes the HTML
// report into the data directory and returns the summary. The dashboard
// shows each result as soon as it exists.
func (d *Demo) Run(ctx context.Context, imp *Imports) (*Summary, error) {
	aliases := map[string]string{}
	if imp != nil && len(imp.Request.Measurements) > 0 {
		if err := d.importRecords(ctx, imp); err != nil {
			return nil, err
		}
		aliases = imp.Aliases
	}

	host, err := d.profile(ctx)
	if err != nil {
		return nil, err
	}

	data, err := codesign.LoadStore(ctx, d.collector.Store())
	if err != nil {
		return nil, err
	}
	aliases[d.HostTarget().Key()] = "this host"
	data.Aliases = aliases

	d.log.Info("fitting surrogates", "targets", len(aliases), "measurements", len(data.Measurements))
	fits, err := view.CrossValidate(ctx, data.Measurements, view.FitOptions{Kind: SurrogateModel, Seed: d.opt.Seed, Space: d.collector.Space()})
	if err != nil {
		return nil, err
	}
	d.source.SetSurrogates(view.Views(fits))

	rep, err := d.search(ctx, data)
	if err != nil {
		return nil, err
	}
	d.source.SetCoDesign(view.CoDesign(rep, time.Now()))

	reportPath := filepath.Join(d.opt.DataDir, "report.html")
	if err := d.writeReport(ctx, reportPath); err != nil {
		return nil, err
	}
	return d.summarise(ctx, data, fits, rep, host, reportPath)
}

// importRecords sends the imported records through the collector's import
// API, which publishes them to the results stream like live results.
func (d *Demo) importRecords(ctx context.Context, imp *Imports) error {
	client, err := api.NewClient("http://"+d.collector.HTTPAddr(), "")
	if err != nil {
		return err
	}
	rep, err := client.Import(ctx, imp.Request)
	if err != nil {
		return fmt.Errorf("import published measurements: %w", err)
	}
	for _, r := range rep.Rejected {
		d.log.Warn("imported record rejected", "id", r.ID, "reason", r.Reason)
	}
	d.log.Info("published measurements imported", "stored", rep.Stored, "already_stored", rep.AlreadyStored,
		"rejected", len(rep.Rejected)+imp.Rejected, "accuracy_stored", rep.AccuracyStored)
	return nil
}

// profileOutcome is the result of the campaign on this host.
type profileOutcome struct {
	jobsDone int             // jobs that produced a measurement
	status   campaign.Status // converged, budget or exhausted
	reason   string          // the campaign's explanation, with its figures
}

// profile runs the active-learning campaign on this host through the
// collector's job system.
func (d *Demo) profile(ctx context.Context) (profileOutcome, error) {
	target := d.HostTarget()
	id := "demo-" + time.Now().UTC().Format("20060102T150405")
	settings := campaign.JobSettings{Warmup: d.opt.Job.Warmup, MinIters: d.opt.Job.MinIters, MinSeconds: d.opt.Job.MinSeconds, Repeats: d.opt.Job.Repeats}
	cfg := campaign.Config{
		Budget: d.opt.Budget, TestSize: max(2, d.opt.Budget/5), Initial: max(2, d.opt.Budget*2/5),
		Batch: 1, Seed: d.opt.Seed, Candidates: 200, Runner: "builtin", Job: settings,
	}
	st, err := campaign.New(id, target.Key(), cfg)
	if err != nil {
		return profileOutcome{}, err
	}
	prog := newProgress(d.opt.Progress, d.opt.Budget, d.opt.ProgressBar)
	live := &campaign.Live{
		Jobs:  &profileJobs{jobs: d.collector.Jobs(), progress: prog},
		Space: d.collector.Space(), Target: target, Runner: "builtin", Settings: settings, CampaignID: id,
		Timeout: 10 * time.Minute, Logger: d.log,
	}
	store := d.collector.Store()
	created := time.Now().UTC()
	hooks := campaign.Hooks{Save: func(s *campaign.State) error { return saveCampaign(ctx, store, s, created) }}

	d.log.Info("campaign started", "campaign", id, "target", target.Key(), "budget", cfg.Budget)
	err = campaign.Run(ctx, st, live, d.collector.Space(), hooks)
	if err != nil {
		prog.finish("")
		return profileOutcome{}, fmt.Errorf("campaign %s: %w", id, err)
	}
	prog.finish(fmt.Sprintf("stopped (%s): %s", st.Status, st.Reason))
	d.log.Info("campaign finished", "campaign", id, "status", st.Status, "reason", st.Reason, "measured", st.Measured(), "failed", len(st.Failed))
	done, err := countDone(ctx, d.collector.Store(), id)
	if err != nil {
		return profileOutcome{}, err
	}
	return profileOutcome{jobsDone: done, status: st.Status, reason: st.Reason}, nil
}

func saveCampaign(ctx context.Context, st store.Store, s *campaign.State, created time.Time) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return st.PutCampaign(ctx, store.Campaign{ID: s.ID, Target: s.TargetKey, Status: string(s.Status), State: data, CreatedAt: created, UpdatedAt: time.Now().UTC()})
}

func countDone(ctx context.Context, st store.Store, campaignID string) (int, error) {
	jobs, err := st.Jobs(ctx, store.JobQuery{Campaign: campaignID, Status: store.JobDone, Limit: store.MaxLimit})
	if err != nil {
		return 0, err
	}
	return len(jobs), nil
}

// search runs BOSHCODE and the random and evolution baselines over every
// target, on the offline oracle fitted to the stored measurements.
func (d *Demo) search(ctx context.Context, data codesign.Data) (*codesign.Report, error) {
	p, err := codesign.NewOfflineProblem(d.collector.Space(), data, codesign.DefaultObjective(), nil, codesign.OracleOptions{Model: string(SurrogateModel), Seed: d.opt.Seed})
	if err != nil {
		return nil, err
	}
	d.log.Info("co-design search started", "targets", len(p.Targets), "budget_per_strategy", d.opt.CodesignBudget)
	return codesign.Run(ctx, p, codesign.Options{
		Strategies: []string{codesign.StrategyBOSHCODE, codesign.StrategyRandom, codesign.StrategyEvolution},
		Budget:     d.opt.CodesignBudget, Seed: d.opt.Seed, Logger: d.log.With("component", "codesign"),
	})
}

func (d *Demo) writeReport(ctx context.Context, path string) error {
	v, err := dashboard.BuildReport(ctx, d.source, dashboard.ReportOptions{Title: "EdgeTran demo report"})
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := dashboard.WriteReport(f, v); err != nil {
		f.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
