// Package view adapts the collector's store, its fitted surrogates and the
// latest co-design report to the dashboard's Source interface, so the
// demo and the serve command show the same pages and the same report.
package view

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/edgetran/edgetran/collector/dashboard"
	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/measure"
)

// Source implements dashboard.Source over a store. The code that fits
// surrogates or runs a search sets their views, and until then the
// dashboard shows none. A Source is safe for concurrent use.
type Source struct {
	store func() store.Store

	mu         sync.Mutex
	surrogates []dashboard.SurrogateView
	codesign   *dashboard.CoDesignView
}

var _ dashboard.Source = (*Source)(nil)

// New returns a source over st.
func New(st store.Store) *Source { return &Source{store: func() store.Store { return st }} }

// NewFunc returns a source over the store that get returns at each call,
// for a dashboard registered before its collector opens the store, such
// as service.Collector.Store: the collector serves no request before its
// store is open.
func NewFunc(get func() store.Store) *Source { return &Source{store: get} }

// SetSurrogates replaces the surrogate views.
func (s *Source) SetSurrogates(v []dashboard.SurrogateView) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.surrogates = slices.Clone(v)
}

// SetCoDesign replaces the co-design view; nil clears it.
func (s *Source) SetCoDesign(v *dashboard.CoDesignView) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codesign = v
}

// Devices returns the store's devices by id.
func (s *Source) Devices(ctx context.Context) ([]dashboard.Device, error) {
	devices, err := s.store().Devices(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]dashboard.Device, 0, len(devices))
	for _, d := range devices {
		v := dashboard.Device{ID: d.ID, Announce: d.Announce, LastHeartbeat: d.Heartbeat}
		if d.LastHeartbeat != nil {
			v.HeartbeatAt = *d.LastHeartbeat
		}
		out = append(out, v)
	}
	return out, nil
}

// Targets counts the measurements of every target by provenance.
func (s *Source) Targets(ctx context.Context) ([]dashboard.TargetSummary, error) {
	all, err := s.all(ctx, store.Query{})
	if err != nil {
		return nil, err
	}
	byKey := map[string]*dashboard.TargetSummary{}
	var keys []string
	for _, m := range all {
		k := m.Target.Key()
		t := byKey[k]
		if t == nil {
			t = &dashboard.TargetSummary{Target: m.Target}
			byKey[k] = t
			keys = append(keys, k)
		}
		switch m.Provenance {
		case measure.Estimated:
			t.Estimated++
		case measure.Imported:
			t.Imported++
		default:
			t.Measured++
		}
		if m.Provenance != measure.Imported && !m.MeasuredAt.Before(t.LastMeasuredAt) {
			t.LastMeasuredAt = m.MeasuredAt
			if m.Power != nil {
				t.Meter = m.Power.Meter
				t.MeterEstimated = m.Provenance == measure.Estimated
			}
		}
	}
	slices.Sort(keys)
	out := make([]dashboard.TargetSummary, 0, len(keys))
	for _, k := range keys {
		out = append(out, *byKey[k])
	}
	return out, nil
}

// Measurements returns the page of records matching f, newest first.
func (s *Source) Measurements(ctx context.Context, f dashboard.Filter) ([]measure.Measurement, int, error) {
	all, err := s.all(ctx, store.Query{Device: f.Device, Target: f.Target, ArchID: f.ArchID})
	if err != nil {
		return nil, 0, err
	}
	if f.Provenance != "" {
		all = slices.DeleteFunc(all, func(m measure.Measurement) bool { return m.Provenance != f.Provenance })
	}
	slices.SortStableFunc(all, func(a, b measure.Measurement) int {
		if c := b.MeasuredAt.Compare(a.MeasuredAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	total := len(all)
	start := min(max(f.Offset, 0), total)
	end := total
	if f.Limit > 0 {
		end = min(start+f.Limit, total)
	}
	return all[start:end], total, nil
}

// Measurement returns one record, or an error wrapping
// dashboard.ErrNotFound.
func (s *Source) Measurement(ctx context.Context, id string) (measure.Measurement, error) {
	m, err := s.store().Measurement(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return m, fmt.Errorf("measurement %q: %w", id, dashboard.ErrNotFound)
	}
	return m, err
}

// Surrogates returns the views given to SetSurrogates.
func (s *Source) Surrogates(context.Context) ([]dashboard.SurrogateView, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.surrogates), nil
}

// CoDesign returns the view given to SetCoDesign.
func (s *Source) CoDesign(context.Context) (*dashboard.CoDesignView, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codesign, nil
}

// all reads every page of q. The store pages in id order and has no
// provenance filter, so sorting and filtering happen here.
// TODO: page in the store once stores grow past some 100,000 records.
func (s *Source) all(ctx context.Context, q store.Query) ([]measure.Measurement, error) {
	q.Limit = store.MaxLimit
	var out []measure.Measurement
	for {
		page, err := s.store().Measurements(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Measurements...)
		if page.Next == "" {
			return out, nil
		}
		q.After = page.Next
	}
}
