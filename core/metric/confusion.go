package metric

import (
	"fmt"
	"math"
)

// Flags of one pair of a classification window.
const (
	predPos  uint8 = 1 << iota // the predicted class is 1
	truePos                    // the label is class 1
	correct                    // the predicted class is the label's class
	allFlags = predPos | truePos | correct
)

// confusion is WindowedAccuracy, WindowedPrecision, WindowedRecall and
// WindowedF1: integer counts of the confusion matrix over the last W pairs,
// so the value is exact and never drifts.
//
// Accuracy is the share of pairs whose predicted class equals the label's
// class, for any number of classes. Precision, recall and F1 are those of
// class 1 against every other class (scikit-learn's average="binary" with
// pos_label=1 on binary labels; with more classes, class 1 one-vs-rest, not
// a macro average). A zero denominator gives 0, as scikit-learn's default
// zero_division does: precision with no predicted positive, recall with no
// actual positive, F1 with neither.
type confusion struct {
	name                 string
	win                  ring[uint8]
	tp, fp, fn, nCorrect int64
	value                func(c *confusion) float64
}

func newConfusion(name string, w int) *confusion {
	c := &confusion{name: name, win: newRing[uint8](w)}
	switch name {
	case Accuracy:
		c.value = func(c *confusion) float64 { return float64(c.nCorrect) / float64(c.win.len()) }
	case Precision:
		c.value = func(c *confusion) float64 { return ratio(c.tp, c.tp+c.fp) }
	case Recall:
		c.value = func(c *confusion) float64 { return ratio(c.tp, c.tp+c.fn) }
	case F1:
		c.value = func(c *confusion) float64 { return ratio(2*c.tp, 2*c.tp+c.fp+c.fn) }
	default:
		panic("metric: no classification metric " + name)
	}
	return c
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (c *confusion) Name() string    { return c.name }
func (c *confusion) WindowSize() int { return c.win.w }
func (c *confusion) Len() int        { return c.win.len() }

func (c *confusion) Update(_ float64, predictedClass int, label float64) {
	if math.IsNaN(label) {
		return
	}
	var f uint8
	if predictedClass == 1 {
		f |= predPos
	}
	if isClass(label, 1) {
		f |= truePos
	}
	if isClass(label, predictedClass) {
		f |= correct
	}
	if old, evicted := c.win.push(f); evicted {
		c.count(old, -1)
	}
	c.count(f, 1)
}

func (c *confusion) count(f uint8, d int64) {
	switch f & (predPos | truePos) {
	case predPos | truePos:
		c.tp += d
	case predPos:
		c.fp += d
	case truePos:
		c.fn += d
	}
	if f&correct != 0 {
		c.nCorrect += d
	}
}

// validFlags reports whether Update can produce f: for a label of class 1,
// the pair is correct exactly when class 1 was predicted; for any other
// label, a prediction of class 1 is never correct.
func validFlags(f uint8) bool {
	if f&^allFlags != 0 {
		return false
	}
	pred, corr := f&predPos != 0, f&correct != 0
	if f&truePos != 0 {
		return pred == corr
	}
	return !(pred && corr)
}

func (c *confusion) Value() float64 {
	if c.win.len() == 0 {
		return math.NaN()
	}
	return c.value(c)
}

func (c *confusion) Reset() {
	c.win.reset()
	c.tp, c.fp, c.fn, c.nCorrect = 0, 0, 0, 0
}

// MarshalBinary encodes the window: one flag byte per pair, oldest first.
func (c *confusion) MarshalBinary() ([]byte, error) {
	n := c.win.len()
	b := appendHeader(make([]byte, 0, 32+n), c.name, c.win.w, n)
	for i := range n {
		b = append(b, c.win.at(i))
	}
	return b, nil
}

func (c *confusion) UnmarshalBinary(data []byte) error {
	n, payload, err := checkHeader(c, data)
	if err != nil {
		return err
	}
	if len(payload) != n {
		return fmt.Errorf("metric: malformed %s encoding: %d payload bytes for %d pairs", c.name, len(payload), n)
	}
	for i, f := range payload {
		if !validFlags(f) {
			return fmt.Errorf("metric: malformed %s encoding: pair %d has flags %#x", c.name, i, f)
		}
	}
	c.Reset()
	c.win.reserve(n)
	for _, f := range payload {
		c.win.push(f)
		c.count(f, 1)
	}
	return nil
}
