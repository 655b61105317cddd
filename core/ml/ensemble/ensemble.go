// Package ensemble owns the online ensembles of copies of one base
// classifier (TurboML's base_model, Entry.Children = 1):
// LeveragingBaggingClassifier and AdaBoostClassifier, ports of River
// 0.26.1's ensemble.LeveragingBaggingClassifier (Bifet, Holmes & Pfahringer
// 2010) and ensemble.AdaBoostClassifier (Oza & Russell's online boosting).
//
// The base model given at construction is a prototype: each member starts
// as a clone of it, and a member reset after a drift is a fresh clone of
// it. Resampling weights are drawn with CPython's random.Random (River's
// utils.random.poisson), so for the same seed, stream and base model the
// members learn exactly what River's learn. A member that predicts nothing
// yet (all-zero probabilities) counts as River's None prediction.
package ensemble

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/drift"
	"github.com/spate-ml/spate/core/ml/internal/classpred"
	"github.com/spate-ml/spate/core/ml/internal/params"
	"github.com/spate-ml/spate/core/ml/internal/pyrand"
)

// Register adds LeveragingBaggingClassifier and AdaBoostClassifier to r.
// Their decoders restore the members through r, so r must also hold the
// base models' algorithms.
func Register(r *ml.Registry) {
	r.Add("LeveragingBaggingClassifier", ml.Entry{Kind: ml.Classifier, Children: 1, New: newLevBag,
		Decode: func(b []byte) (ml.Learner, error) { return decodeLevBag(r, b) }})
	r.Add("AdaBoostClassifier", ml.Entry{Kind: ml.Classifier, Children: 1, New: newAdaBoost,
		Decode: func(b []byte) (ml.Learner, error) { return decodeAdaBoost(r, b) }})
}

const stateVersion = 1

// LevBagParams are LeveragingBaggingClassifier's parameters with TurboML's
// names and defaults. BaggingMethod is one of "bag" (Poisson(w) weights),
// "me" (weight 1 when misclassified, else with probability e/(1-e)),
// "half" (weight 1 with probability 1/2), "wt" (1 + Poisson(1)) and
// "subag" (1 if Poisson(1) > 0).
type LevBagParams struct {
	NClasses      int     `json:"n_classes"`
	NModels       int     `json:"n_models"`
	W             float64 `json:"w"`
	BaggingMethod string  `json:"bagging_method"`
	Seed          int64   `json:"seed"`
	ADWINDelta    float64 `json:"adwin_delta"`
}

// DefaultLevBagParams returns TurboML's defaults (ADWIN delta is River's).
func DefaultLevBagParams() LevBagParams {
	return LevBagParams{NModels: 10, W: 6, BaggingMethod: "bag", ADWINDelta: 0.002}
}

func (p LevBagParams) validate() error {
	switch {
	case p.NClasses < 2:
		return fmt.Errorf("LeveragingBaggingClassifier: n_classes must be >= 2, got %d", p.NClasses)
	case p.NModels < 1 || p.NModels > 1<<12:
		return fmt.Errorf("LeveragingBaggingClassifier: n_models must be in [1, 4096], got %d", p.NModels)
	case !(p.W > 0):
		return fmt.Errorf("LeveragingBaggingClassifier: w must be > 0, got %g", p.W)
	case !(p.ADWINDelta > 0 && p.ADWINDelta < 1):
		return fmt.Errorf("LeveragingBaggingClassifier: adwin_delta must be in (0, 1), got %g", p.ADWINDelta)
	}
	switch p.BaggingMethod {
	case "bag", "me", "half", "wt", "subag":
		return nil
	}
	return fmt.Errorf("LeveragingBaggingClassifier: bagging_method must be one of bag, me, half, wt, subag; got %q", p.BaggingMethod)
}

// LevBag is a leveraging bagging classifier: each member learns each sample
// k times (k drawn per bagging_method), each member's 0/1 error feeds an
// ADWIN, and when one detector sees the error rise, the member with the
// highest estimated error is replaced by a fresh copy.
type LevBag struct {
	p           LevBagParams
	rng         *pyrand.Rand
	proto       ml.Learner
	members     []ml.Learner
	detectors   []*drift.ADWIN
	nDetections int
	pred        ml.Prediction
}

// NewLevBag builds the ensemble around the prototype base classifier.
func NewLevBag(p LevBagParams, base ml.Learner) (*LevBag, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	l := &LevBag{p: p, rng: pyrand.New(p.Seed), proto: base.Clone()}
	for i := 0; i < p.NModels; i++ {
		l.members = append(l.members, base.Clone())
		d, err := drift.NewADWIN(p.ADWINDelta)
		if err != nil {
			return nil, fmt.Errorf("LeveragingBaggingClassifier: %w", err)
		}
		l.detectors = append(l.detectors, d)
	}
	return l, nil
}

func newLevBag(raw json.RawMessage, spec ml.Spec, children []ml.Learner) (ml.Learner, error) {
	p := DefaultLevBagParams()
	p.NClasses = spec.NClasses
	if err := params.Decode("LeveragingBaggingClassifier", raw, &p); err != nil {
		return nil, err
	}
	if len(children) != 1 {
		return nil, fmt.Errorf("LeveragingBaggingClassifier needs exactly one base_model, got %d", len(children))
	}
	return NewLevBag(p, children[0])
}

// Algorithm implements ml.Learner.
func (l *LevBag) Algorithm() string { return "LeveragingBaggingClassifier" }

// NDetections returns how many members were reset after a drift.
func (l *LevBag) NDetections() int { return l.nDetections }

// predictClass returns the member's predicted class, or -1 when it predicts
// nothing yet.
func predictClass(m ml.Learner, x ml.Instance, p *ml.Prediction) int {
	m.Predict(x, p)
	sum := 0.0
	for _, v := range p.Proba {
		sum += v
	}
	if !(sum > 0) {
		return -1
	}
	return p.Class
}

func (l *LevBag) weight(i int, x ml.Instance, y int) int {
	switch l.p.BaggingMethod {
	case "me":
		e := l.detectors[i].Estimation()
		if predictClass(l.members[i], x, &l.pred) != y {
			return 1
		}
		if e != 1 && l.rng.Random() < e/(1-e) {
			return 1
		}
		return 0
	case "half":
		if l.rng.Randint(0, 1) == 0 {
			return 1
		}
		return 0
	case "wt":
		return 1 + l.rng.Poisson(1)
	case "subag":
		if l.rng.Poisson(1) > 0 {
			return 1
		}
		return 0
	}
	return l.rng.Poisson(l.p.W)
}

// Learn implements ml.Learner. Labels outside 0..n_classes-1 are ignored.
func (l *LevBag) Learn(x ml.Instance, y float64) {
	cls := int(y)
	if cls < 0 || cls >= l.p.NClasses || float64(cls) != y {
		return
	}
	change := false
	for i, m := range l.members {
		k := l.weight(i, x, cls)
		for j := 0; j < k; j++ {
			m.Learn(x, y)
		}
		if c := predictClass(m, x, &l.pred); c >= 0 {
			wrong := 0.0
			if c != cls {
				wrong = 1
			}
			d := l.detectors[i]
			before := d.Estimation()
			if d.Update(wrong) && d.Estimation() > before {
				change = true
			}
		}
	}
	if change {
		l.nDetections++
		worst := 0
		for j, d := range l.detectors {
			if d.Estimation() > l.detectors[worst].Estimation() {
				worst = j
			}
		}
		l.members[worst] = l.proto.Clone()
		l.detectors[worst] = l.detectors[worst].Fresh()
	}
}

// Predict implements ml.Learner: the members' probabilities summed and
// normalised.
func (l *LevBag) Predict(x ml.Instance, dst *ml.Prediction) {
	proba := classpred.ResetProba(dst, l.p.NClasses)
	for _, m := range l.members {
		m.Predict(x, &l.pred)
		for c, v := range l.pred.Proba {
			if c < len(proba) {
				proba[c] += v
			}
		}
	}
	normalize(proba)
	classpred.Finish(dst)
}

func normalize(p []float64) {
	total := 0.0
	for _, v := range p {
		total += v
	}
	if total > 0 {
		for i := range p {
			p[i] /= total
		}
	}
}

// Clone implements ml.Learner.
func (l *LevBag) Clone() ml.Learner {
	n := &LevBag{p: l.p, proto: l.proto.Clone(), nDetections: l.nDetections}
	g := *l.rng
	n.rng = &g
	for i, m := range l.members {
		n.members = append(n.members, m.Clone())
		n.detectors = append(n.detectors, l.detectors[i].Copy())
	}
	return n
}

// MarshalBinary implements ml.Learner.
func (l *LevBag) MarshalBinary() ([]byte, error) {
	e := &wire.Encoder{}
	e.Uvarint(stateVersion)
	e.Uvarint(uint64(l.p.NClasses))
	e.Uvarint(uint64(l.p.NModels))
	e.F64(l.p.W)
	e.Str(l.p.BaggingMethod)
	e.Varint(l.p.Seed)
	e.F64(l.p.ADWINDelta)
	e.Uvarint(uint64(l.nDetections))
	l.rng.Encode(e)
	if err := encodeLearner(e, l.proto); err != nil {
		return nil, err
	}
	for i, m := range l.members {
		if err := encodeLearner(e, m); err != nil {
			return nil, err
		}
		b, err := l.detectors[i].MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("LeveragingBaggingClassifier: %w", err)
		}
		e.Bytes(b)
	}
	return e.Data(), nil
}

func encodeLearner(e *wire.Encoder, m ml.Learner) error {
	b, err := ml.Marshal(m)
	if err != nil {
		return err
	}
	e.Bytes(b)
	return nil
}

func decodeLearner(r *ml.Registry, d *wire.Decoder) (ml.Learner, error) {
	b := d.Bytes()
	if d.Err() != nil {
		return nil, d.Err()
	}
	return r.Unmarshal(b)
}

func decodeLevBag(r *ml.Registry, data []byte) (ml.Learner, error) {
	d := wire.NewDecoder(data)
	if v := d.Uvarint(); v != stateVersion && d.Err() == nil {
		return nil, fmt.Errorf("LeveragingBaggingClassifier: unknown state version %d", v)
	}
	var p LevBagParams
	p.NClasses = int(d.Uvarint())
	p.NModels = int(d.Uvarint())
	p.W = d.F64()
	p.BaggingMethod = d.Str()
	p.Seed = d.Varint()
	p.ADWINDelta = d.F64()
	if d.Err() != nil {
		return nil, fmt.Errorf("LeveragingBaggingClassifier: %w", d.Err())
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	l := &LevBag{p: p, nDetections: int(d.Uvarint()), rng: pyrand.Decode(d)}
	var err error
	if l.proto, err = decodeLearner(r, d); err != nil {
		return nil, fmt.Errorf("LeveragingBaggingClassifier base model: %w", err)
	}
	for i := 0; i < p.NModels; i++ {
		m, err := decodeLearner(r, d)
		if err != nil {
			return nil, fmt.Errorf("LeveragingBaggingClassifier member %d: %w", i, err)
		}
		det, err := drift.UnmarshalADWIN(d.Bytes())
		if err != nil {
			return nil, fmt.Errorf("LeveragingBaggingClassifier detector %d: %w", i, err)
		}
		l.members = append(l.members, m)
		l.detectors = append(l.detectors, det)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("LeveragingBaggingClassifier: %w", err)
	}
	if err := l.validate(); err != nil {
		return nil, err
	}
	return l, nil
}

// AdaBoostParams are AdaBoostClassifier's parameters with TurboML's names
// and defaults.
type AdaBoostParams struct {
	NClasses int   `json:"n_classes"`
	NModels  int   `json:"n_models"`
	Seed     int64 `json:"seed"`
}

// DefaultAdaBoostParams returns TurboML's defaults.
func DefaultAdaBoostParams() AdaBoostParams { return AdaBoostParams{NModels: 10} }

// AdaBoost is Oza and Russell's online boosting: each member learns a
// sample Poisson(λ) times, λ growing after the members that got it wrong;
// members vote with weight log((1-ε)/ε) of their weighted error ε.
type AdaBoost struct {
	p              AdaBoostParams
	rng            *pyrand.Rand
	members        []ml.Learner
	correct, wrong []float64
	pred           ml.Prediction
}

// NewAdaBoost builds the ensemble around the prototype base classifier.
func NewAdaBoost(p AdaBoostParams, base ml.Learner) (*AdaBoost, error) {
	switch {
	case p.NClasses < 2:
		return nil, fmt.Errorf("AdaBoostClassifier: n_classes must be >= 2, got %d", p.NClasses)
	case p.NModels < 1 || p.NModels > 1<<12:
		return nil, fmt.Errorf("AdaBoostClassifier: n_models must be in [1, 4096], got %d", p.NModels)
	}
	a := &AdaBoost{p: p, rng: pyrand.New(p.Seed), correct: make([]float64, p.NModels), wrong: make([]float64, p.NModels)}
	for i := 0; i < p.NModels; i++ {
		a.members = append(a.members, base.Clone())
	}
	return a, nil
}

func newAdaBoost(raw json.RawMessage, spec ml.Spec, children []ml.Learner) (ml.Learner, error) {
	p := DefaultAdaBoostParams()
	p.NClasses = spec.NClasses
	if err := params.Decode("AdaBoostClassifier", raw, &p); err != nil {
		return nil, err
	}
	if len(children) != 1 {
		return nil, fmt.Errorf("AdaBoostClassifier needs exactly one base_model, got %d", len(children))
	}
	return NewAdaBoost(p, children[0])
}

// Algorithm implements ml.Learner.
func (a *AdaBoost) Algorithm() string { return "AdaBoostClassifier" }

// Learn implements ml.Learner. Labels outside 0..n_classes-1 are ignored.
func (a *AdaBoost) Learn(x ml.Instance, y float64) {
	cls := int(y)
	if cls < 0 || cls >= a.p.NClasses || float64(cls) != y {
		return
	}
	lambda := 1.0
	for i, m := range a.members {
		for k := a.rng.Poisson(lambda); k > 0; k-- {
			m.Learn(x, y)
		}
		if predictClass(m, x, &a.pred) == cls {
			a.correct[i] += lambda
			lambda *= (a.correct[i] + a.wrong[i]) / (2 * a.correct[i])
		} else {
			a.wrong[i] += lambda
			lambda *= (a.correct[i] + a.wrong[i]) / (2 * a.wrong[i])
		}
	}
}

// Predict implements ml.Learner.
func (a *AdaBoost) Predict(x ml.Instance, dst *ml.Prediction) {
	proba := classpred.ResetProba(dst, a.p.NClasses)
	for i, m := range a.members {
		eps := a.wrong[i] + 1e-16
		eps /= (a.correct[i] + a.wrong[i]) + 1e-16
		w := 1.0
		if !(eps == 0 || eps > 0.5) {
			if beta := (1 - eps) / eps; beta != 0 {
				w = math.Log(beta)
			} else {
				w = 0
			}
		}
		m.Predict(x, &a.pred)
		for c, v := range a.pred.Proba {
			if c < len(proba) {
				proba[c] += v * w
			}
		}
	}
	normalize(proba)
	classpred.Finish(dst)
}

// Clone implements ml.Learner.
func (a *AdaBoost) Clone() ml.Learner {
	n := &AdaBoost{p: a.p, correct: append([]float64(nil), a.correct...), wrong: append([]float64(nil), a.wrong...)}
	g := *a.rng
	n.rng = &g
	for _, m := range a.members {
		n.members = append(n.members, m.Clone())
	}
	return n
}

// MarshalBinary implements ml.Learner.
func (a *AdaBoost) MarshalBinary() ([]byte, error) {
	e := &wire.Encoder{}
	e.Uvarint(stateVersion)
	e.Uvarint(uint64(a.p.NClasses))
	e.Uvarint(uint64(a.p.NModels))
	e.Varint(a.p.Seed)
	a.rng.Encode(e)
	for i, m := range a.members {
		e.F64(a.correct[i])
		e.F64(a.wrong[i])
		if err := encodeLearner(e, m); err != nil {
			return nil, err
		}
	}
	return e.Data(), nil
}

func decodeAdaBoost(r *ml.Registry, data []byte) (ml.Learner, error) {
	d := wire.NewDecoder(data)
	if v := d.Uvarint(); v != stateVersion && d.Err() == nil {
		return nil, fmt.Errorf("AdaBoostClassifier: unknown state version %d", v)
	}
	var p AdaBoostParams
	p.NClasses = int(d.Uvarint())
	p.NModels = int(d.Uvarint())
	p.Seed = d.Varint()
	if d.Err() != nil {
		return nil, fmt.Errorf("AdaBoostClassifier: %w", d.Err())
	}
	if p.NClasses < 2 || p.NModels < 1 || p.NModels > 1<<12 {
		return nil, fmt.Errorf("AdaBoostClassifier: bad state header: n_classes %d, n_models %d", p.NClasses, p.NModels)
	}
	a := &AdaBoost{p: p, rng: pyrand.Decode(d)}
	for i := 0; i < p.NModels; i++ {
		a.correct = append(a.correct, d.F64())
		a.wrong = append(a.wrong, d.F64())
		m, err := decodeLearner(r, d)
		if err != nil {
			return nil, fmt.Errorf("AdaBoostClassifier member %d: %w", i, err)
		}
		a.members = append(a.members, m)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("AdaBoostClassifier: %w", err)
	}
	if err := a.validate(); err != nil {
		return nil, err
	}
	return a, nil
}
