package nvidia

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/edgetran/edgetran/platforms/internal/fixture"
	"github.com/edgetran/edgetran/platforms/meter"
)

func TestParseSMILine(t *testing.T) {
	tests := []struct {
		name     string
		line     string
		withName bool
		instant  bool
		want     GPU
	}{
		{"instant preferred", "0, NVIDIA H100 80GB HBM3, 71.23, 72.05", true, true, GPU{0, "NVIDIA H100 80GB HBM3", 72.05}},
		{"no instant column", "0, Tesla V100-SXM2-16GB, 42.12", true, false, GPU{0, "Tesla V100-SXM2-16GB", 42.12}},
		{"instant missing falls back", "3, 250.10, [N/A]", false, true, GPU{3, "", 250.10}},
		{"name with comma quoted", `1, "Board, rev 2", 10.5`, true, false, GPU{1, "Board, rev 2", 10.5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSMILine([]byte(tc.line), tc.withName, tc.instant)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseSMIMissingIsNaN(t *testing.T) {
	for _, line := range []string{"0, [N/A], [N/A]", "0, [Not Supported], [Not Supported]", "0, [Unknown Error], [N/A]"} {
		got, err := ParseSMILine([]byte(line), false, true)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if !math.IsNaN(got.PowerW) {
			t.Errorf("%q: power = %v W, want NaN (missing), never 0 W", line, got.PowerW)
		}
	}
}

func TestParseSMIRejectsGarbage(t *testing.T) {
	for _, line := range []string{"", "0", "x, 12.0, 12.0", "0, 12.0", "0, -3, 1", "0, twelve, 1", `0, "unterminated, 1, 2`} {
		if got, err := ParseSMILine([]byte(line), false, true); err == nil {
			t.Errorf("ParseSMILine(%q) = %+v, want an error", line, got)
		}
	}
}

func smiDeps(t *testing.T, r fixture.Runner) meter.Deps {
	d := meter.NewDeps(t.TempDir(), t.TempDir(), nil)
	d.Runner = r
	return d
}

const (
	listInstant = "nvidia-smi --query-gpu=index,name,power.draw,power.draw.instant --format=csv,noheader,nounits"
	listPlain   = "nvidia-smi --query-gpu=index,name,power.draw --format=csv,noheader,nounits"
)

func TestSMIStreamsTwoGPUs(t *testing.T) {
	m, err := NewSMI(context.Background(), smiDeps(t, fixture.Runner{
		Outputs: map[string][]byte{listInstant: fixture.Recording(t, "testdata/list-h100-instant.csv")},
		Streams: map[string][]byte{"nvidia-smi": fixture.Recording(t, "testdata/stream-h100-instant.csv")},
	}), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	info := m.Info()
	if len(info.Rails) != 2 || info.Rails[0].Name != "gpu0" || info.Rails[1].Name != "gpu1" {
		t.Fatalf("rails = %+v, want gpu0 and gpu1", info.Rails)
	}
	var s meter.Sample
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := m.Read(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		if s.PowerW[0] == 301.5 && math.IsNaN(s.PowerW[1]) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if s.PowerW[0] != 301.5 {
		t.Errorf("gpu0 = %v W, want the instantaneous 301.5 W", s.PowerW[0])
	}
	if !math.IsNaN(s.PowerW[1]) {
		t.Errorf("gpu1 = %v W after [Not Supported], want NaN", s.PowerW[1])
	}
	if _, ok := s.SumPower(info.TotalRails()); ok {
		t.Error("total reported while one GPU has no reading")
	}
}

func TestSMIOldDriverWithoutInstant(t *testing.T) {
	m, err := NewSMI(context.Background(), smiDeps(t, fixture.Runner{
		Outputs: map[string][]byte{listPlain: fixture.Recording(t, "testdata/list-v100-r470.csv")},
		Errors:  map[string]error{listInstant: errors.New(`nvidia-smi: exit status 2: Field "power.draw.instant" is not a valid field to query.`)},
		Streams: map[string][]byte{"nvidia-smi": []byte("0, 42.12\n")},
	}), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !strings.Contains(m.Info().Description, "V100") {
		t.Errorf("description %q does not name the GPU", m.Info().Description)
	}
}

func TestSMIWithoutPowerIsNotSupported(t *testing.T) {
	_, err := NewSMI(context.Background(), smiDeps(t, fixture.Runner{
		Outputs: map[string][]byte{listInstant: fixture.Recording(t, "testdata/list-jetson-na.csv")},
	}), time.Second)
	if !errors.Is(err, meter.ErrNotSupported) {
		t.Fatalf("err = %v, want ErrNotSupported for a GPU without power readings", err)
	}
}

func TestNVMLStubIsNotSupported(t *testing.T) {
	if NVMLBuilt {
		t.Skip("built with NVML")
	}
	if _, err := NewNVML(meter.NewDeps(t.TempDir(), t.TempDir(), nil)); !errors.Is(err, meter.ErrNotSupported) {
		t.Fatalf("err = %v, want ErrNotSupported", err)
	}
}
