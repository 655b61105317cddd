// Package bayes owns the naive Bayes classifiers GaussianNB and
// MultinomialNB, ports of River 0.26.1's naive_bayes.GaussianNB and
// naive_bayes.MultinomialNB.
//
// Both read the Instance's numeric features by position (MultinomialNB
// treats them as counts) and ignore categorical codes. A NaN is a missing
// feature: it is neither learnt nor scored, as a key absent from River's x.
// Classes are kept in order of first appearance, which fixes the order of
// the floating-point sums exactly as River's dictionaries do.
package bayes

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/internal/classpred"
	"github.com/spate-ml/spate/core/ml/internal/params"
)

// Register adds GaussianNB and MultinomialNB to r.
func Register(r *ml.Registry) {
	r.Add("GaussianNB", ml.Entry{Kind: ml.Classifier, New: newGaussian, Decode: decodeGaussian})
	r.Add("MultinomialNB", ml.Entry{Kind: ml.Classifier, New: newMultinomial, Decode: decodeMultinomial})
}

const stateVersion = 1

// River's floor on a Gaussian density before taking its log.
const pdfEps = 10e-10

var logPdfEps = math.Log(pdfEps)

// classOrder keeps class counts in order of first appearance.
type classOrder struct {
	counts []float64 // by class
	order  []int     // classes in order of first appearance
}

func (o *classOrder) add(c int) {
	if o.counts[c] == 0 {
		o.order = append(o.order, c)
	}
	o.counts[c]++
}

// logPrior returns log P(c) with River's summation order.
func (o *classOrder) logPrior(c int) float64 {
	total := 0.0
	for _, k := range o.order {
		total += o.counts[k]
	}
	return math.Log(o.counts[c] / total)
}

func (o *classOrder) encode(e *wire.Encoder) {
	e.Uvarint(uint64(len(o.order)))
	for _, c := range o.order {
		e.Uvarint(uint64(c))
		e.F64(o.counts[c])
	}
}

func (o *classOrder) decode(d *wire.Decoder, nClasses int) error {
	o.counts = make([]float64, nClasses)
	n := d.Count(9)
	for i := 0; i < n && d.Err() == nil; i++ {
		c := d.Uvarint()
		if c >= uint64(nClasses) || o.counts[c] != 0 {
			return fmt.Errorf("class list: class %d out of range [0,%d) or repeated", c, nClasses)
		}
		v := d.F64()
		if !(v > 0) {
			return fmt.Errorf("class %d: count %v must be > 0", c, v)
		}
		o.counts[c] = v
		o.order = append(o.order, int(c))
	}
	return nil
}

// finish sets Class and Score; among classes of equal probability the one
// seen first wins, as River's max over its insertion-ordered dict.
func (o *classOrder) finish(dst *ml.Prediction) {
	classpred.Finish(dst)
	if len(o.order) == 0 {
		return
	}
	best := o.order[0]
	for _, c := range o.order[1:] {
		if dst.Proba[c] > dst.Proba[best] {
			best = c
		}
	}
	dst.Class = best
	if len(dst.Proba) != 2 {
		dst.Score = dst.Proba[best]
	}
}

// softmaxInto writes exp(ll - logsumexp(ll)) for the seen classes into
// proba (by class), and zero elsewhere.
func softmaxInto(proba []float64, order []int, ll []float64) {
	m := math.Inf(-1)
	for _, v := range ll {
		if v > m {
			m = v
		}
	}
	s := 0.0
	for _, v := range ll {
		s += math.Exp(v - m)
	}
	lse := m + math.Log(s)
	for i, c := range order {
		proba[c] = math.Exp(ll[i] - lse)
	}
}

// GaussianParams are GaussianNB's parameters.
type GaussianParams struct {
	NClasses int `json:"n_classes"`
}

// Gaussian is a Gaussian naive Bayes classifier: one normal distribution
// (population variance) per class and feature.
type Gaussian struct {
	nClasses, nFeat int
	classes         classOrder
	n, mean, s      []float64 // per class*nFeat+feature: weight, mean, sum of squares
	ll              []float64
}

// NewGaussian builds a GaussianNB over nFeat numeric features.
func NewGaussian(nClasses, nFeat int) (*Gaussian, error) {
	if nClasses < 2 {
		return nil, fmt.Errorf("GaussianNB: n_classes must be >= 2, got %d", nClasses)
	}
	g := &Gaussian{nClasses: nClasses, nFeat: nFeat}
	g.alloc()
	return g, nil
}

func (g *Gaussian) alloc() {
	g.classes.counts = make([]float64, g.nClasses)
	g.n = make([]float64, g.nClasses*g.nFeat)
	g.mean = make([]float64, g.nClasses*g.nFeat)
	g.s = make([]float64, g.nClasses*g.nFeat)
	g.ll = make([]float64, 0, g.nClasses)
}

func newGaussian(raw json.RawMessage, spec ml.Spec, _ []ml.Learner) (ml.Learner, error) {
	p := GaussianParams{NClasses: spec.NClasses}
	if err := params.Decode("GaussianNB", raw, &p); err != nil {
		return nil, err
	}
	return NewGaussian(p.NClasses, spec.NumNumeric)
}

// Algorithm implements ml.Learner.
func (g *Gaussian) Algorithm() string { return "GaussianNB" }

// Learn implements ml.Learner. Labels outside 0..n_classes-1 are ignored.
func (g *Gaussian) Learn(x ml.Instance, y float64) {
	c := int(y)
	if c < 0 || c >= g.nClasses || float64(c) != y {
		return
	}
	g.classes.add(c)
	base := c * g.nFeat
	for f, v := range x.Numeric {
		if v != v {
			continue
		}
		k := base + f
		old := g.mean[k]
		g.n[k]++
		g.mean[k] += (1 / g.n[k]) * (v - old)
		g.s[k] += (v - old) * (v - g.mean[k])
	}
}

func (g *Gaussian) logPdf(k int, v float64) float64 {
	n := g.n[k]
	if n == 0 {
		return logPdfEps
	}
	pdf := 0.0
	if variance := g.s[k] / n; variance > 0 {
		sigma := math.Sqrt(variance)
		z := (v - g.mean[k]) / sigma
		pdf = math.Exp(-0.5*z*z) / math.Sqrt(2.0*math.Pi) / sigma
	}
	return math.Log(pdfEps + pdf)
}

// Predict implements ml.Learner.
func (g *Gaussian) Predict(x ml.Instance, dst *ml.Prediction) {
	proba := classpred.ResetProba(dst, g.nClasses)
	if len(g.classes.order) > 0 {
		ll := g.ll[:0]
		for _, c := range g.classes.order {
			sum := 0.0
			for f, v := range x.Numeric {
				if v != v {
					continue
				}
				sum += g.logPdf(c*g.nFeat+f, v)
			}
			ll = append(ll, g.classes.logPrior(c)+sum)
		}
		softmaxInto(proba, g.classes.order, ll)
	}
	g.classes.finish(dst)
}

// Clone implements ml.Learner.
func (g *Gaussian) Clone() ml.Learner {
	n := &Gaussian{nClasses: g.nClasses, nFeat: g.nFeat}
	n.classes.counts = append([]float64(nil), g.classes.counts...)
	n.classes.order = append([]int(nil), g.classes.order...)
	n.n = append([]float64(nil), g.n...)
	n.mean = append([]float64(nil), g.mean...)
	n.s = append([]float64(nil), g.s...)
	n.ll = make([]float64, 0, g.nClasses)
	return n
}

// MarshalBinary implements ml.Learner.
func (g *Gaussian) MarshalBinary() ([]byte, error) {
	e := &wire.Encoder{}
	e.Uvarint(stateVersion)
	e.Uvarint(uint64(g.nClasses))
	e.Uvarint(uint64(g.nFeat))
	g.classes.encode(e)
	for k := range g.n {
		e.F64(g.n[k])
		e.F64(g.mean[k])
		e.F64(g.s[k])
	}
	return e.Data(), nil
}

func decodeGaussian(data []byte) (ml.Learner, error) {
	d := wire.NewDecoder(data)
	if v := d.Uvarint(); v != stateVersion && d.Err() == nil {
		return nil, fmt.Errorf("GaussianNB: unknown state version %d", v)
	}
	nClasses, nFeat, err := checkHeader(d, d.Uvarint(), d.Uvarint())
	if err == nil && nClasses*nFeat*24 > d.Len() {
		err = fmt.Errorf("%d classes of %d features need more than the %d bytes left", nClasses, nFeat, d.Len())
	}
	if err != nil {
		return nil, fmt.Errorf("GaussianNB: bad state header: %w", err)
	}
	g := &Gaussian{nClasses: nClasses, nFeat: nFeat}
	g.alloc()
	if err := g.classes.decode(d, nClasses); err != nil {
		return nil, fmt.Errorf("GaussianNB: %w", err)
	}
	for k := range g.n {
		g.n[k] = d.F64()
		g.mean[k] = d.F64()
		g.s[k] = d.F64()
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("GaussianNB: %w", err)
	}
	if err := g.validate(); err != nil {
		return nil, fmt.Errorf("GaussianNB: %w", err)
	}
	return g, nil
}

// MultinomialParams are MultinomialNB's parameters.
type MultinomialParams struct {
	NClasses int     `json:"n_classes"`
	Alpha    float64 `json:"alpha"`
}

// Multinomial is a multinomial naive Bayes classifier over count features
// with additive (Laplace/Lidstone) smoothing alpha.
type Multinomial struct {
	p       MultinomialParams
	nFeat   int
	classes classOrder
	fc      []float64 // per class*nFeat+feature: summed counts
	totals  []float64 // per class: summed counts over features
	seen    []bool    // per feature: seen at least once
	nTerms  int
	ll      []float64
}

// NewMultinomial builds a MultinomialNB over nFeat count features.
func NewMultinomial(p MultinomialParams, nFeat int) (*Multinomial, error) {
	switch {
	case p.NClasses < 2:
		return nil, fmt.Errorf("MultinomialNB: n_classes must be >= 2, got %d", p.NClasses)
	case p.Alpha < 0:
		return nil, fmt.Errorf("MultinomialNB: alpha must be >= 0, got %g", p.Alpha)
	}
	m := &Multinomial{p: p, nFeat: nFeat}
	m.alloc()
	return m, nil
}

func (m *Multinomial) alloc() {
	m.classes.counts = make([]float64, m.p.NClasses)
	m.fc = make([]float64, m.p.NClasses*m.nFeat)
	m.totals = make([]float64, m.p.NClasses)
	m.seen = make([]bool, m.nFeat)
	m.ll = make([]float64, 0, m.p.NClasses)
}

func newMultinomial(raw json.RawMessage, spec ml.Spec, _ []ml.Learner) (ml.Learner, error) {
	p := MultinomialParams{NClasses: spec.NClasses, Alpha: 1}
	if err := params.Decode("MultinomialNB", raw, &p); err != nil {
		return nil, err
	}
	return NewMultinomial(p, spec.NumNumeric)
}

// Algorithm implements ml.Learner.
func (m *Multinomial) Algorithm() string { return "MultinomialNB" }

// Learn implements ml.Learner. Labels outside 0..n_classes-1 are ignored.
func (m *Multinomial) Learn(x ml.Instance, y float64) {
	c := int(y)
	if c < 0 || c >= m.p.NClasses || float64(c) != y {
		return
	}
	m.classes.add(c)
	base := c * m.nFeat
	for f, v := range x.Numeric {
		if v != v {
			continue
		}
		if !m.seen[f] {
			m.seen[f] = true
			m.nTerms++
		}
		m.fc[base+f] += v
		m.totals[c] += v
	}
}

// Predict implements ml.Learner.
func (m *Multinomial) Predict(x ml.Instance, dst *ml.Prediction) {
	proba := classpred.ResetProba(dst, m.p.NClasses)
	if len(m.classes.order) > 0 {
		ll := m.ll[:0]
		for _, c := range m.classes.order {
			den := m.totals[c] + m.p.Alpha*float64(m.nTerms)
			sum := 0.0
			for f, v := range x.Numeric {
				if v != v {
					continue
				}
				sum += v * math.Log((m.fc[c*m.nFeat+f]+m.p.Alpha)/den)
			}
			ll = append(ll, m.classes.logPrior(c)+sum)
		}
		softmaxInto(proba, m.classes.order, ll)
	}
	m.classes.finish(dst)
}

// Clone implements ml.Learner.
func (m *Multinomial) Clone() ml.Learner {
	n := &Multinomial{p: m.p, nFeat: m.nFeat, nTerms: m.nTerms}
	n.classes.counts = append([]float64(nil), m.classes.counts...)
	n.classes.order = append([]int(nil), m.classes.order...)
	n.fc = append([]float64(nil), m.fc...)
	n.totals = append([]float64(nil), m.totals...)
	n.seen = append([]bool(nil), m.seen...)
	n.ll = make([]float64, 0, m.p.NClasses)
	return n
}

// MarshalBinary implements ml.Learner.
func (m *Multinomial) MarshalBinary() ([]byte, error) {
	e := &wire.Encoder{}
	e.Uvarint(stateVersion)
	e.Uvarint(uint64(m.p.NClasses))
	e.F64(m.p.Alpha)
	e.Uvarint(uint64(m.nFeat))
	m.classes.encode(e)
	for _, v := range m.fc {
		e.F64(v)
	}
	for _, v := range m.totals {
		e.F64(v)
	}
	for _, v := range m.seen {
		e.Boolean(v)
	}
	return e.Data(), nil
}

func decodeMultinomial(data []byte) (ml.Learner, error) {
	d := wire.NewDecoder(data)
	if v := d.Uvarint(); v != stateVersion && d.Err() == nil {
		return nil, fmt.Errorf("MultinomialNB: unknown state version %d", v)
	}
	var p MultinomialParams
	nClasses := d.Uvarint()
	p.Alpha = d.F64()
	nFeat := d.Uvarint()
	var nf int
	var err error
	p.NClasses, nf, err = checkHeader(d, nClasses, nFeat)
	if err == nil && p.NClasses*nf*8 > d.Len() {
		err = fmt.Errorf("%d classes of %d features need more than the %d bytes left", p.NClasses, nf, d.Len())
	}
	if err == nil && !(p.Alpha >= 0) {
		err = fmt.Errorf("alpha %v must be >= 0", p.Alpha)
	}
	if err != nil {
		return nil, fmt.Errorf("MultinomialNB: bad state header: %w", err)
	}
	m := &Multinomial{p: p, nFeat: nf}
	m.alloc()
	if err := m.classes.decode(d, p.NClasses); err != nil {
		return nil, fmt.Errorf("MultinomialNB: %w", err)
	}
	for i := range m.fc {
		m.fc[i] = d.F64()
	}
	for i := range m.totals {
		m.totals[i] = d.F64()
	}
	for i := range m.seen {
		m.seen[i] = d.Boolean()
		if m.seen[i] {
			m.nTerms++
		}
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("MultinomialNB: %w", err)
	}
	return m, nil
}
