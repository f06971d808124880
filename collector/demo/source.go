package demo

import (
	"context"
	"errors"
	"sync"

	"github.com/edgetran/edgetran/collector/dashboard"
	"github.com/edgetran/edgetran/shared/measure"
)

// errNotReady is returned by dashboard requests that arrive before the
// collector's store is open.
var errNotReady = errors.New("the collector is still starting")

// lazySource is a dashboard.Source whose implementation is set after the
// collector has started: the dashboard handler must be registered before
// Start, but the store exists only after it.
type lazySource struct {
	mu  sync.Mutex
	src dashboard.Source
}

var _ dashboard.Source = (*lazySource)(nil)

func (l *lazySource) set(src dashboard.Source) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.src = src
}

func (l *lazySource) get() (dashboard.Source, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.src == nil {
		return nil, errNotReady
	}
	return l.src, nil
}

func (l *lazySource) Devices(ctx context.Context) ([]dashboard.Device, error) {
	s, err := l.get()
	if err != nil {
		return nil, err
	}
	return s.Devices(ctx)
}

func (l *lazySource) Targets(ctx context.Context) ([]dashboard.TargetSummary, error) {
	s, err := l.get()
	if err != nil {
		return nil, err
	}
	return s.Targets(ctx)
}

func (l *lazySource) Measurements(ctx context.Context, f dashboard.Filter) ([]measure.Measurement, int, error) {
	s, err := l.get()
	if err != nil {
		return nil, 0, err
	}
	return s.Measurements(ctx, f)
}

func (l *lazySource) Measurement(ctx context.Context, id string) (measure.Measurement, error) {
	s, err := l.get()
	if err != nil {
		return measure.Measurement{}, err
	}
	return s.Measurement(ctx, id)
}

func (l *lazySource) Surrogates(ctx context.Context) ([]dashboard.SurrogateView, error) {
	s, err := l.get()
	if err != nil {
		return nil, err
	}
	return s.Surrogates(ctx)
}

func (l *lazySource) CoDesign(ctx context.Context) (*dashboard.CoDesignView, error) {
	s, err := l.get()
	if err != nil {
		return nil, err
	}
	return s.CoDesign(ctx)
}
