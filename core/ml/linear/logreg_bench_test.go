package linear

import (
	"testing"

	"github.com/spate-ml/spate/core/ml"
)

func BenchmarkLogisticRegression(b *testing.B) {
	xs, ys, _ := benchStream(benchRows())
	b.ReportAllocs()
	var p ml.Prediction
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		l, _ := NewLogReg(DefaultLogRegParams(), 10)
		for j, x := range xs {
			l.Predict(x, &p)
			l.Learn(x, ys[j])
		}
	}
	reportRates(b, len(xs), cpu0)
}
