package linear

import (
	"testing"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/mltest"
)

func BenchmarkLogisticRegression(b *testing.B) {
	xs, ys, _ := mltest.BenchStream(mltest.BenchRows())
	b.ReportAllocs()
	var p ml.Prediction
	b.ResetTimer()
	cpu0 := mltest.CPUSeconds()
	for i := 0; i < b.N; i++ {
		l, _ := NewLogReg(DefaultLogRegParams(), 10)
		for j, x := range xs {
			l.Predict(x, &p)
			l.Learn(x, ys[j])
		}
	}
	mltest.ReportRates(b, len(xs), cpu0)
}
