package meter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
)

// Reading is one rail's value from a parsed record of a streaming tool.
type Reading struct {
	Rail   string
	PowerW float64 // NaN when the tool printed no value ("[N/A]")
}

// StreamConfig describes a streaming tool (tegrastats, powermetrics,
// nvidia-smi with a loop interval) for NewStreamMeter.
type StreamConfig struct {
	// Info describes the meter. When Info.Rails is empty, the rails are
	// taken from the first record.
	Info Info
	// Open starts the tool; closing the stream stops it.
	Open func(ctx context.Context) (io.ReadCloser, error)
	// Split cuts the output into records, e.g. bufio.ScanLines.
	Split bufio.SplitFunc
	// Parse turns one record into readings. An error marks that record
	// as a failed read; it never ends the stream.
	Parse func(rec []byte) ([]Reading, error)
	// Rails turns the rail names of the first record into Info.Rails, one
	// per name in the same order, so the platform can mark its total rail.
	// With nil, every rail is a part of the total.
	Rails func(names []string) []Rail
	// Partial is true when a record carries some rails only, as nvidia-smi
	// prints one row per GPU. A record then updates only its rails, and
	// Info.Rails must be set up front.
	Partial bool
	// FirstRecord bounds the wait for the first valid record (default 5 s).
	FirstRecord time.Duration
}

// StreamMeter reads a tool's output in its own goroutine and returns the
// latest record from Read.
type StreamMeter struct {
	info  Info
	index map[string]int
	now   func() time.Time
	cfg   StreamConfig

	stream io.ReadCloser
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	latest  []float64
	latestT time.Time
	failed  error // parse error of the latest record, reported once
	ended   error // cause of the end of the stream
}

// NewStreamMeter starts the tool and waits for its first valid record,
// whose rails define Info.Rails. It fails when the tool cannot start,
// stops, or prints nothing usable within cfg.FirstRecord.
func NewStreamMeter(ctx context.Context, deps Deps, cfg StreamConfig) (*StreamMeter, error) {
	deps = deps.Defaults()
	if cfg.FirstRecord <= 0 {
		cfg.FirstRecord = 5 * time.Second
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stream, err := cfg.Open(runCtx)
	if err != nil {
		cancel()
		return nil, err
	}
	m := &StreamMeter{info: cfg.Info, now: deps.Now, cfg: cfg, stream: stream, cancel: cancel, done: make(chan struct{})}
	if len(cfg.Info.Rails) > 0 {
		m.indexRails()
	}

	first := make(chan []Reading, 1)
	go m.run(first)

	timer := time.NewTimer(cfg.FirstRecord)
	defer timer.Stop()
	select {
	case rs, ok := <-first:
		if !ok {
			m.Close()
			m.mu.Lock()
			defer m.mu.Unlock()
			return nil, fmt.Errorf("%s: no power reading: %w", cfg.Info.Name, m.ended)
		}
		if len(cfg.Info.Rails) == 0 {
			m.setRails(rs)
		}
		return m, nil
	case <-timer.C:
		m.Close()
		return nil, fmt.Errorf("%s: no power reading within %v", cfg.Info.Name, cfg.FirstRecord)
	case <-ctx.Done():
		m.Close()
		return nil, ctx.Err()
	}
}

func (m *StreamMeter) setRails(rs []Reading) {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, len(rs))
	for k, r := range rs {
		names[k] = r.Rail
	}
	if m.cfg.Rails != nil && len(m.cfg.Rails(names)) == len(names) {
		m.info.Rails = m.cfg.Rails(names)
	} else {
		for _, n := range names {
			m.info.Rails = append(m.info.Rails, Rail{Name: n})
		}
	}
	m.indexRails()
}

func (m *StreamMeter) indexRails() {
	m.index = make(map[string]int, len(m.info.Rails))
	for k, r := range m.info.Rails {
		m.index[r.Name] = k
	}
	if len(m.latest) == len(m.info.Rails) {
		return // the first record, stored in rail order before the rails were known
	}
	m.latest = make([]float64, len(m.info.Rails))
	for k := range m.latest {
		m.latest[k] = math.NaN()
	}
}

// run reads records until the stream ends. It sends the first valid
// record on first and closes first if the stream ends before one.
func (m *StreamMeter) run(first chan<- []Reading) {
	defer close(m.done)
	sc := bufio.NewScanner(m.stream)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	sc.Split(m.cfg.Split)
	sent := false
	for sc.Scan() {
		rec := sc.Bytes()
		if len(rec) == 0 {
			continue
		}
		rs, err := m.cfg.Parse(rec)
		now := m.now()
		if !sent {
			if err != nil || len(rs) == 0 {
				continue // banners or a partial first record
			}
			m.store(rs, now)
			first <- rs
			sent = true
			continue
		}
		if err != nil {
			m.mu.Lock()
			m.failed = fmt.Errorf("%s: %w", m.info.Name, err)
			m.mu.Unlock()
			continue
		}
		m.store(rs, now)
	}
	err := sc.Err()
	if err == nil {
		err = io.EOF
	}
	m.mu.Lock()
	m.ended = fmt.Errorf("%s output ended: %w", m.info.Name, err)
	m.mu.Unlock()
	if !sent {
		close(first)
	}
}

func (m *StreamMeter) store(rs []Reading, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.index == nil {
		// The first record: rails are not known yet; setRails indexes
		// them and the copy below happens on the next record.
		m.latestT = now
		m.latest = make([]float64, len(rs))
		for k, r := range rs {
			m.latest[k] = r.PowerW
		}
		return
	}
	if len(m.latest) != len(m.info.Rails) {
		m.latest = make([]float64, len(m.info.Rails))
	}
	if !m.cfg.Partial {
		for k := range m.latest {
			m.latest[k] = math.NaN()
		}
	}
	for _, r := range rs {
		if k, ok := m.index[r.Rail]; ok {
			m.latest[k] = r.PowerW
		}
	}
	m.latestT = now
	m.failed = nil
}

// Info describes the tool's rails.
func (m *StreamMeter) Info() Info { return m.info }

// Read fills s with the latest record. It returns an error once for a
// record that failed to parse, and on every call after the tool stopped.
func (m *StreamMeter) Read(ctx context.Context, s *Sample) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.Reset(len(m.info.Rails), false)
	if m.ended != nil {
		return m.ended
	}
	if m.failed != nil {
		err := m.failed
		m.failed = nil
		return err
	}
	s.Time = m.latestT
	copy(s.PowerW, m.latest)
	return nil
}

// Close stops the tool and waits for the reading goroutine.
func (m *StreamMeter) Close() error {
	m.cancel()
	err := m.stream.Close()
	<-m.done
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
