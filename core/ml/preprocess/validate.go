package preprocess

import (
	"fmt"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml"
)

// InputSpec reports the widths the preprocessor reads and the base model's
// class count (ml.SpecReporter).
func (pp *PreProcessor) InputSpec() ml.Spec {
	s := ml.Spec{NumNumeric: pp.nNum, NumCateg: pp.nCateg}
	if pp.base != nil {
		b, _ := ml.InputSpecOf(pp.base)
		s.NClasses = b.NClasses
	}
	return s
}

// checkHeader checks the input widths read from a state header (after d's
// first error, if any).
func checkHeader(d *wire.Decoder, nNum, nCateg uint64) error {
	switch {
	case d.Err() != nil:
		return d.Err()
	case nNum > ml.MaxInputs || nCateg > ml.MaxInputs:
		return fmt.Errorf("input widths %d numeric, %d categorical over %d", nNum, nCateg, ml.MaxInputs)
	}
	return nil
}

// validate checks that the decoded base model fits what the preprocessor
// hands it: the same widths for MinMax and Normal, the numeric inputs
// followed by one column per category and no categorical input for
// OneHot.
func (pp *PreProcessor) validate() error {
	s, ok := ml.InputSpecOf(pp.base)
	if !ok {
		return fmt.Errorf("%s: base model %s does not report its input spec", pp.name, pp.base.Algorithm())
	}
	want := ml.Spec{NumNumeric: len(pp.out.Numeric), NumCateg: len(pp.out.Categ)}
	if !s.Fits(want) {
		return fmt.Errorf("%s: base model %s reads %d numeric and %d categorical inputs, the preprocessor gives %d and %d",
			pp.name, pp.base.Algorithm(), s.NumNumeric, s.NumCateg, want.NumNumeric, want.NumCateg)
	}
	return nil
}
