package tree

import (
	"testing"

	"github.com/spate-ml/spate/core/ml"
)

// benchStream pre-generates n rows of 10 numeric features.
func benchStream(n, nClasses int) ([]ml.Instance, []float64) {
	s := newSynth(42, 10, 0, nClasses)
	xs := make([]ml.Instance, n)
	ys := make([]float64, n)
	for i := range xs {
		ys[i] = s.next(&xs[i])
		xs[i].Numeric = append([]float64(nil), xs[i].Numeric...)
		xs[i].Categ = nil
	}
	return xs, ys
}

// benchPrequential measures one predict-then-learn step on a tree warmed
// up on 100k rows (so that it has split and runs in steady state).
func benchPrequential(b *testing.B, algo, params string) {
	const n = 1 << 16
	xs, ys := benchStream(n, 2)
	l := build(b, algo, params, ml.Spec{NumNumeric: 10, NClasses: 2})
	var p ml.Prediction
	for i := range 100_000 {
		l.Predict(xs[i%n], &p)
		l.Learn(xs[i%n], ys[i%n])
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		x := xs[i&(n-1)]
		l.Predict(x, &p)
		l.Learn(x, ys[i&(n-1)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkHTCPrequential(b *testing.B) {
	for _, tc := range []struct{ name, params string }{
		{"gini_mc", `{}`},
		{"info_gain_nb", `{"split_method":"info_gain","leaf_pred_method":"nb"}`},
		{"info_gain_nba", `{"split_method":"info_gain","leaf_pred_method":"nba"}`},
		{"hellinger_mc", `{"split_method":"hellinger"}`},
	} {
		b.Run(tc.name, func(b *testing.B) { benchPrequential(b, "HoeffdingTreeClassifier", tc.params) })
	}
}

func BenchmarkHATPrequential(b *testing.B) {
	benchPrequential(b, "HoeffdingAdaptiveTreeClassifier", `{"split_method":"info_gain","leaf_pred_method":"nba","seed":1}`)
}

// benchRegression measures the regressor on a noisy function of 10 numeric
// features.
func BenchmarkHTRPrequential(b *testing.B) {
	for _, lm := range []string{"mean", "model"} {
		b.Run(lm, func(b *testing.B) {
			const n = 1 << 16
			xs, _ := benchStream(n, 2)
			ys := make([]float64, n)
			for i, x := range xs {
				ys[i] = 3*x.Numeric[0] + x.Numeric[1]*x.Numeric[2] + 0.1*float64(i%7)
			}
			l := build(b, "HoeffdingTreeRegressor", `{"leaf_pred_method":"`+lm+`"}`, ml.Spec{NumNumeric: 10})
			var p ml.Prediction
			for i := range 100_000 {
				l.Predict(xs[i%n], &p)
				l.Learn(xs[i%n], ys[i%n])
			}
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				l.Predict(xs[i&(n-1)], &p)
				l.Learn(xs[i&(n-1)], ys[i&(n-1)])
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
