package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func TestProbeJSONListsRAPL(t *testing.T) {
	root, _ := raplTree(t)
	out, stderr, err := runCmd(t, runProbe, "--json", "--sysfs-root", root, "--procfs-root", root)
	if err != nil {
		t.Fatalf("probe: %v\nstderr: %s", err, stderr)
	}
	var report probeReport
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if report.Device.OS == "" || report.Device.CPUCores == 0 {
		t.Errorf("device = %+v, want OS and cores", report.Device)
	}
	var found bool
	for _, m := range report.Meters {
		if m.Name != "rapl" {
			continue
		}
		found = true
		if m.Estimated || !m.EnergyCounter || len(m.Rails) != 1 || m.Rails[0].Name != "package-0" {
			t.Errorf("rapl = %+v, want one measured package-0 counter", m)
		}
	}
	if !found {
		t.Fatalf("rapl not among the meters: %+v", report.Meters)
	}
	var unavailable []string
	for _, f := range report.Unavailable {
		unavailable = append(unavailable, f.Name)
	}
	if !strings.Contains(strings.Join(unavailable, ","), "hwmon") {
		t.Errorf("unavailable = %v, want hwmon listed", unavailable)
	}
}

func TestProbeTextLabelsEstimate(t *testing.T) {
	root := t.TempDir()
	out, stderr, err := runCmd(t, runProbe, "--sysfs-root", root, "--procfs-root", root)
	if err != nil {
		t.Fatalf("probe: %v\nstderr: %s", err, stderr)
	}
	for _, want := range []string{"device", "meters (priority order)", "not available", "rapl"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "estimate ") && !strings.Contains(out, "ESTIMATED") {
		t.Errorf("estimate shown without its label:\n%s", out)
	}
}

func TestProbeTextStatesEachFactOnce(t *testing.T) {
	root := t.TempDir()
	out, stderr, err := runCmd(t, runProbe, "--sysfs-root", root, "--procfs-root", root)
	if err != nil {
		t.Fatalf("probe: %v\nstderr: %s", err, stderr)
	}
	lines := strings.Split(out, "\n")
	lineOf := func(prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), prefix) {
				return l
			}
		}
		t.Fatalf("no line starts with %q:\n%s", prefix, out)
		return ""
	}

	est := lineOf("estimate ")
	if n := strings.Count(strings.ToLower(est), "estimate"); n != 2 {
		t.Errorf("estimate line names the estimate %d times, want the meter name and one label:\n%s", n, est)
	}
	if strings.Contains(est, "not a measurement") {
		t.Errorf("estimate line repeats that it is not measured:\n%s", est)
	}

	jetson := lineOf("jetson ")
	if strings.Contains(jetson, "jetson:") {
		t.Errorf("not-available row repeats the meter name:\n%s", jetson)
	}
	if want := root + "/bus/i2c/drivers/ina3221"; !strings.Contains(jetson, want) {
		t.Errorf("not-available row lacks the host path %s:\n%s", want, jetson)
	}
}
