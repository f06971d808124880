package probe

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/edgetran/edgetran/platforms/internal/fixture"
	"github.com/edgetran/edgetran/platforms/meter"
)

func TestCollectFromFixtures(t *testing.T) {
	tests := []struct {
		scenario string
		want     Facts
	}{
		{"rpi5", Facts{CPUModel: "", CPUCores: 4, MemoryBytes: 8245184 * 1024, BoardModel: "Raspberry Pi 5 Model B Rev 1.0"}},
		{"x86-server", Facts{CPUModel: "AMD EPYC 7763 64-Core Processor", CPUCores: 2, MemoryBytes: 16365740 * 1024}},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			root := fixture.Unpack(t, filepath.Join("testdata", tc.scenario+".txtar"))
			d := meter.NewDeps(filepath.Join(root, "sys"), filepath.Join(root, "proc"), nil)
			d.Runner = fixture.Runner{Outputs: map[string][]byte{"nvidia-smi": []byte("0, NVIDIA L4, 16.71\n")}}
			f := Collect(context.Background(), d)
			if f.OS != runtime.GOOS || f.Arch != runtime.GOARCH {
				t.Errorf("os/arch = %s/%s, want %s/%s", f.OS, f.Arch, runtime.GOOS, runtime.GOARCH)
			}
			if f.CPUModel != tc.want.CPUModel || f.CPUCores != tc.want.CPUCores {
				t.Errorf("cpu = %q × %d, want %q × %d", f.CPUModel, f.CPUCores, tc.want.CPUModel, tc.want.CPUCores)
			}
			if f.MemoryBytes != tc.want.MemoryBytes {
				t.Errorf("memory = %d B, want %d B", f.MemoryBytes, tc.want.MemoryBytes)
			}
			if f.BoardModel != tc.want.BoardModel {
				t.Errorf("board = %q, want %q", f.BoardModel, tc.want.BoardModel)
			}
			if len(f.GPUs) != 1 || f.GPUs[0] != "NVIDIA L4" {
				t.Errorf("gpus = %v, want [NVIDIA L4]", f.GPUs)
			}
		})
	}
}
