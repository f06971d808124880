package rpi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/platforms/internal/fixture"
	"github.com/edgetran/edgetran/platforms/meter"
)

func TestPi5TotalSumsPairedRails(t *testing.T) {
	adcs, err := ParsePMIC(fixture.Recording(t, "testdata/pmic-read-adc-pi5.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(adcs) != 26 {
		t.Errorf("parsed %d lines, want 26", len(adcs))
	}
	rs := RailPower(adcs)
	// Twelve rails have both a current and a voltage; EXT5V and BATT have
	// a voltage only.
	want := map[string]float64{
		"3V7_WL_SW": 0.00000000 * 3.71119400,
		"3V3_SYS":   0.05171500 * 3.31414400,
		"1V8_SYS":   0.17078050 * 1.80000000,
		"DDR_VDD2":  0.02049600 * 1.11197600,
		"DDR_VDDQ":  0.00000000 * 0.60854940,
		"1V1_SYS":   0.17958650 * 1.10545600,
		"0V8_SYS":   0.34009200 * 0.80219820,
		"VDD_CORE":  1.54489000 * 0.88725180,
		"3V3_DAC":   0.00048840 * 3.30670600,
		"3V3_ADC":   0.00036630 * 3.30084500,
		"0V8_AON":   0.00463980 * 0.79882040,
		"HDMI":      0.02161320 * 5.16040000,
	}
	if len(rs) != len(want) {
		t.Fatalf("rails = %+v, want %d", rs, len(want))
	}
	var total, wantTotal float64
	for _, r := range rs {
		w, ok := want[r.Rail]
		if !ok {
			t.Errorf("unexpected rail %s", r.Rail)
			continue
		}
		if math.Abs(r.PowerW-w) > 1e-12 {
			t.Errorf("rail %s = %v W, want %v W", r.Rail, r.PowerW, w)
		}
		total += r.PowerW
		wantTotal += w
	}
	if math.Abs(total-wantTotal) > 1e-12 || math.Abs(total-2.4617) > 0.0001 {
		t.Errorf("total = %v W, want %v W (about 2.4617 W)", total, wantTotal)
	}
}

func TestParsePMICRejectsGarbage(t *testing.T) {
	for _, in := range []string{
		"",
		"VDD_CORE_A current(7)=1.5A\nnonsense",
		"VDD_CORE_A current(7)=1.5",
		"VDD_CORE_A volt(7)=1.5V",
		"VDD_CORE_X current(7)=1.5A",
		"VDD_CORE_A current(x)=1.5A",
		"VDD_CORE_A current(7)=-1.5A",
		"VDD_CORE_A current(7)=NaNA",
		"VDD_CORE_V volt(15)=",
	} {
		if got, err := ParsePMIC([]byte(in)); err == nil {
			t.Errorf("ParsePMIC(%q) = %+v, want an error", in, got)
		}
	}
}

func TestPi5MeterReadsRails(t *testing.T) {
	d := meter.NewDeps(t.TempDir(), t.TempDir(), nil)
	d.Runner = fixture.Runner{Outputs: map[string][]byte{"vcgencmd": fixture.Recording(t, "testdata/pmic-read-adc-pi5.txt")}}
	m, err := New(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	info := m.Info()
	if len(info.Rails) != 12 || len(info.TotalRails()) != 12 {
		t.Fatalf("rails = %+v, want 12 summed rails", info.Rails)
	}
	var s meter.Sample
	if err := m.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if w := s.PowerW[7]; math.Abs(w-1.54489000*0.88725180) > 1e-12 || info.Rails[7].Name != "VDD_CORE" {
		t.Errorf("rail 7 = %s at %v W, want VDD_CORE at 1.3707 W", info.Rails[7].Name, w)
	}
}

func TestPi5VideoGroupError(t *testing.T) {
	d := meter.NewDeps(t.TempDir(), t.TempDir(), nil)
	d.Runner = fixture.Runner{Errors: map[string]error{
		"vcgencmd": fmt.Errorf("vcgencmd: exit status 255: VCHI initialization failed"),
	}}
	_, err := New(context.Background(), d)
	if !errors.Is(err, meter.ErrNotSupported) {
		t.Fatalf("err = %v, want ErrNotSupported", err)
	}
	if !strings.Contains(err.Error(), "video group") {
		t.Errorf("error does not name the fix: %v", err)
	}
}

func TestPi4WithoutVcgencmdIsNotSupported(t *testing.T) {
	d := meter.NewDeps(t.TempDir(), t.TempDir(), nil)
	d.Runner = fixture.Runner{}
	if _, err := New(context.Background(), d); !errors.Is(err, meter.ErrNotSupported) {
		t.Fatalf("err = %v, want ErrNotSupported", err)
	}
}
