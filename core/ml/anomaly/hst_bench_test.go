package anomaly

import (
	"testing"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/mltest"
)

func BenchmarkHST(b *testing.B) {
	xs, _, _ := mltest.BenchStream(mltest.BenchRows())
	b.ReportAllocs()
	var p ml.Prediction
	b.ResetTimer()
	cpu0 := mltest.CPUSeconds()
	for i := 0; i < b.N; i++ {
		h, _ := NewHST(HSTParams{NTrees: 20, Height: 12, WindowSize: 50, Seed: 1}, 10)
		for _, x := range xs {
			h.Predict(x, &p)
			h.Learn(x, 0)
		}
	}
	mltest.ReportRates(b, len(xs), cpu0)
}
