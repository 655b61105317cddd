package runtime

import (
	"context"

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

// modelInput returns the input source of a dataset for models and the
// fields of its batches (raw columns, then materialized features).
func (e *Engine) modelInput(ctx context.Context, ns, id string) (inputSource, []schema.Field, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return nil, nil, err
	}
	return rawSource{h.log}, h.meta.Schema.Fields, nil
}

// withFeatures conforms raw rows to a dataset's schema and appends the
// values its materialized features would have for them now, without
// changing any state.
func (e *Engine) withFeatures(ctx context.Context, ns, id string, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return nil, err
	}
	conformed, err := h.meta.Schema.Conform(rec)
	if err != nil {
		return nil, wrapInvalid(id, err)
	}
	return conformed, nil
}
