package meter_test

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/edgetran/edgetran/platforms/meter"
)

// eagainFile fails every read with EAGAIN, as some hwmon drivers do while
// a conversion is pending, and counts the attempts.
type eagainFile struct {
	fs.File
	reads *int
}

func (f eagainFile) ReadAt(p []byte, off int64) (int, error) {
	*f.reads++
	return 0, syscall.EAGAIN
}

type eagainFS struct {
	fstest.MapFS
	reads *int
}

func (e eagainFS) Open(name string) (fs.File, error) {
	f, err := e.MapFS.Open(name)
	if err != nil {
		return nil, err
	}
	return eagainFile{File: f, reads: e.reads}, nil
}

func TestAttrReadsOnceOnEAGAIN(t *testing.T) {
	reads := 0
	fsys := eagainFS{MapFS: fstest.MapFS{"power1_input": {Data: []byte("1000\n")}}, reads: &reads}
	a, err := meter.OpenAttr(fsys, "power1_input", "/sys/class/hwmon/hwmon0/power1_input")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = a.Int()
	if !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("err = %v, want EAGAIN passed through", err)
	}
	if reads != 1 {
		t.Errorf("reads = %d, want exactly one bounded read", reads)
	}
}

func TestParseUintBounds(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"262143328850", 262143328850, true},
		{"18446744073709551615", 18446744073709551615, true},
		{"18446744073709551616", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"12 ", 0, false},
	}
	for _, tc := range tests {
		got, ok := meter.ParseUint([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseUint(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSamplerHwmonFailureFlagsWindow(t *testing.T) {
	root := t.TempDir()
	writeHwmon := func(v string) {
		t.Helper()
		if err := writeFile(root, "class/hwmon/hwmon0/power1_input", v); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeFile(root, "class/hwmon/hwmon0/name", "ina219"); err != nil {
		t.Fatal(err)
	}
	writeHwmon("2000000")
	s, c := hwmonSampler(t, root)
	// 2 W, 4 W, a garbled read, 4 W at one-second steps.
	for i, v := range []string{"2000000", "4000000", "x", "4000000"} {
		if i > 0 {
			c.t = c.t.Add(time.Second)
		}
		writeHwmon(v)
		s.ReadOnce(t.Context())
	}
	sum, err := s.Window(t0, t0.Add(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Failed || !sum.Missing {
		t.Errorf("Failed = %v, Missing = %v; want both after a garbled read", sum.Failed, sum.Missing)
	}
	// Only the 2 W to 4 W second is integrated: 3 J. The two seconds
	// around the failed read are left out, not guessed.
	if sum.EnergyJ != 3 {
		t.Errorf("energy = %v J, want 3 J", sum.EnergyJ)
	}
	if sum.PeakW != 4 || sum.EnergyFromCounter {
		t.Errorf("peak = %v W, counter = %v; want 4 W from an integral", sum.PeakW, sum.EnergyFromCounter)
	}
}

func TestMissingFileErrorNamesHostPath(t *testing.T) {
	fsys := fstest.MapFS{}
	host := "/host/sys/class/powercap"
	_, dirErr := meter.ReadDir(fsys, "class/powercap", host)
	_, strErr := meter.ReadString(fsys, "class/powercap", host)
	_, attrErr := meter.OpenAttr(fsys, "class/powercap", host)
	tests := []struct {
		name string
		err  error
	}{
		{"ReadDir", dirErr},
		{"ReadString", strErr},
		{"OpenAttr", attrErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, fs.ErrNotExist) {
				t.Errorf("err = %v, want fs.ErrNotExist", tt.err)
			}
			if got := tt.err.Error(); strings.Count(got, "class/powercap") != 1 || !strings.Contains(got, host) {
				t.Errorf("err = %q, want the host path %s once", got, host)
			}
		})
	}
}
