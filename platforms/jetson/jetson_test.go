package jetson

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgetran/edgetran/platforms/internal/fixture"
	"github.com/edgetran/edgetran/platforms/meter"
)

func deps(root string) meter.Deps {
	return meter.NewDeps(root, filepath.Join(root, "proc"), nil)
}

func TestJetsonLayouts(t *testing.T) {
	tests := []struct {
		scenario string
		rails    []string
		watts    []float64
		total    []string // rails summed into the device total
		totalW   float64
		model    string
	}{
		{
			scenario: "nano-jetpack4",
			rails:    []string{"POM_5V_IN", "POM_5V_GPU", "POM_5V_CPU"},
			watts:    []float64{0.933, 0, 0.084},
			total:    []string{"POM_5V_IN"},
			totalW:   0.933,
			model:    "NVIDIA Jetson Nano Developer Kit",
		},
		{
			scenario: "agx-xavier-jetpack4",
			rails:    []string{"GPU", "CPU", "SOC", "CV", "VDDRQ", "SYS5V"},
			watts:    []float64{0.155, 0.622, 1.555, 0, 0.016 * 19.216, 0.110 * 19.2},
			total:    []string{"GPU", "CPU", "SOC", "CV", "VDDRQ", "SYS5V"},
			totalW:   0.155 + 0.622 + 1.555 + 0.016*19.216 + 0.110*19.2,
		},
		{
			scenario: "orin-nano-jetpack5",
			rails:    []string{"VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"},
			watts:    []float64{5.072 * 1.044, 5.064 * 0.152, 5.064 * 0.281},
			total:    []string{"VDD_IN"},
			totalW:   5.072 * 1.044,
			model:    "NVIDIA Jetson Orin Nano Developer Kit",
		},
		{
			// No input rail: the real rails are summed, NC and the shunt-sum
			// channel are skipped, and VIN_SYS_5V0 is a part, not the total.
			scenario: "agx-orin-jetpack5",
			rails:    []string{"VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0", "VDDQ_VDD2_1V8AO"},
			watts:    []float64{5.072 * 1.2, 5.064 * 0.4, 5.048 * 0.6, 5.056 * 0.25},
			total:    []string{"VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0", "VDDQ_VDD2_1V8AO"},
			totalW:   5.072*1.2 + 5.064*0.4 + 5.048*0.6 + 5.056*0.25,
			model:    "Jetson AGX Orin Developer Kit",
		},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			root := fixture.Unpack(t, filepath.Join("testdata", tc.scenario+".txtar"))
			m, err := New(deps(root))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			info := m.Info()
			var names []string
			for _, r := range info.Rails {
				names = append(names, r.Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.rails, ",") {
				t.Fatalf("rails = %v, want %v", names, tc.rails)
			}
			var total []string
			for _, k := range info.TotalRails() {
				total = append(total, info.Rails[k].Name)
			}
			if strings.Join(total, ",") != strings.Join(tc.total, ",") {
				t.Errorf("total rails = %v, want %v", total, tc.total)
			}
			var s meter.Sample
			if err := m.Read(context.Background(), &s); err != nil {
				t.Fatal(err)
			}
			for k, w := range tc.watts {
				if math.Abs(s.PowerW[k]-w) > 1e-9 {
					t.Errorf("rail %s = %v W, want %v W", tc.rails[k], s.PowerW[k], w)
				}
			}
			if got, ok := s.SumPower(info.TotalRails()); !ok || math.Abs(got-tc.totalW) > 1e-9 {
				t.Errorf("total = %v W, want %v W", got, tc.totalW)
			}
			if tc.model != "" && !strings.Contains(info.Description, tc.model) {
				t.Errorf("description %q does not name the board %q", info.Description, tc.model)
			}
		})
	}
}

func TestJetsonAbsentJoinsBothLayouts(t *testing.T) {
	_, err := New(deps(t.TempDir()))
	if !errors.Is(err, meter.ErrNotSupported) {
		t.Fatalf("err = %v, want ErrNotSupported", err)
	}
	for _, want := range []string{"JetPack 5", "JetPack 4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention the %s attempt: %v", want, err)
		}
	}
}

func TestParseTegrastats(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		rails []string
		watts []float64
	}{
		{
			name:  "jetpack 4 without units",
			line:  "RAM 1623/3964MB (lfb 51x4MB) SWAP 0/1982MB (cached 0MB) CPU [9%@102,4%@102] EMC_FREQ 0%@1600 GR3D_FREQ 0%@76 APE 25 PLL@25C POM_5V_IN 933/933 POM_5V_GPU 0/0 POM_5V_CPU 84/84",
			rails: []string{"POM_5V_IN", "POM_5V_GPU", "POM_5V_CPU"},
			watts: []float64{0.933, 0, 0.084},
		},
		{
			name:  "jetpack 5 with units and date",
			line:  "12-04-2026 19:30:00 RAM 2280/7620MB (lfb 1186x4MB) CPU [2%@729,off] GR3D_FREQ 0%@[305] tj@46.281C VDD_IN 5299mW/5299mW VDD_CPU_GPU_CV 773mW/773mW VDD_SOC 1424mW/1424mW",
			rails: []string{"VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"},
			watts: []float64{5.299, 0.773, 1.424},
		},
		{
			name:  "current differs from average",
			line:  "VDD_IN 9870mW/7584mW",
			rails: []string{"VDD_IN"},
			watts: []float64{9.87},
		},
		{
			name:  "unknown fields between rails",
			line:  "NEW_FIELD 7 VDD_IN 5000mW/5000mW FOO@3C BAR 1/2/3 VDD_SOC 1000mW/1000mW",
			rails: []string{"VDD_IN", "VDD_SOC"},
			watts: []float64{5, 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTegrastats([]byte(tc.line))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.rails) {
				t.Fatalf("readings = %+v, want rails %v", got, tc.rails)
			}
			for k := range got {
				if got[k].Rail != tc.rails[k] || math.Abs(got[k].PowerW-tc.watts[k]) > 1e-12 {
					t.Errorf("reading %d = %+v, want %s at %v W", k, got[k], tc.rails[k], tc.watts[k])
				}
			}
		})
	}
}

func TestParseTegrastatsRejectsGarbage(t *testing.T) {
	for _, line := range []string{
		"",
		"RAM 1623/3964MB SWAP 0/1982MB",
		"VDD_IN 5299mW/",
		"VDD_IN 5299mW/5299",
		"VDD_IN -5/-5",
		"VDD_IN 99999999999999999999/1",
	} {
		if got, err := ParseTegrastats([]byte(line)); err == nil {
			t.Errorf("ParseTegrastats(%q) = %+v, want an error", line, got)
		}
	}
}

func TestTegrastatsStream(t *testing.T) {
	runner := fixture.Runner{Streams: map[string][]byte{
		"tegrastats": fixture.Recording(t, "testdata/tegrastats-jetpack5-orin-nano.txt"),
	}}
	d := meter.NewDeps(t.TempDir(), t.TempDir(), nil)
	d.Runner = runner
	m, err := NewTegrastats(context.Background(), d, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	info := m.Info()
	if len(info.Rails) != 3 || !info.Rails[0].Total || info.Rails[0].Name != "VDD_IN" {
		t.Fatalf("rails = %+v, want VDD_IN as the total first", info.Rails)
	}
	var s meter.Sample
	// The second recorded line arrives right after the first.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := m.Read(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		if s.PowerW[0] == 9.87 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if s.PowerW[0] != 9.87 || s.PowerW[1] != 4.021 || s.PowerW[2] != 1.893 {
		t.Errorf("latest = %v W, want [9.87 4.021 1.893]", s.PowerW)
	}
}

func TestTegrastatsMissingIsNotSupported(t *testing.T) {
	d := meter.NewDeps(t.TempDir(), t.TempDir(), nil)
	d.Runner = fixture.Runner{}
	_, err := NewTegrastats(context.Background(), d, time.Second)
	if !errors.Is(err, meter.ErrNotSupported) {
		t.Fatalf("err = %v, want ErrNotSupported", err)
	}
}
