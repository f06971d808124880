package hwmon

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgetran/edgetran/platforms/internal/fixture"
	"github.com/edgetran/edgetran/platforms/meter"
)

type railWant struct {
	name  string
	unit  string
	watts float64
}

func TestHwmonScenarios(t *testing.T) {
	tests := []struct {
		scenario    string
		cfg         Config
		rails       []railWant
		minInterval time.Duration
	}{
		{
			scenario:    "ina219-rpi4",
			rails:       []railWant{{"power1", "uW", 3.168}},
			minInterval: 10 * time.Millisecond,
		},
		{
			scenario:    "ina226-device-dir",
			rails:       []railWant{{"power1", "uW", 12.056}},
			minInterval: 35 * time.Millisecond,
		},
		{
			scenario: "ina3221-orin-nano",
			rails: []railWant{
				{"VDD_IN", "mA*mV", 5.072 * 1.044},
				{"VDD_CPU_GPU_CV", "mA*mV", 5.064 * 0.152},
				{"VDD_SOC", "mA*mV", 5.064 * 0.281},
			},
			minInterval: 26 * time.Millisecond,
		},
		{
			scenario: "ina3221-disabled-nolabel",
			rails: []railWant{
				{"5V_BOARD", "mA*mV", 5.008 * 0.4},
				{"channel2", "mA*mV", 3.3 * 0.1},
			},
			minInterval: 10 * time.Millisecond,
		},
		{
			scenario:    "ina226-milliwatt",
			cfg:         Config{PowerScaleW: map[string]float64{"ina226": 1e-3}},
			rails:       []railWant{{"power1", "mW", 2.35}},
			minInterval: 10 * time.Millisecond,
		},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			root := fixture.Unpack(t, filepath.Join("testdata", tc.scenario+".txtar"))
			m, err := New(meter.NewDeps(root, root, nil), tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			info := m.Info()
			if len(info.Rails) != len(tc.rails) {
				t.Fatalf("rails = %+v, want %d rails", info.Rails, len(tc.rails))
			}
			if info.MinInterval != tc.minInterval {
				t.Errorf("MinInterval = %v, want %v", info.MinInterval, tc.minInterval)
			}
			var s meter.Sample
			if err := m.Read(context.Background(), &s); err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.rails {
				got := info.Rails[k]
				if got.Name != want.name || got.Unit != want.unit {
					t.Errorf("rail %d = %s in %s, want %s in %s", k, got.Name, got.Unit, want.name, want.unit)
				}
				if math.Abs(s.PowerW[k]-want.watts) > 1e-9 {
					t.Errorf("rail %s = %v W, want %v W", want.name, s.PowerW[k], want.watts)
				}
			}
			if info.EnergyCounter || info.Estimated {
				t.Errorf("EnergyCounter = %v, Estimated = %v; want measured power only", info.EnergyCounter, info.Estimated)
			}
		})
	}
}

func TestHwmonMilliwattNeedsOverride(t *testing.T) {
	root := fixture.Unpack(t, "testdata/ina226-milliwatt.txtar")
	m, err := New(meter.NewDeps(root, root, nil), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var s meter.Sample
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	// Without the override the ABI unit (µW) applies: 2350 µW.
	if math.Abs(s.PowerW[0]-0.00235) > 1e-12 {
		t.Errorf("power = %v W, want 0.00235 W under the ABI scale", s.PowerW[0])
	}
}

func TestHwmonWithoutPowerIsNotSupported(t *testing.T) {
	root := fixture.Unpack(t, "testdata/thermal-only.txtar")
	_, err := New(meter.NewDeps(root, root, nil), Config{})
	if !errors.Is(err, meter.ErrNotSupported) {
		t.Fatalf("err = %v, want ErrNotSupported", err)
	}
	_, err = New(meter.NewDeps(t.TempDir(), t.TempDir(), nil), Config{})
	if !errors.Is(err, meter.ErrNotSupported) {
		t.Fatalf("no hwmon class: err = %v, want ErrNotSupported", err)
	}
}

func TestHwmonGarbledValueIsError(t *testing.T) {
	root := fixture.Unpack(t, "testdata/ina3221-orin-nano.txtar")
	m, err := New(meter.NewDeps(root, root, nil), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	fixture.Write(t, root, "class/hwmon/hwmon3/curr2_input", "")
	var s meter.Sample
	if err := m.Read(context.Background(), &s); err == nil {
		t.Fatal("Read succeeded on an empty current file")
	}
	if !math.IsNaN(s.PowerW[1]) {
		t.Errorf("rail with an empty current = %v W, want NaN", s.PowerW[1])
	}
	if math.IsNaN(s.PowerW[0]) {
		t.Error("readable rail VDD_IN lost its value")
	}
}
