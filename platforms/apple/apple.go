// Package apple reads Apple Silicon power from `powermetrics`, which needs
// root. It streams `powermetrics --samplers cpu_power,gpu_power,ane_power
// -i MS -f plist`: one property list per interval, each followed by a NUL
// byte, holding cpu_energy, gpu_energy and ane_energy in mJ over elapsed_ns
// (the interval actually covered) and combined_power in mW.
//
// Rail power is energy divided by the elapsed time; the total is
// combined_power when present, else the sum of the rails. A run without the
// GPU sampler simply has no gpu_power rail.
package apple

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"time"

	"howett.net/plist"

	"github.com/edgetran/edgetran/platforms/meter"
)

// Name is the registry name of this meter.
const Name = "powermetrics"

// Rail names, after the powermetrics samplers.
const (
	RailCPU      = "cpu_power"
	RailGPU      = "gpu_power"
	RailANE      = "ane_power"
	RailCombined = "combined_power"
)

// sample is the part of one powermetrics plist document this package
// reads. Pointers tell an absent key from zero.
type sample struct {
	ElapsedNS int64 `plist:"elapsed_ns"`
	Processor *struct {
		CPUEnergy     *number `plist:"cpu_energy"` // mJ
		GPUEnergy     *number `plist:"gpu_energy"` // mJ
		ANEEnergy     *number `plist:"ane_energy"` // mJ
		CombinedPower *number `plist:"combined_power"`
	} `plist:"processor"`
	GPU *struct {
		GPUEnergy *number `plist:"gpu_energy"` // mJ
	} `plist:"gpu"`
}

// number accepts a plist integer or real; powermetrics writes energies as
// integers and powers as reals, and releases have changed which is which.
type number float64

// UnmarshalPlist implements plist.Unmarshaler.
func (n *number) UnmarshalPlist(unmarshal func(any) error) error {
	var v any
	if err := unmarshal(&v); err != nil {
		return err
	}
	switch x := v.(type) {
	case int64:
		*n = number(x)
	case uint64:
		*n = number(x)
	case float64:
		*n = number(x)
	default:
		return fmt.Errorf("value %v is %T, want a number", v, v)
	}
	return nil
}

// ParsePlist reads one powermetrics plist document. Energies in mJ over
// elapsed_ns become watts; combined_power (mW) becomes the combined rail.
func ParsePlist(doc []byte) ([]meter.Reading, error) {
	doc = bytes.Trim(doc, "\x00\r\n\t ")
	if len(doc) == 0 {
		return nil, errors.New("powermetrics: empty plist document")
	}
	var s sample
	if _, err := plist.Unmarshal(doc, &s); err != nil {
		return nil, fmt.Errorf("powermetrics: invalid plist document (%d bytes): %w", len(doc), err)
	}
	if s.Processor == nil {
		return nil, errors.New("powermetrics: plist document has no processor dictionary: run with --samplers cpu_power")
	}
	if s.ElapsedNS <= 0 {
		return nil, fmt.Errorf("powermetrics: elapsed_ns %d is not positive", s.ElapsedNS)
	}
	seconds := float64(s.ElapsedNS) / 1e9
	var out []meter.Reading
	add := func(rail string, n *number) error {
		if n == nil {
			return nil
		}
		mj := float64(*n)
		if math.IsNaN(mj) || math.IsInf(mj, 0) || mj < 0 {
			return fmt.Errorf("powermetrics: %s energy %v mJ is invalid", rail, mj)
		}
		out = append(out, meter.Reading{Rail: rail, PowerW: mj / 1000 / seconds})
		return nil
	}
	gpu := s.Processor.GPUEnergy
	if gpu == nil && s.GPU != nil {
		gpu = s.GPU.GPUEnergy
	}
	for _, r := range []struct {
		rail string
		mj   *number
	}{{RailCPU, s.Processor.CPUEnergy}, {RailGPU, gpu}, {RailANE, s.Processor.ANEEnergy}} {
		if err := add(r.rail, r.mj); err != nil {
			return nil, err
		}
	}
	if s.Processor.CombinedPower != nil {
		c := float64(*s.Processor.CombinedPower)
		if math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
			return nil, fmt.Errorf("powermetrics: combined_power %v mW is invalid", c)
		}
		out = append(out, meter.Reading{Rail: RailCombined, PowerW: c / 1000})
	}
	if len(out) == 0 {
		return nil, errors.New("powermetrics: plist document has no energy values: run with --samplers cpu_power,gpu_power,ane_power")
	}
	return out, nil
}

var textPower = regexp.MustCompile(`(?m)^(CPU Power|GPU Power|ANE Power|Package Power|Combined Power \(CPU \+ GPU \+ ANE\)): (\S+) mW\s*$`)

// ParseText reads one sample of powermetrics text output: "CPU Power: N mW",
// "GPU Power", "ANE Power", and the total as "Package Power: N mW" (macOS
// 12) or "Combined Power (CPU + GPU + ANE): N mW" (macOS 13 and later).
func ParseText(rec []byte) ([]meter.Reading, error) {
	names := map[string]string{
		"CPU Power":                        RailCPU,
		"GPU Power":                        RailGPU,
		"ANE Power":                        RailANE,
		"Package Power":                    RailCombined,
		"Combined Power (CPU + GPU + ANE)": RailCombined,
	}
	var out []meter.Reading
	seen := map[string]bool{}
	for _, m := range textPower.FindAllSubmatch(rec, -1) {
		rail := names[string(m[1])]
		mw, err := strconv.ParseFloat(string(m[2]), 64)
		if err != nil || math.IsNaN(mw) || math.IsInf(mw, 0) || mw < 0 {
			return nil, fmt.Errorf("powermetrics: %s value %q is not a non-negative number", m[1], m[2])
		}
		if seen[rail] {
			return nil, fmt.Errorf("powermetrics: %s appears twice in one sample", m[1])
		}
		seen[rail] = true
		out = append(out, meter.Reading{Rail: rail, PowerW: mw / 1000})
	}
	if len(out) == 0 {
		return nil, errors.New("powermetrics: sample has no power lines")
	}
	return out, nil
}

// splitNUL cuts the stream at NUL bytes, which powermetrics writes after
// each plist document.
func splitNUL(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// Config adjusts detection. The zero value uses the process's effective
// user id.
type Config struct {
	Geteuid func() int
}

// New starts powermetrics through deps.Runner. It fails with a message
// naming the fix when the agent is not root.
func New(ctx context.Context, deps meter.Deps, cfg Config, interval time.Duration) (*meter.StreamMeter, error) {
	deps = deps.Defaults()
	if _, err := deps.Runner.LookPath("powermetrics"); err != nil {
		return nil, fmt.Errorf("powermetrics: not installed (macOS only): %w: %w", meter.ErrNotSupported, err)
	}
	if cfg.Geteuid == nil {
		cfg.Geteuid = os.Geteuid
	}
	if uid := cfg.Geteuid(); uid != 0 {
		return nil, fmt.Errorf("powermetrics: needs root, the agent runs as uid %d: run the agent with sudo or as a root launchd daemon: %w", uid, meter.ErrNotSupported)
	}
	ms := max(interval.Milliseconds(), 1)
	return meter.NewStreamMeter(ctx, deps, meter.StreamConfig{
		Info: meter.Info{
			Name:        Name,
			Description: fmt.Sprintf("Apple Silicon powermetrics every %d ms", ms),
			MinInterval: time.Duration(ms) * time.Millisecond,
		},
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			return deps.Runner.Stream(ctx, "powermetrics",
				"--samplers", "cpu_power,gpu_power,ane_power", "-i", strconv.FormatInt(ms, 10), "-f", "plist")
		},
		Split: splitNUL,
		Parse: ParsePlist,
		Rails: func(names []string) []meter.Rail {
			rails := make([]meter.Rail, len(names))
			for k, n := range names {
				rails[k] = meter.Rail{Name: n, Unit: "mJ", Total: n == RailCombined}
				if n == RailCombined {
					rails[k].Unit = "mW"
				}
			}
			return rails
		},
	})
}
