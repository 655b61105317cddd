package metric

import (
	"encoding/binary"
	"fmt"
	"math"
)

// errorMetric is WindowedMAE, WindowedMSE and WindowedRMSE: the mean of the
// absolute (MAE) or squared (MSE) errors score − label of the last W pairs,
// and the square root of the latter (RMSE).
//
// The window's sum is a running Neumaier-compensated sum, and it is
// recomputed from the window every W evictions, so float error cannot
// accumulate however long the stream (the recomputation costs O(1)
// amortised). Infinite errors are counted apart: while one is in the
// window, the value is +Inf, and the finite sum stays clean.
type errorMetric struct {
	name      string
	squared   bool
	root      bool
	win       ring[float64] // errors: |e| or e², never NaN
	sum       kahan         // finite errors in the window
	nInf      int           // infinite errors in the window
	evictions int           // since the sum was last recomputed
}

func newErrorMetric(name string, w int) *errorMetric {
	m := &errorMetric{name: name, win: newRing[float64](w)}
	switch name {
	case MAE:
	case MSE:
		m.squared = true
	case RMSE:
		m.squared, m.root = true, true
	default:
		panic("metric: no error metric " + name)
	}
	return m
}

func (m *errorMetric) Name() string    { return m.name }
func (m *errorMetric) WindowSize() int { return m.win.w }
func (m *errorMetric) Len() int        { return m.win.len() }

func (m *errorMetric) Update(score float64, _ int, label float64) {
	e := score - label
	if math.IsNaN(e) {
		return
	}
	if m.squared {
		e *= e
	} else {
		e = math.Abs(e)
	}
	old, evicted := m.win.push(e)
	if evicted {
		m.account(old, -1)
	}
	m.account(e, 1)
	if evicted {
		if m.evictions++; m.evictions >= m.win.w {
			m.recompute()
		}
	}
}

func (m *errorMetric) account(e float64, sign int) {
	if math.IsInf(e, 0) {
		m.nInf += sign
		return
	}
	m.sum.add(float64(sign) * e)
}

// recompute sums the window afresh, oldest first.
func (m *errorMetric) recompute() {
	m.sum = kahan{}
	for i := range m.win.len() {
		if e := m.win.at(i); !math.IsInf(e, 0) {
			m.sum.add(e)
		}
	}
	m.evictions = 0
}

func (m *errorMetric) Value() float64 {
	n := m.win.len()
	switch {
	case n == 0:
		return math.NaN()
	case m.nInf > 0:
		return math.Inf(1)
	}
	v := m.sum.value() / float64(n)
	if v < 0 { // rounding can leave a sum of non-negative errors at -ε
		v = 0
	}
	if m.root {
		return math.Sqrt(v)
	}
	return v
}

func (m *errorMetric) Reset() {
	m.win.reset()
	m.sum = kahan{}
	m.nInf, m.evictions = 0, 0
}

// MarshalBinary encodes the window's errors oldest first, the running sum
// and its compensation, and the evictions since the last recomputation, so
// that a restored metric continues bit for bit.
func (m *errorMetric) MarshalBinary() ([]byte, error) {
	n := m.win.len()
	b := appendHeader(make([]byte, 0, 48+8*n), m.name, m.win.w, n)
	for i := range n {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.win.at(i)))
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.sum.s))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.sum.c))
	return binary.AppendUvarint(b, uint64(m.evictions)), nil
}

func (m *errorMetric) UnmarshalBinary(data []byte) error {
	n, payload, err := checkHeader(m, data)
	if err != nil {
		return err
	}
	bad := func(what string) error { return fmt.Errorf("metric: malformed %s encoding: %s", m.name, what) }
	if len(payload) < 8*n+16 {
		return bad("short payload")
	}
	errs := make([]float64, n)
	for i := range errs {
		e := math.Float64frombits(binary.LittleEndian.Uint64(payload[8*i:]))
		if !(e >= 0) {
			return bad(fmt.Sprintf("error %d is %v", i, e))
		}
		errs[i] = e
	}
	rest := payload[8*n:]
	s := math.Float64frombits(binary.LittleEndian.Uint64(rest))
	c := math.Float64frombits(binary.LittleEndian.Uint64(rest[8:]))
	if math.IsNaN(s) || math.IsInf(s, 0) || math.IsNaN(c) || math.IsInf(c, 0) {
		return bad("sum is not finite")
	}
	ev, k := binary.Uvarint(rest[16:])
	if k <= 0 || ev >= uint64(m.win.w) || len(rest) != 16+k {
		return bad("eviction count")
	}
	m.Reset()
	m.win.reserve(n)
	for _, e := range errs {
		m.win.push(e)
		if math.IsInf(e, 0) {
			m.nInf++
		}
	}
	m.sum = kahan{s: s, c: c}
	m.evictions = int(ev)
	return nil
}

// kahan is a Neumaier (improved Kahan–Babuška) compensated sum.
type kahan struct{ s, c float64 }

func (k *kahan) add(x float64) {
	t := k.s + x
	if math.Abs(k.s) >= math.Abs(x) {
		k.c += (k.s - t) + x
	} else {
		k.c += (x - t) + k.s
	}
	k.s = t
}

func (k kahan) value() float64 { return k.s + k.c }
