package profile

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// thermalWatch records the maximum temperature per thermal zone and the
// kernel's thermal-throttle event counters across a profile.
//
// Throttled is true when a zone reached its lowest passive (or hot) trip
// point, or when a CPU's package or core throttle counter grew. It is nil
// when the machine exposes neither, because absence of evidence is not
// evidence of no throttling.
type thermalWatch struct {
	zones    []thermalZone
	counters []string // throttle count files
	startCnt map[string]int64
	maxC     map[string]float64
	tripHit  bool
	grew     bool
}

type thermalZone struct {
	name  string  // type file content, made unique
	temp  string  // temp file path, millidegrees Celsius
	tripC float64 // lowest passive/hot trip point; NaN-free: 0 when none
}

func newThermalWatch(root string) *thermalWatch {
	w := &thermalWatch{startCnt: map[string]int64{}, maxC: map[string]float64{}}
	dirs, _ := filepath.Glob(filepath.Join(root, "sys/class/thermal/thermal_zone*"))
	seen := map[string]int{}
	for _, d := range dirs {
		name := readTrim(filepath.Join(d, "type"))
		if name == "" {
			name = filepath.Base(d)
		}
		seen[name]++
		if seen[name] > 1 {
			name = fmt.Sprintf("%s-%d", name, seen[name])
		}
		w.zones = append(w.zones, thermalZone{name: name, temp: filepath.Join(d, "temp"), tripC: lowestTrip(d)})
	}
	for _, pat := range []string{"package_throttle_count", "core_throttle_count"} {
		files, _ := filepath.Glob(filepath.Join(root, "sys/devices/system/cpu/cpu[0-9]*/thermal_throttle", pat))
		w.counters = append(w.counters, files...)
	}
	for _, f := range w.counters {
		if v, err := readInt(f); err == nil {
			w.startCnt[f] = v
		}
	}
	return w
}

// lowestTrip returns the lowest passive or hot trip point of a zone in
// degrees Celsius, 0 when it has none.
func lowestTrip(zoneDir string) float64 {
	types, _ := filepath.Glob(filepath.Join(zoneDir, "trip_point_*_type"))
	lowest := 0.0
	for _, t := range types {
		kind := readTrim(t)
		if kind != "passive" && kind != "hot" {
			continue
		}
		v, err := readInt(strings.TrimSuffix(t, "_type") + "_temp")
		if err != nil || v <= 0 {
			continue
		}
		c := float64(v) / 1000
		if lowest == 0 || c < lowest {
			lowest = c
		}
	}
	return lowest
}

// sample reads every zone once.
func (w *thermalWatch) sample() {
	for _, z := range w.zones {
		v, err := readInt(z.temp)
		if err != nil {
			continue
		}
		c := float64(v) / 1000
		if old, ok := w.maxC[z.name]; !ok || c > old {
			w.maxC[z.name] = c
		}
		if z.tripC > 0 && c >= z.tripC {
			w.tripHit = true
		}
	}
}

// result returns the maximum temperatures (nil when no zone was readable)
// and the throttling flag.
func (w *thermalWatch) result() (map[string]float64, *bool) {
	for _, f := range w.counters {
		start, ok := w.startCnt[f]
		if v, err := readInt(f); ok && err == nil && v > start {
			w.grew = true
		}
	}
	evidence := len(w.startCnt) > 0
	for _, z := range w.zones {
		if _, ok := w.maxC[z.name]; ok && z.tripC > 0 {
			evidence = true
		}
	}
	var temps map[string]float64
	if len(w.maxC) > 0 {
		temps = w.maxC
	}
	if !evidence {
		return temps, nil
	}
	throttled := w.tripHit || w.grew
	return temps, &throttled
}

// readTrim reads a small sysfs attribute with one bounded read, because some
// drivers keep returning EAGAIN to a reader that loops until EOF.
func readTrim(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 128)
	n, _ := f.Read(buf)
	return strings.TrimSpace(string(buf[:n]))
}

func readInt(path string) (int64, error) {
	s := readTrim(path)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not an integer", path, s)
	}
	return v, nil
}
