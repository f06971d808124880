// Package estimate is the meter of last resort: it models device power from
// CPU utilisation as idle + (max − idle) × utilisation, between configured
// idle and maximum watts. Every reading is labelled as an estimate
// (Info.Estimated) and is never presented as a measurement.
//
// Utilisation comes from /proc/stat under the procfs root on Linux, and
// from gopsutil's CPU times elsewhere.
package estimate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"

	"github.com/edgetran/edgetran/platforms/meter"
)

// Name is the registry name of this meter.
const Name = "estimate"

// DefaultIdleW and DefaultMaxW are the wattages that the agent's commands
// and configuration file use when none are set. They are placeholders for
// a small x86 machine, not a property of any device.
const (
	DefaultIdleW = 10
	DefaultMaxW  = 65
)

// Config sets the model. The zero value is invalid: set both wattages for
// the device (a datasheet TDP, or a wall-meter reading at idle and under
// full load), or use DefaultIdleW and DefaultMaxW.
type Config struct {
	IdleW float64 // power at 0% CPU utilisation, W
	MaxW  float64 // power at 100% CPU utilisation, W
}

// Validate checks that 0 ≤ IdleW < MaxW and both are finite.
func (c Config) Validate() error {
	if math.IsNaN(c.IdleW) || math.IsInf(c.IdleW, 0) || c.IdleW < 0 {
		return fmt.Errorf("estimate: idle power %v W is invalid: set a finite value of 0 W or more", c.IdleW)
	}
	if math.IsNaN(c.MaxW) || math.IsInf(c.MaxW, 0) || c.MaxW <= c.IdleW {
		return fmt.Errorf("estimate: maximum power %v W is invalid: set a finite value above the idle power %v W", c.MaxW, c.IdleW)
	}
	return nil
}

// minWindow is the shortest span of CPU times that Read turns into a new
// value. /proc/stat advances in 10 ms ticks per core, so a window of one or
// two ticks swings the estimate between idle and maximum power. It is below
// Info.MinInterval (50 ms) so that a sampler at MinInterval whose timer
// fires a little early still gets a new value from every read.
const minWindow = 40 * time.Millisecond

// cpuTimes are cumulative busy and total CPU time in any one unit.
type cpuTimes struct{ busy, total float64 }

// Meter estimates power from CPU utilisation.
type Meter struct {
	deps meter.Deps
	cfg  Config
	info meter.Info
	stat *meter.Attr // /proc/stat; nil when gopsutil is used

	mu    sync.Mutex
	prev  cpuTimes
	prevT time.Time // when prev was read
	have  bool
	lastW float64
	lastT time.Time
}

var _ meter.Meter = (*Meter)(nil)

// New returns the estimate meter. It reads deps.Procfs "stat" when present
// and falls back to gopsutil otherwise.
func New(deps meter.Deps, cfg Config) (*Meter, error) {
	deps = deps.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Meter{
		deps: deps,
		cfg:  cfg,
		info: meter.Info{
			Name:        Name,
			Description: fmt.Sprintf("CPU utilisation model between %g W idle and %g W maximum", cfg.IdleW, cfg.MaxW),
			Rails:       []meter.Rail{{Name: "cpu-utilisation-model", Unit: "model", Total: true}},
			Estimated:   true,
			// /proc/stat counts in 10 ms ticks; shorter windows see one tick
			// or none and the utilisation jumps between 0 and 1.
			MinInterval: 50 * time.Millisecond,
		},
	}
	if deps.Procfs != nil {
		a, err := meter.OpenAttrSize(deps.Procfs, "stat", deps.ProcPath("stat"), 512)
		switch {
		case err == nil:
			m.stat = a
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("estimate: %w", err)
		}
	}
	t, err := m.times(context.Background())
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("estimate: %w: %w", meter.ErrNotSupported, err)
	}
	m.prev, m.prevT, m.have = t, deps.Now(), true
	m.lastW = math.NaN() // and a zero lastT: no value until a tick passes

	return m, nil
}

// Info describes the model.
func (m *Meter) Info() meter.Info { return m.info }

// Read fills s with the estimated power over the time since the previous
// new value. When less than minWindow has passed or no CPU tick passed, it
// returns the previous reading with its previous time (the zero time before
// the first value), which a sampler treats as no new value.
func (m *Meter) Read(ctx context.Context, s *meter.Sample) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.Reset(1, false)
	s.Time = m.lastT
	s.PowerW[0] = m.lastW
	now := m.deps.Now()
	if now.Sub(m.prevT) < minWindow {
		return nil
	}
	t, err := m.times(ctx)
	if err != nil {
		return fmt.Errorf("estimate: %w", err)
	}
	dTotal := t.total - m.prev.total
	if dTotal > 0 {
		util := (t.busy - m.prev.busy) / dTotal
		util = min(max(util, 0), 1)
		m.lastW = m.cfg.IdleW + (m.cfg.MaxW-m.cfg.IdleW)*util
		m.lastT = now
		m.prev, m.prevT = t, now
	}
	s.Time = m.lastT
	s.PowerW[0] = m.lastW
	return nil
}

func (m *Meter) times(ctx context.Context) (cpuTimes, error) {
	if m.stat != nil {
		b, err := m.stat.Bytes()
		if err != nil {
			return cpuTimes{}, err
		}
		return parseStat(b, m.stat.Name())
	}
	ts, err := cpu.TimesWithContext(ctx, false)
	if err != nil {
		return cpuTimes{}, fmt.Errorf("read CPU times: %w", err)
	}
	if len(ts) == 0 {
		return cpuTimes{}, errors.New("read CPU times: no CPU reported")
	}
	c := ts[0]
	// Guest time is already counted in user time on Linux, so it is left out.
	total := c.User + c.Nice + c.System + c.Idle + c.Iowait + c.Irq + c.Softirq + c.Steal
	return cpuTimes{busy: total - c.Idle - c.Iowait, total: total}, nil
}

// parseStat reads the aggregate "cpu" line of /proc/stat: user nice system
// idle iowait irq softirq steal [guest guest_nice], in ticks. Busy time is
// everything except idle and iowait; guest time is already inside user.
func parseStat(b []byte, file string) (cpuTimes, error) {
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line = b[:i]
	}
	if !bytes.HasPrefix(line, []byte("cpu ")) {
		return cpuTimes{}, fmt.Errorf("%s: first line does not start with \"cpu \"", file)
	}
	var v [8]uint64
	n := 0
	rest := line[4:]
	for n < len(v) {
		rest = bytes.TrimLeft(rest, " ")
		if len(rest) == 0 {
			break
		}
		end := bytes.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		x, ok := meter.ParseUint(rest[:end])
		if !ok {
			return cpuTimes{}, fmt.Errorf("%s: field %d of the cpu line is not a number", file, n+1)
		}
		v[n] = x
		n++
		rest = rest[end:]
	}
	if n < 4 {
		return cpuTimes{}, fmt.Errorf("%s: the cpu line has %d fields, want at least 4", file, n)
	}
	var total uint64
	for _, x := range v[:n] {
		total += x
	}
	idle := v[3] + v[4]
	return cpuTimes{busy: float64(total - idle), total: float64(total)}, nil
}

// Close closes /proc/stat.
func (m *Meter) Close() error {
	if m.stat != nil {
		return m.stat.Close()
	}
	return nil
}
