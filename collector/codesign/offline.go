package codesign

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// Data is the input of an offline problem: measurements of the targets,
// accuracy records, and optional other names for target keys.
type Data struct {
	Measurements []measure.Measurement
	Accuracy     []measure.Accuracy
	// Aliases maps a target key to another name, such as the published
	// device name "cpu_rpi", for --targets and constraint scopes.
	Aliases map[string]string
}

// NewOfflineProblem builds a problem whose evaluator is an offline Oracle
// fitted on d.Measurements and whose accuracy comes from an accuracy
// surrogate fitted on d.Accuracy. Without GLUE scores the problem has no
// accuracy model, and the report of Run notes that the accuracy term is
// dropped.
// Targets are every target the oracle has models for; narrow them with
// Problem.SelectTargets.
func NewOfflineProblem(space *arch.Space, d Data, obj Objective, cons []Constraint, opt OracleOptions) (*Problem, error) {
	oracle, err := NewOracle(space, d.Measurements, opt)
	if err != nil {
		return nil, err
	}
	p := &Problem{
		Space: space, Targets: oracle.Targets(), Objective: obj, Constraints: cons,
		Evaluator: oracle, Aliases: d.Aliases, Notes: oracle.Notes,
	}
	acc, err := FitAccuracy(space, d.Accuracy, opt.Seed)
	switch {
	case errors.Is(err, ErrNoAccuracy):
		// Run adds the note that the accuracy term is dropped.
	case err != nil:
		return nil, err
	default:
		p.Accuracy = acc
		p.Notes = append(p.Notes, fmt.Sprintf("accuracy: surrogate fitted on the GLUE scores of %d architectures (predicted, not measured)", acc.Archs))
	}
	return p, nil
}

// SelectTargets keeps only the targets matching one of names, each a
// target key, a leading part of one, a device id or an alias, in the order
// of p.Targets. It fails naming any name that matches no target.
func (p *Problem) SelectTargets(names []string) error {
	keep := map[int]bool{}
	for _, name := range names {
		name = strings.TrimSpace(name)
		matched := false
		for i, t := range p.Targets {
			if p.applies(Constraint{Scope: name}, t) {
				keep[i] = true
				matched = true
			}
		}
		if !matched {
			keys := make([]string, len(p.Targets))
			for i, t := range p.Targets {
				keys[i] = t.Key()
				if a, ok := p.Aliases[t.Key()]; ok {
					keys[i] += " (" + a + ")"
				}
			}
			return fmt.Errorf("target %q matches none of: %s", name, strings.Join(keys, ", "))
		}
	}
	var out []measure.Target
	for i, t := range p.Targets {
		if keep[i] {
			out = append(out, t)
		}
	}
	p.Targets = out
	return nil
}

// LoadStore reads every measurement and accuracy record of a collector
// store, for NewOfflineProblem. It fails when the store has no
// measurements.
func LoadStore(ctx context.Context, st store.Store) (Data, error) {
	var d Data
	q := store.Query{Limit: store.MaxLimit}
	for {
		page, err := st.Measurements(ctx, q)
		if err != nil {
			return d, err
		}
		d.Measurements = append(d.Measurements, page.Measurements...)
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if len(d.Measurements) == 0 {
		return d, errors.New("the store has no measurements: import a dataset or run a campaign first")
	}
	var err error
	if d.Accuracy, err = st.Accuracies(ctx, ""); err != nil {
		return d, err
	}
	return d, nil
}
