package codesign

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
)

// ModelForest names this package's Forest as the oracle's per-target model;
// every other model name is a surrogate.Kind ("gbdt", "gp", "paper",
// "linear", "hybrid", "best").
const ModelForest = "forest"

// hardwareModel predicts one hardware measure of an architecture on the
// target it was fitted for, in the measure's unit.
type hardwareModel interface {
	predict(a arch.Architecture, t measure.Target) (mean, std float64, err error)
}

// fitHardwareModel fits the named model on the architectures and positive
// values of one measure on target t.
func fitHardwareModel(space *arch.Space, name string, archs []arch.Architecture, y []float64, t measure.Target, seed uint64) (hardwareModel, error) {
	if name == ModelForest {
		x := make([][]float64, len(archs))
		logY := make([]float64, len(y))
		for i, a := range archs {
			x[i] = archFeatures(space, a, t.Batch, t.SeqLen)
			logY[i] = math.Log(y[i])
		}
		f := NewForest(seed)
		if err := f.Fit(x, logY); err != nil {
			return nil, err
		}
		return forestModel{space: space, forest: f}, nil
	}
	kind, err := surrogate.ParseKind(name)
	if err != nil {
		return nil, fmt.Errorf("oracle model: %w (or %q)", err, ModelForest)
	}
	p, err := surrogate.Fit(archs, y, surrogate.Options{Kind: kind, Space: space, SeqLen: t.SeqLen, Seed: seed})
	if err != nil {
		return nil, err
	}
	return predictorModel{p}, nil
}

// forestModel fits the logarithm of the measure, so its mean is exp of the
// predicted log-value (the median of a log-normal) and its standard
// deviation the first-order propagation value·std_log.
type forestModel struct {
	space  *arch.Space
	forest *Forest
}

func (m forestModel) predict(a arch.Architecture, t measure.Target) (float64, float64, error) {
	mu, sigma := m.forest.Predict(archFeatures(m.space, a, t.Batch, t.SeqLen))
	v := math.Exp(mu)
	return v, v * sigma, nil
}

// predictorModel adapts a fitted collector/surrogate Predictor.
type predictorModel struct{ p *surrogate.Predictor }

func (m predictorModel) predict(a arch.Architecture, _ measure.Target) (float64, float64, error) {
	return m.p.Predict(a)
}

// gbdtSurrogate adapts the collector/surrogate boosted-tree ensemble to the
// joint Surrogate interface.
type gbdtSurrogate struct {
	model surrogate.GBDT
	seed  uint64
}

// NewGBDTSurrogate returns the collector/surrogate gradient-boosted
// ensemble (its defaults) as a joint BOSHCODE model. It is more accurate
// than Forest on smooth targets but refits more slowly.
func NewGBDTSurrogate(seed uint64) Surrogate { return &gbdtSurrogate{seed: seed} }

func (g *gbdtSurrogate) Fit(x [][]float64, y []float64) error {
	g.model = surrogate.GBDT{}
	return g.model.Fit(x, y, rand.New(rand.NewPCG(g.seed, 0x6bd7)))
}

func (g *gbdtSurrogate) Predict(x []float64) (float64, float64) { return g.model.Predict(x) }

// JointModel returns the joint-surrogate constructor named name: "forest"
// (the default) or "gbdt".
func JointModel(name string) (func(seed uint64) Surrogate, error) {
	switch name {
	case "", ModelForest:
		return func(seed uint64) Surrogate { return NewForest(seed) }, nil
	case "gbdt":
		return NewGBDTSurrogate, nil
	}
	return nil, fmt.Errorf("joint model %q: want forest or gbdt", name)
}
