// Package dataset imports the measurements published with EdgeTran (Tuli and
// Jha, IEEE Transactions on Mobile Computing, 2024) as measure.Measurement
// and measure.Accuracy records.
//
// Two file shapes are read, both a JSON object of records:
//
//   - co-design format: keys "<architecture hash>_<device>", values with
//     model_dict, model_type, embedding_txf (a string holding the 37-number
//     embedding as a JSON list), embedding_device (a string holding the
//     one-hot device vector) and performance {latency (s per sequence),
//     energy (J per sequence), peak_power (W), pretrain_loss, glue};
//   - per-device format: keys "<architecture hash>", values with embedding in
//     place of embedding_txf and no embedding_device; the caller names the
//     device. glue and pretrain loss may also sit at the top level of a value
//     as "glue" (a number or a string holding one) and "pretrain": {"loss"}.
//
// Each row is checked on its own. A row is rejected with its key and the
// reason when a field is malformed or missing, a measure is not finite or not
// positive, the device is unknown, the embedding disagrees with the
// architecture, or the architecture lies outside the space. The other rows
// are still imported.
//
// The published files hold one mean per measure, so imported measurements
// have no latency statistics, no power trace and no measurement time
// (MeasuredAt is zero).
package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// File formats accepted by Options.Format.
const (
	FormatAuto     = "auto"
	FormatCodesign = "codesign"
	FormatDevice   = "device"
)

// Options controls an import. The zero value reads either format with the
// default design space.
type Options struct {
	// Format is FormatAuto (or ""), FormatCodesign or FormatDevice. Auto
	// picks codesign when the first record has embedding_txf and device when
	// it has embedding.
	Format string
	// Device is the published device name (see DeviceNames). The per-device
	// format needs it. For the co-design format it is optional and keeps only
	// the rows of that device; the others are skipped, not rejected.
	Device string
	// Space validates the architectures; nil means arch.Default().
	Space *arch.Space
	// Source names the file in Measurement.Source and Accuracy.Source;
	// LoadFile sets it to the file's base name when empty.
	Source string
	// MeasuredGLUE holds the arch ids (arch.Space.ID) whose GLUE score comes
	// from real fine-tuning; their Accuracy records get Measured = true. The
	// co-design file cannot tell these apart from its authors' predictions;
	// ReadMeasuredGLUE builds the set from global_search_dataset.json.
	MeasuredGLUE map[string]bool
}

// Import is the outcome of reading one file.
type Import struct {
	Format   string      // the format used: FormatCodesign or FormatDevice
	Records  []Record    // accepted rows, in file order
	Rejected []Rejection // rejected rows, in file order
}

// Record is one accepted row.
type Record struct {
	Key         string // the row's key in the file
	Device      string // published device name
	ModelType   string // the published label, e.g. "deep_wide"
	Measurement measure.Measurement
	// Accuracy is nil when the row has neither a GLUE score nor a
	// pre-training loss.
	Accuracy *measure.Accuracy
}

// Rejection names a rejected row and why.
type Rejection struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

// LoadFile reads and imports the file at path. See Parse.
func LoadFile(path string, opt Options) (*Import, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read dataset: %w", err)
	}
	if opt.Source == "" {
		opt.Source = filepath.Base(path)
	}
	imp, err := parse(data, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return imp, nil
}

// Parse imports the records read from r. It returns an error only when the
// input as a whole cannot be used: it is not a JSON object, the format is
// unknown or cannot be detected, or the per-device format lacks a device.
// Bad rows become Rejections.
func Parse(r io.Reader, opt Options) (*Import, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read dataset: %w", err)
	}
	return parse(data, opt)
}

func parse(data []byte, opt Options) (*Import, error) {
	if opt.Space == nil {
		opt.Space = arch.Default()
	}
	if opt.Device != "" {
		if _, _, err := lookupDevice(opt.Device); err != nil {
			return nil, err
		}
	}
	members, err := splitObject(data)
	if err != nil {
		return nil, fmt.Errorf("parse dataset: %w", err)
	}

	format, err := detectFormat(opt.Format, members)
	if err != nil {
		return nil, err
	}
	if format == FormatDevice && opt.Device == "" {
		return nil, errors.New("per-device dataset: name the device (one of the published device names) because the file does not")
	}

	imp := &Import{Format: format}
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		if seen[m.key] {
			imp.Rejected = append(imp.Rejected, Rejection{Key: m.key, Reason: "duplicate key; the first row with this key was kept"})
			continue
		}
		seen[m.key] = true
		rec, skip, err := importRow(m, format, opt)
		switch {
		case err != nil:
			imp.Rejected = append(imp.Rejected, Rejection{Key: m.key, Reason: err.Error()})
		case !skip:
			imp.Records = append(imp.Records, rec)
		}
	}
	return imp, nil
}

// detectFormat resolves FormatAuto from the fields of the first record that
// has an embedding field.
func detectFormat(format string, members []member) (string, error) {
	switch format {
	case FormatCodesign, FormatDevice:
		return format, nil
	case "", FormatAuto:
	default:
		return "", fmt.Errorf("dataset format %q: want %s, %s or %s", format, FormatAuto, FormatCodesign, FormatDevice)
	}
	for _, m := range members {
		switch {
		case bytes.Contains(m.value, []byte(`"embedding_txf"`)):
			return FormatCodesign, nil
		case bytes.Contains(m.value, []byte(`"embedding"`)):
			return FormatDevice, nil
		}
	}
	if len(members) == 0 {
		return FormatCodesign, nil
	}
	return "", errors.New("cannot detect the dataset format: no record has embedding_txf (co-design format) or embedding (per-device format); set the format explicitly")
}
