package bayes

import (
	"testing"

	"github.com/spate-ml/spate/core/ml"
)

func benchPrequential(b *testing.B, mk func() ml.Learner, xs []ml.Instance, ys []float64) {
	b.ReportAllocs()
	var p ml.Prediction
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		l := mk()
		for j, x := range xs {
			l.Predict(x, &p)
			l.Learn(x, ys[j])
		}
	}
	reportRates(b, len(xs), cpu0)
}

func BenchmarkGaussianNB(b *testing.B) {
	xs, cls, _ := benchStream(benchRows())
	benchPrequential(b, func() ml.Learner { g, _ := NewGaussian(2, 10); return g }, xs, cls)
}

func BenchmarkMultinomialNB(b *testing.B) {
	xs, cls, _ := benchStream(benchRows())
	benchPrequential(b, func() ml.Learner {
		m, _ := NewMultinomial(MultinomialParams{NClasses: 2, Alpha: 1}, 10)
		return m
	}, xs, cls)
}
