package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/schema"
)

// VersionLearner returns the learner of one version, for predictions with
// exactly that version.
func (e *Engine) VersionLearner(ctx context.Context, ns, name string, id int64) (ml.Learner, *inputPlanInfo, error) {
	v, err := e.getVersion(ctx, ns, name, id)
	if err != nil {
		return nil, nil, err
	}
	model, _, err := decodeSnapshot(v.Snapshot)
	if err != nil {
		return nil, nil, err
	}
	m, err := e.reg.GetModel(ctx, ns, name)
	if err != nil {
		return nil, nil, err
	}
	var spec ModelSpec
	_ = json.Unmarshal(m.Config, &spec)
	l, err := e.decodeLearner(model, ml.Spec{NumNumeric: len(spec.NumericalFields), NumCateg: len(spec.CategoricalFields)})
	if err != nil {
		return nil, nil, fmt.Errorf("version %d: %w", id, err)
	}
	return l, &inputPlanInfo{Numerical: spec.NumericalFields, Categorical: spec.CategoricalFields}, nil
}

// inputPlanInfo names a model's inputs.
type inputPlanInfo struct {
	Numerical, Categorical []string
}

// PredictRows predicts rows of a dataset's schema (raw columns; features
// are computed from the current feature state) with the live model.
func (e *Engine) PredictRows(ctx context.Context, ns, name string, rec arrow.RecordBatch) ([]ml.Prediction, int64, error) {
	r, err := e.runner(ns, name)
	if err != nil {
		return nil, 0, err
	}
	full, err := e.withFeatures(ctx, ns, r.spec.DatasetID, rec)
	if err != nil {
		return nil, 0, err
	}
	defer full.Release()
	out := make([]ml.Prediction, full.NumRows())
	var version int64
	for i := range out {
		out[i], version = r.predictRow(full, i)
	}
	return out, version, nil
}

// Promote points alias at a model and marks it prod (the previous target
// goes back to dev). The alias serves predictions atomically: a request
// sees either the old or the new model.
func (e *Engine) Promote(ctx context.Context, ns, name, alias string) error {
	if _, err := e.runner(ns, name); err != nil {
		return err
	}
	if err := schema.ValidateModelName(alias); err != nil {
		return fmt.Errorf("%w: alias: %v", ErrInvalid, err)
	}
	if old, err := e.reg.GetAlias(ctx, ns, alias); err == nil && old != name {
		if m, err := e.reg.GetModel(ctx, ns, old); err == nil {
			m.Stage = registry.StageDev
			_ = e.reg.UpdateModel(ctx, m)
		}
	}
	if err := e.reg.SetAlias(ctx, ns, alias, name); err != nil {
		return err
	}
	e.aliases.Store(aliasKey{ns, alias}, name)
	m, err := e.reg.GetModel(ctx, ns, name)
	if err != nil {
		return err
	}
	m.Stage = registry.StageProd
	return e.reg.UpdateModel(ctx, m)
}

type aliasKey struct{ ns, alias string }

// Resolve maps a model name or alias to a model name.
func (e *Engine) Resolve(ctx context.Context, ns, nameOrAlias string) (string, error) {
	if _, err := e.runner(ns, nameOrAlias); err == nil {
		return nameOrAlias, nil
	}
	if v, ok := e.aliases.Load(aliasKey{ns, nameOrAlias}); ok {
		return v.(string), nil
	}
	name, err := e.reg.GetAlias(ctx, ns, nameOrAlias)
	if err != nil {
		return "", fmt.Errorf("%w: no model or alias %q", ErrNotFound, nameOrAlias)
	}
	e.aliases.Store(aliasKey{ns, nameOrAlias}, name)
	return name, nil
}

// Prediction is one synchronous prediction.
type Prediction struct {
	Key          string    `json:"key"`
	Score        float64   `json:"score"`
	Class        int       `json:"predicted_class"`
	Proba        []float64 `json:"class_probabilities"`
	Version      int64     `json:"model_version"`
	Model        string    `json:"model"`
	FeatureScore []float64 `json:"feature_score"`
}

// PredictJSON predicts one raw row given as a JSON object (the key may be
// omitted) with the live model named by name or alias: features are
// computed from the current feature state, nothing is stored.
func (e *Engine) PredictJSON(ctx context.Context, ns, nameOrAlias string, body []byte) (Prediction, error) {
	name, err := e.Resolve(ctx, ns, nameOrAlias)
	if err != nil {
		return Prediction{}, err
	}
	r, err := e.runner(ns, name)
	if err != nil {
		return Prediction{}, err
	}
	h, err := e.handle(ctx, ns, r.spec.DatasetID)
	if err != nil {
		return Prediction{}, err
	}
	dec := h.meta.Schema.NewJSONDecoder()
	dec.KeyOptional = true
	wrapped := make([]byte, 0, len(body)+2)
	wrapped = append(append(append(wrapped, '['), body...), ']')
	rec, err := dec.Decode(wrapped)
	if err != nil {
		return Prediction{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	defer rec.Release()
	if rec.NumRows() != 1 {
		return Prediction{}, fmt.Errorf("%w: the body must be one JSON object (a row)", ErrInvalid)
	}
	preds, version, err := e.PredictRows(ctx, ns, name, rec)
	if err != nil {
		return Prediction{}, err
	}
	p := preds[0]
	out := Prediction{Score: p.Score, Class: p.Class, Proba: p.Proba, Version: version, Model: name, FeatureScore: []float64{}}
	if out.Proba == nil {
		out.Proba = []float64{}
	}
	if kc := rec.Column(h.meta.Schema.KeyIndex()); !kc.IsNull(0) {
		out.Key = keyAt(kc, 0)
	}
	return out, nil
}

// PredictInputs predicts rows whose columns are the model's inputs by name
// (numerical and categorical fields, e.g. a LocalInputs frame) with the
// live model (version 0) or one stored version.
func (e *Engine) PredictInputs(ctx context.Context, ns, name string, version int64, rec arrow.RecordBatch) ([]ml.Prediction, int64, error) {
	m, err := e.reg.GetModel(ctx, ns, name)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return nil, 0, fmt.Errorf("%w: model %q does not exist", ErrNotFound, name)
		}
		return nil, 0, err
	}
	var spec ModelSpec
	_ = json.Unmarshal(m.Config, &spec)
	var predict func(num []float64, cat []int64, p *ml.Prediction)
	used := version
	if version == 0 {
		r, err := e.runner(ns, name)
		if err != nil {
			return nil, 0, err
		}
		predict = func(num []float64, cat []int64, p *ml.Prediction) {
			r.mu.Lock()
			r.learner.Predict(ml.Instance{Numeric: num, Categ: cat}, p)
			used = r.st.Version
			r.mu.Unlock()
		}
	} else {
		l, _, err := e.VersionLearner(ctx, ns, name, version)
		if err != nil {
			return nil, 0, err
		}
		predict = func(num []float64, cat []int64, p *ml.Prediction) {
			l.Predict(ml.Instance{Numeric: num, Categ: cat}, p)
		}
	}
	preds, err := PredictColumns(rec, spec.NumericalFields, spec.CategoricalFields, predict)
	return preds, used, err
}

// PredictColumns runs predict over the rows of rec, reading the named
// numerical and categorical columns.
func PredictColumns(rec arrow.RecordBatch, numerical, categorical []string, predict func([]float64, []int64, *ml.Prediction)) ([]ml.Prediction, error) {
	numCols, catCols, err := inputColumns(rec, numerical, categorical)
	if err != nil {
		return nil, err
	}
	out := make([]ml.Prediction, rec.NumRows())
	num := make([]float64, len(numCols))
	cat := make([]int64, len(catCols))
	for i := range out {
		fillInputs(numCols, catCols, i, num, cat)
		predict(num, cat, &out[i])
		out[i].Proba = slices.Clone(out[i].Proba)
	}
	return out, nil
}

func inputColumns(rec arrow.RecordBatch, numerical, categorical []string) (num, cat []arrow.Array, err error) {
	col := func(name string) (arrow.Array, error) {
		idx := rec.Schema().FieldIndices(name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("%w: input column %q is missing", ErrInvalid, name)
		}
		return rec.Column(idx[0]), nil
	}
	for _, n := range numerical {
		c, err := col(n)
		if err != nil {
			return nil, nil, err
		}
		num = append(num, c)
	}
	for _, n := range categorical {
		c, err := col(n)
		if err != nil {
			return nil, nil, err
		}
		if c.DataType().ID() == arrow.STRING {
			return nil, nil, fmt.Errorf("%w: categorical column %q must be numeric here (integer codes)", ErrInvalid, n)
		}
		cat = append(cat, c)
	}
	return num, cat, nil
}

func fillInputs(numCols, catCols []arrow.Array, i int, num []float64, cat []int64) {
	for j, c := range numCols {
		num[j] = numAt(c, i)
	}
	for j, c := range catCols {
		v := numAt(c, i)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			cat[j] = 0
		} else {
			cat[j] = int64(v)
		}
	}
}

// LearnColumns teaches l the rows of rec in order: the named numerical and
// categorical columns, and the label column.
func LearnColumns(l ml.Learner, rec arrow.RecordBatch, numerical, categorical []string, label string) error {
	numCols, catCols, err := inputColumns(rec, numerical, categorical)
	if err != nil {
		return err
	}
	idx := rec.Schema().FieldIndices(label)
	if len(idx) == 0 {
		return fmt.Errorf("%w: label column %q is missing", ErrInvalid, label)
	}
	lab := rec.Column(idx[0])
	num := make([]float64, len(numCols))
	cat := make([]int64, len(catCols))
	for i := 0; i < int(rec.NumRows()); i++ {
		y := numAt(lab, i)
		if math.IsNaN(y) {
			continue
		}
		fillInputs(numCols, catCols, i, num, cat)
		l.Learn(ml.Instance{Numeric: num, Categ: cat}, y)
	}
	return nil
}
