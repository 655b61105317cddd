package anomaly

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/internal/pyrand"
	"github.com/spate-ml/spate/core/ml/mltest"
)

func registry() *ml.Registry {
	r := ml.NewRegistry()
	Register(r)
	return r
}

func TestHSTMatchesRiver(t *testing.T) {
	cases := []struct{ n, trees, height, window, seed int }{
		{1500, 20, 12, 50, 42},
		{2000, 10, 8, 250, 7},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.height), func(t *testing.T) {
			rows := mltest.RiverRun(t, "hst_river.py", strconv.Itoa(tc.n), strconv.Itoa(tc.trees), strconv.Itoa(tc.height), strconv.Itoa(tc.window), strconv.Itoa(tc.seed))
			h, err := NewHST(HSTParams{NTrees: tc.trees, Height: tc.height, WindowSize: tc.window, Seed: int64(tc.seed)}, 5)
			if err != nil {
				t.Fatal(err)
			}
			var p ml.Prediction
			maxDiff := 0.0
			for _, r := range rows {
				x := ml.Instance{Numeric: r[:5]}
				h.Predict(x, &p)
				maxDiff = math.Max(maxDiff, math.Abs(p.Score-r[5]))
				h.Learn(x, 0)
			}
			t.Logf("HST(%d trees, height %d, window %d): max |score diff| with River %.3g", tc.trees, tc.height, tc.window, maxDiff)
			if maxDiff > 1e-12 {
				t.Errorf("max score difference with River %.3g > 1e-12", maxDiff)
			}
		})
	}
}

func TestProtocol(t *testing.T) {
	reg := registry()
	n := 700
	xs := make([]ml.Instance, n)
	ys := make([]float64, n)
	g := pyrand.New(9)
	for i := range xs {
		v := []float64{g.Random(), g.Random() * 0.5, g.Random()}
		if i%23 == 5 {
			v[1] = math.NaN()
		}
		xs[i] = ml.Instance{Numeric: v}
	}
	for _, params := range []string{`{"n_trees":3,"height":5,"window_size":40,"seed":4}`, `{}`} {
		l, err := reg.New("HST", json.RawMessage(params), ml.Spec{NumNumeric: 3}, nil)
		if err != nil {
			t.Fatal(err)
		}
		mltest.CheckLearner(t, reg, l, xs, ys)
	}
	for _, bad := range []string{`{"height":0}`, `{"n_trees":0}`, `{"window":3}`} {
		if _, err := reg.New("HST", json.RawMessage(bad), ml.Spec{NumNumeric: 3}, nil); err == nil {
			t.Errorf("params %s accepted", bad)
		}
	}
}
