package codesign

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/edgetran/edgetran/shared/measure"
)

// Op is a comparison of a constraint.
type Op string

// Comparison operators a constraint may use.
const (
	LessEqual    Op = "<="
	Less         Op = "<"
	GreaterEqual Op = ">="
	Greater      Op = ">"
)

// Constraint is a hard limit on one measure, such as peak_power<=5. A
// candidate pair that violates any constraint in scope is infeasible.
type Constraint struct {
	// Scope limits the constraint to matching targets; empty means every
	// target. See Constraint.Applies for what matches.
	Scope   string  `json:"scope,omitempty"`
	Measure Measure `json:"measure"`
	Op      Op      `json:"op"`
	Limit   float64 `json:"limit"` // in the measure's unit (see Measure)
}

// ParseConstraint parses "[scope:]measure op number", for example
// "latency<=0.05", "memory<=1.5e9" or "cpu_rpi:latency<=10". Measures and
// units are those of Measure; op is one of <=, <, >=, > (≤ and ≥ also work).
// The error names the expression and the part that is wrong.
func ParseConstraint(expr string) (Constraint, error) {
	fail := func(format string, a ...any) (Constraint, error) {
		return Constraint{}, fmt.Errorf("constraint %q: %s", expr, fmt.Sprintf(format, a...))
	}
	s := strings.TrimSpace(strings.NewReplacer("≤", "<=", "≥", ">=").Replace(expr))
	if s == "" {
		return fail("empty; want [scope:]measure<=number, e.g. peak_power<=5")
	}

	var c Constraint
	if scope, rest, ok := strings.Cut(s, ":"); ok {
		c.Scope = strings.TrimSpace(scope)
		if c.Scope == "" {
			return fail("empty scope before ':'; give a device or target key, or drop the ':'")
		}
		if strings.ContainsAny(c.Scope, " <>=") {
			return fail("scope %q is not a device or target key", c.Scope)
		}
		s = rest
	}

	i := strings.IndexAny(s, "<>")
	if i < 0 {
		if strings.Contains(s, "=") {
			return fail("'=' alone is not a limit; use <=, <, >= or >")
		}
		return fail("no comparison; want measure<=number, e.g. latency<=0.05")
	}
	name := strings.TrimSpace(s[:i])
	c.Op = Op(s[i : i+1])
	rest := s[i+1:]
	if strings.HasPrefix(rest, "=") {
		c.Op += "="
		rest = rest[1:]
	}
	if name == "" {
		return fail("no measure before %q", c.Op)
	}
	m, err := ParseMeasure(name)
	if err != nil {
		return fail("%v", err)
	}
	c.Measure = m

	raw := strings.TrimSpace(rest)
	if raw == "" {
		return fail("no number after %q", c.Op)
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fail("limit %q is not a finite number in %s (write 0.05, 5, 1.5e9)", raw, m.Unit())
	}
	if m == Accuracy && (v < 0 || v > 1) {
		return fail("accuracy limit %v is outside [0, 1]; accuracy is a fraction", v)
	}
	if m != Accuracy && v < 0 {
		return fail("limit %v is negative, but %s is never negative", v, m)
	}
	c.Limit = v
	return c, nil
}

// String returns c in the syntax ParseConstraint reads.
func (c Constraint) String() string {
	s := string(c.Measure) + string(c.Op) + strconv.FormatFloat(c.Limit, 'g', -1, 64)
	if c.Scope != "" {
		s = c.Scope + ":" + s
	}
	return s
}

// Applies reports whether c constrains target t. An empty scope matches
// every target. Otherwise the scope matches the full target key, a leading
// part of it ending at a '/' ("rpi4/cpu"), the device id, or the spelling
// "unit_device" ("cpu_rpi4"). Problem.Aliases adds other names.
func (c Constraint) Applies(t measure.Target) bool {
	if c.Scope == "" {
		return true
	}
	key := t.Key()
	switch {
	case c.Scope == key, c.Scope == t.Device, c.Scope == t.ComputeUnit+"_"+t.Device:
		return true
	case strings.HasPrefix(key, strings.TrimSuffix(c.Scope, "/")+"/"):
		return true
	}
	return false
}

// Slack returns how far value is inside the limit, in the measure's unit:
// positive or zero when satisfied (zero only for <= and >= at the limit),
// negative when violated. For strict comparisons a value equal to the limit
// has slack 0 and violates.
func (c Constraint) Slack(value float64) float64 {
	switch c.Op {
	case LessEqual, Less:
		return c.Limit - value
	default:
		return value - c.Limit
	}
}

// Satisfied reports whether value meets c.
func (c Constraint) Satisfied(value float64) bool {
	switch c.Op {
	case LessEqual:
		return value <= c.Limit
	case Less:
		return value < c.Limit
	case GreaterEqual:
		return value >= c.Limit
	case Greater:
		return value > c.Limit
	}
	return false
}

// ParseConstraints parses each expression and joins nothing: it stops at the
// first malformed one, whose error names it.
func ParseConstraints(exprs []string) ([]Constraint, error) {
	out := make([]Constraint, 0, len(exprs))
	for _, e := range exprs {
		c, err := ParseConstraint(e)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
