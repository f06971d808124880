package codesign

import (
	"strings"
	"testing"

	"github.com/edgetran/edgetran/shared/measure"
)

func TestParseConstraintValid(t *testing.T) {
	tests := []struct {
		expr string
		want Constraint
	}{
		{"latency<=0.05", Constraint{Measure: Latency, Op: LessEqual, Limit: 0.05}},
		{"peak_power <= 5", Constraint{Measure: PeakPower, Op: LessEqual, Limit: 5}},
		{"energy<2", Constraint{Measure: Energy, Op: Less, Limit: 2}},
		{"params<=40e6", Constraint{Measure: Params, Op: LessEqual, Limit: 40e6}},
		{"memory<=1.5e9", Constraint{Measure: Memory, Op: LessEqual, Limit: 1.5e9}},
		{"accuracy>=0.8", Constraint{Measure: Accuracy, Op: GreaterEqual, Limit: 0.8}},
		{"glue>0.75", Constraint{Measure: Accuracy, Op: Greater, Limit: 0.75}},
		{"cpu_rpi:latency<=10", Constraint{Scope: "cpu_rpi", Measure: Latency, Op: LessEqual, Limit: 10}},
		{"rpi4/cpu:peak<=6", Constraint{Scope: "rpi4/cpu", Measure: PeakPower, Op: LessEqual, Limit: 6}},
		{"peak_power≤5", Constraint{Measure: PeakPower, Op: LessEqual, Limit: 5}},
	}
	for _, tt := range tests {
		got, err := ParseConstraint(tt.expr)
		if err != nil {
			t.Errorf("ParseConstraint(%q): %v", tt.expr, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseConstraint(%q) = %+v, want %+v", tt.expr, got, tt.want)
		}
	}
}

func TestParseConstraintErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string // part of the message after the expression
	}{
		{"", "empty"},
		{"latency", "no comparison"},
		{"latency=5", "'=' alone"},
		{"<=5", "no measure"},
		{"speed<=5", "unknown measure"},
		{"latency<=", "no number"},
		{"latency<=fast", "not a finite number"},
		{"latency<=NaN", "not a finite number"},
		{"latency<=Inf", "not a finite number"},
		{"latency<=-1", "negative"},
		{"accuracy>=80", "outside [0, 1]"},
		{":latency<=1", "empty scope"},
		{"a b:latency<=1", "not a device or target key"},
		{"latency<=0.05ms", "not a finite number"},
		{"latency<=<=1", "not a finite number"},
	}
	for _, tt := range tests {
		_, err := ParseConstraint(tt.expr)
		if err == nil {
			t.Errorf("ParseConstraint(%q) succeeded, want an error", tt.expr)
			continue
		}
		if !strings.Contains(err.Error(), "constraint \""+tt.expr+"\"") && !strings.Contains(err.Error(), strings.TrimSpace(tt.expr)) {
			t.Errorf("ParseConstraint(%q) error %q does not name the expression", tt.expr, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseConstraint(%q) error %q, want it to mention %q", tt.expr, err, tt.want)
		}
	}
}

func TestConstraintSlackAndSatisfied(t *testing.T) {
	tests := []struct {
		expr      string
		value     float64
		slack     float64
		satisfied bool
	}{
		{"latency<=0.05", 0.03, 0.02, true},
		{"latency<=0.05", 0.05, 0, true},
		{"latency<0.05", 0.05, 0, false},
		{"peak_power<=5", 7, -2, false},
		{"accuracy>=0.8", 0.85, 0.05, true},
		{"accuracy>0.8", 0.7, -0.1, false},
	}
	for _, tt := range tests {
		c, err := ParseConstraint(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Slack(tt.value); !approxEqual(got, tt.slack, 1e-12) {
			t.Errorf("%s: Slack(%v) = %v, want %v", tt.expr, tt.value, got, tt.slack)
		}
		if got := c.Satisfied(tt.value); got != tt.satisfied {
			t.Errorf("%s: Satisfied(%v) = %v, want %v", tt.expr, tt.value, got, tt.satisfied)
		}
	}
}

func TestConstraintScopeMatching(t *testing.T) {
	rpi := measure.Target{Device: "rpi4", ComputeUnit: "cpu", Runtime: "pytorch", Batch: 1, SeqLen: 128, Precision: "fp32"}
	tests := []struct {
		scope string
		want  bool
	}{
		{"", true},
		{"rpi4", true},
		{"rpi4/cpu", true},
		{"rpi4/cpu/", true},
		{"cpu_rpi4", true},
		{"rpi4/cpu/pytorch/b1/s128/fp32", true},
		{"rpi", false},
		{"rpi4/gpu", false},
		{"a100", false},
	}
	for _, tt := range tests {
		c := Constraint{Scope: tt.scope, Measure: Latency, Op: LessEqual, Limit: 1}
		if got := c.Applies(rpi); got != tt.want {
			t.Errorf("scope %q applies to %s = %v, want %v", tt.scope, rpi.Key(), got, tt.want)
		}
	}
}

func FuzzParseConstraint(f *testing.F) {
	for _, s := range []string{"latency<=0.05", "cpu_rpi:latency<=10", "peak_power≥5", "memory<1.5e9", "a:b:c<=1", "x<=>1", "accuracy>=0.8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		c, err := ParseConstraint(expr)
		if err != nil {
			if !strings.Contains(err.Error(), "constraint ") {
				t.Fatalf("error %q does not start with the constraint", err)
			}
			return
		}
		back, err := ParseConstraint(c.String())
		if err != nil {
			t.Fatalf("String() of %q = %q does not parse: %v", expr, c.String(), err)
		}
		if back != c {
			t.Fatalf("round trip of %q: %+v then %+v", expr, c, back)
		}
	})
}

func approxEqual(a, b, tol float64) bool { return a-b <= tol && b-a <= tol }
