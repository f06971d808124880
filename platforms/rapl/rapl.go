// Package rapl reads Intel and AMD RAPL energy counters through the Linux
// powercap interface (/sys/class/powercap/intel-rapl:*). AMD processors
// expose the same intel-rapl zones through the intel_rapl_msr driver.
//
// Each zone has energy_uj, a cumulative counter in µJ that wraps to zero at
// max_energy_range_uj. Sub-zones "core" and "uncore" are contained in their
// package zone and are never added into the total. A "dram" zone is separate
// from the package. A "psys" zone, where present, covers the whole platform
// and is the total.
package rapl

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/edgetran/edgetran/platforms/meter"
)

// Name is the registry name of this meter.
const Name = "rapl"

const powercapDir = "class/powercap"

type zone struct {
	id      string // e.g. "intel-rapl:0:1"
	rail    meter.Rail
	energy  *meter.Attr
	rangeUJ uint64 // 0 when max_energy_range_uj is missing or unreadable
}

// Meter reads all RAPL zones.
type Meter struct {
	deps  meter.Deps
	zones []zone
	info  meter.Info

	mu   sync.Mutex // guards prev, have and at across Read calls
	prev []uint64
	have []bool
	// at is the time of each zone's last good read: after a failed read
	// the next power spans back to it, not to the failed read.
	at []time.Time
}

var _ meter.Meter = (*Meter)(nil)

// New opens every RAPL zone under deps.Sysfs. It returns an error wrapping
// meter.ErrNotSupported when there are no zones or energy_uj is not
// readable; the permission error names the file and the fix.
func New(deps meter.Deps) (*Meter, error) {
	deps = deps.Defaults()
	entries, err := meter.ReadDir(deps.Sysfs, powercapDir, deps.SysPath(powercapDir))
	if err != nil {
		return nil, fmt.Errorf("rapl: no powercap interface: %w: %w", meter.ErrNotSupported, err)
	}
	var ids []string
	for _, e := range entries {
		if isZone(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("rapl: no intel-rapl zones in %s: %w", deps.SysPath(powercapDir), meter.ErrNotSupported)
	}
	sort.Strings(ids)

	m := &Meter{deps: deps}
	for _, id := range ids {
		z, err := openZone(deps, id)
		if err != nil {
			m.Close()
			return nil, err
		}
		m.zones = append(m.zones, z)
	}
	m.info = meter.Info{
		Name:          Name,
		Description:   "Linux RAPL energy counters (powercap)",
		EnergyCounter: true,
		// RAPL updates its counters about once per millisecond.
		MinInterval: time.Millisecond,
	}
	for _, z := range m.zones {
		m.info.Rails = append(m.info.Rails, z.rail)
		m.info.EnergyRangeJ = append(m.info.EnergyRangeJ, float64(z.rangeUJ)/1e6)
	}
	m.prev = make([]uint64, len(m.zones))
	m.have = make([]bool, len(m.zones))
	m.at = make([]time.Time, len(m.zones))
	return m, nil
}

// isZone matches "intel-rapl:N" and "intel-rapl:N:M" but not the
// "intel-rapl" control type, and leaves out "intel-rapl-mmio:N", which
// reports the same package energy through another path.
func isZone(name string) bool {
	rest, ok := strings.CutPrefix(name, "intel-rapl:")
	if !ok || rest == "" {
		return false
	}
	for _, part := range strings.Split(rest, ":") {
		if _, ok := meter.ParseUint([]byte(part)); !ok {
			return false
		}
	}
	return true
}

func openZone(deps meter.Deps, id string) (zone, error) {
	dir := path.Join(powercapDir, id)
	name, err := meter.ReadString(deps.Sysfs, path.Join(dir, "name"), deps.SysPath(path.Join(dir, "name")))
	if err != nil {
		return zone{}, fmt.Errorf("rapl: zone %s: %w", id, err)
	}
	z := zone{id: id, rail: meter.Rail{Name: name, Unit: "uJ"}}
	if strings.Count(id, ":") == 2 {
		// A sub-zone is named after its package: "package-0/core".
		parent := id[:strings.LastIndex(id, ":")]
		pname, err := meter.ReadString(deps.Sysfs, path.Join(powercapDir, parent, "name"), deps.SysPath(path.Join(powercapDir, parent, "name")))
		if err == nil && pname != "" {
			z.rail.Name = pname + "/" + name
		}
		z.rail.Sub = name == "core" || name == "uncore"
	}
	z.rail.Total = name == "psys"

	energyRel := path.Join(dir, "energy_uj")
	z.energy, err = meter.OpenAttr(deps.Sysfs, energyRel, deps.SysPath(energyRel))
	if err == nil {
		_, err = z.energy.Uint()
	}
	if err != nil {
		if z.energy != nil {
			z.energy.Close()
		}
		if errors.Is(err, fs.ErrPermission) {
			return zone{}, permissionError(deps.SysPath(energyRel), err)
		}
		return zone{}, fmt.Errorf("rapl: zone %s: %w", id, err)
	}

	rangeRel := path.Join(dir, "max_energy_range_uj")
	r, err := meter.OpenAttr(deps.Sysfs, rangeRel, deps.SysPath(rangeRel))
	if err == nil {
		z.rangeUJ, err = r.Uint()
		r.Close()
	}
	if err != nil {
		deps.Logger.Warn("RAPL counter range unknown; a window across a counter wrap will be flagged",
			"meter", Name, "zone", id, "err", err)
		z.rangeUJ = 0
	}
	return z, nil
}

// permissionError explains the fix for energy_uj, which Linux 5.10 and
// later make readable by root only (a mitigation for the Platypus power
// side channel, CVE-2020-8694).
func permissionError(file string, err error) error {
	return fmt.Errorf("rapl: %s is not readable by the agent (uid %d): %w; "+
		"fix it in one of three ways: run the agent as root; "+
		"add a udev rule that makes the file readable by the agent's group, e.g. "+
		`ACTION=="add", SUBSYSTEM=="powercap", RUN+="/bin/chgrp edgetran /sys%%p/energy_uj", RUN+="/bin/chmod g+r /sys%%p/energy_uj"; `+
		"or give the agent an effective CAP_DAC_READ_SEARCH (systemd AmbientCapabilities=CAP_DAC_READ_SEARCH, or setcap cap_dac_read_search+ep on the binary); "+
		"a capability that is only in the bounding set does nothing: %w",
		file, os.Geteuid(), meter.ErrNotSupported, err)
}

// Info describes the zones found.
func (m *Meter) Info() meter.Info { return m.info }

// Read fills s with the energy counter of every zone in joules and the
// power since the zone's previous good read in watts (NaN on the first
// Read, and when a counter went down while its range is unknown).
func (m *Meter) Read(ctx context.Context, s *meter.Sample) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.Reset(len(m.zones), true)
	now := m.deps.Now()
	s.Time = now

	var firstErr error
	for k := range m.zones {
		z := &m.zones[k]
		uj, err := z.energy.Uint()
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("rapl: %w", err)
			}
			continue
		}
		s.EnergyJ[k] = float64(uj) / 1e6
		if dt := now.Sub(m.at[k]).Seconds(); m.have[k] && dt > 0 {
			if d, ok := deltaUJ(m.prev[k], uj, z.rangeUJ); ok {
				s.PowerW[k] = float64(d) / 1e6 / dt
			}
		}
		m.prev[k], m.have[k], m.at[k] = uj, true, now
	}
	return firstErr
}

// deltaUJ returns the counter increase from prev to cur, adding the range
// when the counter wrapped. It returns false when the counter wrapped and
// the range is unknown.
func deltaUJ(prev, cur, rangeUJ uint64) (uint64, bool) {
	if cur >= prev {
		return cur - prev, true
	}
	if rangeUJ == 0 || prev > rangeUJ {
		return 0, false
	}
	return rangeUJ - prev + cur, true
}

// Close closes the counter files.
func (m *Meter) Close() error {
	for _, z := range m.zones {
		if z.energy != nil {
			z.energy.Close()
		}
	}
	return nil
}
