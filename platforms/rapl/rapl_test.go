package rapl

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgetran/edgetran/platforms/internal/fixture"
	"github.com/edgetran/edgetran/platforms/meter"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newDeps(root string, c *clock) meter.Deps {
	d := meter.NewDeps(root, filepath.Join(root, "proc"), nil)
	if c != nil {
		d.Now = c.now
	}
	return d
}

func TestRAPLZonesAndRails(t *testing.T) {
	tests := []struct {
		scenario  string
		rails     []meter.Rail
		rangeJ    []float64
		totalRail []int
	}{
		{
			scenario: "intel-client",
			rails: []meter.Rail{
				{Name: "package-0", Unit: "uJ"},
				{Name: "package-0/core", Unit: "uJ", Sub: true},
				{Name: "package-0/uncore", Unit: "uJ", Sub: true},
				{Name: "psys", Unit: "uJ", Total: true},
			},
			rangeJ:    []float64{262143.32885, 262143.32885, 262143.32885, 262143.32885},
			totalRail: []int{3},
		},
		{
			scenario: "amd-zen",
			rails: []meter.Rail{
				{Name: "package-0", Unit: "uJ"},
				{Name: "package-0/core", Unit: "uJ", Sub: true},
			},
			rangeJ:    []float64{65532.610987, 65532.610987},
			totalRail: []int{0},
		},
		{
			scenario: "xeon-two-socket",
			rails: []meter.Rail{
				{Name: "package-0", Unit: "uJ"},
				{Name: "package-0/dram", Unit: "uJ"},
				{Name: "package-1", Unit: "uJ"},
				{Name: "package-1/dram", Unit: "uJ"},
			},
			rangeJ:    []float64{262143.32885, 65712.999613, 262143.32885, 65712.999613},
			totalRail: []int{0, 1, 2, 3},
		},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			root := fixture.Unpack(t, filepath.Join("testdata", tc.scenario+".txtar"))
			m, err := New(newDeps(root, nil))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			info := m.Info()
			if len(info.Rails) != len(tc.rails) {
				t.Fatalf("rails = %+v, want %+v", info.Rails, tc.rails)
			}
			for k := range tc.rails {
				if info.Rails[k] != tc.rails[k] {
					t.Errorf("rail %d = %+v, want %+v", k, info.Rails[k], tc.rails[k])
				}
				if math.Abs(info.EnergyRangeJ[k]-tc.rangeJ[k]) > 1e-9 {
					t.Errorf("range %d = %v J, want %v J", k, info.EnergyRangeJ[k], tc.rangeJ[k])
				}
			}
			if got := info.TotalRails(); !equalInts(got, tc.totalRail) {
				t.Errorf("total rails = %v, want %v", got, tc.totalRail)
			}
			if !info.EnergyCounter || info.Estimated {
				t.Errorf("EnergyCounter = %v, Estimated = %v; want a measured counter", info.EnergyCounter, info.Estimated)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRAPLAbsentIsNotSupported(t *testing.T) {
	for _, scenario := range []string{"no-powercap", "no-zones"} {
		t.Run(scenario, func(t *testing.T) {
			root := fixture.Unpack(t, filepath.Join("testdata", scenario+".txtar"))
			_, err := New(newDeps(root, nil))
			if !errors.Is(err, meter.ErrNotSupported) {
				t.Fatalf("err = %v, want ErrNotSupported", err)
			}
		})
	}
}

func TestRAPLPowerFromCounterDelta(t *testing.T) {
	root := fixture.Unpack(t, "testdata/amd-zen.txtar")
	c := &clock{t: time.Unix(1000, 0)}
	m, err := New(newDeps(root, c))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var s meter.Sample
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(s.PowerW[0]) {
		t.Errorf("first read power = %v W, want NaN (no previous counter)", s.PowerW[0])
	}
	if s.EnergyJ[0] != 4123.884391 {
		t.Errorf("energy = %v J, want 4123.884391 J", s.EnergyJ[0])
	}

	// 12.5 J more on the package over 0.5 s is 25 W.
	fixture.Write(t, root, "class/powercap/intel-rapl:0/energy_uj", "4136384391")
	c.t = c.t.Add(500 * time.Millisecond)
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.PowerW[0]-25) > 1e-9 {
		t.Errorf("package power = %v W, want 25 W", s.PowerW[0])
	}
	if s.PowerW[1] != 0 {
		t.Errorf("core power = %v W, want 0 W for an unchanged counter", s.PowerW[1])
	}
}

func TestRAPLCounterWrapIsCorrected(t *testing.T) {
	root := fixture.Unpack(t, "testdata/intel-client.txtar")
	c := &clock{t: time.Unix(1000, 0)}
	m, err := New(newDeps(root, c))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var s meter.Sample
	fixture.Write(t, root, "class/powercap/intel-rapl:0/energy_uj", "260000000000")
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	fixture.Write(t, root, "class/powercap/intel-rapl:0/energy_uj", "700000000")
	c.t = c.t.Add(time.Second)
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	// 262143328850 − 260000000000 + 700000000 µJ = 2843.32885 J in 1 s.
	if math.Abs(s.PowerW[0]-2843.32885) > 1e-6 {
		t.Errorf("power across the wrap = %v W, want 2843.32885 W", s.PowerW[0])
	}
}

func TestRAPLUnknownRangeGivesNoPower(t *testing.T) {
	root := fixture.Unpack(t, "testdata/missing-range.txtar")
	c := &clock{t: time.Unix(1000, 0)}
	m, err := New(newDeps(root, c))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.Info().EnergyRangeJ[0]; got != 0 {
		t.Fatalf("range = %v J, want 0 (unknown)", got)
	}
	var s meter.Sample
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	fixture.Write(t, root, "class/powercap/intel-rapl:0/energy_uj", "700000000")
	c.t = c.t.Add(time.Second)
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(s.PowerW[0]) {
		t.Errorf("power across a wrap of unknown range = %v W, want NaN", s.PowerW[0])
	}
}

// deniedFS returns EACCES for one file, as sysfs does for a 0400 root file.
type deniedFS struct {
	fs.FS
	name string
}

func (d deniedFS) Open(name string) (fs.File, error) {
	if name == d.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	}
	return d.FS.Open(name)
}

func TestRAPLPermissionErrorNamesFix(t *testing.T) {
	root := fixture.Unpack(t, "testdata/amd-zen.txtar")
	const energy = "class/powercap/intel-rapl:0/energy_uj"

	injected := newDeps(root, nil)
	injected.Sysfs = deniedFS{FS: injected.Sysfs, name: energy}
	cases := map[string]meter.Deps{"injected EACCES": injected}
	if os.Geteuid() != 0 {
		// Root reads a 0400 file anyway, so only a non-root run can test
		// the real permission bits; the injected case covers root runs.
		if err := os.Chmod(filepath.Join(root, filepath.FromSlash(energy)), 0o000); err != nil {
			t.Fatal(err)
		}
		cases["mode 0000 file"] = newDeps(root, nil)
	}
	for name, deps := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := New(deps)
			if err == nil {
				t.Fatal("New succeeded on an unreadable energy_uj")
			}
			if !errors.Is(err, fs.ErrPermission) || !errors.Is(err, meter.ErrNotSupported) {
				t.Errorf("err = %v, want both ErrPermission and ErrNotSupported", err)
			}
			msg := err.Error()
			for _, want := range []string{filepath.Join(root, energy), "run the agent as root", "udev rule", "CAP_DAC_READ_SEARCH", "bounding set"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error does not mention %q:\n%s", want, msg)
				}
			}
		})
	}
}

func TestRAPLGarbledCounterIsReadError(t *testing.T) {
	root := fixture.Unpack(t, "testdata/amd-zen.txtar")
	m, err := New(newDeps(root, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	fixture.Write(t, root, "class/powercap/intel-rapl:0/energy_uj", "12x4")
	var s meter.Sample
	err = m.Read(context.Background(), &s)
	if err == nil || !strings.Contains(err.Error(), "12x4") {
		t.Fatalf("err = %v, want an error quoting the garbled value", err)
	}
	if !math.IsNaN(s.EnergyJ[0]) {
		t.Errorf("energy of the garbled zone = %v J, want NaN", s.EnergyJ[0])
	}
	if math.IsNaN(s.EnergyJ[1]) {
		t.Error("the readable core zone lost its value")
	}
}

func TestRAPLPowerSpansFailedRead(t *testing.T) {
	root := fixture.Unpack(t, "testdata/amd-zen.txtar")
	c := &clock{t: time.Unix(1000, 0)}
	m, err := New(newDeps(root, c))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	const file = "class/powercap/intel-rapl:0/energy_uj"
	var s meter.Sample
	fixture.Write(t, root, file, "1000000000")
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	fixture.Write(t, root, file, "12x4")
	c.t = c.t.Add(time.Second)
	if err := m.Read(context.Background(), &s); err == nil {
		t.Fatal("garbled counter read without error")
	}
	// 40 J over the two seconds since the last good read is 20 W, not 40 W.
	fixture.Write(t, root, file, "1040000000")
	c.t = c.t.Add(time.Second)
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.PowerW[0]-20) > 1e-9 {
		t.Errorf("package power = %v W, want 20 W", s.PowerW[0])
	}
}
