// Package linear owns the linear learners: LogisticRegression, a binary
// logistic regression trained by plain SGD on standard-scaled inputs. It is
// River 0.26.1's preprocessing.StandardScaler() |
// linear_model.LogisticRegression() pipeline in one learner: on Learn the
// scaler first updates its running mean and population variance with x,
// then the model takes one SGD step on the scaled x; Predict scales with the
// current statistics without updating them.
//
// Inputs are the Instance's numeric features by position; categorical codes
// are ignored. A NaN is a missing feature: it is neither scaled, nor learnt,
// nor part of the dot product, as a key absent from River's x.
package linear

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/internal/classpred"
	"github.com/spate-ml/spate/core/ml/internal/params"
)

// Register adds LogisticRegression to r.
func Register(r *ml.Registry) {
	r.Add("LogisticRegression", ml.Entry{Kind: ml.Classifier, New: newLogReg, Decode: decodeLogReg})
}

// LogRegParams are LogisticRegression's parameters; the defaults are
// River's.
type LogRegParams struct {
	NClasses     int     `json:"n_classes"`
	LR           float64 `json:"lr"`           // SGD learning rate of the weights
	L2           float64 `json:"l2"`           // L2 penalty on the weights
	InterceptLR  float64 `json:"intercept_lr"` // constant learning rate of the intercept
	ClipGradient float64 `json:"clip_gradient"`
}

// DefaultLogRegParams returns River's defaults for a binary problem.
func DefaultLogRegParams() LogRegParams {
	return LogRegParams{NClasses: 2, LR: 0.01, InterceptLR: 0.01, ClipGradient: 1e12}
}

// LogReg is a standard-scaled binary logistic regression.
type LogReg struct {
	p         LogRegParams
	nFeat     int
	count     []float64 // scaler: samples per feature
	mean      []float64
	variance  []float64
	w         []float64
	intercept float64
	scaled    []float64 // scratch
}

// NewLogReg builds a LogisticRegression over nFeat numeric features.
func NewLogReg(p LogRegParams, nFeat int) (*LogReg, error) {
	switch {
	case p.NClasses != 2:
		return nil, fmt.Errorf("LogisticRegression: binary only, n_classes must be 2, got %d", p.NClasses)
	case p.LR <= 0:
		return nil, fmt.Errorf("LogisticRegression: lr must be > 0, got %g", p.LR)
	case p.L2 < 0 || p.InterceptLR < 0 || p.ClipGradient <= 0:
		return nil, fmt.Errorf("LogisticRegression: l2 and intercept_lr must be >= 0 and clip_gradient > 0")
	}
	m := &LogReg{p: p, nFeat: nFeat}
	m.alloc()
	return m, nil
}

func (m *LogReg) alloc() {
	m.count = make([]float64, m.nFeat)
	m.mean = make([]float64, m.nFeat)
	m.variance = make([]float64, m.nFeat)
	m.w = make([]float64, m.nFeat)
	m.scaled = make([]float64, m.nFeat)
}

func newLogReg(raw json.RawMessage, spec ml.Spec, _ []ml.Learner) (ml.Learner, error) {
	p := DefaultLogRegParams()
	if spec.NClasses != 0 {
		p.NClasses = spec.NClasses
	}
	if err := params.Decode("LogisticRegression", raw, &p); err != nil {
		return nil, err
	}
	return NewLogReg(p, spec.NumNumeric)
}

// Algorithm implements ml.Learner.
func (m *LogReg) Algorithm() string { return "LogisticRegression" }

// scale writes the standard-scaled x into m.scaled (NaN stays NaN).
func (m *LogReg) scale(x []float64) []float64 {
	s := m.scaled
	for f, v := range x {
		switch {
		case v != v:
			s[f] = v
		case m.variance[f] != 0:
			s[f] = (v - m.mean[f]) / math.Sqrt(m.variance[f])
		default:
			s[f] = 0
		}
	}
	return s
}

func (m *LogReg) raw(s []float64) float64 {
	dot := 0.0
	for f, v := range s {
		if v == v {
			dot += m.w[f] * v
		}
	}
	return dot + m.intercept
}

// Learn implements ml.Learner: y > 0 is the positive class.
func (m *LogReg) Learn(x ml.Instance, y float64) {
	for f, v := range x.Numeric {
		if v != v {
			continue
		}
		m.count[f]++
		old := m.mean[f]
		m.mean[f] += (v - old) / m.count[f]
		m.variance[f] += ((v-old)*(v-m.mean[f]) - m.variance[f]) / m.count[f]
	}
	s := m.scale(x.Numeric)
	yt := 1.0
	if !(y > 0) {
		yt = -1
	}
	z := m.raw(s) * yt
	var g float64
	switch {
	case z > 18:
		g = math.Exp(-z) * -yt
	case z < -18:
		g = -yt
	default:
		g = -yt / (math.Exp(z) + 1)
	}
	g = math.Max(-m.p.ClipGradient, math.Min(m.p.ClipGradient, g))
	m.intercept -= m.p.InterceptLR * g
	for f, v := range s {
		if v != v {
			continue
		}
		gf := v * g
		if m.p.L2 != 0 {
			gf += m.w[f] * m.p.L2
		}
		m.w[f] -= m.p.LR * gf
	}
}

// Predict implements ml.Learner.
func (m *LogReg) Predict(x ml.Instance, dst *ml.Prediction) {
	proba := classpred.ResetProba(dst, 2)
	r := m.raw(m.scale(x.Numeric))
	var p float64
	switch {
	case r < -30:
		p = 0
	case r > 30:
		p = 1
	default:
		p = 1 / (1 + math.Exp(-r))
	}
	proba[0], proba[1] = 1-p, p
	classpred.Finish(dst)
}

// Clone implements ml.Learner.
func (m *LogReg) Clone() ml.Learner {
	n := &LogReg{p: m.p, nFeat: m.nFeat, intercept: m.intercept}
	n.count = append([]float64(nil), m.count...)
	n.mean = append([]float64(nil), m.mean...)
	n.variance = append([]float64(nil), m.variance...)
	n.w = append([]float64(nil), m.w...)
	n.scaled = make([]float64, m.nFeat)
	return n
}

const stateVersion = 1

// MarshalBinary implements ml.Learner.
func (m *LogReg) MarshalBinary() ([]byte, error) {
	e := &wire.Encoder{}
	e.Uvarint(stateVersion)
	e.F64(m.p.LR)
	e.F64(m.p.L2)
	e.F64(m.p.InterceptLR)
	e.F64(m.p.ClipGradient)
	e.Uvarint(uint64(m.nFeat))
	for f := 0; f < m.nFeat; f++ {
		e.F64(m.count[f])
		e.F64(m.mean[f])
		e.F64(m.variance[f])
		e.F64(m.w[f])
	}
	e.F64(m.intercept)
	return e.Data(), nil
}

func decodeLogReg(data []byte) (ml.Learner, error) {
	d := wire.NewDecoder(data)
	if v := d.Uvarint(); v != stateVersion && d.Err() == nil {
		return nil, fmt.Errorf("LogisticRegression: unknown state version %d", v)
	}
	p := LogRegParams{NClasses: 2}
	p.LR, p.L2, p.InterceptLR, p.ClipGradient = d.F64(), d.F64(), d.F64(), d.F64()
	nf := d.Uvarint()
	if d.Err() != nil {
		return nil, fmt.Errorf("LogisticRegression: bad state header: %w", d.Err())
	}
	if nf > uint64(d.Len()/32) {
		return nil, fmt.Errorf("LogisticRegression: bad state header: %d features need more than the %d bytes left", nf, d.Len())
	}
	nFeat := int(nf)
	m := &LogReg{p: p, nFeat: nFeat}
	m.alloc()
	for f := 0; f < nFeat; f++ {
		m.count[f], m.mean[f], m.variance[f], m.w[f] = d.F64(), d.F64(), d.F64(), d.F64()
	}
	m.intercept = d.F64()
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("LogisticRegression: %w", err)
	}
	return m, nil
}
