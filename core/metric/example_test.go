package metric_test

import (
	"fmt"

	"github.com/spate-ml/spate/core/metric"
)

// A model's windowed AUC over its last three labeled samples, recorded in
// a Series under each sample's number and read back from sample 2 on.
func Example() {
	auc, err := metric.New("WindowedAUC", 3)
	if err != nil {
		panic(err)
	}
	series := metric.NewSeries(0)
	samples := []struct {
		score float64
		label float64
	}{{0.9, 1}, {0.2, 0}, {0.6, 0}, {0.7, 1}, {0.1, 1}}
	for i, s := range samples {
		auc.Update(s.score, 0, s.label)
		if err := series.Append(int64(i), auc.Value()); err != nil {
			panic(err)
		}
	}
	for _, p := range series.Since(2, 0, nil) {
		fmt.Printf("%d %.3f\n", p.Index, p.Value)
	}
	// Output:
	// 2 1.000
	// 3 1.000
	// 4 0.500
}
