package jetson

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/edgetran/edgetran/platforms/hwmon"
	"github.com/edgetran/edgetran/platforms/meter"
)

// Name is the registry name of the sysfs Jetson meter.
const Name = "jetson"

const (
	hwmonDriverDir = "bus/i2c/drivers/ina3221"  // JetPack 5 and later
	iioDriverDir   = "bus/i2c/drivers/ina3221x" // JetPack 4
)

// New opens the INA3221 rails of a Jetson module, trying the JetPack 5
// hwmon layout first and then the JetPack 4 IIO layout. The error of a
// failed detection joins both attempts and wraps meter.ErrNotSupported.
func New(deps meter.Deps) (*hwmon.ChannelMeter, error) {
	deps = deps.Defaults()
	devices, err5 := openHwmonLayout(deps)
	layout := "JetPack 5+ hwmon"
	if len(devices) == 0 {
		var err4 error
		devices, err4 = openIIOLayout(deps)
		layout = "JetPack 4 ina3221x"
		if len(devices) == 0 {
			return nil, fmt.Errorf("jetson: no INA3221 rails: %w", errors.Join(meter.ErrNotSupported, err5, err4))
		}
	}

	m := hwmon.NewMeter(Name, fmt.Sprintf("Jetson INA3221 rails (%s)", layout), devices, deps.Now)
	info := m.Info()
	for k := range info.Rails {
		info.Rails[k].Total = IsInputRail(info.Rails[k].Name)
	}
	if model := deps.BoardModel(); model != "" {
		info.Description += " on " + model
	}
	return hwmon.NewChannelMeter(info, channelsOf(devices), deps.Now), nil
}

func channelsOf(devices []hwmon.Device) []hwmon.Channel {
	var out []hwmon.Channel
	for _, d := range devices {
		out = append(out, d.Channels...)
	}
	return out
}

// openHwmonLayout opens bus/i2c/drivers/ina3221/<addr>/hwmon/hwmonN.
func openHwmonLayout(deps meter.Deps) ([]hwmon.Device, error) {
	addrs, err := meter.ReadDir(deps.Sysfs, hwmonDriverDir, deps.SysPath(hwmonDriverDir))
	if err != nil {
		return nil, fmt.Errorf("JetPack 5 layout: %w", err)
	}
	var devices []hwmon.Device
	var errs []error
	for _, a := range addrs {
		base := path.Join(hwmonDriverDir, a.Name(), "hwmon")
		hw, err := fs.ReadDir(deps.Sysfs, base)
		if err != nil {
			continue // driver files such as "bind" and "uevent"
		}
		for _, h := range hw {
			d, err := hwmon.OpenDevice(deps, path.Join(base, h.Name()), hwmon.Config{})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if len(d.Channels) > 0 {
				devices = append(devices, d)
			}
		}
	}
	if len(devices) == 0 {
		errs = append(errs, fmt.Errorf("JetPack 5 layout: no labelled channels under %s", deps.SysPath(hwmonDriverDir)))
	}
	return devices, errors.Join(errs...)
}

// openIIOLayout opens bus/i2c/drivers/ina3221x/<addr>/iio:deviceN with
// rail_name_K, in_powerK_input (mW), in_currentK_input (mA) and
// in_voltageK_input (mV), K = 0..2.
func openIIOLayout(deps meter.Deps) ([]hwmon.Device, error) {
	addrs, err := meter.ReadDir(deps.Sysfs, iioDriverDir, deps.SysPath(iioDriverDir))
	if err != nil {
		return nil, fmt.Errorf("JetPack 4 layout: %w", err)
	}
	var devices []hwmon.Device
	var errs []error
	for _, a := range addrs {
		entries, err := fs.ReadDir(deps.Sysfs, path.Join(iioDriverDir, a.Name()))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), "iio:device") {
				continue
			}
			d, err := openIIODevice(deps, path.Join(iioDriverDir, a.Name(), e.Name()))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if len(d.Channels) > 0 {
				devices = append(devices, d)
			}
		}
	}
	sort.Slice(devices, func(i, j int) bool { return devices[i].Dir < devices[j].Dir })
	if len(devices) == 0 {
		errs = append(errs, fmt.Errorf("JetPack 4 layout: no rails under %s", deps.SysPath(iioDriverDir)))
	}
	return devices, errors.Join(errs...)
}

func openIIODevice(deps meter.Deps, dir string) (hwmon.Device, error) {
	d := hwmon.Device{Dir: dir, Driver: "ina3221x"}
	open := func(name string) (*meter.Attr, error) {
		rel := path.Join(dir, name)
		return meter.OpenAttr(deps.Sysfs, rel, deps.SysPath(rel))
	}
	var errs []error
	for k := 0; k < 3; k++ {
		nameRel := path.Join(dir, fmt.Sprintf("rail_name_%d", k))
		label, err := meter.ReadString(deps.Sysfs, nameRel, deps.SysPath(nameRel))
		if err != nil || label == "" || strings.EqualFold(label, "NC") {
			continue
		}
		if p, err := open(fmt.Sprintf("in_power%d_input", k)); err == nil {
			d.Channels = append(d.Channels, hwmon.PowerChannel(label, p, 1e-3))
			continue
		}
		c, err := open(fmt.Sprintf("in_current%d_input", k))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v, err := open(fmt.Sprintf("in_voltage%d_input", k))
		if err != nil {
			c.Close()
			errs = append(errs, err)
			continue
		}
		d.Channels = append(d.Channels, hwmon.VIChannel(label, c, v))
	}
	return d, errors.Join(errs...)
}
