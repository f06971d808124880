package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// row is one record value with every field kept raw, so that a missing field
// and a malformed one get different messages.
type row struct {
	ModelDict       json.RawMessage `json:"model_dict"`
	ModelType       json.RawMessage `json:"model_type"`
	EmbeddingTxf    json.RawMessage `json:"embedding_txf"`
	Embedding       json.RawMessage `json:"embedding"`
	EmbeddingDevice json.RawMessage `json:"embedding_device"`
	Performance     json.RawMessage `json:"performance"`
	GLUE            json.RawMessage `json:"glue"`     // per-device format only
	Pretrain        json.RawMessage `json:"pretrain"` // per-device format only: {"steps", "loss"}
}

type performance struct {
	Latency      json.RawMessage `json:"latency"`
	Energy       json.RawMessage `json:"energy"`
	PeakPower    json.RawMessage `json:"peak_power"`
	PretrainLoss json.RawMessage `json:"pretrain_loss"`
	GLUE         json.RawMessage `json:"glue"`
}

// importRow converts one member. skip is true for a co-design row of a
// device other than opt.Device.
func importRow(m member, format string, opt Options) (rec Record, skip bool, err error) {
	devName, id := opt.Device, m.key+"_"+opt.Device
	if format == FormatCodesign {
		hash, name, ok := strings.Cut(m.key, "_")
		if !ok || hash == "" {
			return Record{}, false, fmt.Errorf("key %q: want <architecture hash>_<device>", m.key)
		}
		if opt.Device != "" && name != opt.Device {
			return Record{}, true, nil
		}
		devName, id = name, m.key
	}
	dev, devIndex, err := lookupDevice(devName)
	if err != nil {
		return Record{}, false, err
	}

	var r row
	if err := json.Unmarshal(m.value, &r); err != nil {
		return Record{}, false, fmt.Errorf("record is not a JSON object of fields: %w", err)
	}

	a, err := decodeArch(r.ModelDict, opt.Space)
	if err != nil {
		return Record{}, false, err
	}
	embName, embRaw := "embedding", r.Embedding
	if format == FormatCodesign {
		embName, embRaw = "embedding_txf", r.EmbeddingTxf
	}
	if err := checkEmbedding(embName, embRaw, a, opt.Space); err != nil {
		return Record{}, false, err
	}
	if format == FormatCodesign || present(r.EmbeddingDevice) {
		if err := checkDeviceVector(r.EmbeddingDevice, devIndex, devName); err != nil {
			return Record{}, false, err
		}
	}
	var modelType string
	if err := requireString("model_type", r.ModelType, &modelType); err != nil {
		return Record{}, false, err
	}

	if !present(r.Performance) {
		return Record{}, false, errors.New("performance is missing")
	}
	var perf performance
	if err := json.Unmarshal(r.Performance, &perf); err != nil {
		return Record{}, false, fmt.Errorf("performance: %w", err)
	}
	latency, err := positiveField("performance.latency", perf.Latency)
	if err != nil {
		return Record{}, false, err
	}
	energy, err := positiveField("performance.energy", perf.Energy)
	if err != nil {
		return Record{}, false, err
	}
	peak, err := positiveField("performance.peak_power", perf.PeakPower)
	if err != nil {
		return Record{}, false, err
	}
	acc, err := accuracy(r, perf, a, opt)
	if err != nil {
		return Record{}, false, err
	}

	archID := opt.Space.ID(a)
	source := opt.Source + ":" + m.key
	feat := opt.Space.Features(a, dev.target.Batch, dev.target.SeqLen)
	power := dev.power
	power.Rails = slices.Clone(power.Rails)
	meas := measure.Measurement{
		ID:             "edgetran:" + id,
		ArchID:         archID,
		Arch:           a,
		Target:         dev.target,
		Provenance:     measure.Imported,
		LatencyPerSeqS: latency,
		EnergyPerSeqJ:  measure.Float(energy),
		PeakPowerW:     measure.Float(peak),
		Power:          &power,
		Params:         feat.Params,
		FLOPs:          feat.FLOPs(),
		Source:         source,
	}
	if err := meas.Validate(); err != nil {
		return Record{}, false, fmt.Errorf("measurement: %w", err)
	}
	if acc != nil {
		acc.ArchID, acc.Arch, acc.Source = archID, a, source
	}
	return Record{Key: m.key, Device: devName, ModelType: modelType, Measurement: meas, Accuracy: acc}, false, nil
}

func decodeArch(raw json.RawMessage, s *arch.Space) (arch.Architecture, error) {
	if !present(raw) {
		return arch.Architecture{}, errors.New("model_dict is missing")
	}
	a, err := arch.ParseArchitecture(raw)
	if err != nil {
		return arch.Architecture{}, fmt.Errorf("model_dict: %w", err)
	}
	if err := s.Validate(a); err != nil {
		return arch.Architecture{}, fmt.Errorf("model_dict: invalid architecture: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return a, nil
}

// checkEmbedding compares the published embedding, a JSON list or a string
// holding one, with the embedding of a.
func checkEmbedding(name string, raw json.RawMessage, a arch.Architecture, s *arch.Space) error {
	if !present(raw) {
		return fmt.Errorf("%s is missing", name)
	}
	got, err := intList(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	want, err := s.Encode(a)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("%s has %d entries, want %d", name, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Errorf("%s disagrees with model_dict: entry %d is %d, model_dict gives %d", name, i, got[i], want[i])
		}
	}
	return nil
}

// checkDeviceVector checks that the one-hot embedding_device marks the
// device of the key.
func checkDeviceVector(raw json.RawMessage, index int, name string) error {
	if !present(raw) {
		return errors.New("embedding_device is missing")
	}
	v, err := intList(raw)
	if err != nil {
		return fmt.Errorf("embedding_device: %w", err)
	}
	want := make([]int, len(devices))
	want[index] = 1
	if !slices.Equal(v, want) {
		return fmt.Errorf("embedding_device %v disagrees with device %s, want %v", v, name, want)
	}
	return nil
}

// intList decodes a JSON list of integers, or a JSON string holding one.
func intList(raw json.RawMessage) ([]int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		raw = []byte(s)
	}
	var v []int
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("want a list of integers: %w", err)
	}
	return v, nil
}

func requireString(name string, raw json.RawMessage, dst *string) error {
	if !present(raw) {
		return fmt.Errorf("%s is missing", name)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s: want a string: %w", name, err)
	}
	return nil
}

// number decodes a JSON number or a string holding one (the published
// global-search file writes GLUE scores as " 0.8124"). ok is false for an
// absent field or null.
func number(name string, raw json.RawMessage) (v float64, ok bool, err error) {
	if !present(raw) {
		return 0, false, nil
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false, fmt.Errorf("%s: %w", name, err)
		}
		v, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0, false, fmt.Errorf("%s = %q: want a number", name, s)
		}
		return v, true, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, false, fmt.Errorf("%s = %s: want a number", name, raw)
	}
	return v, true, nil
}

// positiveField decodes a required measure that must be finite and above 0.
func positiveField(name string, raw json.RawMessage) (float64, error) {
	v, ok, err := number(name, raw)
	switch {
	case err != nil:
		return 0, err
	case !ok:
		return 0, fmt.Errorf("%s is missing", name)
	case math.IsNaN(v) || math.IsInf(v, 0) || v <= 0:
		return 0, fmt.Errorf("%s = %v: must be a positive finite number", name, v)
	}
	return v, nil
}

// accuracy returns the accuracy record of a row (without ids and source), or
// nil when it has neither score.
func accuracy(r row, perf performance, a arch.Architecture, opt Options) (*measure.Accuracy, error) {
	glueRaw, lossRaw := perf.GLUE, perf.PretrainLoss
	if !present(glueRaw) {
		glueRaw = r.GLUE
	}
	if !present(lossRaw) && present(r.Pretrain) {
		var p struct {
			Loss json.RawMessage `json:"loss"`
		}
		if err := json.Unmarshal(r.Pretrain, &p); err != nil {
			return nil, fmt.Errorf("pretrain: %w", err)
		}
		lossRaw = p.Loss
	}

	acc := &measure.Accuracy{}
	glue, ok, err := number("glue", glueRaw)
	if err != nil {
		return nil, err
	}
	if ok {
		if math.IsNaN(glue) || glue < 0 || glue > 1 {
			return nil, fmt.Errorf("glue = %v: must be a fraction in [0, 1]", glue)
		}
		acc.GLUE = measure.Float(glue)
	}
	loss, ok, err := number("pretrain_loss", lossRaw)
	if err != nil {
		return nil, err
	}
	if ok {
		if math.IsNaN(loss) || math.IsInf(loss, 0) || loss <= 0 {
			return nil, fmt.Errorf("pretrain_loss = %v: must be a positive finite number", loss)
		}
		acc.PretrainLoss = measure.Float(loss)
	}
	if acc.GLUE == nil && acc.PretrainLoss == nil {
		return nil, nil
	}
	acc.Measured = acc.GLUE != nil && opt.MeasuredGLUE[opt.Space.ID(a)]
	return acc, nil
}

// present reports whether a raw field was given and is not null.
func present(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}
