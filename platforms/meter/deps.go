package meter

import (
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"time"
)

// Deps are the dependencies every meter constructor receives, so the agent
// runs in a container (roots point at the host's mounts) and tests point at
// fixture trees and recorded command output.
type Deps struct {
	// Sysfs is the sysfs tree, usually os.DirFS(SysfsRoot). Names inside it
	// are slash-separated and relative, e.g. "class/powercap".
	Sysfs fs.FS
	// SysfsRoot is the directory Sysfs was opened from; messages use it to
	// name the real file.
	SysfsRoot string
	// Procfs and ProcfsRoot are the same for procfs.
	Procfs     fs.FS
	ProcfsRoot string
	// Now returns the current time with its monotonic reading.
	Now func() time.Time
	// Logger receives debug lines about detection; never nil after Defaults.
	Logger *slog.Logger
	// Runner starts external tools (vcgencmd, tegrastats, powermetrics,
	// nvidia-smi); tests replace it with recorded output.
	Runner Runner
}

// NewDeps returns Deps reading the given roots ("/sys" and "/proc" on a
// normal host) and running real commands.
func NewDeps(sysfsRoot, procfsRoot string, logger *slog.Logger) Deps {
	d := Deps{
		Sysfs:      os.DirFS(sysfsRoot),
		SysfsRoot:  sysfsRoot,
		Procfs:     os.DirFS(procfsRoot),
		ProcfsRoot: procfsRoot,
		Logger:     logger,
	}
	return d.Defaults()
}

// Defaults fills unset fields: the system clock, a discarding logger and
// the exec runner. Filesystem fields stay as given.
func (d Deps) Defaults() Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Runner == nil {
		d.Runner = ExecRunner{}
	}
	return d
}

// SysPath returns the host path of a name inside Sysfs, for messages.
func (d Deps) SysPath(name string) string { return path.Join(d.SysfsRoot, name) }

// ProcPath returns the host path of a name inside Procfs, for messages.
func (d Deps) ProcPath(name string) string { return path.Join(d.ProcfsRoot, name) }

// BoardModel returns the device-tree model string, e.g. "NVIDIA Jetson Nano
// Developer Kit" or "Raspberry Pi 5 Model B Rev 1.0", from
// <procfs>/device-tree/model or <sysfs>/firmware/devicetree/base/model; ""
// when the machine has no device tree.
func (d Deps) BoardModel() string {
	for _, src := range []struct {
		fsys      fs.FS
		rel, host string
	}{
		{d.Procfs, "device-tree/model", d.ProcPath("device-tree/model")},
		{d.Sysfs, "firmware/devicetree/base/model", d.SysPath("firmware/devicetree/base/model")},
	} {
		if src.fsys == nil {
			continue
		}
		if m, err := ReadString(src.fsys, src.rel, src.host); err == nil && m != "" {
			return m
		}
	}
	return ""
}
