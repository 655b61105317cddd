package anomaly

import (
	"testing"

	"github.com/spate-ml/spate/core/ml"
)

func BenchmarkHST(b *testing.B) {
	xs, _, _ := benchStream(benchRows())
	b.ReportAllocs()
	var p ml.Prediction
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h, _ := NewHST(HSTParams{NTrees: 20, Height: 12, WindowSize: 50, Seed: 1}, 10)
		for _, x := range xs {
			h.Predict(x, &p)
			h.Learn(x, 0)
		}
	}
	b.ReportMetric(float64(len(xs))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
