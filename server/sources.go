package server

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/spate-ml/spate/core/feature"
	"github.com/spate-ml/spate/core/fraud"
	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/runtime"
	"github.com/spate-ml/spate/server/flightsvc"
)

// flightSources lists the DoGet ticket kinds besides "dataset".
func (s *Server) flightSources() map[string]flightsvc.Source {
	return map[string]flightsvc.Source{
		"sample":          sampleSource,
		"features":        s.featuresSource,
		"feature_preview": s.previewSource,
		"outputs":         s.outputsSource,
	}
}

// flightExchanges lists the DoExchange command kinds.
func (s *Server) flightExchanges() map[string]flightsvc.Exchange {
	return map[string]flightsvc.Exchange{
		"predict":       s.predictExchange,
		"learn_local":   s.learnLocalExchange,
		"predict_local": s.predictLocalExchange,
	}
}

// sampleSource serves the bundled data sets, generated on the fly by the one
// generator in core/fraud: {"kind": "sample", "name": "fraud_transactions"}
// or "fraud_labels", with optional "rows" and "seed".
func sampleSource(ctx context.Context, _ string, c flightsvc.Command) (*arrow.Schema, func(func(arrow.RecordBatch) error) error, error) {
	cfg := fraud.DefaultConfig()
	if c.Rows > 0 {
		cfg.Rows = c.Rows
	}
	if c.Seed != 0 {
		cfg.Seed = c.Seed
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", runtime.ErrInvalid, err)
	}
	var labels bool
	var sch *arrow.Schema
	switch c.Name {
	case "fraud_transactions":
		sch = withGeneratorVersion(fraud.TransactionsSchema().Arrow())
	case "fraud_labels":
		labels, sch = true, withGeneratorVersion(fraud.LabelsSchema().Arrow())
	default:
		return nil, nil, fmt.Errorf("%w: unknown sample %q (known: fraud_transactions, fraud_labels)", runtime.ErrInvalid, c.Name)
	}
	produce := func(send func(arrow.RecordBatch) error) error {
		return fraud.Generate(cfg, 16384, func(tx, lb arrow.RecordBatch) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			src := tx
			if labels {
				src = lb
			}
			rec, err := rewrap(sch, src)
			if err != nil {
				return err
			}
			defer rec.Release()
			return send(rec)
		})
	}
	return sch, produce, nil
}

// withGeneratorVersion tags a sample schema with the generator's version
// (metadata key spate.sample.generator_version) so clients can key caches.
func withGeneratorVersion(s *arrow.Schema) *arrow.Schema {
	md := arrow.NewMetadata([]string{"spate.sample.generator_version"}, []string{fraud.GeneratorVersion})
	return arrow.NewSchema(s.Fields(), &md)
}

// rewrap gives rec the declared schema (same columns), so that batches
// joined from several logs match the stream's schema exactly.
func rewrap(sch *arrow.Schema, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	if int(rec.NumCols()) != sch.NumFields() {
		return nil, fmt.Errorf("the dataset's features changed during the read; read again")
	}
	cols := make([]arrow.Array, rec.NumCols())
	for i := range cols {
		cols[i] = rec.Column(i)
	}
	return array.NewRecordBatch(sch, cols, rec.NumRows()), nil
}

func nullableSchema(fields []arrow.Field) *arrow.Schema {
	out := make([]arrow.Field, len(fields))
	for i, f := range fields {
		f.Nullable = true
		out[i] = f
	}
	return arrow.NewSchema(out, nil)
}

// featuresSource streams a dataset's rows with their materialized features
// from an offset: {"kind": "features", "dataset_id": ..., "from": 0,
// "limit": -1}. It stops at the rows whose features are computed when the
// call began.
func (s *Server) featuresSource(ctx context.Context, ns string, c flightsvc.Command) (*arrow.Schema, func(func(arrow.RecordBatch) error) error, error) {
	fields, err := s.engine.FeatureFields(ctx, ns, c.DatasetID)
	if err != nil {
		return nil, nil, err
	}
	afs := make([]arrow.Field, len(fields))
	for i, f := range fields {
		afs[i] = arrow.Field{Name: f.Name, Type: f.Type.Arrow()}
	}
	sch := nullableSchema(afs)
	end, err := s.engine.FeatureFrontier(ctx, ns, c.DatasetID)
	if err != nil {
		return nil, nil, err
	}
	if c.From < 0 {
		return nil, nil, fmt.Errorf("%w: from=%d is negative", runtime.ErrInvalid, c.From)
	}
	if c.Limit != nil && *c.Limit >= 0 && c.From+*c.Limit < end {
		end = c.From + *c.Limit
	}
	produce := func(send func(arrow.RecordBatch) error) error {
		for off := c.From; off < end; {
			recs, next, err := s.engine.ReadFeatures(ctx, ns, c.DatasetID, off, int(min(end-off, 65536)))
			if err != nil {
				return err
			}
			if next == off {
				return nil
			}
			for i, r := range recs {
				w, err := rewrap(sch, r)
				r.Release()
				if err == nil {
					err = send(w)
					w.Release()
				}
				if err != nil {
					for _, rest := range recs[i+1:] {
						rest.Release()
					}
					return err
				}
			}
			off = next
		}
		return nil
	}
	return sch, produce, nil
}

// previewSource computes materialized plus pending features over the
// dataset's rows without storing anything: {"kind": "feature_preview",
// "dataset_id": ..., "features": [defs], "limit": -1}.
func (s *Server) previewSource(ctx context.Context, ns string, c flightsvc.Command) (*arrow.Schema, func(func(arrow.RecordBatch) error) error, error) {
	pending := make([]feature.Def, len(c.Features))
	for i, raw := range c.Features {
		if err := json.Unmarshal(raw, &pending[i]); err != nil {
			return nil, nil, fmt.Errorf("%w: feature %d: %v", runtime.ErrInvalid, i, err)
		}
	}
	limit := int64(-1)
	if c.Limit != nil {
		limit = *c.Limit
	}
	base, err := s.engine.PreviewSchema(ctx, ns, c.DatasetID, pending)
	if err != nil {
		return nil, nil, err
	}
	sch := nullableSchema(base.Fields())
	produce := func(send func(arrow.RecordBatch) error) error {
		return s.engine.PreviewFeatures(ctx, ns, c.DatasetID, pending, limit, func(r arrow.RecordBatch) error {
			w, err := rewrap(sch, r)
			if err != nil {
				return err
			}
			defer w.Release()
			return send(w)
		})
	}
	return sch, produce, nil
}

// outputsSource streams a model's outputs from an offset: {"kind":
// "outputs", "model": ..., "from": 0, "limit": -1}.
func (s *Server) outputsSource(ctx context.Context, ns string, c flightsvc.Command) (*arrow.Schema, func(func(arrow.RecordBatch) error) error, error) {
	end, err := s.engine.OutputEnd(ns, c.Model)
	if err != nil {
		return nil, nil, err
	}
	if c.From < 0 || c.From > end {
		return nil, nil, fmt.Errorf("%w: from=%d is outside [0, %d]", runtime.ErrInvalid, c.From, end)
	}
	if c.Limit != nil && *c.Limit >= 0 && c.From+*c.Limit < end {
		end = c.From + *c.Limit
	}
	produce := func(send func(arrow.RecordBatch) error) error {
		for off := c.From; off < end; {
			recs, next, err := s.engine.ReadOutputs(ctx, ns, c.Model, off, int(min(end-off, 65536)))
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				return nil
			}
			for i, r := range recs {
				if rem := end - off; r.NumRows() > rem {
					cut := r.NewSlice(0, rem)
					r.Release()
					r = cut
				}
				off += r.NumRows()
				err := send(r)
				r.Release()
				if err != nil {
					for _, rest := range recs[i+1:] {
						rest.Release()
					}
					return err
				}
			}
			_ = next
		}
		return nil
	}
	return runtime.OutputSchema, produce, nil
}

// predictionSchema is what prediction exchanges return.
var predictionSchema = arrow.NewSchema([]arrow.Field{
	{Name: "score", Type: arrow.PrimitiveTypes.Float64},
	{Name: "predicted_class", Type: arrow.PrimitiveTypes.Int64},
	{Name: "class_probabilities", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64)},
	{Name: "model_version", Type: arrow.PrimitiveTypes.Int64},
}, nil)

func predictionBatch(preds []ml.Prediction, version int64) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, predictionSchema)
	defer b.Release()
	lb := b.Field(2).(*array.ListBuilder)
	vb := lb.ValueBuilder().(*array.Float64Builder)
	for _, p := range preds {
		b.Field(0).(*array.Float64Builder).Append(p.Score)
		b.Field(1).(*array.Int64Builder).Append(int64(p.Class))
		lb.Append(true)
		vb.AppendValues(p.Proba, nil)
		b.Field(3).(*array.Int64Builder).Append(version)
	}
	return b.NewRecordBatch()
}

// predictExchange predicts input batches (model inputs by name) with a
// deployed model: {"kind": "predict", "model": ..., "version": 0}.
func (s *Server) predictExchange(ctx context.Context, ns string, c flightsvc.Command, in func() (arrow.RecordBatch, error), out func(*arrow.Schema, arrow.RecordBatch) error) error {
	for {
		rec, err := in()
		if err != nil || rec == nil {
			return err
		}
		preds, version, err := s.engine.PredictInputs(ctx, ns, c.Model, c.Version, rec)
		if err != nil {
			return err
		}
		b := predictionBatch(preds, version)
		err = out(predictionSchema, b)
		b.Release()
		if err != nil {
			return err
		}
	}
}

var stateSchema = arrow.NewSchema([]arrow.Field{{Name: "state", Type: arrow.BinaryTypes.Binary}, {Name: "algorithm", Type: arrow.BinaryTypes.String}}, nil)

// learnLocalExchange trains a learner on the batches sent (inputs and the
// label column, in order), starting fresh from model_configs or from state,
// and answers with the learner's encoded state: {"kind": "learn_local",
// "model_configs": [...], "numerical_fields": [...], "categorical_fields":
// [...], "label_field": ..., "state": base64}.
func (s *Server) learnLocalExchange(ctx context.Context, _ string, c flightsvc.Command, in func() (arrow.RecordBatch, error), out func(*arrow.Schema, arrow.RecordBatch) error) error {
	l, err := s.engine.BuildLearner(c.ModelConfigs, c.NumericalFields, c.CategoricalFields, c.State)
	if err != nil {
		return err
	}
	if c.LabelField == "" {
		return fmt.Errorf("%w: label_field is empty", runtime.ErrInvalid)
	}
	for {
		rec, err := in()
		if err != nil {
			return err
		}
		if rec == nil {
			break
		}
		if err := runtime.LearnColumns(l, rec, c.NumericalFields, c.CategoricalFields, c.LabelField); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	state, err := ml.Marshal(l)
	if err != nil {
		return err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, stateSchema)
	defer b.Release()
	b.Field(0).(*array.BinaryBuilder).Append(state)
	b.Field(1).(*array.StringBuilder).Append(l.Algorithm())
	rec := b.NewRecordBatch()
	defer rec.Release()
	return out(stateSchema, rec)
}

// predictLocalExchange predicts with an encoded learner state:
// {"kind": "predict_local", "state": base64, "numerical_fields": [...],
// "categorical_fields": [...]}.
func (s *Server) predictLocalExchange(ctx context.Context, _ string, c flightsvc.Command, in func() (arrow.RecordBatch, error), out func(*arrow.Schema, arrow.RecordBatch) error) error {
	if len(c.State) == 0 {
		return fmt.Errorf("%w: state is empty: learn first", runtime.ErrInvalid)
	}
	l, err := s.engine.BuildLearner(nil, c.NumericalFields, c.CategoricalFields, c.State)
	if err != nil {
		return err
	}
	for {
		rec, err := in()
		if err != nil || rec == nil {
			return err
		}
		preds, err := runtime.PredictColumns(rec, c.NumericalFields, c.CategoricalFields, func(num []float64, cat []int64, p *ml.Prediction) {
			l.Predict(ml.Instance{Numeric: num, Categ: cat}, p)
		})
		if err != nil {
			return err
		}
		b := predictionBatch(preds, 0)
		err = out(predictionSchema, b)
		b.Release()
		if err != nil {
			return err
		}
	}
}
