package ensemble

import (
	"fmt"

	"github.com/spate-ml/spate/core/ml"
)

// InputSpec reports the widths of the base model and the ensemble's class
// count (ml.SpecReporter).
func (l *LevBag) InputSpec() ml.Spec {
	s, _ := ml.InputSpecOf(l.proto)
	s.NClasses = l.p.NClasses
	return s
}

// InputSpec reports the widths of the members and the ensemble's class
// count (ml.SpecReporter).
func (a *AdaBoost) InputSpec() ml.Spec {
	var s ml.Spec
	if len(a.members) > 0 {
		s, _ = ml.InputSpecOf(a.members[0])
	}
	s.NClasses = a.p.NClasses
	return s
}

// sameInputs checks that every model of an ensemble reports its spec and
// reads the same input widths as the first one: the ensemble hands each
// instance to all of them.
func sameInputs(what string, models []ml.Learner) error {
	var first ml.Spec
	for i, m := range models {
		s, ok := ml.InputSpecOf(m)
		if !ok {
			return fmt.Errorf("%s %d (%s) does not report its input spec", what, i, m.Algorithm())
		}
		if i == 0 {
			first = s
			continue
		}
		if s.NumNumeric != first.NumNumeric || s.NumCateg != first.NumCateg {
			return fmt.Errorf("%s %d reads %d numeric and %d categorical inputs, %s 0 reads %d and %d",
				what, i, s.NumNumeric, s.NumCateg, what, first.NumNumeric, first.NumCateg)
		}
	}
	return nil
}

// validate checks the decoded ensemble: the base model and every member
// read the same inputs, and each member has its drift detector.
func (l *LevBag) validate() error {
	if len(l.members) != l.p.NModels || len(l.detectors) != l.p.NModels {
		return fmt.Errorf("LeveragingBaggingClassifier: %d members and %d detectors for n_models %d", len(l.members), len(l.detectors), l.p.NModels)
	}
	if err := sameInputs("model", append([]ml.Learner{l.proto}, l.members...)); err != nil {
		return fmt.Errorf("LeveragingBaggingClassifier: base model and members: %w", err)
	}
	return nil
}

// validate checks the decoded ensemble: one pair of error weights per
// member, and every member reads the same inputs.
func (a *AdaBoost) validate() error {
	if len(a.members) != a.p.NModels || len(a.correct) != a.p.NModels || len(a.wrong) != a.p.NModels {
		return fmt.Errorf("AdaBoostClassifier: %d members for n_models %d", len(a.members), a.p.NModels)
	}
	if err := sameInputs("member", a.members); err != nil {
		return fmt.Errorf("AdaBoostClassifier: %w", err)
	}
	return nil
}
