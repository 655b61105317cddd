package preprocess

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/anomaly"
	"github.com/spate-ml/spate/core/ml/forest"
	"github.com/spate-ml/spate/core/ml/mltest"
)

// recorder is a base model that remembers the last instance it learnt and
// predicts the sum of what it learnt so far.
type recorder struct {
	last ml.Instance
	sum  float64
}

func (r *recorder) Algorithm() string { return "Recorder" }
func (r *recorder) Learn(x ml.Instance, y float64) {
	r.last = ml.Instance{Numeric: slices.Clone(x.Numeric), Categ: slices.Clone(x.Categ)}
	for _, v := range x.Numeric {
		if v == v {
			r.sum += v
		}
	}
}
func (r *recorder) Predict(x ml.Instance, dst *ml.Prediction) { dst.Score = r.sum }
func (r *recorder) MarshalBinary() ([]byte, error) {
	return binary.LittleEndian.AppendUint64(nil, math.Float64bits(r.sum)), nil
}
func (r *recorder) Clone() ml.Learner { c := *r; return &c }

func registry() *ml.Registry {
	r := ml.NewRegistry()
	Register(r)
	anomaly.Register(r)
	forest.Register(r)
	r.Add("Recorder", ml.Entry{Kind: ml.Regressor,
		New: func(json.RawMessage, ml.Spec, []ml.Learner) (ml.Learner, error) { return &recorder{}, nil },
		Decode: func(b []byte) (ml.Learner, error) {
			if len(b) != 8 {
				return nil, errors.New("recorder: bad state")
			}
			return &recorder{sum: math.Float64frombits(binary.LittleEndian.Uint64(b))}, nil
		}})
	return r
}

func TestTransforms(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name   string
		params string
		spec   ml.Spec
		learn  []ml.Instance
		want   ml.Instance // what the base model learns last
	}{
		{MinMax, `{}`, ml.Spec{NumNumeric: 2, NumCateg: 1},
			[]ml.Instance{{Numeric: []float64{1, 5}, Categ: []int64{3}}, {Numeric: []float64{3, 5}, Categ: []int64{1}}, {Numeric: []float64{2, nan}, Categ: []int64{2}}},
			ml.Instance{Numeric: []float64{0.5, nan}, Categ: []int64{2}}},
		{Normal, `{}`, ml.Spec{NumNumeric: 2},
			[]ml.Instance{{Numeric: []float64{1, 4}}, {Numeric: []float64{3, 4}}},
			ml.Instance{Numeric: []float64{1, 0}}},
		{OneHot, `{"text_categories":[3,2]}`, ml.Spec{NumNumeric: 1, NumCateg: 2},
			[]ml.Instance{{Numeric: []float64{7}, Categ: []int64{2, 5}}},
			ml.Instance{Numeric: []float64{7, 0, 0, 1, 0, 0}}},
		{OneHot, `{"text_categories":[2]}`, ml.Spec{NumNumeric: 0, NumCateg: 1},
			[]ml.Instance{{Numeric: []float64{}, Categ: []int64{0}}},
			ml.Instance{Numeric: []float64{1, 0}}},
	}
	reg := registry()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			l, err := reg.New(tc.name, json.RawMessage(tc.params), tc.spec, []ml.Learner{rec})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range tc.learn {
				l.Learn(x, 0)
			}
			eq := func(a, b []float64) bool {
				return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || (x != x && y != y) })
			}
			if !eq(rec.last.Numeric, tc.want.Numeric) || !slices.Equal(rec.last.Categ, tc.want.Categ) {
				t.Fatalf("base model learnt %+v, want %+v", rec.last, tc.want)
			}
			child, ok, err := ChildSpec(tc.name, json.RawMessage(tc.params), tc.spec)
			if !ok || err != nil || child.NumNumeric != len(tc.want.Numeric) || child.NumCateg != len(tc.want.Categ) {
				t.Fatalf("ChildSpec = %+v, %v, %v; base model got %d numeric, %d categorical", child, ok, err, len(tc.want.Numeric), len(tc.want.Categ))
			}
		})
	}
}

func TestParams(t *testing.T) {
	reg := registry()
	cases := []struct {
		name, params string
		spec         ml.Spec
	}{
		{OneHot, `{}`, ml.Spec{NumNumeric: 1, NumCateg: 1}},
		{OneHot, `{"text_categories":[0]}`, ml.Spec{NumNumeric: 1, NumCateg: 1}},
		{MinMax, `{"bogus":1}`, ml.Spec{NumNumeric: 1}},
	}
	for _, tc := range cases {
		if _, err := reg.New(tc.name, json.RawMessage(tc.params), tc.spec, []ml.Learner{&recorder{}}); err == nil {
			t.Errorf("%s %s accepted", tc.name, tc.params)
		}
	}
	if _, err := reg.New(MinMax, nil, ml.Spec{NumNumeric: 1}, nil); err == nil {
		t.Error("preprocessor without base model accepted")
	}
	if _, ok, _ := ChildSpec("HST", nil, ml.Spec{}); ok {
		t.Error("ChildSpec claims HST")
	}
}

func TestMatchesRiverPipelines(t *testing.T) {
	reg := registry()
	cases := []struct {
		kind, pre, base, baseParams string
		spec                        ml.Spec
	}{
		{"minmax_hst", MinMax, "HST", `{"n_trees":10,"height":8,"window_size":100,"seed":5}`, ml.Spec{NumNumeric: 4}},
		{"standard_amf", Normal, "AMFClassifier", `{"n_classes":2,"n_estimators":5,"seed":3}`, ml.Spec{NumNumeric: 4, NClasses: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			rows := mltest.RiverRun(t, "pipeline_river.py", tc.kind, "2000")
			base, err := reg.New(tc.base, json.RawMessage(tc.baseParams), tc.spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			l, err := reg.New(tc.pre, nil, tc.spec, []ml.Learner{base})
			if err != nil {
				t.Fatal(err)
			}
			var p ml.Prediction
			maxDiff := 0.0
			for _, r := range rows {
				x := ml.Instance{Numeric: r[:4]}
				l.Predict(x, &p)
				if tc.kind == "minmax_hst" {
					maxDiff = math.Max(maxDiff, math.Abs(p.Score-r[5]))
				} else {
					maxDiff = math.Max(maxDiff, math.Abs(p.Proba[1]-r[6]))
				}
				l.Learn(x, r[4])
			}
			t.Logf("%s: max prediction difference with River %.3g", tc.kind, maxDiff)
			if maxDiff > 1e-9 {
				t.Errorf("max prediction difference with River %.3g > 1e-9", maxDiff)
			}
		})
	}
}

func TestProtocol(t *testing.T) {
	reg := registry()
	n := 300
	xs := make([]ml.Instance, n)
	ys := make([]float64, n)
	for i := range xs {
		xs[i] = ml.Instance{Numeric: []float64{float64(i%9) * 3, float64(i % 4)}, Categ: []int64{int64(i % 3)}}
		if i%10 == 3 {
			xs[i].Numeric[0] = math.NaN()
		}
		ys[i] = float64(i % 2)
	}
	cases := []struct{ name, params string }{{MinMax, `{}`}, {Normal, `{}`}, {OneHot, `{"text_categories":[3]}`}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := ml.Spec{NumNumeric: 2, NumCateg: 1, NClasses: 2}
			cs, _, err := ChildSpec(tc.name, json.RawMessage(tc.params), spec)
			if err != nil {
				t.Fatal(err)
			}
			base, err := reg.New("AMFClassifier", json.RawMessage(`{"n_estimators":2}`), cs, nil)
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
}
