package campaign

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/arch"
)

// StateVersion is the format version of State; Run rejects other versions.
const StateVersion = 1

// Status is the state of a campaign: running, or the reason it stopped.
type Status string

const (
	Running   Status = "running"
	Converged Status = "converged" // the stopping rule held for the patience window
	Budget    Status = "budget"    // the measurement budget is spent
	Exhausted Status = "exhausted" // no unmeasured candidate is left
	// Failed means the campaign cannot go on: its stored configuration no
	// longer validates, or its run hit an error it cannot recover from.
	// Reason holds the error; Resume does not restart it.
	Failed Status = "failed"
)

// Sample is one measured architecture.
type Sample struct {
	ArchID        string            `json:"arch_id"`
	Arch          arch.Architecture `json:"arch"`
	Value         float64           `json:"value"` // the metric's value, in its unit
	MeasurementID string            `json:"measurement_id,omitempty"`
}

// Round records one fit of the surrogate and what it led to.
type Round struct {
	Round    int `json:"round"`
	Train    int `json:"train"`    // training records of the fit
	Measured int `json:"measured"` // all measurements so far, test sample included
	// NMSE is the normalised test MSE of the fit: errors divided by the
	// maximum training value, squared and averaged over the test sample.
	NMSE float64 `json:"nmse"`
	// MaxUncertainty is the largest σ/μ predicted over the candidates.
	MaxUncertainty float64  `json:"max_uncertainty"`
	Picked         []string `json:"picked,omitempty"` // arch ids chosen for measurement
}

// State is a campaign: its configuration, everything measured so far and
// its history. It marshals to JSON; Run continues from any saved State.
type State struct {
	Version   int      `json:"version"`
	ID        string   `json:"id"`
	TargetKey string   `json:"target"` // measure.Target.Key of the target
	Config    Config   `json:"config"`
	Status    Status   `json:"status"`
	Reason    string   `json:"reason,omitempty"` // explanation of the stop, with the figures involved
	Test      []Sample `json:"test"`
	Train     []Sample `json:"train"`
	// Failed lists arch ids whose measurement failed; they are not retried.
	Failed []string `json:"failed,omitempty"`
	Rounds []Round  `json:"rounds"`
	// Holding counts the consecutive rounds for which the stopping rule held.
	Holding int `json:"holding"`
}

// New returns the state of a campaign that has not measured anything.
func New(id, targetKey string, cfg Config) (*State, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("campaign config: %w", err)
	}
	return &State{Version: StateVersion, ID: id, TargetKey: targetKey, Config: cfg, Status: Running}, nil
}

// Measured returns the number of measurements made, test sample included.
func (s *State) Measured() int { return len(s.Test) + len(s.Train) + len(s.Failed) }

// Done reports whether the campaign has stopped.
func (s *State) Done() bool { return s.Status != Running }

// Hooks let the caller observe and persist a campaign. Nil hooks are
// skipped.
type Hooks struct {
	// Round is called after every fit, with the round's record.
	Round func(s *State, r Round)
	// Save is called after every change of the state; an error stops Run.
	Save func(s *State) error
}

// Run advances the campaign until it stops, ctx is cancelled or the
// evaluator fails; the state is then consistent and can be saved and
// resumed. space is the design space of the architectures.
func Run(ctx context.Context, s *State, ev Evaluator, space *arch.Space, hooks Hooks) error {
	if s.Version != StateVersion {
		return fmt.Errorf("campaign %s: state version %d, this build runs version %d", s.ID, s.Version, StateVersion)
	}
	if err := s.Config.Validate(); err != nil {
		return fmt.Errorf("campaign %s config: %w", s.ID, err)
	}
	if space == nil {
		space = arch.Default()
	}
	save := func() error {
		if hooks.Save == nil {
			return nil
		}
		return hooks.Save(s)
	}
	feat, err := surrogate.NewFeaturizer(space, surrogate.ArchFeatures, 0)
	if err != nil {
		return err
	}
	cfg := s.Config
	measured := s.measuredSet(space)

	if len(s.Test) == 0 && len(s.Train) == 0 && s.Status == Running {
		if err := s.start(ctx, ev, space, measured); err != nil {
			return err
		}
		if err := save(); err != nil {
			return err
		}
	}

	for s.Status == Running {
		if err := ctx.Err(); err != nil {
			return err
		}
		round := len(s.Rounds)
		rng := roundRNG(cfg.Seed, round+1)
		if len(s.Train) < 2 || len(s.Test) == 0 {
			return fmt.Errorf("campaign %s: %d training and %d test measurements succeeded; need at least 2 and 1", s.ID, len(s.Train), len(s.Test))
		}

		p, err := surrogate.Fit(archsOf(s.Train), valuesOf(s.Train), surrogate.Options{Kind: cfg.Model, Space: space, Seed: cfg.Seed + uint64(round)})
		if err != nil {
			return fmt.Errorf("campaign %s round %d: %w", s.ID, round, err)
		}
		rec := Round{Round: round, Train: len(s.Train), Measured: s.Measured()}
		pred := make([]float64, len(s.Test))
		for i, t := range s.Test {
			if pred[i], _, err = p.Predict(t.Arch); err != nil {
				return fmt.Errorf("campaign %s: predict test architecture %s: %w", s.ID, t.ArchID, err)
			}
		}
		rec.NMSE = normalisedMSE(pred, valuesOf(s.Test), slices.Max(valuesOf(s.Train)))

		cands, err := ev.Candidates(rng, cfg.Candidates, measured)
		if err != nil {
			return fmt.Errorf("campaign %s: candidates: %w", s.ID, err)
		}
		rel := make([]float64, len(cands))
		for i, c := range cands {
			mean, std, err := p.Predict(c.Arch)
			if err != nil {
				return fmt.Errorf("campaign %s: predict candidate: %w", s.ID, err)
			}
			if mean > 0 {
				rel[i] = std / mean
			}
			rec.MaxUncertainty = max(rec.MaxUncertainty, rel[i])
		}

		holds := rec.NMSE < cfg.Threshold || (cfg.UncertaintyThreshold > 0 && len(cands) > 0 && rec.MaxUncertainty < cfg.UncertaintyThreshold)
		if holds {
			s.Holding++
		} else {
			s.Holding = 0
		}
		left := cfg.Budget - s.Measured()
		switch {
		case s.Holding >= cfg.Patience:
			s.stop(Converged, fmt.Sprintf("stopping rule held for %d rounds (normalised test MSE %.4g, threshold %.4g)", s.Holding, rec.NMSE, cfg.Threshold))
		case left <= 0:
			s.stop(Budget, fmt.Sprintf("budget of %d measurements spent", cfg.Budget))
		case len(cands) == 0:
			s.stop(Exhausted, "no unmeasured candidate left")
		}
		if s.Done() {
			s.Rounds = append(s.Rounds, rec)
			if hooks.Round != nil {
				hooks.Round(s, rec)
			}
			return save()
		}

		var picks []int
		k := min(cfg.Batch, left)
		if cfg.Strategy == Random {
			picks = rng.Perm(len(cands))[:min(k, len(cands))]
		} else {
			rows := make([][]float64, len(cands))
			for i, c := range cands {
				rows[i] = make([]float64, feat.Len())
				if err := feat.Row(rows[i], c.Arch); err != nil {
					return fmt.Errorf("campaign %s: candidate features: %w", s.ID, err)
				}
			}
			picks = pickDiverse(rel, standardise(rows), k)
		}
		batch := make([]arch.Architecture, len(picks))
		for i, j := range picks {
			batch[i] = cands[j].Arch
			rec.Picked = append(rec.Picked, space.ID(cands[j].Arch))
		}
		s.Rounds = append(s.Rounds, rec)
		if hooks.Round != nil {
			hooks.Round(s, rec)
		}
		if err := s.measure(ctx, ev, space, batch, &s.Train, measured); err != nil {
			return err
		}
		if err := save(); err != nil {
			return err
		}
	}
	return nil
}

// start measures the test sample (a random draw from the candidates, so it
// represents them) and the initial training sample (Latin hypercube).
func (s *State) start(ctx context.Context, ev Evaluator, space *arch.Space, measured map[string]bool) error {
	rng := roundRNG(s.Config.Seed, 0)
	test, err := ev.Candidates(rng, s.Config.TestSize, measured)
	if err != nil {
		return fmt.Errorf("campaign %s: test sample: %w", s.ID, err)
	}
	if err := s.measure(ctx, ev, space, candidateArchs(test), &s.Test, measured); err != nil {
		return err
	}
	initial, err := ev.Initial(rng, s.Config.Initial, measured)
	if err != nil {
		return fmt.Errorf("campaign %s: initial sample: %w", s.ID, err)
	}
	return s.measure(ctx, ev, space, candidateArchs(initial), &s.Train, measured)
}

// measure evaluates archs and appends the successes to dst and the failures
// to s.Failed.
func (s *State) measure(ctx context.Context, ev Evaluator, space *arch.Space, archs []arch.Architecture, dst *[]Sample, measured map[string]bool) error {
	if len(archs) == 0 {
		return nil
	}
	out, err := ev.Evaluate(ctx, archs)
	if err != nil {
		return fmt.Errorf("campaign %s: evaluate: %w", s.ID, err)
	}
	if len(out) != len(archs) {
		return fmt.Errorf("campaign %s: evaluator returned %d outcomes for %d architectures", s.ID, len(out), len(archs))
	}
	for i, a := range archs {
		id := space.ID(a)
		measured[id] = true
		if out[i].Err != nil || !(out[i].Value > 0) {
			s.Failed = append(s.Failed, id)
			continue
		}
		*dst = append(*dst, Sample{ArchID: id, Arch: a, Value: out[i].Value, MeasurementID: out[i].MeasurementID})
	}
	return nil
}

func (s *State) stop(status Status, reason string) {
	s.Status, s.Reason = status, reason
}

func (s *State) measuredSet(space *arch.Space) map[string]bool {
	m := map[string]bool{}
	for _, list := range [][]Sample{s.Test, s.Train} {
		for _, x := range list {
			m[x.ArchID] = true
		}
	}
	for _, id := range s.Failed {
		m[id] = true
	}
	return m
}

// roundRNG returns the random source of a round, derived from the seed and
// the round number alone, so a resumed campaign draws what an uninterrupted
// one would have drawn.
func roundRNG(seed uint64, round int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(round)))
}

func archsOf(samples []Sample) []arch.Architecture {
	out := make([]arch.Architecture, len(samples))
	for i, x := range samples {
		out[i] = x.Arch
	}
	return out
}

func valuesOf(samples []Sample) []float64 {
	out := make([]float64, len(samples))
	for i, x := range samples {
		out[i] = x.Value
	}
	return out
}

func candidateArchs(c []Candidate) []arch.Architecture {
	out := make([]arch.Architecture, len(c))
	for i, x := range c {
		out[i] = x.Arch
	}
	return out
}

var errNoPool = errors.New("pool is empty")
