package tree

import (
	"encoding/json"
	"fmt"

	"github.com/spate-ml/spate/core/ml"
)

// registerMore adds the algorithms beyond HoeffdingTreeClassifier.
func registerMore(r *ml.Registry) {
	r.Add("HoeffdingAdaptiveTreeClassifier", ml.Entry{
		Kind: ml.Classifier,
		New: func(params json.RawMessage, spec ml.Spec, _ []ml.Learner) (ml.Learner, error) {
			p := DefaultClassifierParams()
			if err := decodeParams(params, &p); err != nil {
				return nil, fmt.Errorf("HoeffdingAdaptiveTreeClassifier: %w", err)
			}
			t, err := NewHoeffdingAdaptiveTreeClassifier(p, spec)
			if err != nil {
				return nil, fmt.Errorf("HoeffdingAdaptiveTreeClassifier: %w", err)
			}
			return t, nil
		},
		Decode: func(data []byte) (ml.Learner, error) {
			t, err := decodeHAT(data)
			if err != nil {
				return nil, fmt.Errorf("HoeffdingAdaptiveTreeClassifier: %w", err)
			}
			return t, nil
		},
	})
	r.Add("HoeffdingTreeRegressor", ml.Entry{
		Kind: ml.Regressor,
		New: func(params json.RawMessage, spec ml.Spec, _ []ml.Learner) (ml.Learner, error) {
			p := DefaultRegressorParams()
			if err := decodeParams(params, &p); err != nil {
				return nil, fmt.Errorf("HoeffdingTreeRegressor: %w", err)
			}
			t, err := NewHoeffdingTreeRegressor(p, spec)
			if err != nil {
				return nil, fmt.Errorf("HoeffdingTreeRegressor: %w", err)
			}
			return t, nil
		},
		Decode: func(data []byte) (ml.Learner, error) {
			t, err := decodeHTR(data)
			if err != nil {
				return nil, fmt.Errorf("HoeffdingTreeRegressor: %w", err)
			}
			return t, nil
		},
	})
}
