package forest

import (
	"testing"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/mltest"
)

// benchPrequential times prequential passes (predict, then learn) of fresh
// learners over the stream and reports samples per second.
func benchPrequential(b *testing.B, mk func() ml.Learner, xs []ml.Instance, ys []float64) {
	b.ReportAllocs()
	var p ml.Prediction
	b.ResetTimer()
	cpu0 := mltest.CPUSeconds()
	for i := 0; i < b.N; i++ {
		l := mk()
		for j, x := range xs {
			l.Predict(x, &p)
			l.Learn(x, ys[j])
		}
	}
	mltest.ReportRates(b, len(xs), cpu0)
}

func BenchmarkAMFClassifier(b *testing.B) {
	xs, cls, _ := mltest.BenchStream(mltest.BenchRows())
	benchPrequential(b, func() ml.Learner {
		p := DefaultClassifierParams()
		p.NClasses, p.Seed = 2, 1
		c, _ := NewClassifier(p, 10)
		return c
	}, xs, cls)
}

func BenchmarkAMFRegressor(b *testing.B) {
	xs, _, reg := mltest.BenchStream(mltest.BenchRows())
	benchPrequential(b, func() ml.Learner {
		p := DefaultRegressorParams()
		p.Seed = 1
		r, _ := NewRegressor(p, 10)
		return r
	}, xs, reg)
}
