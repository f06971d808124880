// Package rpi reads the Raspberry Pi 5 power-management IC through
// `vcgencmd pmic_read_adc`, which prints one current (A) and one voltage
// (V) per supply rail. Rail power is V·I for every rail that has both; the
// device total is the sum of those rails. Voltage-only channels (EXT5V_V,
// the 5 V USB-C input, and BATT_V, the RTC battery) have no current and are
// not summed. The total therefore covers the PMIC outputs only. It leaves
// out conversion losses and the 5 V peripherals (USB, fan), which only an
// input current reading would include.
//
// The Raspberry Pi 4 has no built-in power sensor. Fit an INA219 (or
// INA226) board in series with the 5 V supply, enable its kernel driver
// with a device-tree overlay in config.txt, e.g.
// "dtoverlay=i2c-sensor,ina219,addr=0x40", and the hwmon meter reads it.
package rpi

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edgetran/edgetran/platforms/meter"
)

// Name is the registry name of this meter.
const Name = "rpi5-pmic"

// ADC is one parsed pmic_read_adc line.
type ADC struct {
	Rail    string  // rail without the _A or _V suffix, e.g. "VDD_CORE"
	Channel int     // ADC channel number in brackets
	Value   float64 // amperes for a current line, volts for a voltage line
	Current bool
}

// ParsePMIC parses the output of `vcgencmd pmic_read_adc`. Each line is
// "NAME_A current(N)=1.54489000A" or "NAME_V volt(N)=0.88725180V"; a line
// in any other form is an error naming it.
func ParsePMIC(out []byte) ([]ADC, error) {
	var adcs []ADC
	sc := bufio.NewScanner(bytes.NewReader(out))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		a, err := parseADCLine(line)
		if err != nil {
			return nil, fmt.Errorf("pmic_read_adc line %d %q: %w", n, line, err)
		}
		adcs = append(adcs, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pmic_read_adc output: %w", err)
	}
	if len(adcs) == 0 {
		return nil, fmt.Errorf("pmic_read_adc printed no readings")
	}
	return adcs, nil
}

func parseADCLine(line string) (ADC, error) {
	name, rest, ok := strings.Cut(line, " ")
	if !ok {
		return ADC{}, fmt.Errorf("want NAME kind(N)=value")
	}
	rest = strings.TrimSpace(rest)
	var a ADC
	var unit, kind string
	switch {
	case strings.HasSuffix(name, "_A"):
		a.Current, unit, kind = true, "A", "current("
	case strings.HasSuffix(name, "_V"):
		unit, kind = "V", "volt("
	default:
		return ADC{}, fmt.Errorf("rail name %q ends in neither _A nor _V", name)
	}
	a.Rail = name[:len(name)-2]
	if a.Rail == "" {
		return ADC{}, fmt.Errorf("rail name %q is empty before its suffix", name)
	}
	body, ok := strings.CutPrefix(rest, kind)
	if !ok {
		return ADC{}, fmt.Errorf("want %sN)= after %s", kind, name)
	}
	ch, val, ok := strings.Cut(body, ")=")
	if !ok {
		return ADC{}, fmt.Errorf("missing )= in %q", rest)
	}
	var err error
	if a.Channel, err = strconv.Atoi(ch); err != nil || a.Channel < 0 {
		return ADC{}, fmt.Errorf("channel %q is not a number", ch)
	}
	num, ok := strings.CutSuffix(val, unit)
	if !ok {
		return ADC{}, fmt.Errorf("value %q does not end in %s", val, unit)
	}
	if a.Value, err = strconv.ParseFloat(num, 64); err != nil || math.IsNaN(a.Value) || math.IsInf(a.Value, 0) || a.Value < 0 {
		return ADC{}, fmt.Errorf("value %q is not a non-negative number", num)
	}
	return a, nil
}

// RailPower returns V·I per rail that has both a current and a voltage,
// in the order the currents appear.
func RailPower(adcs []ADC) []meter.Reading {
	volts := map[string]float64{}
	for _, a := range adcs {
		if !a.Current {
			volts[a.Rail] = a.Value
		}
	}
	var out []meter.Reading
	for _, a := range adcs {
		if v, ok := volts[a.Rail]; ok && a.Current {
			out = append(out, meter.Reading{Rail: a.Rail, PowerW: v * a.Value})
		}
	}
	return out
}

// Meter runs vcgencmd for every reading.
type Meter struct {
	deps meter.Deps
	info meter.Info
	mu   sync.Mutex
}

var _ meter.Meter = (*Meter)(nil)

// New checks that vcgencmd runs and reports PMIC rails.
func New(ctx context.Context, deps meter.Deps) (*Meter, error) {
	deps = deps.Defaults()
	if _, err := deps.Runner.LookPath("vcgencmd"); err != nil {
		return nil, fmt.Errorf("rpi5-pmic: vcgencmd not installed: %w: %w", meter.ErrNotSupported, err)
	}
	rs, err := read(ctx, deps)
	if err != nil {
		return nil, err
	}
	m := &Meter{deps: deps, info: meter.Info{
		Name:        Name,
		Description: "Raspberry Pi 5 PMIC rails (vcgencmd pmic_read_adc), sum of V·I per rail",
		// One vcgencmd run takes about 10 ms through the VideoCore mailbox.
		MinInterval: 50 * time.Millisecond,
	}}
	if model := deps.BoardModel(); model != "" {
		m.info.Description += " on " + model
	}
	for _, r := range rs {
		m.info.Rails = append(m.info.Rails, meter.Rail{Name: r.Rail, Unit: "A*V"})
	}
	return m, nil
}

func read(ctx context.Context, deps meter.Deps) ([]meter.Reading, error) {
	out, err := deps.Runner.Output(ctx, "vcgencmd", "pmic_read_adc")
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "vchiq") || strings.Contains(msg, "VCHI") || strings.Contains(msg, "/dev/vcio") {
			return nil, fmt.Errorf("rpi5-pmic: vcgencmd cannot open the VideoCore device: add the agent's user to the video group (sudo usermod -aG video USER) and restart the agent: %w: %w", meter.ErrNotSupported, err)
		}
		return nil, fmt.Errorf("rpi5-pmic: vcgencmd pmic_read_adc failed (it needs a Raspberry Pi 5 firmware): %w: %w", meter.ErrNotSupported, err)
	}
	adcs, err := ParsePMIC(out)
	if err != nil {
		return nil, fmt.Errorf("rpi5-pmic: %w", err)
	}
	rs := RailPower(adcs)
	if len(rs) == 0 {
		return nil, fmt.Errorf("rpi5-pmic: pmic_read_adc has no rail with both current and voltage: %w", meter.ErrNotSupported)
	}
	return rs, nil
}

// Info describes the rails.
func (m *Meter) Info() meter.Info { return m.info }

// Read runs vcgencmd once and fills s; a rail missing from the output is
// NaN.
func (m *Meter) Read(ctx context.Context, s *meter.Sample) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.Reset(len(m.info.Rails), false)
	rs, err := read(ctx, m.deps)
	s.Time = m.deps.Now()
	if err != nil {
		return err
	}
	for _, r := range rs {
		for k := range m.info.Rails {
			if m.info.Rails[k].Name == r.Rail {
				s.PowerW[k] = r.PowerW
			}
		}
	}
	return nil
}

// Close does nothing; each reading is its own process.
func (m *Meter) Close() error { return nil }
