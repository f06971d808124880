// Package nvidia reads NVIDIA GPU power. With cgo and the build tag "nvml"
// it uses NVML: the total-energy counter (mJ, Volta and later) for window
// energy and the instantaneous power field for peaks. Otherwise, and as a
// fallback, it streams `nvidia-smi --query-gpu=... --format=csv,noheader,
// nounits -lms MS` and parses each line as CSV.
//
// A power column reading "[N/A]" or "[Not Supported]" is a missing value,
// never 0 W. A GPU that reports no power at all (Jetson's integrated GPU,
// some older boards) means there is no NVIDIA meter.
//
// power.draw is a one-second average on recent drivers. The sampler reads
// power.draw.instant where the driver offers it, so peaks are not smoothed
// away.
package nvidia

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/edgetran/edgetran/platforms/meter"
)

// SMIName is the registry name of the nvidia-smi meter.
const SMIName = "nvidia-smi"

// GPU is one row of nvidia-smi output.
type GPU struct {
	Index  int
	Name   string  // empty in streaming rows
	PowerW float64 // instantaneous power when offered, else power.draw; NaN when missing
}

// ParseSMILine parses one CSV row "index[, name], power.draw[,
// power.draw.instant]" as printed with --format=csv,noheader,nounits.
// withName tells whether the name column is present, and withInstant
// whether power.draw.instant is.
func ParseSMILine(line []byte, withName, withInstant bool) (GPU, error) {
	r := csv.NewReader(bytes.NewReader(line))
	r.TrimLeadingSpace = true
	rec, err := r.Read()
	if err != nil {
		return GPU{}, fmt.Errorf("nvidia-smi row %q: %w", truncate(line), err)
	}
	want := 2
	if withName {
		want++
	}
	if withInstant {
		want++
	}
	if len(rec) != want {
		return GPU{}, fmt.Errorf("nvidia-smi row %q has %d columns, want %d", truncate(line), len(rec), want)
	}
	var g GPU
	if g.Index, err = strconv.Atoi(strings.TrimSpace(rec[0])); err != nil || g.Index < 0 {
		return GPU{}, fmt.Errorf("nvidia-smi row %q: GPU index %q is not a number", truncate(line), rec[0])
	}
	col := 1
	if withName {
		g.Name = strings.TrimSpace(rec[col])
		col++
	}
	draw, err := parseWatts(rec[col])
	if err != nil {
		return GPU{}, fmt.Errorf("nvidia-smi row %q: power.draw: %w", truncate(line), err)
	}
	g.PowerW = draw
	if withInstant {
		inst, err := parseWatts(rec[col+1])
		if err != nil {
			return GPU{}, fmt.Errorf("nvidia-smi row %q: power.draw.instant: %w", truncate(line), err)
		}
		if !math.IsNaN(inst) {
			g.PowerW = inst
		}
	}
	return g, nil
}

// parseWatts reads a power column in W. Bracketed values ("[N/A]", "[Not
// Supported]", "[Unknown Error]") are missing and return NaN.
func parseWatts(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return math.NaN(), nil
	}
	w, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
		return 0, fmt.Errorf("value %q is not a non-negative number of watts", s)
	}
	return w, nil
}

func truncate(b []byte) []byte {
	if len(b) > 120 {
		return b[:120]
	}
	return b
}

func railName(index int) string { return "gpu" + strconv.Itoa(index) }

// NewSMI lists the GPUs with nvidia-smi, checks that at least one reports
// power, and streams readings every interval (at least 1 ms).
func NewSMI(ctx context.Context, deps meter.Deps, interval time.Duration) (*meter.StreamMeter, error) {
	deps = deps.Defaults()
	if _, err := deps.Runner.LookPath("nvidia-smi"); err != nil {
		return nil, fmt.Errorf("nvidia-smi: not installed: %w: %w", meter.ErrNotSupported, err)
	}
	withInstant := true
	out, err := deps.Runner.Output(ctx, "nvidia-smi", "--query-gpu=index,name,power.draw,power.draw.instant", "--format=csv,noheader,nounits")
	if err != nil && strings.Contains(err.Error(), "not a valid field") {
		// Drivers before R535 have no power.draw.instant.
		withInstant = false
		out, err = deps.Runner.Output(ctx, "nvidia-smi", "--query-gpu=index,name,power.draw", "--format=csv,noheader,nounits")
	}
	if err != nil {
		return nil, fmt.Errorf("nvidia-smi: list GPUs: %w: %w", meter.ErrNotSupported, err)
	}
	var rails []meter.Rail
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		g, err := ParseSMILine(sc.Bytes(), true, withInstant)
		if err != nil {
			return nil, err
		}
		if math.IsNaN(g.PowerW) {
			deps.Logger.Debug("GPU reports no power", "meter", SMIName, "device", g.Name, "index", g.Index)
			continue
		}
		rails = append(rails, meter.Rail{Name: railName(g.Index), Unit: "W"})
		names = append(names, fmt.Sprintf("%d: %s", g.Index, g.Name))
	}
	if len(rails) == 0 {
		return nil, fmt.Errorf("nvidia-smi: no GPU reports power.draw: %w", meter.ErrNotSupported)
	}

	query := "--query-gpu=index,power.draw"
	if withInstant {
		query += ",power.draw.instant"
	}
	ms := max(interval.Milliseconds(), 1)
	return meter.NewStreamMeter(ctx, deps, meter.StreamConfig{
		Info: meter.Info{
			Name:        SMIName,
			Description: fmt.Sprintf("NVIDIA GPU power from nvidia-smi every %d ms (%s)", ms, strings.Join(names, ", ")),
			Rails:       rails,
			MinInterval: time.Duration(ms) * time.Millisecond,
		},
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			return deps.Runner.Stream(ctx, "nvidia-smi", query, "--format=csv,noheader,nounits", "-lms", strconv.FormatInt(ms, 10))
		},
		Split: bufio.ScanLines,
		Parse: func(rec []byte) ([]meter.Reading, error) {
			g, err := ParseSMILine(rec, false, withInstant)
			if err != nil {
				return nil, err
			}
			return []meter.Reading{{Rail: railName(g.Index), PowerW: g.PowerW}}, nil
		},
		Partial: true,
	})
}

// NVMLName is the registry name of the NVML meter.
const NVMLName = "nvml"
