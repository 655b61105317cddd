package runtime

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// EvalPoint is one point of a metric series: the metric over the window
// ending at the Index-th learned sample (0-based).
type EvalPoint struct {
	Index int64
	Value float64
}

// Evaluate computes a windowed metric over a model's labeled predictions,
// from sample `from` on, at most limit points (limit <= 0: all). With a
// filter (TurboML's filter_expression, see evalFilter), only the samples it
// selects enter the metric; points keep their sample index.
func (e *Engine) Evaluate(ctx context.Context, ns, name, metric string, window int, from int64, limit int, filter string) ([]EvalPoint, error) {
	r, err := e.runner(ns, name)
	if err != nil {
		return nil, err
	}
	if window <= 0 {
		window = DefaultMetricWindow
	}
	m, err := e.newMetric(metric, window)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var keep func(arrow.RecordBatch) ([]bool, error)
	start := max(0, from-int64(window)) // warm the window with the samples before from
	if filter != "" {
		f, err := newEvalFilter(filter, r.inFields, r.inKey)
		if err != nil {
			return nil, err
		}
		keep = func(rec arrow.RecordBatch) ([]bool, error) { return f.keep(ctx, r, rec) }
		start = 0 // the window's samples before from are the filtered ones
	}
	var out []EvalPoint
	err = r.scanEvals(ctx, max(0, start), r.evals.End(), keep, func(idx int64, score float64, class int, label float64) bool {
		m.Update(score, class, label)
		if idx >= from {
			out = append(out, EvalPoint{Index: idx, Value: m.Value()})
		}
		return limit <= 0 || len(out) < limit
	})
	return out, err
}

// scanEvals calls f for every sample of the evaluation log in [from, end)
// that keep selects (keep nil: all), in order, with its index, until f
// returns false.
func (r *runner) scanEvals(ctx context.Context, from, end int64, keep func(arrow.RecordBatch) ([]bool, error),
	f func(idx int64, score float64, class int, label float64) bool) error {
	from = max(from, logStart(r.evals)) // retention.go: older samples were trimmed
	for off := from; off < end; {
		recs, next, err := r.evals.Read(ctx, off, int(min(end-off, 65536)))
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		for i, rec := range recs {
			var sel []bool
			if keep != nil {
				if sel, err = keep(rec); err != nil {
					releaseAll(recs[i:])
					return err
				}
			}
			score := rec.Column(2).(interface{ Value(int) float64 })
			class := rec.Column(3).(interface{ Value(int) int64 })
			label := rec.Column(4).(interface{ Value(int) float64 })
			n := int(min(rec.NumRows(), end-off))
			for j := 0; j < n; j++ {
				if (sel == nil || sel[j]) && !f(off, score.Value(j), int(class.Value(j)), label.Value(j)) {
					releaseAll(recs[i:])
					return nil
				}
				off++
			}
			rec.Release()
		}
		off = next
	}
	return nil
}

// AddMetric starts computing a metric continuously for a model, warmed with
// the model's most recent labeled predictions. Adding a metric twice is a
// no-op.
func (e *Engine) AddMetric(ctx context.Context, ns, name, metric string) error {
	r, err := e.runner(ns, name)
	if err != nil {
		return err
	}
	m, err := e.newMetric(metric, DefaultMetricWindow)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var derr error
	err = r.do(ctx, func() {
		if _, ok := r.live[metric]; ok {
			return
		}
		r.sink.drain() // the writer reads r.live and appends evaluations
		end := r.evals.End()
		derr = r.scanEvals(ctx, max(0, end-DefaultMetricWindow), end, nil, func(_ int64, score float64, class int, label float64) bool {
			m.Update(score, class, label)
			return true
		})
		if derr != nil {
			return
		}
		r.live[metric] = &sinkMetric{m: m, s: r.sink}
		r.spec.Metrics = append(r.spec.Metrics, metric)
		mod, err := e.reg.GetModel(ctx, ns, name)
		if err != nil {
			derr = err
			return
		}
		var spec ModelSpec
		if err := json.Unmarshal(mod.Config, &spec); err != nil {
			derr = err
			return
		}
		spec.Metrics = append(spec.Metrics, metric)
		mod.Config, _ = json.Marshal(spec)
		derr = e.reg.UpdateModel(ctx, mod)
	})
	if err != nil {
		return err
	}
	return derr
}
