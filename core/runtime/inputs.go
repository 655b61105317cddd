package runtime

import (
	"context"
	"errors"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/spate-ml/spate/core/schema"
	"github.com/spate-ml/spate/core/stream"
)

// rawSource reads a dataset's raw rows (no materialized features).
type rawSource struct{ log stream.Log }

func (s rawSource) Frontier() int64 { return s.log.End() }
func (s rawSource) Read(ctx context.Context, from int64, maxRows int) ([]arrow.RecordBatch, error) {
	recs, _, err := s.log.Read(ctx, from, maxRows)
	return recs, err
}
func (s rawSource) Wait(ctx context.Context, from int64) error { return s.log.Wait(ctx, from) }

// modelInput returns the input source of a dataset for a model that reads
// the named fields, and the fields of its batches (raw columns, then the
// materialized features).
func (e *Engine) modelInput(ctx context.Context, ns, id string, need []string) (inputSource, []schema.Field, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return nil, nil, err
	}
	fields := h.meta.Schema.Fields
	var want []string
	run := e.featureRunOf(ns, id)
	if run != nil {
		for _, n := range need {
			if h.meta.Schema.Index(n) < 0 && slices.ContainsFunc(run.fields, func(f schema.Field) bool { return f.Name == n }) {
				want = append(want, n)
			}
		}
		if len(want) > 0 {
			fields = append(slices.Clone(fields), run.fields...)
		}
	}
	if len(want) == 0 {
		return rawSource{h.log}, fields, nil
	}
	return &featureSource{e: e, ns: ns, id: id, raw: h.log, want: want}, fields, nil
}

// withFeatures conforms raw rows to a dataset's schema and appends the
// values its materialized features would have for them now, without
// changing any state.
func (e *Engine) withFeatures(ctx context.Context, ns, id string, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return nil, err
	}
	conformed, err := h.meta.Schema.ConformRequest(rec)
	if err != nil {
		return nil, wrapInvalid(id, err)
	}
	run := e.featureRunOf(ns, id)
	if run == nil {
		return conformed, nil
	}
	pk, ok := any(run.mat).(peeker)
	if !ok {
		conformed.Release()
		return nil, errors.New("synchronous feature computation is not available in this build")
	}
	feats, err := pk.Peek(conformed)
	if err != nil {
		conformed.Release()
		return nil, wrapInvalid(id, err)
	}
	defer feats.Release()
	defer conformed.Release()
	return hstack(conformed, feats), nil
}
