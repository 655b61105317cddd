package bayes

import (
	"encoding/json"
	"fmt"
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
		algo, kind, dataset string
		n, nFeat, nClasses  int
	}{
		{"GaussianNB", "gaussian", "phishing", 1250, 9, 2},
		{"GaussianNB", "gaussian", "rbf", 2000, 5, 3},
		{"MultinomialNB", "multinomial", "counts", 2000, 9, 3},
	}
	reg := registry()
	for _, tc := range cases {
		t.Run(tc.algo+"/"+tc.dataset, func(t *testing.T) {
			rows := mltest.RiverRun(t, "nb_river.py", tc.kind, tc.dataset, strconv.Itoa(tc.n))
			l, err := reg.New(tc.algo, json.RawMessage(fmt.Sprintf(`{"n_classes":%d}`, tc.nClasses)), ml.Spec{NumNumeric: tc.nFeat}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var p ml.Prediction
			maxDiff, agree := 0.0, 0
			for _, r := range rows {
				x := ml.Instance{Numeric: r[:tc.nFeat]}
				l.Predict(x, &p)
				ref := r[tc.nFeat+1:]
				refClass := 0
				for c := range ref {
					maxDiff = math.Max(maxDiff, math.Abs(ref[c]-p.Proba[c]))
					if ref[c] > ref[refClass] {
						refClass = c
					}
				}
				if refClass == p.Class {
					agree++
				}
				l.Learn(x, r[tc.nFeat])
			}
			t.Logf("%s on %s: max |proba diff| %.3g, same class on %d/%d rows", tc.algo, tc.dataset, maxDiff, agree, len(rows))
			if maxDiff > 1e-9 {
				t.Errorf("max probability difference with River %.3g > 1e-9", maxDiff)
			}
		})
	}
}

func stream(n int) ([]ml.Instance, []float64) {
	xs := make([]ml.Instance, n)
	ys := make([]float64, n)
	for i := range xs {
		c := i % 3
		v := []float64{float64((i * 7) % 5), float64(c * 2), float64((i * 13) % 4), 1}
		if i%11 == 4 {
			v[2] = math.NaN()
		}
		xs[i] = ml.Instance{Numeric: v}
		ys[i] = float64(c)
	}
	return xs, ys
}

func TestProtocol(t *testing.T) {
	reg := registry()
	xs, ys := stream(300)
	for _, name := range []string{"GaussianNB", "MultinomialNB"} {
		t.Run(name, func(t *testing.T) {
			l, err := reg.New(name, json.RawMessage(`{"n_classes":4}`), ml.Spec{NumNumeric: 4}, nil)
			if err != nil {
				t.Fatal(err)
			}
			mltest.CheckLearner(t, reg, l, xs, ys)
			var p ml.Prediction
			l.Predict(xs[1], &p)
			sum := 0.0
			for _, v := range p.Proba {
				sum += v
			}
			if math.Abs(sum-1) > 1e-12 || p.Proba[3] != 0 {
				t.Fatalf("probabilities %v: want a distribution with 0 for the unseen class", p.Proba)
			}
		})
	}
}

func TestParams(t *testing.T) {
	reg := registry()
	cases := []struct {
		name, params string
		spec         ml.Spec
		ok           bool
	}{
		{"GaussianNB", `{}`, ml.Spec{NumNumeric: 2, NClasses: 2}, true},
		{"GaussianNB", `{}`, ml.Spec{NumNumeric: 2}, false},
		{"GaussianNB", `{"n_classes":2,"alpha":1}`, ml.Spec{NumNumeric: 2}, false},
		{"MultinomialNB", `{"n_classes":2,"alpha":0.5}`, ml.Spec{NumNumeric: 2}, true},
		{"MultinomialNB", `{"n_classes":2,"alpha":-1}`, ml.Spec{NumNumeric: 2}, false},
	}
	for _, tc := range cases {
		_, err := reg.New(tc.name, json.RawMessage(tc.params), tc.spec, nil)
		if (err == nil) != tc.ok {
			t.Errorf("%s %s: err %v, want ok=%v", tc.name, tc.params, err, tc.ok)
		}
	}
}
