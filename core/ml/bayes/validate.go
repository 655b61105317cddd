package bayes

import (
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml"
)

// InputSpec reports the width and class count the classifier was built for
// (ml.SpecReporter).
func (g *Gaussian) InputSpec() ml.Spec {
	return ml.Spec{NumNumeric: g.nFeat, NClasses: g.nClasses}
}

// InputSpec reports the width and class count the classifier was built for
// (ml.SpecReporter).
func (m *Multinomial) InputSpec() ml.Spec {
	return ml.Spec{NumNumeric: m.nFeat, NClasses: m.p.NClasses}
}

// checkHeader checks the class and feature counts read from a state
// header (after d's first error, if any).
func checkHeader(d *wire.Decoder, nClasses, nFeat uint64) (int, int, error) {
	switch {
	case d.Err() != nil:
		return 0, 0, d.Err()
	case nClasses < 2 || nClasses > 1<<16:
		return 0, 0, fmt.Errorf("n_classes %d out of range [2,%d]", nClasses, 1<<16)
	case nFeat > ml.MaxInputs:
		return 0, 0, fmt.Errorf("feature count %d out of range [0,%d]", nFeat, ml.MaxInputs)
	}
	return int(nClasses), int(nFeat), nil
}

// validate checks what Learn and Predict rely on: per-feature weights are
// finite and not negative.
func (g *Gaussian) validate() error {
	for k, n := range g.n {
		if !(n >= 0) || math.IsInf(n, 1) {
			return fmt.Errorf("class %d feature %d: weight %v must be finite and >= 0", k/max(g.nFeat, 1), k%max(g.nFeat, 1), n)
		}
	}
	return nil
}
