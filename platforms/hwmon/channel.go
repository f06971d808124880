package hwmon

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/edgetran/edgetran/platforms/meter"
)

// Channel is one power reading: either a power attribute scaled to watts
// or a current (mA) and voltage (mV) pair multiplied together.
type Channel struct {
	Label  string
	power  *meter.Attr
	scaleW float64     // watts per raw power unit (1e-6 for µW, 1e-3 for mW)
	curr   *meter.Attr // mA
	volt   *meter.Attr // mV
}

// PowerChannel reads a power attribute and multiplies it by scaleW (watts
// per raw unit).
func PowerChannel(label string, power *meter.Attr, scaleW float64) Channel {
	return Channel{Label: label, power: power, scaleW: scaleW}
}

// VIChannel multiplies a current in mA by a voltage in mV.
func VIChannel(label string, currMA, voltMV *meter.Attr) Channel {
	return Channel{Label: label, curr: currMA, volt: voltMV}
}

// Unit names the raw reading: "uW", "mW" or "mA*mV".
func (c Channel) Unit() string {
	switch {
	case c.power == nil:
		return "mA*mV"
	case c.scaleW == 1e-3:
		return "mW"
	case c.scaleW == 1e-6:
		return "uW"
	default:
		return fmt.Sprintf("%g W per unit", c.scaleW)
	}
}

// Watts reads the channel once.
func (c Channel) Watts() (float64, error) {
	if c.power != nil {
		v, err := c.power.Int()
		if err != nil {
			return math.NaN(), err
		}
		return float64(v) * c.scaleW, nil
	}
	i, err := c.curr.Int()
	if err != nil {
		return math.NaN(), err
	}
	v, err := c.volt.Int()
	if err != nil {
		return math.NaN(), err
	}
	return float64(i) * float64(v) * 1e-6, nil // mA × mV = µW
}

// Close closes the channel's files.
func (c Channel) Close() {
	for _, a := range []*meter.Attr{c.power, c.curr, c.volt} {
		if a != nil {
			a.Close()
		}
	}
}

// ChannelMeter is a meter over a fixed list of channels; the hwmon and
// jetson meters are both one.
type ChannelMeter struct {
	info  meter.Info
	chans []Channel
	now   func() time.Time
	mu    sync.Mutex
}

var _ meter.Meter = (*ChannelMeter)(nil)

// NewChannelMeter returns a meter reading chans into the rails of info,
// which must have one rail per channel, in order.
func NewChannelMeter(info meter.Info, chans []Channel, now func() time.Time) *ChannelMeter {
	if len(info.Rails) != len(chans) {
		panic(fmt.Sprintf("hwmon: %d rails for %d channels", len(info.Rails), len(chans)))
	}
	return &ChannelMeter{info: info, chans: chans, now: now}
}

// Info describes the channels.
func (m *ChannelMeter) Info() meter.Info { return m.info }

// Read fills s with the power of every channel. A channel that fails to
// read is NaN, and its error is returned after the others are read.
func (m *ChannelMeter) Read(ctx context.Context, s *meter.Sample) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.Reset(len(m.chans), false)
	s.Time = m.now()
	var firstErr error
	for k, c := range m.chans {
		w, err := c.Watts()
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: rail %s: %w", m.info.Name, c.Label, err)
		}
		s.PowerW[k] = w
	}
	return firstErr
}

// Close closes every channel.
func (m *ChannelMeter) Close() error {
	for _, c := range m.chans {
		c.Close()
	}
	return nil
}
