package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

var footprint = flag.Duration("footprint", 0, "measure the idle agent's memory and CPU for this long (e.g. 60s); 0 skips")

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// it is 100 on every Linux architecture Go supports.
const clockTicks = 100

// TestIdleFootprint runs the agent connected to a server, heartbeating
// every 10 s with no jobs, and reports its resident memory (VmRSS, VmHWM)
// and CPU use (utime + stime) over the -footprint window. It prints the
// figures; the targets (25 MB, 0.5% of one core) are checked by reading them,
// not asserted, because a shared machine makes CPU figures noisy.
//
//	go test ./agent/cmd/edgetran-agent -run TestIdleFootprint -footprint 60s -v
func TestIdleFootprint(t *testing.T) {
	if *footprint <= 0 {
		t.Skip("pass -footprint 60s to measure the idle agent")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/<pid>/status and /proc/<pid>/stat")
	}
	bin := buildAgent(t)
	srv, _ := startJetStream(t)
	cfg := fmt.Sprintf(`device: {id: %s}
nats: {servers: [%q]}
meter: {name: none}
outbox: {dir: %q}
heartbeat_interval: 10s
`, killDevice, srv.ClientURL(), t.TempDir())
	path := t.TempDir() + "/agent.yaml"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startAgent(t, bin, path)
	pid := p.cmd.Process.Pid

	// Let start-up (config, probe, connect, consumer) finish first.
	time.Sleep(5 * time.Second)
	cpu0 := cpuTicks(t, pid)
	start := time.Now()
	var maxRSS int64
	for time.Since(start) < *footprint {
		time.Sleep(time.Second)
		maxRSS = max(maxRSS, statusKB(t, pid, "VmRSS:"))
	}
	elapsed := time.Since(start).Seconds()
	cpu := float64(cpuTicks(t, pid)-cpu0) / clockTicks
	hwm := statusKB(t, pid, "VmHWM:")
	// utime and stime count whole ticks, so a figure below one tick is
	// reported as a bound.
	cpuText := fmt.Sprintf("%.2f s = %.3f%% of one core", cpu, 100*cpu/elapsed)
	if cpu == 0 {
		cpuText = fmt.Sprintf("< %.2f s (one clock tick) = < %.3f%% of one core", 1.0/clockTicks, 100/clockTicks/elapsed)
	}
	t.Logf("idle agent over %.0f s: max VmRSS %.1f MiB, VmHWM %.1f MiB, CPU %s",
		elapsed, float64(maxRSS)/1024, float64(hwm)/1024, cpuText)
}

// statusKB returns a "kB" field of /proc/<pid>/status.
func statusKB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			v, err := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("%s not in /proc/%d/status", field, pid)
	return 0
}

// cpuTicks returns utime + stime of /proc/<pid>/stat (fields 14 and 15),
// counting fields after the parenthesised command name, which may hold
// spaces.
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// fields[0] is field 3 (state), so field n is fields[n-3].
	utime, err1 := strconv.ParseInt(fields[14-3], 10, 64)
	stime, err2 := strconv.ParseInt(fields[15-3], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("cannot parse utime/stime in %q", s)
	}
	return utime + stime
}
