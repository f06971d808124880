package meter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"
)

// Entry flags.
const (
	flagFailed      = 1 << iota // Read returned an error at this time
	flagWrapUnknown             // a counter went down and its range is unknown
)

// entry is one ring-buffer slot: the total over Info.TotalRails.
type entry struct {
	t     time.Time
	w     float64 // total power in W; NaN when unknown
	e     float64 // cumulative energy in J since Start (counter meters only)
	flags uint8
}

// Point is one sample as the sampler stored it.
type Point struct {
	Time    time.Time
	PowerW  float64 // total power; NaN when the sample had none
	EnergyJ float64 // energy counted since Start; 0 for meters without a counter
	Failed  bool    // the meter returned an error at this time
}

// Sampler reads a meter at a fixed interval in its own goroutine into a
// preallocated ring buffer. Reading and storing a sample allocates nothing
// as long as the meter's Read does not. All methods are safe for concurrent
// use; Start and Stop are called once each.
type Sampler struct {
	m        Meter
	info     Info
	rails    []int
	interval time.Duration
	logger   *slog.Logger
	now      func() time.Time

	mu      sync.Mutex
	ring    []entry
	next    int // slot of the next write
	count   int // filled slots
	cumJ    float64
	prevE   []float64 // last counter values of the total rails, J
	havePrv bool
	last    time.Time
	reads   int
	fails   int
	lastErr error

	sample Sample
	cancel context.CancelFunc
	done   chan struct{}
}

// NewSampler returns a sampler that reads m every interval and keeps the
// latest capacity samples. A slot takes 48 bytes, so at 1 kHz a capacity of
// 600000 holds ten minutes in about 29 MB.
// It panics when interval or capacity is not positive.
func NewSampler(m Meter, interval time.Duration, capacity int) *Sampler {
	if interval <= 0 || capacity <= 0 {
		panic(fmt.Sprintf("meter: NewSampler needs a positive interval and capacity, got %v and %d", interval, capacity))
	}
	info := m.Info()
	s := &Sampler{
		m:        m,
		info:     info,
		rails:    info.TotalRails(),
		interval: interval,
		logger:   slog.New(slog.DiscardHandler),
		now:      time.Now,
		ring:     make([]entry, capacity),
		prevE:    make([]float64, len(info.Rails)),
	}
	s.sample.Reset(len(info.Rails), info.EnergyCounter)
	return s
}

// SetLogger sets the logger for read failures (rate-limited to one line per
// doubling of the failure count). Call it before Start.
func (s *Sampler) SetLogger(l *slog.Logger) { s.logger = l.With("meter", s.info.Name) }

// SetClock sets the clock that timestamps failed reads (successful ones
// carry the meter's own time). Call it before Start.
func (s *Sampler) SetClock(now func() time.Time) { s.now = now }

// Info returns the sampled meter's description.
func (s *Sampler) Info() Info { return s.info }

// Interval returns the sampling interval.
func (s *Sampler) Interval() time.Duration { return s.interval }

// Start reads one sample now and then one per interval until ctx ends or
// Stop is called. It returns at once.
func (s *Sampler) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	go s.run(ctx)
}

// Stop ends sampling and waits for the sampling goroutine; the buffer stays
// readable.
func (s *Sampler) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
}

func (s *Sampler) run(ctx context.Context) {
	defer close(s.done)
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		s.readOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// readOnce reads the meter and appends one entry. Only the sampling
// goroutine calls it, so s.sample needs no lock; the ring does.
func (s *Sampler) readOnce(ctx context.Context) {
	err := s.m.Read(ctx, &s.sample)
	if err != nil && ctx.Err() != nil {
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if err != nil {
		s.fails++
		s.lastErr = err
		if s.fails&(s.fails-1) == 0 {
			s.logger.Warn("power meter read failed", "err", err, "failures", s.fails, "reads", s.reads)
		}
		s.push(entry{t: s.now(), w: math.NaN(), e: s.cumJ, flags: flagFailed})
		return
	}
	if !s.sample.Time.After(s.last) {
		return // a streaming meter without a new value yet
	}
	s.last = s.sample.Time

	w, _ := s.sample.SumPower(s.rails)
	var flags uint8
	if s.info.EnergyCounter {
		flags = s.advanceEnergy()
	}
	s.push(entry{t: s.sample.Time, w: w, e: s.cumJ, flags: flags})
}

// advanceEnergy adds the counter delta of the total rails to s.cumJ,
// correcting a wrap with Info.EnergyRangeJ. A rail without a value keeps its
// previous counter, so the next delta spans the gap.
func (s *Sampler) advanceEnergy() uint8 {
	var flags uint8
	for _, k := range s.rails {
		cur := math.NaN()
		if k < len(s.sample.EnergyJ) {
			cur = s.sample.EnergyJ[k]
		}
		if math.IsNaN(cur) {
			flags |= flagFailed
			continue
		}
		if !s.havePrv {
			s.prevE[k] = cur
			continue
		}
		var rangeJ float64
		if k < len(s.info.EnergyRangeJ) {
			rangeJ = s.info.EnergyRangeJ[k]
		}
		d, ok := CounterDelta(s.prevE[k], cur, rangeJ)
		if !ok {
			flags |= flagWrapUnknown
		} else {
			s.cumJ += d
		}
		s.prevE[k] = cur
	}
	s.havePrv = true
	return flags
}

// CounterDelta returns cur−prev for a counter that wraps to zero at rangeJ.
// When cur < prev the counter wrapped once: the delta is rangeJ−prev+cur.
// ok is false when it wrapped and rangeJ is unknown (0), because any delta
// would be made up.
func CounterDelta(prev, cur, rangeJ float64) (delta float64, ok bool) {
	if cur >= prev {
		return cur - prev, true
	}
	if rangeJ <= 0 || prev > rangeJ {
		return math.NaN(), false
	}
	return rangeJ - prev + cur, true
}

func (s *Sampler) push(e entry) {
	s.ring[s.next] = e
	s.next = (s.next + 1) % len(s.ring)
	if s.count < len(s.ring) {
		s.count++
	}
}

// at returns the i-th stored entry, oldest first. Callers hold s.mu.
func (s *Sampler) at(i int) *entry {
	start := s.next - s.count
	if start < 0 {
		start += len(s.ring)
	}
	return &s.ring[(start+i)%len(s.ring)]
}

// Err returns the latest read error and the failure and read counts.
func (s *Sampler) Err() (last error, failures, reads int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr, s.fails, s.reads
}

// Since appends to dst the stored samples taken after t, oldest first.
func (s *Sampler) Since(dst []Point, t time.Time) []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < s.count; i++ {
		e := s.at(i)
		if e.t.After(t) {
			dst = append(dst, Point{Time: e.t, PowerW: e.w, EnergyJ: e.e, Failed: e.flags&flagFailed != 0})
		}
	}
	return dst
}

// ErrTooFewSamples is returned by Window when fewer than two samples fall
// inside the window, so no energy or rate can be computed.
var ErrTooFewSamples = errors.New("too few power samples in the window")
