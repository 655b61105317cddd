package bayes

import (
	"testing"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/mltest"
)

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

func BenchmarkGaussianNB(b *testing.B) {
	xs, cls, _ := mltest.BenchStream(mltest.BenchRows())
	benchPrequential(b, func() ml.Learner { g, _ := NewGaussian(2, 10); return g }, xs, cls)
}

func BenchmarkMultinomialNB(b *testing.B) {
	xs, cls, _ := mltest.BenchStream(mltest.BenchRows())
	benchPrequential(b, func() ml.Learner {
		m, _ := NewMultinomial(MultinomialParams{NClasses: 2, Alpha: 1}, 10)
		return m
	}, xs, cls)
}
