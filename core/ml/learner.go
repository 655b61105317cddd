// Package ml owns the online-learner protocol: one example in, one prediction
// out, learning one example at a time. Every algorithm family lives in its own
// sub-package (tree, forest, bayes, linear, anomaly, ensemble, preprocess,
// drift) and implements Learner; a Registry maps TurboML algorithm names to
// constructors and decoders so that deployed models can be built from a
// config and restored from bytes.
//
// Learners are not safe for concurrent use. Given the same inputs in the same
// order, a learner ends in the same state, and MarshalBinary returns the same
// bytes.
package ml

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Instance is one example's inputs by position: numeric values and
// categorical values (small integer codes). A learner built for a Spec always
// receives slices of the Spec's lengths. NaN marks a missing numeric value.
// Learners must not keep references to the slices.
type Instance struct {
	Numeric []float64
	Categ   []int64
}

// Prediction is what a learner says of one instance.
//
// Classifiers set Class, Proba (one probability per class, summing to 1, or
// all zero before anything was learned) and Score (the probability of class
// 1 for binary problems, of Class otherwise). Regressors set Score to the
// predicted value and Class to 0. Anomaly detectors set Score to the anomaly
// score. Proba is reused between calls: Predict overwrites it in place.
type Prediction struct {
	Class int
	Score float64
	Proba []float64
}

// Learner is an online model.
type Learner interface {
	// Algorithm returns the TurboML name of the algorithm, e.g.
	// "HoeffdingTreeClassifier".
	Algorithm() string
	// Learn updates the model with one example. For classifiers y is the
	// class index (0..n_classes-1); for regressors the target; anomaly
	// detectors ignore it.
	Learn(x Instance, y float64)
	// Predict fills dst for x without changing the model.
	Predict(x Instance, dst *Prediction)
	// MarshalBinary encodes the full state deterministically: two learners
	// in the same state encode to identical bytes.
	MarshalBinary() ([]byte, error)
	// Clone returns a deep copy sharing no mutable state with the receiver.
	Clone() Learner
}

// Kind says what a learner predicts.
type Kind int

// Learner kinds.
const (
	Classifier Kind = iota
	Regressor
	AnomalyDetector
	Preprocessor
)

// Spec describes a learner's inputs and target.
type Spec struct {
	NumNumeric int // length of Instance.Numeric
	NumCateg   int // length of Instance.Categ
	NClasses   int // for classifiers; 0 otherwise (a "n_classes" param overrides it)
}

// Factory builds a learner from TurboML-style params (a JSON object with
// snake_case keys; absent keys take TurboML's defaults), the input spec and
// the already-built child learners (base_model / base_models), in order.
type Factory func(params json.RawMessage, spec Spec, children []Learner) (Learner, error)

// Decoder restores a learner from the payload its MarshalBinary returned.
type Decoder func(data []byte) (Learner, error)

// Entry describes one algorithm in a Registry.
type Entry struct {
	Kind   Kind
	New    Factory
	Decode Decoder
	// Children is how many child learners the algorithm takes: 0, 1
	// (base_model) or -1 for a list (base_models).
	Children int
}

// Registry maps algorithm names to their entries. The zero value is not
// usable; call NewRegistry.
type Registry struct {
	entries map[string]Entry
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{entries: map[string]Entry{}} }

// Add registers an algorithm. It panics on a duplicate name: registration
// happens once, at start-up, from code.
func (r *Registry) Add(name string, e Entry) {
	if _, dup := r.entries[name]; dup {
		panic(fmt.Sprintf("ml: algorithm %q registered twice", name))
	}
	r.entries[name] = e
}

// Lookup returns the entry of an algorithm.
func (r *Registry) Lookup(name string) (Entry, bool) {
	e, ok := r.entries[name]
	return e, ok
}

// Names lists the registered algorithms, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.entries))
	for n := range r.entries {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ErrUnknownAlgorithm is returned for a name no entry has.
var ErrUnknownAlgorithm = errors.New("unknown algorithm")

// New builds a learner.
func (r *Registry) New(name string, params json.RawMessage, spec Spec, children []Learner) (Learner, error) {
	e, ok := r.entries[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownAlgorithm, name, r.Names())
	}
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	switch {
	case e.Children == 0 && len(children) > 0:
		return nil, fmt.Errorf("%s takes no base model", name)
	case e.Children == 1 && len(children) != 1:
		return nil, fmt.Errorf("%s needs exactly one base_model, got %d", name, len(children))
	case e.Children == -1 && len(children) == 0:
		return nil, fmt.Errorf("%s needs at least one model in base_models", name)
	}
	return e.New(params, spec, children)
}

// Marshal encodes a learner with its algorithm name so that Unmarshal can
// restore it without knowing the type: a uvarint name length, the name, then
// the learner's own payload.
func Marshal(l Learner) ([]byte, error) {
	payload, err := l.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", l.Algorithm(), err)
	}
	name := l.Algorithm()
	out := binary.AppendUvarint(make([]byte, 0, len(name)+len(payload)+4), uint64(len(name)))
	out = append(out, name...)
	return append(out, payload...), nil
}

// Unmarshal restores a learner encoded by Marshal.
func (r *Registry) Unmarshal(data []byte) (Learner, error) {
	n, k := binary.Uvarint(data)
	if k <= 0 || uint64(len(data)-k) < n {
		return nil, errors.New("ml: truncated learner encoding")
	}
	name := string(data[k : k+int(n)])
	e, ok := r.entries[name]
	if !ok {
		return nil, fmt.Errorf("%w %q in encoded learner", ErrUnknownAlgorithm, name)
	}
	return e.Decode(data[k+int(n):])
}
