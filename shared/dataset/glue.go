package dataset

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/edgetran/edgetran/shared/arch"
)

// ReadMeasuredGLUE returns the arch ids of the architectures with a non-null
// glue in a file shaped like the published global_search_dataset.json (a JSON
// object keyed by architecture hash whose values hold model_dict and glue).
// In the published data only these scores come from real fine-tuning; pass
// the set as Options.MeasuredGLUE. s nil means arch.Default().
func ReadMeasuredGLUE(path string, s *arch.Space) (map[string]bool, error) {
	if s == nil {
		s = arch.Default()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read global search dataset: %w", err)
	}
	var rows map[string]struct {
		ModelDict json.RawMessage `json:"model_dict"`
		GLUE      json.RawMessage `json:"glue"`
	}
	if err := json.Unmarshal(data, &rows); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	ids := make(map[string]bool)
	for key, r := range rows {
		if _, ok, err := number("glue", r.GLUE); err != nil || !ok {
			if err != nil {
				return nil, fmt.Errorf("%s: record %q: %w", path, key, err)
			}
			continue
		}
		a, err := decodeArch(r.ModelDict, s)
		if err != nil {
			return nil, fmt.Errorf("%s: record %q: %w", path, key, err)
		}
		ids[s.ID(a)] = true
	}
	return ids, nil
}
