package dataset

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// member is one key and raw value of a top-level JSON object.
type member struct {
	key   string
	value []byte
}

// splitObject splits a top-level JSON object into its members, in file
// order, without decoding the values. encoding/json cannot do this job: it
// fails on the whole document for one bad value, and Python's json module,
// which wrote the published files, emits the non-standard literals NaN,
// Infinity and -Infinity. Here a value only has to keep its brackets and
// strings balanced. The caller decodes each value, so one bad row is
// rejected on its own. Bare NaN and Infinity literals are quoted so that the
// row decoder sees them as strings and rejects them by value.
func splitObject(data []byte) ([]member, error) {
	p := skipSpace(data, 0)
	if p >= len(data) || data[p] != '{' {
		return nil, fmt.Errorf("byte %d: want a JSON object of records ('{')", p)
	}
	p = skipSpace(data, p+1)
	var out []member
	if p < len(data) && data[p] == '}' {
		return out, checkTrailing(data, p+1)
	}
	for {
		if p >= len(data) || data[p] != '"' {
			return nil, fmt.Errorf("byte %d: want a record key (a JSON string)", p)
		}
		end, err := scanString(data, p)
		if err != nil {
			return nil, err
		}
		var key string
		if err := json.Unmarshal(data[p:end], &key); err != nil {
			return nil, fmt.Errorf("byte %d: record key: %w", p, err)
		}
		p = skipSpace(data, end)
		if p >= len(data) || data[p] != ':' {
			return nil, fmt.Errorf("byte %d: want ':' after key %q", p, key)
		}
		start := skipSpace(data, p+1)
		end, err = scanValue(data, start)
		if err != nil {
			return nil, fmt.Errorf("record %q: %w", key, err)
		}
		out = append(out, member{key: key, value: quoteNonFinite(bytes.TrimSpace(data[start:end]))})

		p = end
		if data[p] == '}' {
			return out, checkTrailing(data, p+1)
		}
		p = skipSpace(data, p+1) // past ','
	}
}

// scanValue returns the offset of the ',' or '}' that ends the value
// starting at p, at bracket depth zero.
func scanValue(data []byte, p int) (int, error) {
	start := p
	depth := 0
	for p < len(data) {
		switch c := data[p]; c {
		case '"':
			end, err := scanString(data, p)
			if err != nil {
				return 0, err
			}
			p = end
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				if c == '}' {
					return p, emptyValue(data, start, p)
				}
				return 0, fmt.Errorf("byte %d: unbalanced ']'", p)
			}
			depth--
		case ',':
			if depth == 0 {
				return p, emptyValue(data, start, p)
			}
		}
		p++
	}
	return 0, fmt.Errorf("byte %d: the file ends inside a value; it is truncated", len(data))
}

func emptyValue(data []byte, start, end int) error {
	if len(bytes.TrimSpace(data[start:end])) == 0 {
		return fmt.Errorf("byte %d: value is missing", start)
	}
	return nil
}

// scanString returns the offset just past the JSON string starting at p.
func scanString(data []byte, p int) (int, error) {
	for i := p + 1; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("byte %d: unterminated string", p)
}

func skipSpace(data []byte, p int) int {
	for p < len(data) {
		switch data[p] {
		case ' ', '\t', '\n', '\r':
			p++
		default:
			return p
		}
	}
	return p
}

func checkTrailing(data []byte, p int) error {
	if p = skipSpace(data, p); p < len(data) {
		return fmt.Errorf("byte %d: unexpected data after the top-level object", p)
	}
	return nil
}

// quoteNonFinite returns v with the bare literals NaN, Infinity and
// -Infinity outside strings replaced by the strings "NaN", "Infinity" and
// "-Infinity".
func quoteNonFinite(v []byte) []byte {
	if !bytes.Contains(v, []byte("NaN")) && !bytes.Contains(v, []byte("Infinity")) {
		return v
	}
	var out []byte
	for p := 0; p < len(v); {
		if v[p] == '"' {
			end, err := scanString(v, p)
			if err != nil {
				return append(out, v[p:]...)
			}
			out = append(out, v[p:end]...)
			p = end
			continue
		}
		replaced := false
		for _, lit := range []string{"NaN", "-Infinity", "Infinity"} {
			if bytes.HasPrefix(v[p:], []byte(lit)) {
				out = append(out, '"')
				out = append(out, lit...)
				out = append(out, '"')
				p += len(lit)
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, v[p])
			p++
		}
	}
	return out
}
