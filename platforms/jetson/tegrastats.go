package jetson

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/edgetran/edgetran/platforms/meter"
)

// TegrastatsName is the registry name of the tegrastats meter.
const TegrastatsName = "tegrastats"

// ParseTegrastats extracts the power rails of one tegrastats line. A rail
// is a name followed by "current/average" in mW, printed without units on
// JetPack 4 ("POM_5V_IN 933/933") and with them on JetPack 5 and later
// ("VDD_IN 5299mW/5299mW"). Other fields (RAM, CPU, temperatures, a leading
// date and time) are ignored. The reading is the current value, in watts.
func ParseTegrastats(line []byte) ([]meter.Reading, error) {
	fields := bytes.Fields(line)
	var out []meter.Reading
	for i := 0; i+1 < len(fields); i++ {
		name := fields[i]
		if !isRailName(name) {
			continue
		}
		cur, ok := parseMilliwattPair(fields[i+1])
		if !ok {
			continue
		}
		out = append(out, meter.Reading{Rail: string(name), PowerW: float64(cur) / 1000})
		i++
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("tegrastats line has no power rails: %q", truncate(line, 120))
	}
	return out, nil
}

// isRailName accepts upper-case rail names such as VDD_IN, POM_5V_GPU,
// GPU or VDDQ_VDD2_1V8AO.
func isRailName(b []byte) bool {
	if len(b) == 0 || len(b) > 64 || b[0] < 'A' || b[0] > 'Z' {
		return false
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// parseMilliwattPair parses "933/933" or "5299mW/5299mW" and returns the
// current value in mW. Both halves must use the same form.
func parseMilliwattPair(b []byte) (int64, bool) {
	cur, avg, ok := bytes.Cut(b, []byte("/"))
	if !ok {
		return 0, false
	}
	curUnit := bytes.HasSuffix(cur, []byte("mW"))
	avgUnit := bytes.HasSuffix(avg, []byte("mW"))
	if curUnit != avgUnit {
		return 0, false
	}
	cur = bytes.TrimSuffix(cur, []byte("mW"))
	avg = bytes.TrimSuffix(avg, []byte("mW"))
	c, err := strconv.ParseInt(string(cur), 10, 64)
	if err != nil || c < 0 {
		return 0, false
	}
	if a, err := strconv.ParseInt(string(avg), 10, 64); err != nil || a < 0 {
		return 0, false
	}
	return c, true
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// NewTegrastats starts `tegrastats --interval MS` through deps.Runner and
// returns a meter over its power rails. The interval is at least 1 ms.
func NewTegrastats(ctx context.Context, deps meter.Deps, interval time.Duration) (*meter.StreamMeter, error) {
	deps = deps.Defaults()
	if _, err := deps.Runner.LookPath("tegrastats"); err != nil {
		return nil, fmt.Errorf("tegrastats: not installed: %w: %w", meter.ErrNotSupported, err)
	}
	ms := max(interval.Milliseconds(), 1)
	return meter.NewStreamMeter(ctx, deps, meter.StreamConfig{
		Info: meter.Info{
			Name:        TegrastatsName,
			Description: fmt.Sprintf("Jetson INA3221 rails from tegrastats every %d ms", ms),
			MinInterval: time.Duration(ms) * time.Millisecond,
		},
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			return deps.Runner.Stream(ctx, "tegrastats", "--interval", strconv.FormatInt(ms, 10))
		},
		Split: bufio.ScanLines,
		Parse: ParseTegrastats,
		Rails: func(names []string) []meter.Rail { return railsFor(names, "mW") },
	})
}
