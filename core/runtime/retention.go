package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/stream"
)

// Retention of derived logs.
//
// A derived log (a dataset's feature values, a model's outputs and
// evaluations) is bounded by age and by size, whichever is reached first:
// a background pass removes its oldest whole segments (stream.Trimmer).
// Settings live in the registry per dataset (its feature log) and per model
// (each of its two logs); zero takes the engine's default, a negative value
// sets no bound. Dataset logs themselves are never trimmed: they are the
// source every derived log is recomputed from.
//
// A feature log is never trimmed past the input offset of the version any
// model of the dataset would restart from (its current version; a model
// without a version pins the whole log), so a restart always finds the
// rows it replays. An evaluation log keeps at least the last
// DefaultMetricWindow samples, which AddMetric warms a metric with.

// Default retention of derived logs: 7 days or 10 GiB, whichever first.
const (
	DefaultRetentionAge   = 7 * 24 * time.Hour
	DefaultRetentionBytes = 10 << 30
	// DefaultRetentionInterval is the time between two retention passes.
	DefaultRetentionInterval = time.Minute
)

// RetentionOptions configure the engine's retention of derived logs.
type RetentionOptions struct {
	// Outputs is the default for a model's outputs and evaluations logs
	// (each), Features for a dataset's feature log. A zero field takes
	// DefaultRetentionAge / DefaultRetentionBytes; a negative one sets no
	// bound.
	Outputs, Features stream.Retention
	// Interval is the time between passes (default
	// DefaultRetentionInterval; negative: no background pass, RetainNow
	// only).
	Interval time.Duration
}

func (o RetentionOptions) withDefaults() RetentionOptions {
	fill := func(r stream.Retention) stream.Retention {
		if r.MaxAge == 0 {
			r.MaxAge = DefaultRetentionAge
		}
		if r.MaxBytes == 0 {
			r.MaxBytes = DefaultRetentionBytes
		}
		return r
	}
	o.Outputs, o.Features = fill(o.Outputs), fill(o.Features)
	if o.Interval == 0 {
		o.Interval = DefaultRetentionInterval
	}
	return o
}

// effective merges a stored setting with a default: zero takes the
// default, negative means no bound (0 in a stream.Retention).
func effective(r registry.Retention, def stream.Retention) stream.Retention {
	pick := func(v, d int64) int64 {
		switch {
		case v == 0:
			v = d
		case v < 0:
			return 0
		}
		return max(v, 0)
	}
	return stream.Retention{
		MaxAge:   time.Duration(pick(int64(r.MaxAge), int64(def.MaxAge))),
		MaxBytes: pick(r.MaxBytes, def.MaxBytes),
	}
}

// retainer runs the background retention passes.
type retainer struct {
	opts   RetentionOptions
	mu     sync.Mutex // one pass at a time
	cancel context.CancelFunc
	done   chan struct{}
}

// startRetention starts the background passes (called by New).
func (e *Engine) startRetention(o RetentionOptions) {
	e.ret = &retainer{opts: o.withDefaults(), done: make(chan struct{})}
	if e.ret.opts.Interval < 0 {
		close(e.ret.done)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.ret.cancel = cancel
	go func() {
		defer close(e.ret.done)
		t := time.NewTicker(e.ret.opts.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if rep, err := e.RetainNow(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("retention pass failed", "err", err)
			} else if rep.Segments > 0 {
				e.log.Info("retention pass", "logs", rep.Logs, "segments_removed", rep.Segments, "bytes_removed", rep.Bytes, "took", rep.Took)
			}
		}
	}()
}

// stopRetention stops the background passes (called by Close).
func (e *Engine) stopRetention() {
	if e.ret == nil {
		return
	}
	if e.ret.cancel != nil {
		e.ret.cancel()
	}
	<-e.ret.done
}

// RetentionReport says what one retention pass did.
type RetentionReport struct {
	Logs     int   // derived logs looked at
	Segments int   // segments removed
	Bytes    int64 // bytes removed
	Took     time.Duration
}

// RetainNow runs one retention pass over every running model's outputs and
// evaluations and every dataset's feature log. Appends and reads go on
// while it runs: a log is only locked while its segment list changes.
func (e *Engine) RetainNow(ctx context.Context) (RetentionReport, error) {
	e.ret.mu.Lock()
	defer e.ret.mu.Unlock()
	start := time.Now()
	var rep RetentionReport
	var errs []error
	trim := func(name string, l stream.Log, r stream.Retention, floor int64) {
		tr, ok := l.(stream.Trimmer)
		if !ok || r.IsZero() {
			return
		}
		rep.Logs++
		segs := tr.Segments()
		point := r.TrimPoint(segs, time.Now(), floor)
		if len(segs) == 0 || point <= segs[0].Base {
			return
		}
		if _, err := tr.TrimBefore(ctx, point); err != nil {
			errs = append(errs, fmt.Errorf("trim %s: %w", name, err))
			return
		}
		for _, s := range segs {
			if s.End <= point {
				rep.Segments++
				rep.Bytes += s.Bytes
			}
		}
	}

	e.mu.Lock()
	runners := make([]*runner, 0, len(e.models))
	for _, r := range e.models {
		runners = append(runners, r)
	}
	e.mu.Unlock()
	for _, r := range runners {
		m, err := e.reg.GetModel(ctx, r.ns, r.name)
		if err != nil {
			continue // deleted meanwhile
		}
		ret := effective(m.Retention, e.ret.opts.Outputs)
		trim(OutputTopic(r.ns, r.name), r.out, ret, math.MaxInt64)
		trim(EvalTopic(r.ns, r.name), r.evals, ret, r.evals.End()-DefaultMetricWindow)
	}

	e.feat.mu.Lock()
	runs := make(map[dsKey]*featureRun, len(e.feat.runs))
	for k, run := range e.feat.runs {
		runs[k] = run
	}
	e.feat.mu.Unlock()
	for k, run := range runs {
		d, err := e.reg.GetDataset(ctx, k.ns, k.id)
		if err != nil {
			continue
		}
		ret := effective(d.Retention, e.ret.opts.Features)
		if ret.IsZero() {
			continue
		}
		floor, err := e.restartFloor(ctx, k.ns, k.id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		trim(FeatureTopic(k.ns, k.id, run.version), run.out, ret, floor)
	}
	rep.Took = time.Since(start)
	return rep, errors.Join(errs...)
}

// restartFloor is the oldest input offset of dataset id that a model reading
// it would replay after a restart: the input offset of its current version,
// or 0 for a model without one.
func (e *Engine) restartFloor(ctx context.Context, ns, id string) (int64, error) {
	ms, err := e.reg.ListModels(ctx, ns)
	if err != nil {
		return 0, fmt.Errorf("retention of %q: list models: %w", id, err)
	}
	floor := int64(math.MaxInt64)
	for _, m := range ms {
		var s ModelSpec
		if json.Unmarshal(m.Config, &s) != nil || s.DatasetID != id {
			continue
		}
		if m.CurrentVersion == 0 {
			return 0, nil
		}
		vs, err := e.reg.ListVersions(ctx, ns, m.Name)
		if err != nil {
			return 0, fmt.Errorf("retention of %q: versions of %q: %w", id, m.Name, err)
		}
		off := int64(0)
		for _, v := range vs {
			if v.ID == m.CurrentVersion {
				var o struct {
					Inputs int64 `json:"inputs"`
				}
				_ = json.Unmarshal(v.Offsets, &o)
				off = o.Inputs
			}
		}
		floor = min(floor, off)
	}
	return floor, nil
}

// logStart is the first readable offset of a log (0 when it cannot be
// trimmed).
func logStart(l stream.Log) int64 {
	if tr, ok := l.(stream.Trimmer); ok {
		return tr.Start()
	}
	return 0
}

// validRetention checks a retention setting from a request and makes a
// negative one "no bound" at the millisecond precision it is stored with.
func validRetention(r *registry.Retention) error {
	if r.MaxAge > 0 && r.MaxAge < time.Millisecond {
		return fmt.Errorf("%w: retention max age %v is below the millisecond it is stored with", ErrInvalid, r.MaxAge)
	}
	if r.MaxAge < 0 {
		r.MaxAge = -time.Millisecond
	}
	if r.MaxBytes < 0 {
		r.MaxBytes = -1
	}
	return nil
}

// SetDatasetRetention stores the retention of a dataset's feature log
// (see RetentionOptions for zero and negative values).
func (e *Engine) SetDatasetRetention(ctx context.Context, ns, id string, r registry.Retention) (DatasetInfo, error) {
	if err := validRetention(&r); err != nil {
		return DatasetInfo{}, err
	}
	d, err := e.reg.GetDataset(ctx, ns, id)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return DatasetInfo{}, fmt.Errorf("%w: dataset %q does not exist", ErrNotFound, id)
		}
		return DatasetInfo{}, err
	}
	d.Retention = r
	if err := e.reg.UpdateDataset(ctx, d); err != nil {
		return DatasetInfo{}, fmt.Errorf("store retention of dataset %q: %w", id, err)
	}
	return e.Dataset(ctx, ns, id)
}

// SetModelRetention stores the retention of a model's outputs and
// evaluations logs.
func (e *Engine) SetModelRetention(ctx context.Context, ns, name string, r registry.Retention) error {
	if err := validRetention(&r); err != nil {
		return err
	}
	m, err := e.reg.GetModel(ctx, ns, name)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return fmt.Errorf("%w: model %q does not exist", ErrNotFound, name)
		}
		return err
	}
	m.Retention = r
	if err := e.reg.UpdateModel(ctx, m); err != nil {
		return fmt.Errorf("store retention of model %q: %w", name, err)
	}
	return nil
}

// ModelRetentionInfo is the retention in force for a model and where its
// logs start now.
type ModelRetentionInfo struct {
	Retention                  stream.Retention
	OutputStart, EvalStart     int64
	OutputEnd, EvaluationCount int64
}

// ModelRetention returns the retention in force for a model's logs.
func (e *Engine) ModelRetention(ctx context.Context, ns, name string) (ModelRetentionInfo, error) {
	m, err := e.reg.GetModel(ctx, ns, name)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return ModelRetentionInfo{}, fmt.Errorf("%w: model %q does not exist", ErrNotFound, name)
		}
		return ModelRetentionInfo{}, err
	}
	info := ModelRetentionInfo{Retention: effective(m.Retention, e.ret.opts.Outputs)}
	if r, err := e.runner(ns, name); err == nil {
		info.OutputStart, info.OutputEnd = logStart(r.out), r.out.End()
		info.EvalStart, info.EvaluationCount = logStart(r.evals), r.evals.End()
	}
	return info, nil
}

// DatasetRetention returns the retention in force for a dataset's feature
// log and the first offset it still holds.
func (e *Engine) DatasetRetention(d registry.Dataset) (stream.Retention, int64) {
	var start int64
	e.feat.mu.Lock()
	run := e.feat.runs[dsKey{d.Namespace, d.ID}]
	e.feat.mu.Unlock()
	if run != nil {
		start = logStart(run.out)
	}
	return effective(d.Retention, e.ret.opts.Features), start
}

// ensureFeatureHistory makes sure a new model can read the features of a
// dataset's whole history: when retention removed old feature values, a
// new feature version is computed from the dataset's log (the running
// models switch to it as it catches up, see restartFeatures).
func (e *Engine) ensureFeatureHistory(ctx context.Context, ns, id string) error {
	e.featMu.Lock()
	defer e.featMu.Unlock()
	e.feat.mu.Lock()
	run := e.feat.runs[dsKey{ns, id}]
	e.feat.mu.Unlock()
	if run == nil || logStart(run.out) == 0 {
		return nil
	}
	defs, err := e.materializedDefs(ctx, ns, id)
	if err != nil {
		return err
	}
	e.log.Info("feature values were trimmed; recomputing them from the dataset for a new model", "namespace", ns, "dataset", id)
	return e.restartFeatures(ctx, ns, id, defs)
}
