package ensemble

import (
	"encoding/json"
	"testing"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/mltest"
)

func benchEnsemble(b *testing.B, name string) {
	reg := registry()
	xs, ys, _ := mltest.BenchStream(mltest.BenchRows())
	spec := ml.Spec{NumNumeric: 10, NClasses: 2}
	b.ReportAllocs()
	var p ml.Prediction
	b.ResetTimer()
	cpu0 := mltest.CPUSeconds()
	for i := 0; i < b.N; i++ {
		base, err := reg.New("HoeffdingTreeClassifier", json.RawMessage(riverHTC), spec, nil)
		if err != nil {
			b.Fatal(err)
		}
		l, err := reg.New(name, nil, spec, []ml.Learner{base})
		if err != nil {
			b.Fatal(err)
		}
		for j, x := range xs {
			l.Predict(x, &p)
			l.Learn(x, ys[j])
		}
	}
	mltest.ReportRates(b, len(xs), cpu0)
}

func BenchmarkLeveragingBaggingClassifier(b *testing.B) {
	benchEnsemble(b, "LeveragingBaggingClassifier")
}
func BenchmarkAdaBoostClassifier(b *testing.B) { benchEnsemble(b, "AdaBoostClassifier") }
