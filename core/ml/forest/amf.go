// Package forest owns the Aggregated Mondrian Forest learners (AMFClassifier
// and AMFRegressor), ports of River 0.26.1's forest.AMFClassifier and
// forest.AMFRegressor (Mourtada, Gaïffas & Scornet, JRSS-B 2021).
//
// Inputs are the Instance's numeric features by position; categorical codes
// are ignored (put a OneHotPreProcessor in front to use them). Like River,
// the trees assume features roughly in [0, 1]: the split-time distribution
// depends on the distance to each node's bounding box, so put a
// MinMaxPreProcessor in front when the scales differ. A NaN is a missing
// feature. The random draws replay CPython's random.Random, so for the same
// seed and the same stream the forest grows the trees River grows.
package forest

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/internal/classpred"
	"github.com/spate-ml/spate/core/ml/internal/params"
	"github.com/spate-ml/spate/core/ml/internal/pyrand"
)

// Register adds AMFClassifier and AMFRegressor to r.
func Register(r *ml.Registry) {
	r.Add("AMFClassifier", ml.Entry{Kind: ml.Classifier, New: newClassifier, Decode: decodeClassifier})
	r.Add("AMFRegressor", ml.Entry{Kind: ml.Regressor, New: newRegressor, Decode: decodeRegressor})
}

// ClassifierParams are AMFClassifier's parameters with TurboML's names.
type ClassifierParams struct {
	NClasses       int     `json:"n_classes"`
	NEstimators    int     `json:"n_estimators"`
	Step           float64 `json:"step"`
	UseAggregation bool    `json:"use_aggregation"`
	Dirichlet      float64 `json:"dirichlet"`
	SplitPure      bool    `json:"split_pure"`
	Seed           int64   `json:"seed"`
}

// RegressorParams are AMFRegressor's parameters with TurboML's names.
// Dirichlet is accepted for TurboML compatibility and unused.
type RegressorParams struct {
	NEstimators    int     `json:"n_estimators"`
	Step           float64 `json:"step"`
	UseAggregation bool    `json:"use_aggregation"`
	Dirichlet      float64 `json:"dirichlet"`
	Seed           int64   `json:"seed"`
}

// DefaultClassifierParams returns TurboML's defaults.
func DefaultClassifierParams() ClassifierParams {
	return ClassifierParams{NEstimators: 10, Step: 1, UseAggregation: true, Dirichlet: 0.5}
}

// DefaultRegressorParams returns TurboML's defaults.
func DefaultRegressorParams() RegressorParams {
	return RegressorParams{NEstimators: 10, Step: 1, UseAggregation: true, Dirichlet: 0.5}
}

// Classifier is an aggregated Mondrian forest classifier.
type Classifier struct {
	forest
	p        ClassifierParams
	nFeat    int
	classIdx []int // class -> index of first appearance, -1 if unseen
	idxClass []int // index -> class
	scratch  []float64
	acc      []float64
}

// NewClassifier builds an AMFClassifier for nFeat numeric features.
func NewClassifier(p ClassifierParams, nFeat int) (*Classifier, error) {
	switch {
	case p.NClasses < 2:
		return nil, fmt.Errorf("AMFClassifier: n_classes must be >= 2, got %d", p.NClasses)
	case p.NEstimators < 1:
		return nil, fmt.Errorf("AMFClassifier: n_estimators must be >= 1, got %d", p.NEstimators)
	case p.Step <= 0:
		return nil, fmt.Errorf("AMFClassifier: step must be > 0, got %g", p.Step)
	case p.Dirichlet <= 0:
		return nil, fmt.Errorf("AMFClassifier: dirichlet must be > 0, got %g", p.Dirichlet)
	case nFeat < 1:
		return nil, fmt.Errorf("AMFClassifier: needs at least one numeric input")
	}
	if err := checkSize(p.NEstimators, nFeat, p.NClasses); err != nil {
		return nil, fmt.Errorf("AMFClassifier: %w", err)
	}
	c := &Classifier{forest: forest{rng: pyrand.New(p.Seed)}, p: p, nFeat: nFeat}
	c.init()
	return c, nil
}

func (c *Classifier) init() {
	c.classIdx = make([]int, c.p.NClasses)
	for i := range c.classIdx {
		c.classIdx[i] = -1
	}
	c.scratch = make([]float64, c.p.NClasses)
	c.acc = make([]float64, c.p.NClasses)
}

func newClassifier(raw json.RawMessage, spec ml.Spec, _ []ml.Learner) (ml.Learner, error) {
	p := DefaultClassifierParams()
	p.NClasses = spec.NClasses
	if err := params.Decode("AMFClassifier", raw, &p); err != nil {
		return nil, err
	}
	return NewClassifier(p, spec.NumNumeric)
}

// Algorithm implements ml.Learner.
func (c *Classifier) Algorithm() string { return "AMFClassifier" }

// Learn implements ml.Learner. Labels outside 0..n_classes-1 are ignored.
func (c *Classifier) Learn(x ml.Instance, y float64) {
	cls := int(y)
	if cls < 0 || cls >= c.p.NClasses || float64(cls) != y {
		return
	}
	if c.classIdx[cls] < 0 {
		c.classIdx[cls] = len(c.idxClass)
		c.idxClass = append(c.idxClass, cls)
	}
	c.plant(c.p.NEstimators, func(seed int64) *mondrianTree {
		return newMondrianTree(true, c.nFeat, c.p.NClasses, c.p.Step, c.p.UseAggregation, c.p.Dirichlet, c.p.SplitPure, seed)
	})
	c.learn(x.Numeric, c.classIdx[cls], 0, len(c.idxClass))
}

// Predict implements ml.Learner: the average of the trees' aggregated class
// probabilities (all zero before the first Learn).
func (c *Classifier) Predict(x ml.Instance, dst *ml.Prediction) {
	proba := classpred.ResetProba(dst, c.p.NClasses)
	if c.trees == nil {
		classpred.Finish(dst)
		return
	}
	nSeen := len(c.idxClass)
	acc := c.acc[:nSeen]
	clear(acc)
	div := float64(c.p.NEstimators)
	c.walk(x.Numeric)
	for _, t := range c.trees {
		t.addProba(nSeen, div, acc, c.scratch)
	}
	for i, v := range acc {
		proba[c.idxClass[i]] = v
	}
	classpred.Finish(dst)
}

// Clone implements ml.Learner.
func (c *Classifier) Clone() ml.Learner {
	n := &Classifier{forest: c.forest.clone(), p: c.p, nFeat: c.nFeat}
	n.classIdx = append([]int(nil), c.classIdx...)
	n.idxClass = append([]int(nil), c.idxClass...)
	n.scratch = make([]float64, c.p.NClasses)
	n.acc = make([]float64, c.p.NClasses)
	return n
}

// stateVersion 2 holds the aggregation weights as mantissa and exponent
// (see expw); version 1 held River's log-weights and still decodes.
const stateVersion = 2

// MarshalBinary implements ml.Learner.
func (c *Classifier) MarshalBinary() ([]byte, error) { return c.marshal(stateVersion), nil }

// marshal writes the state in the given version's format (the tests write
// version 1 to check that it still decodes).
func (c *Classifier) marshal(version uint64) []byte {
	e := &wire.Encoder{}
	e.Uvarint(version)
	e.Uvarint(uint64(c.p.NClasses))
	e.Uvarint(uint64(c.p.NEstimators))
	e.F64(c.p.Step)
	e.Boolean(c.p.UseAggregation)
	e.F64(c.p.Dirichlet)
	e.Boolean(c.p.SplitPure)
	e.Varint(c.p.Seed)
	e.Uvarint(uint64(c.nFeat))
	c.rng.Encode(e)
	e.Uvarint(uint64(len(c.idxClass)))
	for _, v := range c.idxClass {
		e.Uvarint(uint64(v))
	}
	c.encodeTrees(e, version)
	return e.Data()
}

func decodeClassifier(data []byte) (ml.Learner, error) {
	d := wire.NewDecoder(data)
	version := d.Uvarint()
	if (version < 1 || version > stateVersion) && d.Err() == nil {
		return nil, fmt.Errorf("AMFClassifier: unknown state version %d", version)
	}
	var p ClassifierParams
	p.NClasses = int(d.Uvarint())
	p.NEstimators = int(d.Uvarint())
	p.Step = d.F64()
	p.UseAggregation = d.Boolean()
	p.Dirichlet = d.F64()
	p.SplitPure = d.Boolean()
	p.Seed = d.Varint()
	nFeat := int(d.Uvarint())
	if d.Err() != nil || p.NClasses < 2 || p.NClasses > 1<<20 || p.NEstimators < 1 || p.NEstimators > 1<<16 || nFeat < 1 || nFeat > 1<<20 {
		return nil, fmt.Errorf("AMFClassifier: bad state header")
	}
	c := &Classifier{p: p, nFeat: nFeat}
	c.init()
	c.rng = pyrand.Decode(d)
	nSeen := d.Count(1)
	for i := 0; i < nSeen && d.Err() == nil; i++ {
		cls := int(d.Uvarint())
		if cls < 0 || cls >= p.NClasses || c.classIdx[cls] >= 0 {
			return nil, fmt.Errorf("AMFClassifier: bad class list in state")
		}
		c.classIdx[cls] = i
		c.idxClass = append(c.idxClass, cls)
	}
	c.decodeTrees(d, version, p.NEstimators, mondrianTree{classifier: true, nFeat: nFeat, nClasses: p.NClasses,
		step: p.Step, useAggregation: p.UseAggregation, dirichlet: p.Dirichlet, splitPure: p.SplitPure})
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("AMFClassifier: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("AMFClassifier: %w", err)
	}
	return c, nil
}

// Regressor is an aggregated Mondrian forest regressor.
type Regressor struct {
	forest
	p     RegressorParams
	nFeat int
}

// NewRegressor builds an AMFRegressor for nFeat numeric features.
func NewRegressor(p RegressorParams, nFeat int) (*Regressor, error) {
	switch {
	case p.NEstimators < 1:
		return nil, fmt.Errorf("AMFRegressor: n_estimators must be >= 1, got %d", p.NEstimators)
	case p.Step <= 0:
		return nil, fmt.Errorf("AMFRegressor: step must be > 0, got %g", p.Step)
	case nFeat < 1:
		return nil, fmt.Errorf("AMFRegressor: needs at least one numeric input")
	}
	if err := checkSize(p.NEstimators, nFeat, 1); err != nil {
		return nil, fmt.Errorf("AMFRegressor: %w", err)
	}
	return &Regressor{forest: forest{rng: pyrand.New(p.Seed)}, p: p, nFeat: nFeat}, nil
}

func newRegressor(raw json.RawMessage, spec ml.Spec, _ []ml.Learner) (ml.Learner, error) {
	p := DefaultRegressorParams()
	if err := params.Decode("AMFRegressor", raw, &p); err != nil {
		return nil, err
	}
	return NewRegressor(p, spec.NumNumeric)
}

// Algorithm implements ml.Learner.
func (r *Regressor) Algorithm() string { return "AMFRegressor" }

// Learn implements ml.Learner.
func (r *Regressor) Learn(x ml.Instance, y float64) {
	if y != y || math.IsInf(y, 0) {
		return
	}
	r.plant(r.p.NEstimators, func(seed int64) *mondrianTree {
		return newMondrianTree(false, r.nFeat, 0, r.p.Step, r.p.UseAggregation, 0, false, seed)
	})
	r.learn(x.Numeric, 0, y, 0)
}

// Predict implements ml.Learner: Score is the average of the trees'
// aggregated predictions (0 before the first Learn).
func (r *Regressor) Predict(x ml.Instance, dst *ml.Prediction) {
	dst.Class = 0
	dst.Proba = dst.Proba[:0]
	dst.Score = 0
	if r.trees == nil {
		return
	}
	s := 0.0
	r.walk(x.Numeric)
	for _, t := range r.trees {
		s += t.predictValue()
	}
	dst.Score = s / float64(r.p.NEstimators)
}

// Clone implements ml.Learner.
func (r *Regressor) Clone() ml.Learner {
	return &Regressor{forest: r.forest.clone(), p: r.p, nFeat: r.nFeat}
}

// MarshalBinary implements ml.Learner.
func (r *Regressor) MarshalBinary() ([]byte, error) { return r.marshal(stateVersion), nil }

// marshal writes the state in the given version's format.
func (r *Regressor) marshal(version uint64) []byte {
	e := &wire.Encoder{}
	e.Uvarint(version)
	e.Uvarint(uint64(r.p.NEstimators))
	e.F64(r.p.Step)
	e.Boolean(r.p.UseAggregation)
	e.F64(r.p.Dirichlet)
	e.Varint(r.p.Seed)
	e.Uvarint(uint64(r.nFeat))
	r.rng.Encode(e)
	r.encodeTrees(e, version)
	return e.Data()
}

func decodeRegressor(data []byte) (ml.Learner, error) {
	d := wire.NewDecoder(data)
	version := d.Uvarint()
	if (version < 1 || version > stateVersion) && d.Err() == nil {
		return nil, fmt.Errorf("AMFRegressor: unknown state version %d", version)
	}
	var p RegressorParams
	p.NEstimators = int(d.Uvarint())
	p.Step = d.F64()
	p.UseAggregation = d.Boolean()
	p.Dirichlet = d.F64()
	p.Seed = d.Varint()
	nFeat := int(d.Uvarint())
	if d.Err() != nil || p.NEstimators < 1 || p.NEstimators > 1<<16 || nFeat < 1 || nFeat > 1<<20 {
		return nil, fmt.Errorf("AMFRegressor: bad state header")
	}
	r := &Regressor{p: p, nFeat: nFeat}
	r.rng = pyrand.Decode(d)
	r.decodeTrees(d, version, p.NEstimators, mondrianTree{nFeat: nFeat, step: p.Step, useAggregation: p.UseAggregation})
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("AMFRegressor: %w", err)
	}
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("AMFRegressor: %w", err)
	}
	return r, nil
}
