package meter

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// attrMax bounds one sysfs read; attribute values are short numbers or
// names, and sysfs itself returns at most one page.
const attrMax = 128

// Attr is an open sysfs attribute that is read again without reopening it,
// so a sampler reads it without allocating. Each read is one pread at
// offset 0, which makes sysfs regenerate the value. A read never loops,
// because some hwmon drivers return EAGAIN forever to a reader that retries.
type Attr struct {
	name string // host path, for messages
	f    fs.File
	at   io.ReaderAt // nil when the file system's files cannot pread
	fsys fs.FS
	rel  string
	buf  []byte
}

// OpenAttr opens the attribute rel inside fsys; hostPath names it in errors.
func OpenAttr(fsys fs.FS, rel, hostPath string) (*Attr, error) {
	return OpenAttrSize(fsys, rel, hostPath, attrMax)
}

// OpenAttrSize is OpenAttr with a read limit of size bytes, for files such
// as /proc/stat whose first line is longer than an attribute.
func OpenAttrSize(fsys fs.FS, rel, hostPath string, size int) (*Attr, error) {
	f, err := fsys.Open(rel)
	if err != nil {
		return nil, hostPathError(err, hostPath)
	}
	a := &Attr{name: hostPath, f: f, fsys: fsys, rel: rel, buf: make([]byte, size)}
	if at, ok := f.(io.ReaderAt); ok {
		a.at = at
	}
	return a, nil
}

// Name returns the host path of the attribute.
func (a *Attr) Name() string { return a.name }

// Bytes reads the attribute once and returns its value without the trailing
// newline. The slice is valid until the next call.
func (a *Attr) Bytes() ([]byte, error) {
	var n int
	var err error
	if a.at != nil {
		n, err = a.at.ReadAt(a.buf, 0)
	} else {
		// Files without pread are reopened for each read; this path
		// allocates and only serves unusual fs.FS implementations.
		var f fs.File
		f, err = a.fsys.Open(a.rel)
		if err == nil {
			n, err = f.Read(a.buf)
			f.Close()
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", a.name, err)
	}
	b := a.buf[:n]
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ' || b[len(b)-1] == 0) {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("read %s: empty value", a.name)
	}
	return b, nil
}

// Uint reads the attribute as an unsigned decimal integer.
func (a *Attr) Uint() (uint64, error) {
	b, err := a.Bytes()
	if err != nil {
		return 0, err
	}
	v, ok := ParseUint(b)
	if !ok {
		return 0, fmt.Errorf("read %s: value %q is not an unsigned integer", a.name, b)
	}
	return v, nil
}

// Int reads the attribute as a signed decimal integer; hwmon currents can
// be negative when a battery charges.
func (a *Attr) Int() (int64, error) {
	b, err := a.Bytes()
	if err != nil {
		return 0, err
	}
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	v, ok := ParseUint(b)
	if !ok || v > 1<<62 {
		return 0, fmt.Errorf("read %s: value %q is not an integer", a.name, b)
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

// Close closes the attribute file.
func (a *Attr) Close() error { return a.f.Close() }

// ParseUint parses decimal digits without allocating. It exists because strconv.ParseUint
// makes the []byte-to-string conversion escape, which costs an allocation
// per sample.
func ParseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// ReadString reads a small text attribute once (names, labels, models) and
// trims surrounding white space and NUL bytes.
func ReadString(fsys fs.FS, rel, hostPath string) (string, error) {
	f, err := fsys.Open(rel)
	if err != nil {
		return "", hostPathError(err, hostPath)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s: %w", hostPath, err)
	}
	return strings.Trim(string(buf[:n]), " \t\r\n\x00"), nil
}

// ReadFile reads a procfs text file such as /proc/cpuinfo to its end, up
// to limit bytes. Unlike attributes these files span several reads.
func ReadFile(fsys fs.FS, rel, hostPath string, limit int64) ([]byte, error) {
	f, err := fsys.Open(rel)
	if err != nil {
		return nil, hostPathError(err, hostPath)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", hostPath, err)
	}
	return b, nil
}

// ReadDir lists the directory rel inside fsys; hostPath names it in errors.
func ReadDir(fsys fs.FS, rel, hostPath string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(fsys, rel)
	if err != nil {
		return entries, hostPathError(err, hostPath)
	}
	return entries, nil
}

// hostPathError names hostPath in err. An fs.FS reports paths relative to
// its root ("class/powercap"), which a user cannot look up, so the
// *fs.PathError is copied with the host path ("/sys/class/powercap").
// errors.Is still matches the underlying error, e.g. fs.ErrNotExist.
func hostPathError(err error, hostPath string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe == err {
		return &fs.PathError{Op: pe.Op, Path: hostPath, Err: pe.Err}
	}
	return fmt.Errorf("%s: %w", hostPath, err)
}
