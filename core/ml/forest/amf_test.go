package forest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
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

func rowsToStream(rows [][]float64, nFeat int) ([]ml.Instance, []float64) {
	xs := make([]ml.Instance, len(rows))
	ys := make([]float64, len(rows))
	for i, r := range rows {
		xs[i] = ml.Instance{Numeric: r[:nFeat]}
		ys[i] = r[nFeat]
	}
	return xs, ys
}

func TestAMFClassifierMatchesRiver(t *testing.T) {
	cases := []struct {
		dataset  string
		n        int
		nFeat    int
		nClasses int
		seed     int64
	}{
		{"bananas", 2000, 2, 2, 1},
		{"phishing", 1250, 9, 2, 42},
		{"rbf", 1500, 5, 3, 7},
	}
	for _, tc := range cases {
		t.Run(tc.dataset, func(t *testing.T) {
			rows := mltest.RiverRun(t, "amf_river.py", "classifier", tc.dataset, strconv.Itoa(tc.n), strconv.FormatInt(tc.seed, 10))
			xs, ys := rowsToStream(rows, tc.nFeat)
			p := DefaultClassifierParams()
			p.NClasses, p.Seed = tc.nClasses, tc.seed
			m, err := NewClassifier(p, tc.nFeat)
			if err != nil {
				t.Fatal(err)
			}
			var pred ml.Prediction
			maxDiff, goodGo, goodRiver := 0.0, 0, 0
			for i, x := range xs {
				m.Predict(x, &pred)
				ref := rows[i][tc.nFeat+1:]
				refClass := 0
				for c := range ref {
					maxDiff = math.Max(maxDiff, math.Abs(ref[c]-pred.Proba[c]))
					if ref[c] > ref[refClass] {
						refClass = c
					}
				}
				if i > 0 && pred.Class == int(ys[i]) {
					goodGo++
				}
				if i > 0 && refClass == int(ys[i]) {
					goodRiver++
				}
				m.Learn(x, ys[i])
			}
			accGo := float64(goodGo) / float64(len(xs)-1)
			accRiver := float64(goodRiver) / float64(len(xs)-1)
			t.Logf("%s: accuracy Go %.4f River %.4f, max |proba diff| %.3g", tc.dataset, accGo, accRiver, maxDiff)
			if math.Abs(accGo-accRiver) > 0.005 {
				t.Errorf("accuracy %.4f differs from River's %.4f by more than 0.5 points", accGo, accRiver)
			}
			if maxDiff > 1e-9 {
				t.Errorf("max probability difference with River %.3g > 1e-9", maxDiff)
			}
		})
	}
}

func TestAMFRegressorMatchesRiver(t *testing.T) {
	rows := mltest.RiverRun(t, "amf_river.py", "regressor", "trump", "1000", "42")
	const nFeat = 6
	xs, ys := rowsToStream(rows, nFeat)
	p := DefaultRegressorParams()
	p.Seed = 42
	m, err := NewRegressor(p, nFeat)
	if err != nil {
		t.Fatal(err)
	}
	var pred ml.Prediction
	maxRel := 0.0
	for i, x := range xs {
		m.Predict(x, &pred)
		ref := rows[i][nFeat+1]
		maxRel = math.Max(maxRel, math.Abs(ref-pred.Score)/math.Max(1, math.Abs(ref)))
		m.Learn(x, ys[i])
	}
	t.Logf("trump: max relative prediction difference %.3g", maxRel)
	if maxRel > 1e-9 {
		t.Errorf("max relative prediction difference with River %.3g > 1e-9", maxRel)
	}
}

// synthStream is a small deterministic stream with a missing value now and
// then, for protocol checks.
func synthStream(n, nFeat int) ([]ml.Instance, []float64) {
	g := pyrand.New(5)
	xs := make([]ml.Instance, n)
	ys := make([]float64, n)
	for i := range xs {
		v := make([]float64, nFeat)
		s := 0.0
		for j := range v {
			v[j] = g.Random()
			s += v[j]
		}
		if i%17 == 3 {
			v[i%nFeat] = math.NaN()
		}
		xs[i] = ml.Instance{Numeric: v}
		if s > float64(nFeat)/2 {
			ys[i] = 1
		}
		if i%5 == 0 {
			ys[i] = 2
		}
	}
	return xs, ys
}

func TestProtocol(t *testing.T) {
	reg := registry()
	xs, ys := synthStream(600, 4)
	cases := []struct {
		name   string
		params string
		spec   ml.Spec
	}{
		{"AMFClassifier", `{"n_classes":3,"n_estimators":4,"seed":3}`, ml.Spec{NumNumeric: 4}},
		{"AMFClassifier", `{"n_classes":3,"use_aggregation":false,"split_pure":true}`, ml.Spec{NumNumeric: 4}},
		{"AMFRegressor", `{"n_estimators":3,"seed":9}`, ml.Spec{NumNumeric: 4}},
		{"AMFRegressor", `{"use_aggregation":false}`, ml.Spec{NumNumeric: 4}},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%s/%d", tc.name, i), func(t *testing.T) {
			l, err := reg.New(tc.name, json.RawMessage(tc.params), tc.spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			mltest.CheckLearner(t, reg, l, xs, ys)
		})
	}
}

func TestParamsRejected(t *testing.T) {
	reg := registry()
	cases := []struct {
		name, params string
		spec         ml.Spec
	}{
		{"AMFClassifier", `{"n_classes":2,"n_estimator":3}`, ml.Spec{NumNumeric: 2}},
		{"AMFClassifier", `{}`, ml.Spec{NumNumeric: 2}},
		{"AMFClassifier", `{"n_classes":2,"dirichlet":0}`, ml.Spec{NumNumeric: 2}},
		{"AMFRegressor", `{"n_estimators":0}`, ml.Spec{NumNumeric: 2}},
		{"AMFRegressor", `{}`, ml.Spec{}},
	}
	for _, tc := range cases {
		if _, err := reg.New(tc.name, json.RawMessage(tc.params), tc.spec, nil); err == nil {
			t.Errorf("%s %s: no error", tc.name, tc.params)
		}
	}
}

func TestPredictBeforeLearning(t *testing.T) {
	c, _ := NewClassifier(ClassifierParams{NClasses: 2, NEstimators: 2, Step: 1, UseAggregation: true, Dirichlet: 0.5}, 2)
	var p ml.Prediction
	c.Predict(ml.Instance{Numeric: []float64{0.1, 0.2}}, &p)
	if len(p.Proba) != 2 || p.Proba[0] != 0 || p.Proba[1] != 0 || p.Score != 0 {
		t.Fatalf("prediction before learning = %+v, want zeros", p)
	}
}

// TestLearnWithoutMatchingPredict checks the path reuse between Predict and
// Learn: learning a sample other than the one just predicted, or the same
// slice changed in place, ends in the state of a learner that never
// predicted.
func TestLearnWithoutMatchingPredict(t *testing.T) {
	xs, ys := synthStream(400, 4)
	reg := registry()
	for _, tc := range []struct{ name, params string }{
		{"AMFClassifier", `{"n_classes":3,"n_estimators":3,"seed":5}`},
		{"AMFRegressor", `{"n_estimators":3,"seed":5}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mk := func() ml.Learner {
				l, err := reg.New(tc.name, json.RawMessage(tc.params), ml.Spec{NumNumeric: 4, NClasses: 3}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			plain, mixed := mk(), mk()
			var p ml.Prediction
			buf := make([]float64, 4)
			for i, x := range xs {
				plain.Learn(x, ys[i])
				switch i % 3 {
				case 0: // predict another row
					mixed.Predict(xs[(i*7+1)%len(xs)], &p)
				case 1: // predict a buffer, then overwrite it in place
					copy(buf, xs[(i*5+2)%len(xs)].Numeric)
					mixed.Predict(ml.Instance{Numeric: buf}, &p)
					copy(buf, x.Numeric)
					mixed.Learn(ml.Instance{Numeric: buf}, ys[i])
					continue
				default: // the prequential pattern
					mixed.Predict(x, &p)
				}
				mixed.Learn(x, ys[i])
			}
			a, _ := ml.Marshal(plain)
			b, _ := ml.Marshal(mixed)
			if !bytes.Equal(a, b) {
				t.Fatal("predicting before learning changed what was learned")
			}
		})
	}
}

// TestStateVersion1Decodes checks that a state written before the weights
// were held as mantissa and exponent (version 1: River's log-weights)
// still decodes, predicts as the learner that wrote it and keeps learning.
func TestStateVersion1Decodes(t *testing.T) {
	xs, ys := synthStream(600, 4)
	reg := registry()
	cp := ClassifierParams{NClasses: 3, NEstimators: 3, Step: 1, UseAggregation: true, Dirichlet: 0.5, Seed: 2}
	c, _ := NewClassifier(cp, 4)
	r, _ := NewRegressor(RegressorParams{NEstimators: 3, Step: 1, UseAggregation: true, Seed: 2}, 4)
	for i := 0; i < 300; i++ {
		c.Learn(xs[i], ys[i])
		r.Learn(xs[i], ys[i])
	}
	for _, tc := range []struct {
		l  ml.Learner
		v1 []byte
	}{{c, c.marshal(1)}, {r, r.marshal(1)}} {
		name := tc.l.Algorithm()
		framed := append(binary.AppendUvarint(nil, uint64(len(name))), name...)
		back, err := reg.Unmarshal(append(framed, tc.v1...))
		if err != nil {
			t.Fatalf("%s: version 1 state: %v", tc.l.Algorithm(), err)
		}
		var pa, pb ml.Prediction
		for i := 300; i < 600; i++ {
			tc.l.Predict(xs[i], &pa)
			back.Predict(xs[i], &pb)
			for k := range pa.Proba {
				if math.Abs(pa.Proba[k]-pb.Proba[k]) > 1e-12 {
					t.Fatalf("%s row %d: proba %v after decoding version 1, want %v", tc.l.Algorithm(), i, pb.Proba, pa.Proba)
				}
			}
			if math.Abs(pa.Score-pb.Score) > 1e-12*math.Max(1, math.Abs(pa.Score)) {
				t.Fatalf("%s row %d: score %v after decoding version 1, want %v", tc.l.Algorithm(), i, pb.Score, pa.Score)
			}
			tc.l.Learn(xs[i], ys[i])
			back.Learn(xs[i], ys[i])
		}
	}
}

// TestSizeLimit checks that a forest whose first sample would allocate
// more than maxFirstLearnBytes is refused, whether configured or decoded.
func TestSizeLimit(t *testing.T) {
	if _, err := NewClassifier(ClassifierParams{NClasses: 2, NEstimators: 65536, Step: 1, Dirichlet: 0.5}, 4096); err == nil || !strings.Contains(err.Error(), "n_estimators 65536") {
		t.Fatalf("NewClassifier with 65536 trees over 4096 inputs: %v", err)
	}
	if _, err := NewRegressor(RegressorParams{NEstimators: 65536, Step: 1}, 4096); err == nil {
		t.Fatal("NewRegressor with 65536 trees over 4096 inputs: no error")
	}
	// A stored untrained forest claiming as many trees.
	c, err := NewClassifier(ClassifierParams{NClasses: 2, NEstimators: 10, Step: 1, Dirichlet: 0.5}, 4096)
	if err != nil {
		t.Fatal(err)
	}
	c.p.NEstimators = 65536
	name := c.Algorithm()
	framed := append(binary.AppendUvarint(nil, uint64(len(name))), name...)
	if _, err := registry().Unmarshal(append(framed, c.marshal(stateVersion)...)); err == nil {
		t.Fatal("a stored forest of 65536 trees over 4096 inputs decoded")
	}
}

// TestPathMemoExpectsLearn checks when a Predict warms the records for a
// Learn: only while each Predict has been followed by a Learn on its
// sample, so that a forest that only serves predictions does not pay for
// loads it never uses.
func TestPathMemoExpectsLearn(t *testing.T) {
	a, b := []float64{1, 2}, []float64{3, 4}
	for _, tc := range []struct {
		name string
		ops  string // p: Predict a, P: Predict b, l: Learn a
		want []bool // what each Predict reports, in order
	}{
		{"first predict", "p", []bool{false}},
		{"prequential", "plplpl", []bool{false, true, true}},
		{"predictions only", "plpppl", []bool{false, true, false, false}},
		{"learn of another sample", "plPlpl", []bool{false, true, false}},
		{"learn without predict", "plllp", []bool{false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m pathMemo
			var got []bool
			for _, op := range tc.ops {
				switch op {
				case 'p':
					got = append(got, m.predicted(a))
				case 'P':
					got = append(got, m.predicted(b))
				case 'l':
					m.matches(a)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Predict expected a Learn: got %v, want %v", got, tc.want)
			}
		})
	}
}
