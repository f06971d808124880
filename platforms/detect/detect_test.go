package detect

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/platforms/estimate"
	"github.com/edgetran/edgetran/platforms/internal/fixture"
	"github.com/edgetran/edgetran/platforms/meter"
)

func options(t *testing.T, root string, est estimate.Config) Options {
	d := meter.NewDeps(root, root, nil)
	d.Runner = fixture.Runner{} // no external tools installed
	return Options{Deps: d, Estimate: est}
}

func names(ms []meter.Meter) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Info().Name)
	}
	return out
}

func TestAllFollowsPriority(t *testing.T) {
	root := fixture.Unpack(t,
		"../rapl/testdata/amd-zen.txtar",
		"../hwmon/testdata/ina219-rpi4.txtar",
		"../estimate/testdata/proc-stat-4cpu.txtar")
	ms, failures := All(context.Background(), options(t, root, estimate.Config{IdleW: 2, MaxW: 6}))
	defer func() {
		for _, m := range ms {
			m.Close()
		}
	}()
	if got := strings.Join(names(ms), ","); got != "hwmon,rapl,estimate" {
		t.Errorf("meters = %s, want hwmon,rapl,estimate", got)
	}
	if len(failures) != len(Names())-3 {
		t.Errorf("failures = %d, want %d", len(failures), len(Names())-3)
	}
	for _, f := range failures {
		if !errors.Is(f.Err, meter.ErrNotSupported) {
			t.Errorf("%s failed without ErrNotSupported: %v", f.Name, f.Err)
		}
	}

	best, err := Best(context.Background(), options(t, root, estimate.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer best.Close()
	if best.Info().Name != "hwmon" {
		t.Errorf("best = %s, want hwmon", best.Info().Name)
	}
}

func TestBestReportsEveryAttempt(t *testing.T) {
	_, err := Best(context.Background(), options(t, t.TempDir(), estimate.Config{}))
	if err == nil {
		t.Fatal("Best found a meter on an empty tree without an estimate model")
	}
	var none *NoMeterError
	if !errors.As(err, &none) {
		t.Fatalf("err = %T %v, want *NoMeterError", err, err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || len(msg) > 200 {
		t.Errorf("message is %d characters over several lines, want one short line: %q", len(msg), msg)
	}
	if !strings.Contains(msg, "edgetran-agent probe") {
		t.Errorf("message %q does not point at probe", msg)
	}
	details := none.Details()
	for _, name := range Names() {
		if !strings.Contains(msg, name) {
			t.Errorf("message does not name the %s attempt: %q", name, msg)
		}
		if !strings.Contains(details, name+": ") {
			t.Errorf("details do not give the %s reason:\n%s", name, details)
		}
	}
	if !errors.Is(err, meter.ErrNotSupported) {
		t.Errorf("err = %v, want it to wrap ErrNotSupported", err)
	}
}

func TestOpenByName(t *testing.T) {
	root := fixture.Unpack(t, "../rapl/testdata/amd-zen.txtar")
	m, err := Open(context.Background(), "rapl", options(t, root, estimate.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	_, err = Open(context.Background(), "wattmeter", options(t, root, estimate.Config{}))
	if err == nil || !strings.Contains(err.Error(), "rapl") {
		t.Errorf("unknown meter error = %v, want the known names listed", err)
	}
	if _, err := Open(context.Background(), "hwmon", options(t, root, estimate.Config{})); !errors.Is(err, meter.ErrNotSupported) {
		t.Errorf("absent hwmon: err = %v, want ErrNotSupported", err)
	}
}
