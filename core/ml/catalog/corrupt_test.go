package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"testing"

	"github.com/spate-ml/spate/core/ml"
)

// maxExercisedInputs bounds the widths exercise feeds rows to, so that a
// corrupt but decodable width costs little time; wider learners are only
// re-encoded.
const maxExercisedInputs = 1 << 12

// exerciseRows returns rows of spec s: plain values, a row of missing
// numeric values with categories never seen in training, and one with
// large values and a negative category code.
func exerciseRows(s ml.Spec) []ml.Instance {
	rows := make([]ml.Instance, 3)
	for r := range rows {
		rows[r] = ml.Instance{Numeric: make([]float64, s.NumNumeric), Categ: make([]int64, s.NumCateg)}
	}
	for i := range s.NumNumeric {
		rows[0].Numeric[i] = 0.1 * float64(i%10+1)
		rows[1].Numeric[i] = math.NaN()
		if i%2 == 1 {
			rows[1].Numeric[i] = 0.5
		}
		rows[2].Numeric[i] = 1e6 * float64(i+1)
	}
	for i := range s.NumCateg {
		rows[0].Categ[i] = int64(i % 3)
		rows[1].Categ[i] = 99
		rows[2].Categ[i] = -1
	}
	return rows
}

// exercise decodes data with the registry and, when it decodes, drives the
// learner as a server would: a round trip through its encoding, then
// predictions, updates and a clone on rows of its own spec. It returns the
// decode error (nil when data decoded) and what went wrong afterwards (a
// panic, a learner that does not report its spec, or an encoding that does
// not decode again).
func exercise(reg *ml.Registry, data []byte) (decodeErr, problem error) {
	defer func() {
		if r := recover(); r != nil {
			problem = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	l, err := reg.Unmarshal(data)
	if err != nil {
		return err, nil
	}
	if problem := roundTrip(reg, l); problem != nil {
		return nil, fmt.Errorf("right after decoding: %w", problem)
	}
	s, ok := ml.InputSpecOf(l)
	if !ok {
		return nil, fmt.Errorf("%s does not report its input spec", l.Algorithm())
	}
	if s.NumNumeric < 0 || s.NumCateg < 0 || s.NClasses < 0 {
		return nil, fmt.Errorf("%s reports spec %+v", l.Algorithm(), s)
	}
	if s.NumNumeric+s.NumCateg > maxExercisedInputs {
		return nil, nil
	}
	rows := exerciseRows(s)
	var p ml.Prediction
	for pass := range 3 {
		for i, x := range rows {
			l.Predict(x, &p)
			if s.NClasses > 0 && len(p.Proba) != s.NClasses {
				return nil, fmt.Errorf("%s: %d probabilities for %d classes", l.Algorithm(), len(p.Proba), s.NClasses)
			}
			y := 0.25 * float64(i+pass)
			if s.NClasses > 0 {
				y = float64((i + pass) % s.NClasses)
			}
			l.Learn(x, y)
		}
	}
	c := l.Clone()
	for _, x := range rows {
		c.Predict(x, &p)
		c.Learn(x, 0)
	}
	if problem := roundTrip(reg, l); problem != nil {
		return nil, fmt.Errorf("after learning: %w", problem)
	}
	return nil, nil
}

// roundTrip checks that l encodes to bytes that decode to a learner
// encoding to the same bytes.
func roundTrip(reg *ml.Registry, l ml.Learner) error {
	b, err := ml.Marshal(l)
	if err != nil {
		return fmt.Errorf("decoded learner does not encode: %w", err)
	}
	back, err := reg.Unmarshal(b)
	if err != nil {
		return fmt.Errorf("its encoding does not decode: %w", err)
	}
	b2, err := ml.Marshal(back)
	if err != nil {
		return fmt.Errorf("re-decoded learner does not encode: %w", err)
	}
	if !bytes.Equal(b, b2) {
		return fmt.Errorf("encoding changes through a round trip")
	}
	return nil
}

// trained returns the encoding of tc's learner after n rows of the test
// stream.
func trained(t testing.TB, reg *ml.Registry, configsJSON string, nClasses, n int) []byte {
	t.Helper()
	var cfgs []json.RawMessage
	if err := json.Unmarshal([]byte(configsJSON), &cfgs); err != nil {
		t.Fatalf("bad test configs %s: %v", configsJSON, err)
	}
	l, err := Build(reg, cfgs, ml.Spec{NumNumeric: 3, NumCateg: 1})
	if err != nil {
		t.Fatal(err)
	}
	xs, ys := stream(n)
	for i, x := range xs {
		l.Learn(x, min(ys[i], float64(max(nClasses-1, 0))))
	}
	good, err := ml.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return good
}

// TestCorruptEncodings feeds truncated and bit-flipped encodings of every
// learner to the registry: decoding must fail cleanly or give a learner
// that survives exercise (no panic in Predict, Learn or Clone, and an
// encoding that decodes again). A flip that changes an input width decodes
// to a learner for another Spec; exercise feeds it rows of that spec, and
// the caller restoring a model compares ml.InputSpecOf with its own.
func TestCorruptEncodings(t *testing.T) {
	reg := New()
	g := rand.New(rand.NewPCG(1, 2))
	for _, tc := range allAlgorithms {
		t.Run(tc.algorithm, func(t *testing.T) {
			good := trained(t, reg, tc.configs, tc.nClasses, 120)
			if derr, problem := exercise(reg, good); derr != nil || problem != nil {
				t.Fatalf("valid encoding: decode error %v, then %v", derr, problem)
			}
			back, err := reg.Unmarshal(good)
			if err != nil {
				t.Fatal(err)
			}
			built := ml.Spec{NumNumeric: 3, NumCateg: 1, NClasses: tc.nClasses}
			if s, ok := ml.InputSpecOf(back); !ok || !s.Fits(built) || s.NClasses != built.NClasses {
				t.Fatalf("decoded learner reports spec %+v (%v), built for %+v", s, ok, built)
			}
			try := func(what string, b []byte) {
				if _, problem := exercise(reg, b); problem != nil {
					t.Fatalf("%s: %v", what, problem)
				}
			}
			step := max(1, len(good)/300)
			for n := 0; n < len(good); n += step {
				try(fmt.Sprintf("truncated to %d of %d bytes", n, len(good)), good[:n])
			}
			for k := 0; k < 300; k++ {
				b := append([]byte(nil), good...)
				i := g.IntN(len(b))
				b[i] ^= byte(1 << g.IntN(8))
				try(fmt.Sprintf("bit flip at byte %d of %d", i, len(b)), b)
			}
		})
	}
}

// TestRestoredSpecMustFit checks the rule a caller restoring a model
// applies to its deployment's spec: equal numeric widths, no more
// categorical fields read than given.
func TestRestoredSpecMustFit(t *testing.T) {
	in := ml.Spec{NumNumeric: 3, NumCateg: 1, NClasses: 2}
	cases := []struct {
		learner ml.Spec
		fits    bool
	}{
		{ml.Spec{NumNumeric: 3, NumCateg: 1}, true},
		{ml.Spec{NumNumeric: 3}, true}, // ignores categorical inputs
		{ml.Spec{NumNumeric: 2, NumCateg: 1}, false},
		{ml.Spec{NumNumeric: 4, NumCateg: 1}, false},
		{ml.Spec{NumNumeric: 3, NumCateg: 2}, false},
	}
	for _, c := range cases {
		if got := c.learner.Fits(in); got != c.fits {
			t.Errorf("%+v.Fits(%+v) = %v, want %v", c.learner, in, got, c.fits)
		}
	}
}
