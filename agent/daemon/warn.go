package daemon

import (
	"log/slog"
	"sync"
	"time"
)

// warnLimiter logs a repeated warning at most once per interval per key and
// reports how many were suppressed in between.
type warnLimiter struct {
	log      *slog.Logger
	interval time.Duration

	mu         sync.Mutex
	last       map[string]time.Time
	suppressed map[string]int // warnings dropped since the last one logged
}

func newWarnLimiter(log *slog.Logger, interval time.Duration) *warnLimiter {
	return &warnLimiter{log: log, interval: interval, last: map[string]time.Time{}, suppressed: map[string]int{}}
}

// Warn logs msg under key unless the same key was logged within the interval.
func (w *warnLimiter) Warn(key, msg string, args ...any) {
	w.mu.Lock()
	now := time.Now()
	if t, ok := w.last[key]; ok && now.Sub(t) < w.interval {
		w.suppressed[key]++
		w.mu.Unlock()
		return
	}
	suppressed := w.suppressed[key]
	w.last[key] = now
	w.suppressed[key] = 0
	w.mu.Unlock()
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	w.log.Warn(msg, args...)
}

// Reset clears key, so the next warning under it is logged at once.
func (w *warnLimiter) Reset(key string) {
	w.mu.Lock()
	delete(w.last, key)
	delete(w.suppressed, key)
	w.mu.Unlock()
}
