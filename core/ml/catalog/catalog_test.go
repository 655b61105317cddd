package catalog

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/mltest"
)

func configs(t *testing.T, s string) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("bad test configs %s: %v", s, err)
	}
	return out
}

// stream is a small classification stream with numeric, categorical and
// missing values, its labels in {0, 1, 2}.
func stream(n int) ([]ml.Instance, []float64) {
	xs := make([]ml.Instance, n)
	ys := make([]float64, n)
	s := uint64(88172645463325252)
	next := func() float64 {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		return float64(s>>11) / (1 << 53)
	}
	for i := range xs {
		v := []float64{next(), next(), next()}
		c := int64(i % 4)
		if i%29 == 11 {
			v[1] = math.NaN()
		}
		xs[i] = ml.Instance{Numeric: v, Categ: []int64{c}}
		switch {
		case v[0]+float64(c)/4 > 1.2:
			ys[i] = 2
		case v[2] > 0.5:
			ys[i] = 1
		}
	}
	return xs, ys
}

// Every algorithm of the catalog, built from TurboML-style configs.
var allAlgorithms = []struct {
	algorithm string // the entry exercised (the first config's)
	configs   string
	nClasses  int
}{
	{"HoeffdingTreeClassifier", `[{"algorithm":"HoeffdingTreeClassifier","n_classes":3,"grace_period":50}]`, 3},
	{"HoeffdingAdaptiveTreeClassifier", `[{"algorithm":"HoeffdingAdaptiveTreeClassifier","n_classes":3,"grace_period":50}]`, 3},
	{"HoeffdingTreeRegressor", `[{"algorithm":"HoeffdingTreeRegressor","grace_period":50}]`, 0},
	{"AMFClassifier", `[{"algorithm":"AMFClassifier","n_classes":3,"n_estimators":3}]`, 3},
	{"AMFRegressor", `[{"algorithm":"AMFRegressor","n_estimators":3}]`, 0},
	{"GaussianNB", `[{"algorithm":"GaussianNB","n_classes":3}]`, 3},
	{"MultinomialNB", `[{"algorithm":"MultinomialNB","n_classes":3,"alpha":0.5}]`, 3},
	{"LogisticRegression", `[{"algorithm":"LogisticRegression","lr":0.05}]`, 2},
	{"HST", `[{"algorithm":"HST","n_trees":4,"height":6,"window_size":30}]`, 0},
	{"LeveragingBaggingClassifier", `[{"algorithm":"LeveragingBaggingClassifier","n_classes":3,"n_models":3,"w":6,"bagging_method":"bag","seed":0,"num_children":1},{"algorithm":"HoeffdingTreeClassifier","n_classes":3,"grace_period":30}]`, 3},
	{"AdaBoostClassifier", `[{"algorithm":"AdaBoostClassifier","n_classes":3,"n_models":3,"seed":1,"num_children":1},{"algorithm":"GaussianNB","n_classes":3}]`, 3},
	{"MinMaxPreProcessor", `[{"algorithm":"PreProcessor","preprocessor_name":"MinMax","num_children":1,"text_categories":[],"image_sizes":[64,64,1],"channel_first":false,"gguf_model_id":null,"max_tokens_per_input":512},{"algorithm":"HST","n_trees":3,"height":5,"window_size":40}]`, 0},
	{"NormalPreProcessor", `[{"algorithm":"PreProcessor","preprocessor_name":"Normal","num_children":1},{"algorithm":"AMFClassifier","n_classes":3,"n_estimators":2}]`, 3},
	{"OneHotPreProcessor", `[{"algorithm":"PreProcessor","preprocessor_name":"OneHot","num_children":1,"text_categories":[4]},{"algorithm":"LeveragingBaggingClassifier","n_classes":3,"n_models":2,"num_children":1},{"algorithm":"GaussianNB"}]`, 3},
}

func TestEveryAlgorithm(t *testing.T) {
	reg := New()
	covered := map[string]bool{}
	xs, ys := stream(500)
	for _, tc := range allAlgorithms {
		covered[tc.algorithm] = true
		t.Run(tc.algorithm, func(t *testing.T) {
			l, err := Build(reg, configs(t, tc.configs), ml.Spec{NumNumeric: 3, NumCateg: 1})
			if err != nil {
				t.Fatal(err)
			}
			if l.Algorithm() != tc.algorithm {
				t.Fatalf("built %s, want %s", l.Algorithm(), tc.algorithm)
			}
			labels := ys
			if tc.nClasses == 2 {
				labels = make([]float64, len(ys))
				for i, y := range ys {
					labels[i] = math.Min(y, 1)
				}
			}
			mltest.CheckLearner(t, reg, l, xs, labels)
			var p ml.Prediction
			l.Predict(xs[0], &p)
			if tc.nClasses > 0 {
				sum := 0.0
				for _, v := range p.Proba {
					sum += v
				}
				if len(p.Proba) != tc.nClasses || math.Abs(sum-1) > 1e-9 {
					t.Fatalf("after learning, proba %v: want %d probabilities summing to 1", p.Proba, tc.nClasses)
				}
			} else if math.IsNaN(p.Score) || math.IsInf(p.Score, 0) {
				t.Fatalf("score %v", p.Score)
			}
		})
	}
	for _, name := range reg.Names() {
		if !covered[name] {
			t.Errorf("algorithm %s has no case in allAlgorithms", name)
		}
	}
}

func TestSDKDumps(t *testing.T) {
	// Exactly what TurboML's SDK get_model_config() produces.
	reg := New()
	cases := []struct{ want, configs string }{
		{"LeveragingBaggingClassifier", `[{"n_models":10,"n_classes":2,"w":6.0,"bagging_method":"bag","seed":0,"num_children":1,"algorithm":"LeveragingBaggingClassifier"},{"n_classes":2,"delta":1e-07,"tau":0.05,"grace_period":200,"leaf_pred_method":"mc","split_method":"gini","algorithm":"HoeffdingTreeClassifier"}]`},
		{"MinMaxPreProcessor", `[{"num_children":1,"text_categories":[],"image_sizes":[64,64,1],"channel_first":false,"gguf_model_id":null,"max_tokens_per_input":512,"algorithm":"PreProcessor","preprocessor_name":"MinMax"},{"n_trees":20,"height":12,"window_size":50,"algorithm":"HST"}]`},
		{"AMFClassifier", `[{"n_classes":2,"n_estimators":10,"step":1.0,"use_aggregation":true,"dirichlet":0.5,"split_pure":false,"algorithm":"AMFClassifier"}]`},
		{"AMFRegressor", `[{"n_estimators":10,"step":1.0,"use_aggregation":true,"dirichlet":0.5,"algorithm":"AMFRegressor"}]`},
		{"MultinomialNB", `[{"n_classes":2,"alpha":1.0,"algorithm":"MultinomialNB"}]`},
		{"AdaBoostClassifier", `[{"n_models":10,"n_classes":2,"seed":0,"num_children":1,"algorithm":"AdaBoostClassifier"},{"n_classes":2,"algorithm":"GaussianNB"}]`},
	}
	xs, ys := stream(200)
	for _, tc := range cases {
		l, err := Build(reg, configs(t, tc.configs), ml.Spec{NumNumeric: 3, NumCateg: 1})
		if err != nil {
			t.Fatalf("%s: %v", tc.want, err)
		}
		if l.Algorithm() != tc.want {
			t.Fatalf("built %s, want %s", l.Algorithm(), tc.want)
		}
		var p ml.Prediction
		for i, x := range xs {
			l.Predict(x, &p)
			l.Learn(x, math.Min(ys[i], 1))
		}
	}
}

func TestNestedConfigs(t *testing.T) {
	// The camelCase form TurboML's server reports in process_config.
	reg := New()
	cfg := `[{"algorithm":"AdaBoostClassifier","adaboostClassifierConfig":{"nModels":2,"nClasses":2,"seed":3,"numChildren":1}},
	         {"algorithm":"HoeffdingTreeClassifier","hoeffdingClassifierConfig":{"delta":1e-7,"tau":0.05,"gracePeriod":100,"nClasses":2,"leafPredMethod":"mc","splitMethod":"gini"}}]`
	l, err := Build(reg, configs(t, cfg), ml.Spec{NumNumeric: 3})
	if err != nil {
		t.Fatal(err)
	}
	if l.Algorithm() != "AdaBoostClassifier" {
		t.Fatalf("built %s", l.Algorithm())
	}
}

func TestBuildErrors(t *testing.T) {
	reg := New()
	cases := []struct {
		name, configs string
		is            error
	}{
		{"empty", `[]`, ErrConfig},
		{"no algorithm", `[{"n_classes":2}]`, ErrConfig},
		{"unknown algorithm", `[{"algorithm":"SGTClassifier"}]`, ml.ErrUnknownAlgorithm},
		{"missing base model", `[{"algorithm":"AdaBoostClassifier","n_classes":2,"num_children":1}]`, ErrConfig},
		{"leftover config", `[{"algorithm":"GaussianNB","n_classes":2},{"algorithm":"HST"}]`, ErrConfig},
		{"children on a leaf model", `[{"algorithm":"GaussianNB","n_classes":2,"num_children":1},{"algorithm":"HST"}]`, ErrConfig},
		{"preprocessor without name", `[{"algorithm":"PreProcessor","num_children":1},{"algorithm":"HST"}]`, ErrConfig},
		{"unsupported preprocessor", `[{"algorithm":"PreProcessor","preprocessor_name":"Robust","num_children":1},{"algorithm":"HST"}]`, ml.ErrUnknownAlgorithm},
		{"bad parameter", `[{"algorithm":"HST","n_tree":3}]`, nil},
		{"one-hot without categories", `[{"algorithm":"PreProcessor","preprocessor_name":"OneHot","num_children":1},{"algorithm":"HST"}]`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(reg, configs(t, tc.configs), ml.Spec{NumNumeric: 2, NumCateg: 1})
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
		})
	}
}

func TestSnake(t *testing.T) {
	cases := map[string]string{"nClasses": "n_classes", "gracePeriod": "grace_period", "w": "w", "l1Weight": "l1_weight"}
	for in, want := range cases {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
