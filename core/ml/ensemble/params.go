package ensemble

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spate-ml/spate/core/ml"
)

// decodeParams fills dst (already holding the defaults) from a JSON object,
// rejecting unknown keys so that a misspelt parameter is not silently
// ignored.
func decodeParams(algo string, params json.RawMessage, dst any) error {
	if len(bytes.TrimSpace(params)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%s params: %w", algo, err)
	}
	return nil
}

// resizeProba makes dst.Proba n zeros, reusing its storage.
func resizeProba(dst *ml.Prediction, n int) []float64 {
	if cap(dst.Proba) >= n {
		dst.Proba = dst.Proba[:n]
	} else {
		dst.Proba = make([]float64, n)
	}
	clear(dst.Proba)
	return dst.Proba
}

// finishClass sets Class to the most probable class (the smallest index on
// ties) and Score to the probability of class 1 for binary problems, of
// Class otherwise.
func finishClass(dst *ml.Prediction) {
	best := 0
	for i, p := range dst.Proba {
		if p > dst.Proba[best] {
			best = i
		}
	}
	dst.Class = best
	switch {
	case len(dst.Proba) == 2:
		dst.Score = dst.Proba[1]
	case len(dst.Proba) > 0:
		dst.Score = dst.Proba[best]
	default:
		dst.Score = 0
	}
}
