// Package hwmon reads power sensors through the Linux hwmon interface
// (/sys/class/hwmon/hwmonN): INA219 and INA226 boards (driver ina2xx) that
// report power*_input in µW, and INA3221 (driver ina3221) that reports only
// in*_input (mV) and curr*_input (mA) per channel, so power is V·I.
//
// Attributes sit directly in hwmonN/ on current kernels and in
// hwmonN/device/ on older ones; both are searched. A channel whose
// *_enable is 0 is skipped, as is a channel labelled "NC" (not connected)
// or a summation channel.
//
// Some vendor kernels write milliwatts into power*_input against the hwmon
// ABI. Config.PowerScaleW overrides the scale per driver name, e.g.
// {"ina226": 1e-3} reads that driver's power files as mW.
package hwmon

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edgetran/edgetran/platforms/meter"
)

// Name is the registry name of this meter.
const Name = "hwmon"

const classDir = "class/hwmon"

// Config adjusts how sensors are read. The zero value reads every power
// sensor with the hwmon ABI units.
type Config struct {
	// PowerScaleW maps a driver name (the hwmon "name" file) to watts per
	// raw unit of its power*_input files; unset drivers use 1e-6 (µW).
	PowerScaleW map[string]float64
}

// Device is one hwmon device with its power channels.
type Device struct {
	Dir      string // e.g. "class/hwmon/hwmon2", relative to the sysfs root
	Driver   string // the "name" attribute, e.g. "ina3221"
	Channels []Channel
	// UpdateInterval is the sensor's conversion interval from
	// update_interval, 0 when the driver has none.
	UpdateInterval time.Duration
}

// New opens every hwmon device with power channels under deps.Sysfs and
// returns a meter over all of them. It returns an error wrapping
// meter.ErrNotSupported when there are none.
func New(deps meter.Deps, cfg Config) (*ChannelMeter, error) {
	deps = deps.Defaults()
	entries, err := meter.ReadDir(deps.Sysfs, classDir, deps.SysPath(classDir))
	if err != nil {
		return nil, fmt.Errorf("hwmon: no hwmon class: %w: %w", meter.ErrNotSupported, err)
	}
	var devices []Device
	for _, e := range entries {
		d, err := OpenDevice(deps, path.Join(classDir, e.Name()), cfg)
		if err != nil {
			deps.Logger.Debug("hwmon device skipped", "meter", Name, "device", e.Name(), "err", err)
			continue
		}
		if len(d.Channels) > 0 {
			devices = append(devices, d)
		}
	}
	if len(devices) == 0 {
		return nil, fmt.Errorf("hwmon: no power sensors in %s: %w", deps.SysPath(classDir), meter.ErrNotSupported)
	}
	return NewMeter(Name, "Linux hwmon power sensors", devices, deps.Now), nil
}

// NewMeter returns a meter over the channels of devices. Rails are named by
// their label, prefixed with the device directory when two devices share a
// label.
func NewMeter(name, description string, devices []Device, now func() time.Time) *ChannelMeter {
	count := map[string]int{}
	for _, d := range devices {
		for _, c := range d.Channels {
			count[c.Label]++
		}
	}
	info := meter.Info{Name: name, MinInterval: 10 * time.Millisecond}
	var chans []Channel
	var drivers []string
	var slowest time.Duration
	for _, d := range devices {
		drivers = append(drivers, d.Driver)
		slowest = max(slowest, d.UpdateInterval)
		for _, c := range d.Channels {
			rail := c.Label
			if count[c.Label] > 1 {
				rail = path.Base(d.Dir) + "/" + c.Label
			}
			info.Rails = append(info.Rails, meter.Rail{Name: rail, Unit: c.Unit()})
			chans = append(chans, c)
		}
	}
	if slowest > 0 {
		info.MinInterval = slowest
	}
	info.Description = fmt.Sprintf("%s (%s)", description, strings.Join(drivers, ", "))
	return NewChannelMeter(info, chans, now)
}

// attrSet lists the attribute files of one hwmon directory.
type attrSet struct {
	dir   string
	files map[string]bool
}

func (a attrSet) has(name string) bool { return a.files[name] }

// OpenDevice opens the power channels of one hwmon directory (relative to
// the sysfs root). It looks in dir and in dir/device.
func OpenDevice(deps meter.Deps, dir string, cfg Config) (Device, error) {
	deps = deps.Defaults()
	attrs, err := findAttrs(deps.Sysfs, dir)
	if err != nil {
		return Device{}, err
	}
	d := Device{Dir: dir}
	d.Driver, _ = meter.ReadString(deps.Sysfs, path.Join(attrs.dir, "name"), deps.SysPath(path.Join(attrs.dir, "name")))
	if d.Driver == "" {
		d.Driver, _ = meter.ReadString(deps.Sysfs, path.Join(dir, "name"), deps.SysPath(path.Join(dir, "name")))
	}
	if ms, err := readInt(deps, attrs, "update_interval"); err == nil && ms > 0 {
		d.UpdateInterval = time.Duration(ms) * time.Millisecond
	}
	scale := 1e-6
	if s, ok := cfg.PowerScaleW[d.Driver]; ok && s > 0 {
		scale = s
	}

	open := func(name string) (*meter.Attr, error) {
		rel := path.Join(attrs.dir, name)
		return meter.OpenAttr(deps.Sysfs, rel, deps.SysPath(rel))
	}
	label := func(prefix string, k int) (string, bool) {
		name := fmt.Sprintf("%s%d_label", prefix, k)
		if !attrs.has(name) {
			return "", false
		}
		l, err := meter.ReadString(deps.Sysfs, path.Join(attrs.dir, name), deps.SysPath(path.Join(attrs.dir, name)))
		return l, err == nil && l != ""
	}
	enabled := func(prefix string, k int) bool {
		v, err := readInt(deps, attrs, fmt.Sprintf("%s%d_enable", prefix, k))
		return err != nil || v != 0 // absent means enabled
	}

	var errs []error
	covered := map[string]bool{}

	// Power attributes: power*_input, else power*_average.
	for _, k := range indices(attrs, "power", "_input", "_average") {
		file := fmt.Sprintf("power%d_input", k)
		if !attrs.has(file) {
			file = fmt.Sprintf("power%d_average", k)
		}
		l, ok := label("power", k)
		if !ok {
			l = fmt.Sprintf("power%d", k)
		}
		if !enabled("power", k) || skipLabel(l) {
			continue
		}
		a, err := open(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		d.Channels = append(d.Channels, PowerChannel(l, a, scale))
		covered[l] = true
	}

	// Current channels paired with the voltage of the same label, or of the
	// same index on an INA3221 whose labels are missing.
	inByLabel := map[string]int{}
	for _, k := range indices(attrs, "in", "_input") {
		if l, ok := label("in", k); ok {
			inByLabel[l] = k
		}
	}
	for _, k := range indices(attrs, "curr", "_input") {
		l, ok := label("curr", k)
		if !ok {
			l, ok = label("in", k)
		}
		j, paired := inByLabel[l]
		if !ok {
			// INA3221 channels 1-3 pair currK with inK (bus voltage); curr4
			// is the shunt-sum channel and has no bus voltage.
			if d.Driver != "ina3221" || k > 3 || !attrs.has(fmt.Sprintf("in%d_input", k)) {
				continue
			}
			l, j, paired = fmt.Sprintf("channel%d", k), k, true
		}
		if !paired || covered[l] || skipLabel(l) || !enabled("in", j) || !enabled("curr", k) {
			continue
		}
		ca, err := open(fmt.Sprintf("curr%d_input", k))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		va, err := open(fmt.Sprintf("in%d_input", j))
		if err != nil {
			ca.Close()
			errs = append(errs, err)
			continue
		}
		d.Channels = append(d.Channels, VIChannel(l, ca, va))
	}
	if len(d.Channels) == 0 && len(errs) > 0 {
		return d, errors.Join(errs...)
	}
	return d, nil
}

// skipLabel reports whether a channel label marks an unconnected input
// ("NC") or a summation of other channels.
func skipLabel(l string) bool {
	u := strings.ToUpper(strings.TrimSpace(l))
	return u == "NC" || strings.Contains(u, "SUM")
}

func findAttrs(fsys fs.FS, dir string) (attrSet, error) {
	set := attrSet{dir: dir, files: map[string]bool{}}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return set, err
	}
	for _, e := range entries {
		set.files[e.Name()] = true
	}
	if hasSensor(set) || !set.files["device"] {
		return set, nil
	}
	sub := attrSet{dir: path.Join(dir, "device"), files: map[string]bool{}}
	entries, err = fs.ReadDir(fsys, sub.dir)
	if err != nil {
		return set, nil
	}
	for _, e := range entries {
		sub.files[e.Name()] = true
	}
	return sub, nil
}

func hasSensor(a attrSet) bool {
	for f := range a.files {
		if strings.HasPrefix(f, "power") || strings.HasPrefix(f, "curr") {
			return true
		}
	}
	return false
}

// indices returns the sorted K of files named prefix+K+suffix.
func indices(a attrSet, prefix string, suffixes ...string) []int {
	seen := map[int]bool{}
	for f := range a.files {
		for _, suf := range suffixes {
			mid, ok := strings.CutPrefix(f, prefix)
			if !ok {
				continue
			}
			num, ok := strings.CutSuffix(mid, suf)
			if !ok {
				continue
			}
			if k, err := strconv.Atoi(num); err == nil && k >= 0 {
				seen[k] = true
			}
		}
	}
	var out []int
	for k := range seen {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func readInt(deps meter.Deps, attrs attrSet, name string) (int64, error) {
	if !attrs.has(name) {
		return 0, fs.ErrNotExist
	}
	a, err := meter.OpenAttr(deps.Sysfs, path.Join(attrs.dir, name), deps.SysPath(path.Join(attrs.dir, name)))
	if err != nil {
		return 0, err
	}
	defer a.Close()
	return a.Int()
}
