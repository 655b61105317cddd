package runtime

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// ReadOutputs reads a model's outputs from an offset.
func (e *Engine) ReadOutputs(ctx context.Context, ns, name string, from int64, maxRows int) ([]arrow.RecordBatch, int64, error) {
	r, err := e.runner(ns, name)
	if err != nil {
		return nil, 0, err
	}
	if from < 0 || from > r.out.End() {
		return nil, 0, fmt.Errorf("%w: offset %d is outside [0, %d]", ErrInvalid, from, r.out.End())
	}
	from = max(from, logStart(r.out)) // retention.go: reads of trimmed outputs start at the oldest kept
	return r.out.Read(ctx, from, maxRows)
}

// OutputEnd returns the number of outputs a model has written.
func (e *Engine) OutputEnd(ns, name string) (int64, error) {
	r, err := e.runner(ns, name)
	if err != nil {
		return 0, err
	}
	return r.out.End(), nil
}

// refillOutputs writes the outputs of input rows the restored version had
// consumed but the output log no longer holds (a machine crash lost the
// unsynced tail of the output log): they are predicted again with the
// restored learner, named with its version, and logged.
func (r *runner) refillOutputs(ctx context.Context) error {
	end := r.out.End()
	if end >= r.st.InCursor {
		return nil
	}
	r.logs.add("outputs %d..%d were lost in a crash; predicting them again with version %d", end, r.st.InCursor, r.st.Version)
	buf := &tickBuffers{version: r.st.Version}
	defer buf.reset()
	for off := end; off < r.st.InCursor; {
		recs, err := r.in.Read(ctx, off, int(min(r.st.InCursor-off, 65536)))
		if err != nil {
			return fmt.Errorf("refill outputs at %d: %w", off, err)
		}
		if len(recs) == 0 {
			return fmt.Errorf("refill outputs: inputs at %d are not readable", off)
		}
		for _, rec := range recs {
			n := int(min(rec.NumRows(), r.st.InCursor-off))
			keys := rec.Column(r.plan.key)
			buf.hold(rec)
			for i := 0; i < n; i++ {
				p, _ := r.predictRow(rec, i)
				buf.output(keyAt(keys, i), p.Score, p.Class, p.Proba, off, 0, false)
				off++
			}
			rec.Release()
		}
		if err := r.writeBuffers(ctx, buf, &writeProgress{}); err != nil {
			return err
		}
		buf.reset()
	}
	return nil
}
