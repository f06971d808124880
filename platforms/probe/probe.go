// Package probe collects device facts for the agent's announce message and
// the probe command: OS, architecture, CPU model and cores, memory, board
// model and GPUs. On Linux the facts come from the procfs root
// (/proc/cpuinfo, /proc/meminfo) so a containerised agent reports its host;
// elsewhere they come from gopsutil.
package probe

import (
	"bufio"
	"bytes"
	"context"
	"runtime"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/platforms/nvidia"
)

// Facts describe a device. Zero values mean unknown.
type Facts struct {
	OS          string   `json:"os"`
	Arch        string   `json:"arch"`
	CPUModel    string   `json:"cpu_model,omitempty"`
	CPUCores    int      `json:"cpu_cores"` // logical CPUs
	MemoryBytes uint64   `json:"memory_bytes,omitempty"`
	BoardModel  string   `json:"board_model,omitempty"` // device-tree model, e.g. "Raspberry Pi 5 Model B Rev 1.0"
	GPUs        []string `json:"gpus,omitempty"`
}

// Collect gathers the facts; every source is optional.
func Collect(ctx context.Context, deps meter.Deps) Facts {
	deps = deps.Defaults()
	f := Facts{OS: runtime.GOOS, Arch: runtime.GOARCH, BoardModel: deps.BoardModel()}

	if deps.Procfs != nil {
		if b, err := meter.ReadFile(deps.Procfs, "cpuinfo", deps.ProcPath("cpuinfo"), 4<<20); err == nil {
			f.CPUModel, f.CPUCores = parseCPUInfo(b)
		}
		if b, err := meter.ReadFile(deps.Procfs, "meminfo", deps.ProcPath("meminfo"), 1<<20); err == nil {
			f.MemoryBytes = parseMemTotal(b)
		}
	}
	if f.CPUModel == "" && deps.Procfs == nil {
		if infos, err := cpu.InfoWithContext(ctx); err == nil && len(infos) > 0 {
			f.CPUModel = infos[0].ModelName
		}
	}
	if f.CPUCores == 0 {
		f.CPUCores = runtime.NumCPU()
	}
	if f.MemoryBytes == 0 {
		if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
			f.MemoryBytes = vm.Total
		}
	}
	f.GPUs = nvidiaGPUs(ctx, deps)
	return f
}

// parseCPUInfo returns the CPU model and the number of "processor" entries.
// x86 prints "model name"; Arm boards print "Model" (the board) or
// "Hardware", and sometimes no model at all.
func parseCPUInfo(b []byte) (model string, cores int) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "processor":
			cores++
		case "model name", "cpu model":
			if model == "" {
				model = val
			}
		case "Hardware":
			if model == "" {
				model = val
			}
		}
	}
	return model, cores
}

// parseMemTotal reads "MemTotal: N kB" from /proc/meminfo.
func parseMemTotal(b []byte) uint64 {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}

// nvidiaGPUs lists NVIDIA GPUs through nvidia-smi when it is installed.
func nvidiaGPUs(ctx context.Context, deps meter.Deps) []string {
	if _, err := deps.Runner.LookPath("nvidia-smi"); err != nil {
		return nil
	}
	out, err := deps.Runner.Output(ctx, "nvidia-smi", "--query-gpu=index,name,power.draw", "--format=csv,noheader,nounits")
	if err != nil {
		deps.Logger.Debug("nvidia-smi failed", "err", err)
		return nil
	}
	var gpus []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if g, err := nvidia.ParseSMILine(sc.Bytes(), true, false); err == nil {
			gpus = append(gpus, g.Name)
		}
	}
	return gpus
}
