package linear

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/mltest"
)

func registry() *ml.Registry {
	r := ml.NewRegistry()
	Register(r)
	return r
}

func TestMatchesRiver(t *testing.T) {
	cases := []struct {
		dataset string
		n, nF   int
		l2      float64
	}{
		{"phishing", 1250, 9, 0},
		{"bananas", 3000, 2, 0},
		{"hyperplane", 3000, 8, 0.001},
	}
	for _, tc := range cases {
		t.Run(tc.dataset, func(t *testing.T) {
			rows := mltest.RiverRun(t, "logreg_river.py", tc.dataset, strconv.Itoa(tc.n), strconv.FormatFloat(tc.l2, 'g', -1, 64))
			p := DefaultLogRegParams()
			p.L2 = tc.l2
			m, err := NewLogReg(p, tc.nF)
			if err != nil {
				t.Fatal(err)
			}
			var pred ml.Prediction
			maxDiff := 0.0
			for _, r := range rows {
				x := ml.Instance{Numeric: r[:tc.nF]}
				m.Predict(x, &pred)
				maxDiff = math.Max(maxDiff, math.Abs(pred.Proba[1]-r[tc.nF+2]))
				m.Learn(x, r[tc.nF])
			}
			t.Logf("%s: max |P(true) diff| with River %.3g", tc.dataset, maxDiff)
			if maxDiff > 1e-9 {
				t.Errorf("max probability difference with River %.3g > 1e-9", maxDiff)
			}
		})
	}
}

func TestProtocol(t *testing.T) {
	reg := registry()
	n := 400
	xs := make([]ml.Instance, n)
	ys := make([]float64, n)
	for i := range xs {
		v := []float64{float64(i%7) / 3, float64((i*5)%11) - 4, 2}
		if i%13 == 2 {
			v[1] = math.NaN()
		}
		xs[i] = ml.Instance{Numeric: v}
		if v[0] > 1 {
			ys[i] = 1
		}
	}
	for _, params := range []string{`{}`, `{"lr":0.1,"l2":0.01,"intercept_lr":0}`} {
		l, err := reg.New("LogisticRegression", json.RawMessage(params), ml.Spec{NumNumeric: 3, NClasses: 2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		mltest.CheckLearner(t, reg, l, xs, ys)
	}
	for _, bad := range []string{`{"n_classes":3}`, `{"lr":0}`, `{"learning_rate":0.1}`} {
		if _, err := reg.New("LogisticRegression", json.RawMessage(bad), ml.Spec{NumNumeric: 3}, nil); err == nil {
			t.Errorf("params %s accepted", bad)
		}
	}
}
