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
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		h, _ := NewHST(HSTParams{NTrees: 20, Height: 12, WindowSize: 50, Seed: 1}, 10)
		for _, x := range xs {
			h.Predict(x, &p)
			h.Learn(x, 0)
		}
	}
	reportRates(b, len(xs), cpu0)
}
