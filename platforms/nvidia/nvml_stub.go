//go:build !(cgo && nvml)

package nvidia

import (
	"fmt"

	"github.com/edgetran/edgetran/platforms/meter"
)

// NVMLBuilt reports whether this binary was built with NVML support.
const NVMLBuilt = false

// NVMLMeter is not available in this build.
type NVMLMeter struct{ meter.Meter }

// NewNVML returns meter.ErrNotSupported: NVML needs cgo and -tags nvml.
// The nvidia-smi meter covers the same GPUs without it.
func NewNVML(deps meter.Deps) (*NVMLMeter, error) {
	return nil, fmt.Errorf("nvml: this agent was built without NVML (rebuild with CGO_ENABLED=1 -tags nvml): %w", meter.ErrNotSupported)
}
