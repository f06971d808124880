package dataset

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/pubdata"
)

// publishedPath returns the path of a published EdgeTran file beside the
// checkout, or skips the test when it is absent.
func publishedPath(t testing.TB, name string) string {
	t.Helper()
	p := pubdata.Path(t, name)
	return p
}

func TestImportPublishedCodesignFile(t *testing.T) {
	imp, err := LoadFile(publishedPath(t, "codesign_dataset.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Format != FormatCodesign {
		t.Errorf("format = %q, want codesign", imp.Format)
	}
	if len(imp.Records) != 648 {
		t.Errorf("records = %d, want 648", len(imp.Records))
	}
	for _, r := range imp.Rejected {
		t.Errorf("rejected %s: %s", r.Key, r.Reason)
	}

	// Per-device row counts of the published file, counted with
	// `python3 -c 'collections.Counter(k.split("_", 1)[1] for k in data)'`.
	want := map[string]int{
		"a100": 194, "cpu_jetson-nano": 182, "cpu_m1-pro": 86, "gpu_m1-pro": 77,
		"cpu_rpi": 68, "gpu_jetson-nano": 21, "npu_ncs": 20,
	}
	got := map[string]int{}
	ids := map[string]bool{}
	for _, r := range imp.Records {
		got[r.Device]++
		if err := r.Measurement.Validate(); err != nil {
			t.Errorf("%s: invalid measurement: %v", r.Key, err)
		}
		if ids[r.Measurement.ID] {
			t.Errorf("%s: id %s repeats", r.Key, r.Measurement.ID)
		}
		ids[r.Measurement.ID] = true
		if r.Accuracy == nil || r.Accuracy.Measured {
			t.Errorf("%s: accuracy = %+v, want a record with Measured false when no set is given", r.Key, r.Accuracy)
		}
	}
	for dev, n := range want {
		if got[dev] != n {
			t.Errorf("device %s: %d records, want %d", dev, got[dev], n)
		}
	}
}

// The first record of the published file, with its values copied from it.
func TestImportedRecordFields(t *testing.T) {
	imp, err := LoadFile(publishedPath(t, "codesign_dataset.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	const key = "f36d5c40c770e4f787c78b43a2a09d78_a100"
	i := slices.IndexFunc(imp.Records, func(r Record) bool { return r.Key == key })
	if i < 0 {
		t.Fatalf("record %s not imported", key)
	}
	r := imp.Records[i]
	m := r.Measurement
	s := arch.Default()

	checks := []struct {
		name      string
		got, want any
	}{
		{"id", m.ID, "edgetran:" + key},
		{"arch id", m.ArchID, s.ID(m.Arch)},
		{"target", m.Target.Key(), "a100/gpu/pytorch/b128/s128/fp32"},
		{"provenance", m.Provenance, measure.Imported},
		{"latency", m.LatencyPerSeqS, 0.00750752891604689},
		{"energy", *m.EnergyPerSeqJ, 0.33857201597787195},
		{"peak power", *m.PeakPowerW, 119.1},
		{"meter", m.Power.Meter, "nvidia-smi"},
		{"estimated", m.Power.Estimated, false},
		{"source", m.Source, "codesign_dataset.json:" + key},
		{"depth", m.Arch.L, 6},
		{"model type", r.ModelType, "shallow_narrow"},
		{"glue", *r.Accuracy.GLUE, 0.8124},
		{"pretrain loss", *r.Accuracy.PretrainLoss, 2.4507},
		{"accuracy arch id", r.Accuracy.ArchID, m.ArchID},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	f := s.Features(m.Arch, 128, 128)
	if m.Params != f.Params || m.FLOPs != f.FLOPs() {
		t.Errorf("params %d, FLOPs %v; want the features at batch 128: %d, %v", m.Params, m.FLOPs, f.Params, f.FLOPs())
	}
	if m.Latency != nil || m.NetEnergyPerSeqJ != nil || m.MeanPowerW != nil {
		t.Errorf("figures the file does not hold are set: latency stats %v, net energy %v, mean power %v", m.Latency, m.NetEnergyPerSeqJ, m.MeanPowerW)
	}
}

// In the published data 13 architectures have a GLUE score from real
// fine-tuning, and each of them was measured on all 7 devices.
func TestMeasuredGLUEMarksThirteenArchitectures(t *testing.T) {
	set, err := ReadMeasuredGLUE(publishedPath(t, "global_search_dataset.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(set) != 13 {
		t.Errorf("measured GLUE set has %d architectures, want 13", len(set))
	}
	imp, err := LoadFile(publishedPath(t, "codesign_dataset.json"), Options{MeasuredGLUE: set})
	if err != nil {
		t.Fatal(err)
	}
	measured := 0
	for _, r := range imp.Records {
		if r.Accuracy != nil && r.Accuracy.Measured {
			measured++
		}
	}
	if measured != 13*7 {
		t.Errorf("%d records have measured GLUE, want 13 × 7 = 91", measured)
	}
}

func TestDeviceTargets(t *testing.T) {
	want := map[string]string{
		"a100":            "a100/gpu/pytorch/b128/s128/fp32",
		"cpu_m1-pro":      "m1-pro/cpu/pytorch/b32/s128/fp32",
		"gpu_m1-pro":      "m1-pro/gpu/tensorflow-metal/b32/s128/fp32",
		"cpu_rpi":         "rpi4/cpu/pytorch/b1/s128/fp32",
		"npu_ncs":         "ncs2/npu/openvino/b1/s128/fp32",
		"cpu_jetson-nano": "jetson-nano/cpu/pytorch/b1/s128/fp32",
		"gpu_jetson-nano": "jetson-nano/gpu/pytorch/b1/s128/fp32",
	}
	names := DeviceNames()
	if len(names) != len(want) {
		t.Errorf("DeviceNames() = %v, want the 7 published devices", names)
	}
	for _, name := range names {
		tg, err := DeviceTarget(name)
		if err != nil {
			t.Errorf("DeviceTarget(%q): %v", name, err)
			continue
		}
		if tg.Key() != want[name] {
			t.Errorf("DeviceTarget(%q) = %s, want %s", name, tg.Key(), want[name])
		}
		if err := tg.Validate(); err != nil {
			t.Errorf("DeviceTarget(%q) is invalid: %v", name, err)
		}
	}
	if _, err := DeviceTarget("tpu_v4"); err == nil || !strings.Contains(err.Error(), "a100") {
		t.Errorf("DeviceTarget(tpu_v4) error = %v, want one listing the known devices", err)
	}
}

func TestDeviceVectorOrderIsPublished(t *testing.T) {
	want := []string{"a100", "cpu_m1-pro", "gpu_m1-pro", "cpu_rpi", "npu_ncs", "cpu_jetson-nano", "gpu_jetson-nano"}
	if got := DeviceNames(); !slices.Equal(got, want) {
		t.Errorf("DeviceNames() = %v, want one-hot order %v", got, want)
	}
}

// readRows returns the published co-design rows as generic JSON values.
func readRows(t *testing.T) map[string]map[string]any {
	t.Helper()
	data, err := os.ReadFile(publishedPath(t, "codesign_dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows map[string]map[string]any
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// writeObject writes rows as a JSON object in key order and returns its
// path. A rawJSON row is written verbatim, and the strings "@raw:NaN",
// "@raw:Infinity" and "@raw:-Infinity" become bare literals, which
// encoding/json refuses to write.
func writeObject(t *testing.T, rows map[string]any) string {
	t.Helper()
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("{\n")
	for i, k := range keys {
		kj, _ := json.Marshal(k)
		var vj []byte
		if raw, ok := rows[k].(rawJSON); ok {
			vj = []byte(raw)
		} else {
			var err error
			if vj, err = json.Marshal(rows[k]); err != nil {
				t.Fatal(err)
			}
		}
		b.Write(kj)
		b.WriteString(": ")
		b.Write(vj)
		if i < len(keys)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	text := b.String()
	for _, lit := range []string{"NaN", "-Infinity", "Infinity"} {
		text = strings.ReplaceAll(text, `"@raw:`+lit+`"`, lit)
	}
	path := filepath.Join(t.TempDir(), "dataset.json")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// rawJSON is a row written verbatim by writeObject.
type rawJSON string

func clone(t *testing.T, row map[string]any) map[string]any {
	t.Helper()
	data, _ := json.Marshal(row)
	var c map[string]any
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBrokenRowsRejectedByKey(t *testing.T) {
	rows := readRows(t)
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	a100 := "" // the last a100 row, far from the rows the cases edit
	for _, k := range keys {
		if strings.HasSuffix(k, "_a100") {
			a100 = k
		}
	}

	perf := func(r map[string]any) map[string]any { return r["performance"].(map[string]any) }
	model := func(r map[string]any) map[string]any { return r["model_dict"].(map[string]any) }
	cases := []struct {
		reason string // substring of the rejection reason
		edit   func(r map[string]any)
	}{
		{"embedding_txf: want a list of integers", func(r map[string]any) { r["embedding_txf"] = "[2, 3, 128" }},
		{"model_dict is missing", func(r map[string]any) { delete(r, "model_dict") }},
		{"performance.latency = NaN: must be a positive finite number", func(r map[string]any) { perf(r)["latency"] = "@raw:NaN" }},
		{"performance.energy = -0.5: must be a positive finite number", func(r map[string]any) { perf(r)["energy"] = -0.5 }},
		{"performance.peak_power = 0: must be a positive finite number", func(r map[string]any) { perf(r)["peak_power"] = 0 }},
		{"performance.energy = +Inf", func(r map[string]any) { perf(r)["energy"] = "@raw:Infinity" }},
		{`performance.latency = "fast": want a number`, func(r map[string]any) { perf(r)["latency"] = "fast" }},
		{"performance.peak_power is missing", func(r map[string]any) { delete(perf(r), "peak_power") }},
		{"performance is missing", func(r map[string]any) { delete(r, "performance") }},
		{"model_type is missing", func(r map[string]any) { delete(r, "model_type") }},
		{"embedding_txf disagrees with model_dict: entry 0", func(r map[string]any) {
			var e []int
			json.Unmarshal([]byte(r["embedding_txf"].(string)), &e)
			e[0] = (e[0] + 1) % 6
			data, _ := json.Marshal(e)
			r["embedding_txf"] = string(data)
		}},
		{"model_dict: invalid architecture: layer 1: hidden size 100 not in", func(r map[string]any) {
			model(r)["h"].([]any)[0] = 100
		}},
		{"model_dict: parse architecture JSON", func(r map[string]any) { model(r)["dropout"] = 0.1 }},
		{"embedding_device [0 0 0 0 0 0 1] disagrees with device", func(r map[string]any) { r["embedding_device"] = "[0, 0, 0, 0, 0, 0, 1]" }},
		{"embedding_device is missing", func(r map[string]any) { delete(r, "embedding_device") }},
		{"glue = 1.5: must be a fraction in [0, 1]", func(r map[string]any) { perf(r)["glue"] = 1.5 }},
	}

	broken := map[string]any{}
	for k, v := range rows {
		broken[k] = v
	}
	wantReason := map[string]string{}
	for i, c := range cases {
		k := keys[i+1]
		if k == a100 {
			t.Fatalf("test setup: key %s is used twice", k)
		}
		r := clone(t, rows[k])
		c.edit(r)
		broken[k] = r
		wantReason[k] = c.reason
	}
	// Rows whose key alone is wrong, and a row that is not an object.
	unknown := strings.TrimSuffix(a100, "_a100") + "_tpu_v4"
	broken[unknown] = rows[a100]
	wantReason[unknown] = `unknown device "tpu_v4"`
	broken["nohash"] = rows[a100]
	wantReason["nohash"] = `key "nohash": want <architecture hash>_<device>`
	broken["ffffnumber_a100"] = rawJSON("42")
	wantReason["ffffnumber_a100"] = "record is not a JSON object of fields"

	imp, err := LoadFile(writeObject(t, broken), Options{})
	if err != nil {
		t.Fatalf("LoadFile(broken copy) = %v, want rows rejected one by one", err)
	}
	if want := 648 - len(cases); len(imp.Records) != want {
		t.Errorf("records = %d, want %d", len(imp.Records), want)
	}
	got := map[string]string{}
	for _, r := range imp.Rejected {
		got[r.Key] = r.Reason
	}
	for k, reason := range wantReason {
		if !strings.Contains(got[k], reason) {
			t.Errorf("row %s: rejection %q, want one containing %q", k, got[k], reason)
		}
	}
	if len(got) != len(wantReason) {
		t.Errorf("%d rows rejected, want %d: %v", len(got), len(wantReason), got)
	}
}

func TestDuplicateKeyKeepsFirstRow(t *testing.T) {
	data := `{"k_a100": 1, "k_a100": 2}`
	imp, err := Parse(strings.NewReader(data), Options{Format: FormatCodesign})
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Rejected) != 2 || !strings.Contains(imp.Rejected[1].Reason, "duplicate key") {
		t.Errorf("rejections = %+v, want the bad first row and the duplicate", imp.Rejected)
	}
}

func TestUnreadableFilesFailWhole(t *testing.T) {
	cases := []struct {
		name, data string
		opt        Options
		want       string
	}{
		{"list not object", `[1, 2]`, Options{}, "want a JSON object of records"},
		{"truncated", `{"a_a100": {"model_dict": {"l": 2`, Options{}, "the file ends inside a value"},
		{"unterminated key", `{"a_a100`, Options{}, "unterminated string"},
		{"missing colon", `{"a_a100" 1}`, Options{}, `want ':' after key "a_a100"`},
		{"missing value", `{"a_a100": }`, Options{}, "value is missing"},
		{"trailing data", `{} {}`, Options{}, "unexpected data after the top-level object"},
		{"unbalanced bracket", `{"a": ]}`, Options{}, "unbalanced ']'"},
		{"undetectable format", `{"a": {"x": 1}}`, Options{}, "cannot detect the dataset format"},
		{"unknown format", `{}`, Options{Format: "csv"}, `dataset format "csv"`},
		{"device format without device", `{"a": {"embedding": "[]"}}`, Options{}, "name the device"},
		{"unknown device option", `{}`, Options{Device: "tpu_v4"}, `unknown device "tpu_v4"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(c.data), c.opt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Parse(%q) error = %v, want one containing %q", c.data, err, c.want)
			}
		})
	}
}

func TestEmptyObjectImportsNothing(t *testing.T) {
	imp, err := Parse(strings.NewReader(" { } "), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Records)+len(imp.Rejected) != 0 {
		t.Errorf("import of {} = %+v, want nothing", imp)
	}
}

// A per-device file is built from the published gpu_m1-pro rows: keys lose
// their device suffix, embedding_txf becomes embedding, and
// embedding_device goes away.
func TestImportPerDeviceFile(t *testing.T) {
	rows := readRows(t)
	device := map[string]any{}
	for k, r := range rows {
		hash, dev, _ := strings.Cut(k, "_")
		if dev != "gpu_m1-pro" {
			continue
		}
		c := clone(t, r)
		c["embedding"] = c["embedding_txf"]
		delete(c, "embedding_txf")
		delete(c, "embedding_device")
		device[hash] = c
	}
	path := writeObject(t, device)

	imp, err := LoadFile(path, Options{Device: "gpu_m1-pro"})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Format != FormatDevice {
		t.Errorf("format = %q, want device", imp.Format)
	}
	if len(imp.Records) != 77 || len(imp.Rejected) != 0 {
		t.Errorf("records %d, rejected %v; want 77 and none", len(imp.Records), imp.Rejected)
	}

	// The same row imported from either format gets the same id, so a store
	// keeps one copy.
	codesign, err := LoadFile(publishedPath(t, "codesign_dataset.json"), Options{Device: "gpu_m1-pro"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, r := range codesign.Records {
		want[r.Measurement.ID] = r.Measurement.ArchID
	}
	for _, r := range imp.Records {
		m := r.Measurement
		if archID, ok := want[m.ID]; !ok || archID != m.ArchID {
			t.Errorf("%s: id %s (arch %s) not among the co-design ids of gpu_m1-pro", r.Key, m.ID, m.ArchID)
		}
		if m.Target.Runtime != "tensorflow-metal" {
			t.Errorf("%s: target %s, want the gpu_m1-pro target", r.Key, m.Target.Key())
		}
	}

	if _, err := LoadFile(path, Options{}); err == nil {
		t.Error("per-device file without a device: no error, want one")
	}
}

func TestDeviceFilterSkipsOtherDevices(t *testing.T) {
	imp, err := LoadFile(publishedPath(t, "codesign_dataset.json"), Options{Device: "npu_ncs"})
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Records) != 20 || len(imp.Rejected) != 0 {
		t.Errorf("records %d, rejected %d; want 20 npu_ncs rows and none rejected", len(imp.Records), len(imp.Rejected))
	}
}

func TestGLUEStringFromGlobalSearchShape(t *testing.T) {
	data := `{"h1": {"model_dict": {"l": 2, "h": [128, 128], "f": [[512], [512]], "o": [["sa_sdp_64", "sa_sdp_64"], ["sa_sdp_64", "sa_sdp_64"]]},
		"model_type": "shallow_narrow",
		"embedding": "[0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]",
		"pretrain": {"steps": 1000, "loss": 2.5}, "glue": " 0.8124",
		"performance": {"latency": 0.01, "energy": 0.2, "peak_power": 5}}}`
	imp, err := Parse(strings.NewReader(data), Options{Device: "cpu_rpi"})
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Records) != 1 {
		t.Fatalf("records %d, rejected %+v; want 1 record", len(imp.Records), imp.Rejected)
	}
	acc := imp.Records[0].Accuracy
	if acc == nil || acc.GLUE == nil || *acc.GLUE != 0.8124 || acc.PretrainLoss == nil || *acc.PretrainLoss != 2.5 {
		t.Errorf("accuracy = %+v, want glue 0.8124 and loss 2.5", acc)
	}
}
