package tree

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/spate-ml/spate/core/ml"
)

// synth is a seeded stream: numeric features in [0,1), categorical codes,
// and a label that depends on both (with noise), so trees split.
type synth struct {
	rng        *rand.Rand
	nNum, nCat int
	nClasses   int
}

func newSynth(seed uint64, nNum, nCat, nClasses int) *synth {
	return &synth{rng: rand.New(rand.NewPCG(seed, 7)), nNum: nNum, nCat: nCat, nClasses: nClasses}
}

func (s *synth) next(x *ml.Instance) float64 {
	if len(x.Numeric) != s.nNum {
		x.Numeric = make([]float64, s.nNum)
		x.Categ = make([]int64, s.nCat)
	}
	for i := range x.Numeric {
		x.Numeric[i] = s.rng.Float64()
	}
	for i := range x.Categ {
		x.Categ[i] = int64(s.rng.IntN(4))
	}
	score := 0.0
	if s.nNum > 0 {
		score += x.Numeric[0]
	}
	if s.nNum > 1 {
		score += 0.5 * x.Numeric[1]
	}
	if s.nCat > 0 && x.Categ[0] == 2 {
		score += 0.6
	}
	if s.rng.Float64() < 0.05 {
		score = s.rng.Float64() * 2
	}
	c := int(score / 2.1 * float64(s.nClasses))
	return float64(min(c, s.nClasses-1))
}

func newRegistry() *ml.Registry {
	r := ml.NewRegistry()
	Register(r)
	return r
}

func build(t testing.TB, name, params string, spec ml.Spec) ml.Learner {
	t.Helper()
	l, err := newRegistry().New(name, json.RawMessage(params), spec, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", name, params, err)
	}
	return l
}

type learnerCase struct {
	name   string
	algo   string
	params string
	spec   ml.Spec
}

func classifierCases() []learnerCase {
	var out []learnerCase
	for _, sm := range []string{"gini", "info_gain", "hellinger"} {
		for _, lm := range []string{"mc", "nb", "nba"} {
			p := `{"split_method":"` + sm + `","leaf_pred_method":"` + lm + `","grace_period":50,"delta":1e-4}`
			out = append(out, learnerCase{"HTC/" + sm + "/" + lm, "HoeffdingTreeClassifier", p,
				ml.Spec{NumNumeric: 4, NumCateg: 2, NClasses: 3}})
		}
	}
	for _, lm := range []string{"mc", "nba"} {
		out = append(out, learnerCase{"HAT/" + lm, "HoeffdingAdaptiveTreeClassifier",
			`{"split_method":"info_gain","leaf_pred_method":"` + lm + `","grace_period":50,"delta":1e-4,"seed":7}`,
			ml.Spec{NumNumeric: 4, NumCateg: 2, NClasses: 3}})
	}
	return out
}

// TestClassifierLearnsAndRoundTrips checks, for every configuration, that
// the tree learns (beats the majority class, grows branches), that its
// encoding is deterministic and restores an identical learner, and that a
// clone evolves independently.
func TestClassifierLearnsAndRoundTrips(t *testing.T) {
	for _, tc := range classifierCases() {
		t.Run(tc.name, func(t *testing.T) {
			a := build(t, tc.algo, tc.params, tc.spec)
			b := build(t, tc.algo, tc.params, tc.spec)
			s1 := newSynth(1, tc.spec.NumNumeric, tc.spec.NumCateg, tc.spec.NClasses)
			s2 := newSynth(1, tc.spec.NumNumeric, tc.spec.NumCateg, tc.spec.NClasses)
			var x1, x2 ml.Instance
			var p ml.Prediction
			hits, counts := 0, make([]int, tc.spec.NClasses)
			const n = 6000
			for i := range n {
				y := s1.next(&x1)
				s2.next(&x2)
				a.Predict(x1, &p)
				if i >= n/2 {
					counts[int(y)]++
					if p.Class == int(y) {
						hits++
					}
				}
				sum := 0.0
				for _, q := range p.Proba {
					sum += q
				}
				if i > 0 && math.Abs(sum-1) > 1e-9 {
					t.Fatalf("row %d: probabilities sum to %v", i, sum)
				}
				a.Learn(x1, y)
				b.Learn(x2, y)
			}
			majority := 0
			for _, c := range counts {
				majority = max(majority, c)
			}
			if hits <= majority {
				t.Fatalf("accuracy %d/%d does not beat the majority class %d", hits, n/2, majority)
			}
			if st := a.(interface{ Stats() Stats }).Stats(); st.Branches == 0 {
				t.Fatalf("no split after %d rows: %+v", n, st)
			}
			ea, _ := a.MarshalBinary()
			eb, _ := b.MarshalBinary()
			if !bytes.Equal(ea, eb) {
				t.Fatal("same stream, different encodings")
			}
			full, err := ml.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			c, err := newRegistry().Unmarshal(full)
			if err != nil {
				t.Fatal(err)
			}
			ec, _ := c.MarshalBinary()
			if !bytes.Equal(ea, ec) {
				t.Fatal("decoded learner encodes differently")
			}
			d := a.Clone()
			var pa, pc, pd ml.Prediction
			for range 2000 {
				y := s1.next(&x1)
				a.Predict(x1, &pa)
				c.Predict(x1, &pc)
				if pa.Class != pc.Class || !equalFloats(pa.Proba, pc.Proba) {
					t.Fatal("decoded learner predicts differently")
				}
				a.Learn(x1, y)
				c.Learn(x1, y)
			}
			ea, _ = a.MarshalBinary()
			ec, _ = c.MarshalBinary()
			if !bytes.Equal(ea, ec) {
				t.Fatal("decoded learner diverged")
			}
			ed, _ := d.MarshalBinary()
			if bytes.Equal(ea, ed) {
				t.Fatal("clone followed the original's learning")
			}
			d.Predict(x1, &pd)
		})
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFactoryParams(t *testing.T) {
	spec := ml.Spec{NumNumeric: 2, NClasses: 2}
	for _, tc := range []struct {
		params  string
		spec    ml.Spec
		wantErr string
	}{
		{`{}`, spec, ""},
		{`{"n_classes":3,"split_method":"info_gain","leaf_pred_method":"nba"}`, spec, ""},
		{`{"split_method":"entropy"}`, spec, "split_method"},
		{`{"leaf_pred_method":"mean"}`, spec, "leaf_pred_method"},
		{`{"grace_period":0}`, spec, "grace_period"},
		{`{"delta":2}`, spec, "delta"},
		{`{"n_classes":1}`, spec, "n_classes"},
		{`{}`, ml.Spec{NumNumeric: 2}, "n_classes"},
		{`{"gracePeriod":10}`, spec, "unknown field"},
		{`[1]`, spec, "decode"},
	} {
		_, err := newRegistry().New("HoeffdingTreeClassifier", json.RawMessage(tc.params), tc.spec, nil)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.params, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want one mentioning %q", tc.params, err, tc.wantErr)
		}
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	a := build(t, "HoeffdingTreeClassifier", `{"grace_period":20}`, ml.Spec{NumNumeric: 3, NumCateg: 1, NClasses: 2})
	s := newSynth(3, 3, 1, 2)
	var x ml.Instance
	for range 500 {
		a.Learn(x, s.next(&x))
	}
	full, _ := ml.Marshal(a)
	r := newRegistry()
	if _, err := r.Unmarshal(full); err != nil {
		t.Fatal(err)
	}
	for cut := 1; cut < len(full); cut += max(1, len(full)/50) {
		if _, err := r.Unmarshal(full[:cut]); err == nil {
			t.Fatalf("truncated at %d of %d: want error", cut, len(full))
		}
	}
	if _, err := r.Unmarshal(append(append([]byte{}, full...), 1)); err == nil {
		t.Fatal("trailing byte: want error")
	}
}

// TestMaxShareToSplitTrap pins River's behaviour on heavily imbalanced
// data: with the default max_share_to_split (0.99) a 0.5%-positive stream
// never splits, and max_share_to_split=1 lets the tree grow.
func TestMaxShareToSplitTrap(t *testing.T) {
	for _, tc := range []struct {
		params    string
		wantSplit bool
	}{
		{`{"grace_period":100}`, false},
		{`{"grace_period":100,"max_share_to_split":1.0}`, true},
	} {
		l := build(t, "HoeffdingTreeClassifier", tc.params, ml.Spec{NumNumeric: 2, NClasses: 2})
		rng := rand.New(rand.NewPCG(9, 9))
		x := ml.Instance{Numeric: make([]float64, 2)}
		for range 40000 {
			x.Numeric[0], x.Numeric[1] = rng.Float64(), rng.Float64()
			y := 0.0
			if x.Numeric[0] > 0.995 {
				y = 1
			}
			l.Learn(x, y)
		}
		st := l.(*HoeffdingTreeClassifier).Stats()
		if (st.Branches > 0) != tc.wantSplit {
			t.Errorf("%s: %+v, want split=%v", tc.params, st, tc.wantSplit)
		}
	}
}

func TestMissingValuesAndUnseenCategories(t *testing.T) {
	l := build(t, "HoeffdingTreeClassifier", `{"grace_period":30,"leaf_pred_method":"nba","split_method":"info_gain"}`,
		ml.Spec{NumNumeric: 1, NumCateg: 1, NClasses: 2})
	x := ml.Instance{Numeric: make([]float64, 1), Categ: make([]int64, 1)}
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range 3000 {
		x.Categ[0] = int64(rng.IntN(3))
		x.Numeric[0] = rng.Float64()
		if i%10 == 0 {
			x.Numeric[0] = math.NaN()
		}
		y := 0.0
		if x.Categ[0] == 1 {
			y = 1
		}
		l.Learn(x, y)
	}
	var p ml.Prediction
	x.Categ[0] = 1
	x.Numeric[0] = math.NaN()
	l.Predict(x, &p)
	if p.Class != 1 {
		t.Fatalf("category 1 predicts %d (%v)", p.Class, p.Proba)
	}
	x.Categ[0] = 99 // never seen: follows the most common path
	l.Predict(x, &p)
	l.Learn(x, 1)
	if st := l.(*HoeffdingTreeClassifier).Stats(); st.Branches == 0 {
		t.Fatalf("no split: %+v", st)
	}
}

// TestMemoryBound checks that a tiny max_size deactivates leaves once the
// size is estimated.
func TestMemoryBound(t *testing.T) {
	l := build(t, "HoeffdingTreeClassifier",
		`{"grace_period":20,"delta":0.01,"max_size":0.002,"memory_estimate_period":2000,"split_method":"info_gain"}`,
		ml.Spec{NumNumeric: 4, NumCateg: 2, NClasses: 3})
	s := newSynth(5, 4, 2, 3)
	var x ml.Instance
	for range 20000 {
		l.Learn(x, s.next(&x))
	}
	st := l.(*HoeffdingTreeClassifier).Stats()
	if st.InactiveLeaves == 0 || st.ActiveLeaves+st.InactiveLeaves != st.Leaves {
		t.Fatalf("memory bound not enforced: %+v", st)
	}
}

func TestNoAllocsSteadyState(t *testing.T) {
	for _, lm := range []string{"mc", "nb", "nba"} {
		l := build(t, "HoeffdingTreeClassifier", `{"leaf_pred_method":"`+lm+`"}`, ml.Spec{NumNumeric: 10, NClasses: 2})
		s := newSynth(8, 10, 0, 2)
		var x ml.Instance
		var p ml.Prediction
		for range 50000 {
			y := s.next(&x)
			l.Predict(x, &p)
			l.Learn(x, y)
		}
		ys := make([]float64, 4096)
		xs := make([]ml.Instance, 4096)
		for i := range xs {
			ys[i] = s.next(&xs[i])
			xs[i].Numeric = append([]float64(nil), xs[i].Numeric...)
			xs[i].Categ = nil
		}
		i := 0
		allocs := testing.AllocsPerRun(4000, func() {
			l.Predict(xs[i%4096], &p)
			l.Learn(xs[i%4096], ys[i%4096])
			i++
		})
		// Splits allocate their new leaves; everything else must not.
		if allocs > 0.05 {
			t.Errorf("%s: %.3f allocations per predict+learn", lm, allocs)
		}
	}
}

// TestAdaptiveTreeFollowsDrift flips the concept mid-stream: the adaptive
// tree must start an alternate subtree and recover.
func TestAdaptiveTreeFollowsDrift(t *testing.T) {
	l := build(t, "HoeffdingAdaptiveTreeClassifier", `{"grace_period":50,"delta":1e-4,"seed":3,"split_method":"info_gain"}`,
		ml.Spec{NumNumeric: 2, NClasses: 2})
	rng := rand.New(rand.NewPCG(1, 2))
	x := ml.Instance{Numeric: make([]float64, 2)}
	var p ml.Prediction
	hits := 0
	const n = 20000
	for i := range n {
		x.Numeric[0], x.Numeric[1] = rng.Float64(), rng.Float64()
		y := 0.0
		if (x.Numeric[0] > 0.5) != (i >= n/2) {
			y = 1
		}
		l.Predict(x, &p)
		if i >= n-2000 && p.Class == int(y) {
			hits++
		}
		l.Learn(x, y)
	}
	// As in River, an alternate leaf that splits replaces the subtree it
	// competes with directly, so "switched" may stay 0.
	if alt, _, _ := l.(*HoeffdingAdaptiveTreeClassifier).Counts(); alt == 0 {
		t.Fatal("no alternate subtree: the tree did not see the drift")
	}
	if hits < 1800 {
		t.Fatalf("accuracy after the drift %d/2000", hits)
	}
}

// TestRegressorLearnsAndRoundTrips checks every leaf method: the tree
// beats the running-mean baseline, encodes deterministically, restores an
// identical learner, and clones independently.
func TestRegressorLearnsAndRoundTrips(t *testing.T) {
	for _, lm := range []string{"mean", "model", "adaptive"} {
		t.Run(lm, func(t *testing.T) {
			spec := ml.Spec{NumNumeric: 3, NumCateg: 1}
			params := `{"leaf_pred_method":"` + lm + `","grace_period":50}`
			a := build(t, "HoeffdingTreeRegressor", params, spec)
			b := build(t, "HoeffdingTreeRegressor", params, spec)
			rng := rand.New(rand.NewPCG(11, 12))
			gen := func(x *ml.Instance) float64 {
				x.Numeric = []float64{rng.Float64(), rng.Float64(), rng.Float64()}
				x.Categ = []int64{int64(rng.IntN(3))}
				y := 4 * x.Numeric[0]
				if x.Numeric[1] > 0.5 {
					y += 3
				}
				if x.Categ[0] == 1 {
					y -= 2
				}
				return y + 0.1*rng.NormFloat64()
			}
			var x ml.Instance
			var p ml.Prediction
			var errTree, errMean, mean float64
			const n = 8000
			for i := range n {
				y := gen(&x)
				a.Predict(x, &p)
				if i >= n/2 {
					errTree += math.Abs(p.Score - y)
					errMean += math.Abs(mean - y)
				}
				mean += (y - mean) / float64(i+1)
				a.Learn(x, y)
				b.Learn(x, y)
			}
			if errTree > 0.5*errMean {
				t.Fatalf("tree MAE %.3f vs mean baseline %.3f", errTree/(n/2), errMean/(n/2))
			}
			if st := a.(*HoeffdingTreeRegressor).Stats(); st.Branches == 0 {
				t.Fatalf("no split: %+v", st)
			}
			ea, _ := a.MarshalBinary()
			eb, _ := b.MarshalBinary()
			if !bytes.Equal(ea, eb) {
				t.Fatal("same stream, different encodings")
			}
			full, _ := ml.Marshal(a)
			c, err := newRegistry().Unmarshal(full)
			if err != nil {
				t.Fatal(err)
			}
			d := a.Clone()
			var pa, pc ml.Prediction
			for range 1000 {
				y := gen(&x)
				a.Predict(x, &pa)
				c.Predict(x, &pc)
				if pa.Score != pc.Score {
					t.Fatal("decoded learner predicts differently")
				}
				a.Learn(x, y)
				c.Learn(x, y)
			}
			ea, _ = a.MarshalBinary()
			ec, _ := c.MarshalBinary()
			ed, _ := d.MarshalBinary()
			if !bytes.Equal(ea, ec) || bytes.Equal(ea, ed) {
				t.Fatal("decoded learner diverged, or clone followed the original")
			}
			for cut := 1; cut < len(full); cut += max(1, len(full)/40) {
				if _, err := newRegistry().Unmarshal(full[:cut]); err == nil {
					t.Fatalf("truncated at %d: want error", cut)
				}
			}
		})
	}
}

func TestRoundDigitsMatchesPython(t *testing.T) {
	// Python: round(x, 1) for these values.
	for _, tc := range [][2]float64{{0.25, 0.2}, {0.35, 0.3}, {2.675, 2.7}, {-0.05, -0.1}, {1.45, 1.4}, {123.456, 123.5}} {
		if g := roundDigits(tc[0], 1); g != tc[1] {
			t.Errorf("round(%v, 1) = %v, Python %v", tc[0], g, tc[1])
		}
	}
	if a := testing.AllocsPerRun(100, func() { roundDigits(0.123456, 1) }); a != 0 {
		t.Errorf("roundDigits allocates %v times", a)
	}
}
