// Package classpred owns the classifier side of ml.Prediction that the online
// classifiers share: sizing Proba in place and deriving Class and Score
// from it as the ml.Prediction contract describes.
package classpred

import "github.com/spate-ml/spate/core/ml"

// ResetProba makes dst.Proba n zeros, reusing its storage, and returns it.
func ResetProba(dst *ml.Prediction, n int) []float64 {
	if cap(dst.Proba) >= n {
		dst.Proba = dst.Proba[:n]
	} else {
		dst.Proba = make([]float64, n)
	}
	clear(dst.Proba)
	return dst.Proba
}

// Finish sets Class to the most probable class (the smallest index on
// ties) and Score to the probability of class 1 for binary problems, of
// Class otherwise (0 when Proba is empty).
func Finish(dst *ml.Prediction) {
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
