// Package mltest holds the conformance check every online learner passes:
// the ml.Learner protocol's promises about deterministic encoding, decoding,
// cloning and lockstep learning, in one place for every model family's
// tests.
package mltest

import (
	"bytes"
	"math"
	"testing"

	"github.com/spate-ml/spate/core/ml"
)

// CheckLearner drives l over the stream (predict then learn), then checks
// the protocol: ml.Marshal / Registry.Unmarshal round-trip to identical
// bytes and predictions, the decoded copy keeps learning in lockstep, and
// Clone is deep (learning on the clone leaves the original's bytes alone).
func CheckLearner(t testing.TB, reg *ml.Registry, l ml.Learner, xs []ml.Instance, ys []float64) {
	t.Helper()
	half := len(xs) / 2
	var p ml.Prediction
	for i := 0; i < half; i++ {
		l.Predict(xs[i], &p)
		l.Learn(xs[i], ys[i])
	}
	b1, err := ml.Marshal(l)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	b1again, _ := ml.Marshal(l)
	if !bytes.Equal(b1, b1again) {
		t.Fatalf("two encodings of one state differ")
	}
	back, err := reg.Unmarshal(b1)
	if err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if back.Algorithm() != l.Algorithm() {
		t.Fatalf("algorithm %q after round trip, want %q", back.Algorithm(), l.Algorithm())
	}
	b2, err := ml.Marshal(back)
	if err != nil {
		t.Fatalf("marshal decoded: %v", err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatalf("round trip changed the encoding (%d vs %d bytes)", len(b1), len(b2))
	}
	if _, err := reg.Unmarshal(b1[:len(b1)-1]); err == nil {
		t.Fatalf("a truncated encoding decoded without error")
	}
	clone := l.Clone()
	var pa, pb, pc ml.Prediction
	for i := half; i < len(xs); i++ {
		l.Predict(xs[i], &pa)
		back.Predict(xs[i], &pb)
		if !SamePrediction(pa, pb) {
			t.Fatalf("row %d: decoded learner predicts %+v, original %+v", i, pb, pa)
		}
		l.Learn(xs[i], ys[i])
		back.Learn(xs[i], ys[i])
	}
	b3, _ := ml.Marshal(l)
	b4, _ := ml.Marshal(back)
	if !bytes.Equal(b3, b4) {
		t.Fatalf("original and decoded learners diverged after learning the same rows")
	}
	// The clone was taken at the half-way state: it must not have moved.
	b5, _ := ml.Marshal(clone)
	if !bytes.Equal(b1, b5) {
		t.Fatalf("Clone shares state with the original: learning on the original changed the clone")
	}
	for i := half; i < len(xs); i++ {
		clone.Predict(xs[i], &pc)
		clone.Learn(xs[i], ys[i])
	}
	b6, _ := ml.Marshal(clone)
	if !bytes.Equal(b3, b6) {
		t.Fatalf("clone learning the same rows ended in a different state")
	}
}

// SamePrediction reports whether two predictions are equal, NaN equal to
// NaN.
func SamePrediction(a, b ml.Prediction) bool {
	eq := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	if a.Class != b.Class || !eq(a.Score, b.Score) || len(a.Proba) != len(b.Proba) {
		return false
	}
	for i := range a.Proba {
		if !eq(a.Proba[i], b.Proba[i]) {
			return false
		}
	}
	return true
}
