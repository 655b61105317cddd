package runtime

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/schema"
)

// LabelSpec names the dataset and field that carry a model's labels. Label
// rows join input rows by the two datasets' key fields.
type LabelSpec struct {
	DatasetID string `json:"dataset_id"`
	Field     string `json:"field"`
}

// ModelSpec is everything a deployed model is made of; it is stored as the
// model's config in the registry.
type ModelSpec struct {
	// DatasetID is the input dataset; its rows (raw columns plus
	// materialized features) are predicted as they arrive.
	DatasetID string `json:"dataset_id"`
	// ModelConfigs is TurboML's flat list of algorithm configs, parents
	// first (each an object with "algorithm" and its params).
	ModelConfigs []json.RawMessage `json:"model_configs"`
	// NumericalFields and CategoricalFields are the inputs by name: raw
	// columns or materialized features of DatasetID.
	NumericalFields   []string `json:"numerical_fields"`
	CategoricalFields []string `json:"categorical_fields"`
	// TimeField, when set, is a registered timestamp column whose value is
	// copied to each output as its event time.
	TimeField string `json:"time_field,omitempty"`
	// Label is where labels come from; required unless PredictOnly.
	Label *LabelSpec `json:"label,omitempty"`
	// PredictOnly deploys a model that never learns.
	PredictOnly bool `json:"predict_only,omitempty"`
	// InitialState, when set, is an encoded learner (from a local learn)
	// to start from instead of a fresh one.
	InitialState []byte `json:"initial_state,omitempty"`
	// VersionEverySamples and VersionEverySeconds trigger automatic
	// versions, whichever comes first; zero or negative disables one.
	// With neither set, a version is taken every 600 s (10 minutes) when
	// the model learned anything.
	VersionEverySamples int64   `json:"version_every_samples,omitempty"`
	VersionEverySeconds float64 `json:"version_every_seconds,omitempty"`
	// KeepVersions is how many of the newest automatic versions keep their
	// snapshot (default 20; negative keeps all); older ones are thinned to
	// a logarithmic spread. Versions made on request are always kept.
	KeepVersions int `json:"keep_versions,omitempty"`
	// MaxPending bounds the rows waiting for their label and the labels
	// waiting for their row (default 1,000,000 each); the oldest are
	// dropped beyond it and counted.
	MaxPending int `json:"max_pending,omitempty"`
	// Metrics are the windowed metrics computed continuously.
	Metrics []string `json:"metrics,omitempty"`
}

// Defaults for ModelSpec.
const (
	DefaultVersionEverySeconds = 600
	DefaultKeepVersions        = 20
	DefaultMaxPending          = 1000000
	DefaultMetricWindow        = 1000
)

func (s *ModelSpec) withDefaults() {
	if s.VersionEverySamples <= 0 && s.VersionEverySeconds == 0 {
		s.VersionEverySeconds = DefaultVersionEverySeconds
	}
	if s.KeepVersions == 0 {
		s.KeepVersions = DefaultKeepVersions
	}
	if s.MaxPending <= 0 {
		s.MaxPending = DefaultMaxPending
	}
}

// maxVersionEverySeconds bounds version_every_seconds (one year): beyond
// it the interval would not fit a time.Duration once in nanoseconds.
const maxVersionEverySeconds = 365 * 24 * 3600

// validateSettings checks the numeric settings of a spec: NaN or ±Inf
// cannot be stored (the spec is kept as JSON) and mean nothing as an
// interval, so they are refused naming the field instead of failing later.
func (s *ModelSpec) validateSettings() error {
	v := s.VersionEverySeconds
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Errorf("%w: version_every_seconds is %v: give a finite number of seconds (negative disables time-based versions)", ErrInvalid, v)
	case v > maxVersionEverySeconds:
		return fmt.Errorf("%w: version_every_seconds is %v: at most %d (one year)", ErrInvalid, v, maxVersionEverySeconds)
	}
	return nil
}

func (s *ModelSpec) versionInterval() time.Duration {
	if s.VersionEverySeconds <= 0 {
		return 0
	}
	return time.Duration(s.VersionEverySeconds * float64(time.Second))
}

// inputPlan says where each model input comes from in an input batch (raw
// columns followed by feature columns) and how to turn it into the
// learner's Instance.
type inputPlan struct {
	num     []int // column index per numerical field
	cat     []int // column index per categorical field
	catStr  []bool
	key     int
	time    int // -1 when no time field
	label   int // column index of the label field in label batches
	labKey  int
	numType []schema.Type
	catType []schema.Type
}

// planInputs resolves the spec's fields against the input schema (raw +
// features) and the label schema.
func planInputs(s ModelSpec, in *schema.Schema, inFields []schema.Field, lab *schema.Schema) (*inputPlan, error) {
	if err := s.validateSettings(); err != nil {
		return nil, err
	}
	idx := map[string]int{}
	types := map[string]schema.Type{}
	for i, f := range inFields {
		idx[f.Name] = i
		types[f.Name] = f.Type
	}
	p := &inputPlan{key: in.KeyIndex(), time: -1, label: -1, labKey: -1}
	seen := map[string]bool{}
	for _, name := range s.NumericalFields {
		i, ok := idx[name]
		if !ok {
			return nil, fmt.Errorf("%w: numerical field %q is neither a column nor a materialized feature of dataset %q", ErrInvalid, name, s.DatasetID)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: field %q is named twice", ErrInvalid, name)
		}
		seen[name] = true
		switch types[name] {
		case schema.Int32, schema.Int64, schema.Float, schema.Double, schema.Bool:
		default:
			return nil, fmt.Errorf("%w: numerical field %q has type %s, want a number or bool", ErrInvalid, name, types[name])
		}
		p.num = append(p.num, i)
		p.numType = append(p.numType, types[name])
	}
	for _, name := range s.CategoricalFields {
		i, ok := idx[name]
		if !ok {
			return nil, fmt.Errorf("%w: categorical field %q is neither a column nor a materialized feature of dataset %q", ErrInvalid, name, s.DatasetID)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: field %q is named twice", ErrInvalid, name)
		}
		seen[name] = true
		if types[name] == schema.Bytes {
			return nil, fmt.Errorf("%w: categorical field %q has type bytes", ErrInvalid, name)
		}
		p.cat = append(p.cat, i)
		p.catStr = append(p.catStr, types[name] == schema.String)
		p.catType = append(p.catType, types[name])
	}
	if len(p.num)+len(p.cat) == 0 {
		return nil, fmt.Errorf("%w: the model has no numerical or categorical fields", ErrInvalid)
	}
	if s.TimeField != "" {
		i, ok := idx[s.TimeField]
		if !ok {
			return nil, fmt.Errorf("%w: time field %q is not a column of dataset %q", ErrInvalid, s.TimeField, s.DatasetID)
		}
		p.time = i
	}
	if lab != nil {
		f, ok := lab.Field(s.Label.Field)
		if !ok {
			return nil, fmt.Errorf("%w: label field %q is not a column of dataset %q", ErrInvalid, s.Label.Field, s.Label.DatasetID)
		}
		switch f.Type {
		case schema.Int32, schema.Int64, schema.Float, schema.Double, schema.Bool:
		default:
			return nil, fmt.Errorf("%w: label field %q has type %s, want a number or bool", ErrInvalid, f.Name, f.Type)
		}
		if lab.Fields[lab.KeyIndex()].Type != in.Fields[in.KeyIndex()].Type {
			return nil, fmt.Errorf("%w: the key of %q (%s) and of %q (%s) differ in type", ErrInvalid,
				s.DatasetID, in.Fields[in.KeyIndex()].Type, s.Label.DatasetID, lab.Fields[lab.KeyIndex()].Type)
		}
		p.label = lab.Index(s.Label.Field)
		p.labKey = lab.KeyIndex()
	}
	return p, nil
}

func (p *inputPlan) spec(nClasses int) ml.Spec {
	return ml.Spec{NumNumeric: len(p.num), NumCateg: len(p.cat), NClasses: nClasses}
}

// numAt reads column col at row i as a float64; null is NaN.
func numAt(col arrow.Array, i int) float64 {
	if col.IsNull(i) {
		return math.NaN()
	}
	switch c := col.(type) {
	case interface{ Value(int) float64 }:
		return c.Value(i)
	case interface{ Value(int) float32 }:
		return float64(c.Value(i))
	case interface{ Value(int) int64 }:
		return float64(c.Value(i))
	case interface{ Value(int) int32 }:
		return float64(c.Value(i))
	case interface{ Value(int) bool }:
		if c.Value(i) {
			return 1
		}
		return 0
	}
	return math.NaN()
}

// keyAt renders the key at row i as a string (keys of any type join by
// their text form).
func keyAt(col arrow.Array, i int) string {
	switch c := col.(type) {
	case interface{ Value(int) string }:
		return c.Value(i)
	case interface{ Value(int) []byte }:
		return string(c.Value(i))
	}
	return col.ValueStr(i)
}
