package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// Store persists campaign states; the collector's store.SQLite implements
// it with its campaigns table.
type Store interface {
	PutCampaign(ctx context.Context, c store.Campaign) error
	Campaign(ctx context.Context, id string) (store.Campaign, error)
	Campaigns(ctx context.Context) ([]store.Campaign, error)
}

// ErrRunning is returned by Start for an id whose campaign is still running.
var ErrRunning = errors.New("campaign is already running")

// ManagerOptions configure a Manager. Store and Jobs are required.
type ManagerOptions struct {
	Store   Store
	Jobs    Jobs
	Space   *arch.Space   // nil means arch.Default()
	Timeout time.Duration // per job attempt; 0 means the Live default
	Retries int           // per job; 0 means the Live default
	Logger  *slog.Logger  // nil means slog.Default()
	Now     func() time.Time
}

// Manager runs live campaigns in the background, stores their state after
// every round, and resumes running campaigns after a restart. The collector
// calls Start and Status from its HTTP API and Resume at start-up.
type Manager struct {
	opts ManagerOptions
	log  *slog.Logger

	mu      sync.Mutex
	running map[string]context.CancelFunc
	wg      sync.WaitGroup
	closed  bool
}

// NewManager returns a manager; it starts nothing.
func NewManager(opts ManagerOptions) *Manager {
	if opts.Space == nil {
		opts.Space = arch.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Manager{opts: opts, log: log.With("component", "campaign"), running: map[string]context.CancelFunc{}}
}

// Start creates a campaign for target, stores it and runs it in the
// background. An id used by a finished campaign is replaced; an id of a
// running campaign returns ErrRunning. It returns the stored initial state; Status returns later ones.
func (m *Manager) Start(id string, target measure.Target, cfg Config) (*State, error) {
	if id == "" {
		return nil, errors.New("campaign id is missing")
	}
	if err := target.Validate(); err != nil {
		return nil, fmt.Errorf("campaign %s: %w", id, err)
	}
	st, err := New(id, target.Key(), cfg)
	if err != nil {
		return nil, err
	}
	space, err := m.space(st)
	if err != nil {
		return nil, err
	}
	if err := CheckJobs(target, st.Config, space); err != nil {
		return nil, fmt.Errorf("campaign %s: %w", id, err)
	}
	m.mu.Lock()
	_, busy := m.running[id]
	m.mu.Unlock()
	if busy {
		return nil, fmt.Errorf("campaign %s: %w", id, ErrRunning)
	}
	if err := m.save(context.Background(), st); err != nil {
		return nil, err
	}
	// The campaign goroutine owns st from here on, so return a copy.
	snapshot := *st
	if err := m.launch(st, target); err != nil {
		return nil, err
	}
	return &snapshot, nil
}

// Resume restarts every stored campaign whose status is running, from its
// last saved round. The collector calls it once at start-up.
//
// The round in progress at shutdown is not in the saved state, so it runs
// again. Live derives job ids from the campaign, target and architecture,
// so that round waits for the jobs submitted before the restart instead of
// sending new ones.
func (m *Manager) Resume(ctx context.Context) error {
	rows, err := m.opts.Store.Campaigns(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, row := range rows {
		if row.Status != string(Running) {
			continue
		}
		st, err := decodeState(row)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// A state stored by an older build may hold a configuration this
		// build rejects. Running it could crash the collector at every
		// start-up, so it is marked failed instead.
		if err := st.Config.Validate(); err != nil {
			st.stop(Failed, fmt.Sprintf("stored configuration is invalid: %v", err))
			m.log.Error("campaign not resumed", "campaign", st.ID, "err", err)
			if err := m.save(ctx, st); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		target, err := measure.ParseTargetKey(st.TargetKey)
		if err != nil {
			errs = append(errs, fmt.Errorf("campaign %s: %w", st.ID, err))
			continue
		}
		m.log.Info("campaign resumed", "campaign", st.ID, "target", st.TargetKey, "measured", st.Measured())
		if err := m.launch(st, target); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Status returns the stored state of campaign id.
func (m *Manager) Status(ctx context.Context, id string) (*State, error) {
	row, err := m.opts.Store.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	return decodeState(row)
}

// Close cancels every running campaign and waits for its goroutine to
// return. Jobs already submitted keep running on their agents. The states
// stay stored as running, so Resume continues them.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	for _, cancel := range m.running {
		cancel()
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// Wait blocks until campaign id is no longer running in this process.
func (m *Manager) Wait(ctx context.Context, id string) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		m.mu.Lock()
		_, busy := m.running[id]
		m.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (m *Manager) launch(st *State, target measure.Target) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("campaign manager is closed")
	}
	if _, busy := m.running[st.ID]; busy {
		return fmt.Errorf("campaign %s: %w", st.ID, ErrRunning)
	}
	space, err := m.space(st)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.running[st.ID] = cancel
	m.wg.Add(1)
	live := &Live{
		Jobs: m.opts.Jobs, Space: space, Target: target, Metric: st.Config.Metric, Runner: st.Config.Runner,
		Settings: st.Config.Job, CampaignID: st.ID, Timeout: m.opts.Timeout, Retries: m.opts.Retries, Logger: m.log,
	}
	go func() {
		defer m.wg.Done()
		defer func() {
			m.mu.Lock()
			delete(m.running, st.ID)
			m.mu.Unlock()
			cancel()
		}()
		hooks := Hooks{
			Save: func(s *State) error { return m.save(ctx, s) },
			Round: func(s *State, r Round) {
				m.log.Info("campaign round", "campaign", s.ID, "round", r.Round, "measured", r.Measured, "budget", s.Config.Budget, "nmse", r.NMSE)
			},
		}
		err := runSafely(ctx, st, live, space, hooks)
		switch {
		case err == nil:
			m.log.Info("campaign finished", "campaign", st.ID, "status", st.Status, "reason", st.Reason, "measured", st.Measured())
		case ctx.Err() != nil:
			m.log.Info("campaign paused", "campaign", st.ID, "measured", st.Measured())
		default:
			// Resume would hit the same error again, so the campaign is
			// stored as failed with the error as its reason.
			m.log.Error("campaign stopped by an error", "campaign", st.ID, "err", err)
			st.stop(Failed, err.Error())
			if err := m.save(context.Background(), st); err != nil {
				m.log.Error("campaign failure not stored", "campaign", st.ID, "err", err)
			}
		}
	}()
	return nil
}

// runSafely runs the campaign and turns a panic into an error, so that one
// campaign cannot take the whole collector down.
func runSafely(ctx context.Context, st *State, ev Evaluator, space *arch.Space, hooks Hooks) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("campaign %s crashed: %v", st.ID, p)
		}
	}()
	return Run(ctx, st, ev, space, hooks)
}

// space returns the design space of st's candidates: the manager's space,
// or st.Config.Space after checking that it lies inside the manager's,
// because the job manager rejects architectures outside it.
func (m *Manager) space(st *State) (*arch.Space, error) {
	narrow := st.Config.Space
	if narrow == nil {
		return m.opts.Space, nil
	}
	// A decoded Space lacks its embedding tables; NewSpace builds them.
	sp, err := arch.NewSpace(*narrow)
	if err != nil {
		return nil, fmt.Errorf("campaign %s: %w", st.ID, err)
	}
	if err := Within(sp, m.opts.Space); err != nil {
		return nil, fmt.Errorf("campaign %s: %w", st.ID, err)
	}
	return sp, nil
}

// Within returns an error naming every value of inner that outer does not
// allow, or nil when every architecture of inner is valid in outer.
func Within(inner, outer *arch.Space) error {
	var errs []error
	check := func(name string, in, out []int) {
		for _, v := range in {
			if !slices.Contains(out, v) {
				errs = append(errs, fmt.Errorf("design space %s value %d is outside the collector's space %v", name, v, out))
			}
		}
	}
	check("layers", inner.Layers, outer.Layers)
	check("hidden", inner.Hidden, outer.Hidden)
	check("ff_widths", inner.FFWidths, outer.FFWidths)
	check("head_counts", inner.HeadCounts, outer.HeadCounts)

	// Architecture ids sort heads in the space's type order, so the inner
	// order must agree with the outer one for both to give the same ids.
	last := -1
	for _, t := range inner.HeadTypes {
		i := slices.Index(outer.HeadTypes, t)
		switch {
		case i < 0:
			errs = append(errs, fmt.Errorf("design space head type %q is outside the collector's space", t))
		case i < last:
			errs = append(errs, fmt.Errorf("design space head type %q is out of order: list head types in the order %v", t, outer.HeadTypes))
		default:
			last = i
		}
	}

	if inner.FFDepthMax > outer.FFDepthMax {
		errs = append(errs, fmt.Errorf("design space ff_depth_max %d exceeds the collector's %d", inner.FFDepthMax, outer.FFDepthMax))
	}
	return errors.Join(errs...)
}

func (m *Manager) save(ctx context.Context, st *State) error {
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("campaign %s: encode state: %w", st.ID, err)
	}
	now := m.opts.Now()
	created := now
	if old, err := m.opts.Store.Campaign(ctx, st.ID); err == nil && len(st.Rounds)+st.Measured() > 0 {
		created = old.CreatedAt
	}
	return m.opts.Store.PutCampaign(ctx, store.Campaign{
		ID: st.ID, Target: st.TargetKey, Status: string(st.Status), State: data, CreatedAt: created, UpdatedAt: now,
	})
}

// Decode returns the campaign state stored in row.
func Decode(row store.Campaign) (*State, error) { return decodeState(row) }

func decodeState(row store.Campaign) (*State, error) {
	var st State
	if err := json.Unmarshal(row.State, &st); err != nil {
		return nil, fmt.Errorf("campaign %s: decode stored state: %w", row.ID, err)
	}
	if st.Version != StateVersion {
		return nil, fmt.Errorf("campaign %s: stored state version %d, this build reads version %d", row.ID, st.Version, StateVersion)
	}
	return &st, nil
}
