package ensemble

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/bayes"
	"github.com/spate-ml/spate/core/ml/internal/pyrand"
	"github.com/spate-ml/spate/core/ml/mltest"
	"github.com/spate-ml/spate/core/ml/tree"
)

func registry() *ml.Registry {
	r := ml.NewRegistry()
	Register(r)
	bayes.Register(r)
	tree.Register(r)
	return r
}

// riverHTC is River's HoeffdingTreeClassifier() defaults (TurboML's differ).
const riverHTC = `{"split_method":"info_gain","leaf_pred_method":"nba"}`

func TestMatchesRiver(t *testing.T) {
	cases := []struct {
		kind, base, dataset string
		n, nFeat, nClasses  int
		seed                int64
		method              string
		exact               bool // probabilities must match, not just accuracy
	}{
		{"levbag", "gnb", "phishing", 1000, 9, 2, 0, "bag", true},
		{"levbag", "gnb", "rbf", 600, 5, 3, 3, "wt", true},
		{"levbag", "gnb", "drift", 1500, 3, 2, 1, "subag", true},
		{"adaboost", "gnb", "rbf", 700, 5, 3, 2, "", true},
		{"levbag", "htc", "drift", 1500, 3, 2, 0, "bag", false},
		{"adaboost", "htc", "phishing", 800, 9, 2, 0, "", false},
	}
	reg := registry()
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%s/%s/%s", tc.kind, tc.base, tc.dataset, tc.method), func(t *testing.T) {
			args := []string{tc.kind, tc.base, tc.dataset, strconv.Itoa(tc.n), strconv.FormatInt(tc.seed, 10)}
			if tc.method != "" {
				args = append(args, tc.method)
			}
			rows := mltest.RiverRun(t, "ensemble_river.py", args...)
			spec := ml.Spec{NumNumeric: tc.nFeat, NClasses: tc.nClasses}
			var base ml.Learner
			var err error
			if tc.base == "gnb" {
				base, err = reg.New("GaussianNB", nil, spec, nil)
			} else {
				base, err = reg.New("HoeffdingTreeClassifier", json.RawMessage(riverHTC), spec, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			var l ml.Learner
			if tc.kind == "levbag" {
				l, err = reg.New("LeveragingBaggingClassifier", json.RawMessage(fmt.Sprintf(`{"seed":%d,"bagging_method":%q}`, tc.seed, tc.method)), spec, []ml.Learner{base})
			} else {
				l, err = reg.New("AdaBoostClassifier", json.RawMessage(fmt.Sprintf(`{"seed":%d}`, tc.seed)), spec, []ml.Learner{base})
			}
			if err != nil {
				t.Fatal(err)
			}
			var p ml.Prediction
			maxDiff, goodGo, goodRiver := 0.0, 0, 0
			for _, r := range rows {
				x := ml.Instance{Numeric: r[:tc.nFeat]}
				y := int(r[tc.nFeat])
				l.Predict(x, &p)
				ref := r[tc.nFeat+1:]
				rc := 0
				for c := range ref {
					maxDiff = math.Max(maxDiff, math.Abs(ref[c]-p.Proba[c]))
					if ref[c] > ref[rc] {
						rc = c
					}
				}
				if p.Class == y {
					goodGo++
				}
				if rc == y {
					goodRiver++
				}
				l.Learn(x, r[tc.nFeat])
			}
			if lb, ok := l.(*LevBag); ok && tc.dataset == "drift" && tc.exact {
				t.Logf("members reset after drift: %d", lb.NDetections())
				if lb.NDetections() == 0 {
					t.Errorf("no drift detected on the drifting stream: the reset path went untested")
				}
			}
			accGo, accRiver := float64(goodGo)/float64(len(rows)), float64(goodRiver)/float64(len(rows))
			t.Logf("accuracy Go %.4f River %.4f, max |proba diff| %.3g", accGo, accRiver, maxDiff)
			if math.Abs(accGo-accRiver) > 0.005 {
				t.Errorf("accuracy %.4f differs from River's %.4f by more than 0.5 points", accGo, accRiver)
			}
			if tc.exact && maxDiff > 1e-9 {
				t.Errorf("max probability difference with River %.3g > 1e-9", maxDiff)
			}
		})
	}
}

func TestProtocol(t *testing.T) {
	reg := registry()
	n := 500
	xs := make([]ml.Instance, n)
	ys := make([]float64, n)
	g := pyrand.New(4)
	for i := range xs {
		v := []float64{g.Random(), g.Random(), g.Random()}
		xs[i] = ml.Instance{Numeric: v}
		if v[0]+v[1] > 1 || (i > 250 && v[2] > 0.5) {
			ys[i] = 1
		}
	}
	spec := ml.Spec{NumNumeric: 3, NClasses: 2}
	cases := []struct{ name, params, base string }{
		{"LeveragingBaggingClassifier", `{"n_models":3}`, "GaussianNB"},
		{"LeveragingBaggingClassifier", `{"n_models":2,"bagging_method":"me"}`, "HoeffdingTreeClassifier"},
		{"LeveragingBaggingClassifier", `{"n_models":2,"bagging_method":"half"}`, "GaussianNB"},
		{"AdaBoostClassifier", `{"n_models":3,"seed":5}`, "HoeffdingTreeClassifier"},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%s/%d", tc.name, i), func(t *testing.T) {
			base, err := reg.New(tc.base, json.RawMessage(`{"grace_period":20}`), spec, nil)
			if tc.base == "GaussianNB" {
				base, err = reg.New(tc.base, nil, spec, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			l, err := reg.New(tc.name, json.RawMessage(tc.params), spec, []ml.Learner{base})
			if err != nil {
				t.Fatal(err)
			}
			mltest.CheckLearner(t, reg, l, xs, ys)
		})
	}
	base, _ := reg.New("GaussianNB", nil, spec, nil)
	for _, bad := range []string{`{"bagging_method":"boot"}`, `{"n_models":0}`, `{"w":0}`, `{"n_classes":1}`} {
		if _, err := reg.New("LeveragingBaggingClassifier", json.RawMessage(bad), spec, []ml.Learner{base}); err == nil {
			t.Errorf("params %s accepted", bad)
		}
	}
	if _, err := reg.New("AdaBoostClassifier", nil, spec, nil); err == nil {
		t.Error("AdaBoostClassifier without base model accepted")
	}
}
