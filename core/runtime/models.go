package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/schema"
	"github.com/spate-ml/spate/core/stream"
)

// OutputTopic, EvalTopic name a model's output and evaluation logs.
func OutputTopic(ns, model string) string { return ns + ".outputs." + model }

// EvalTopic names the log of a model's labeled predictions.
func EvalTopic(ns, model string) string { return ns + ".evals." + model }

type modelKey struct{ ns, name string }

// nClassesOf reads n_classes from the top-level algorithm config.
func nClassesOf(configs []json.RawMessage) int {
	if len(configs) == 0 {
		return 0
	}
	var p struct {
		N *int `json:"n_classes"`
	}
	if json.Unmarshal(configs[0], &p) == nil && p.N != nil {
		return *p.N
	}
	return 0
}

// Deploy validates a model spec, registers the model and starts it: it
// first learns from the history that already has labels, then runs live.
func (e *Engine) Deploy(ctx context.Context, ns, name string, spec ModelSpec) error {
	if err := schema.ValidateModelName(name); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if e.learners == nil {
		return errors.New("runtime: no learner catalog configured")
	}
	spec.withDefaults()
	if !spec.PredictOnly && (spec.Label == nil || spec.Label.DatasetID == "" || spec.Label.Field == "") {
		return fmt.Errorf("%w: a model that learns needs labels: give the label dataset and field", ErrInvalid)
	}
	if len(spec.ModelConfigs) == 0 {
		return fmt.Errorf("%w: model_configs is empty", ErrInvalid)
	}
	for _, m := range spec.Metrics {
		if _, err := e.newMetric(m, DefaultMetricWindow); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	if _, err := e.GetModel(ctx, ns, name); err == nil {
		return fmt.Errorf("%w: model %q already exists; delete it first or deploy under another name", ErrExists, name)
	}
	// Build once to validate the whole spec before anything is stored.
	r, err := e.newRunner(ctx, ns, name, spec)
	if err != nil {
		return err
	}
	r.close()
	if err := e.ensureFeatureHistory(ctx, ns, spec.DatasetID); err != nil { // retention.go
		return err
	}
	cfg, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	if err := e.reg.CreateModel(ctx, registry.Model{Namespace: ns, Name: name, Config: cfg, State: registry.StateRunning, Stage: registry.StageDev}); err != nil {
		if errors.Is(err, registry.ErrExists) {
			return fmt.Errorf("%w: model %q already exists", ErrExists, name)
		}
		return fmt.Errorf("register model %q: %w", name, err)
	}
	if err := e.startModel(ctx, ns, name); err != nil {
		_ = e.reg.DeleteModel(ctx, ns, name)
		return err
	}
	return nil
}

// newRunner builds a runner for spec with a fresh (or initial-state)
// learner, opening its logs.
func (e *Engine) newRunner(ctx context.Context, ns, name string, spec ModelSpec) (*runner, error) {
	spec.withDefaults()
	need := append(append(slices.Clone(spec.NumericalFields), spec.CategoricalFields...), spec.TimeField)
	in, fields, err := e.modelInput(ctx, ns, spec.DatasetID, need)
	if err != nil {
		return nil, err
	}
	dsSchema, err := e.Schema(ctx, ns, spec.DatasetID)
	if err != nil {
		return nil, err
	}
	var labLog stream.Log
	var labSchema *schema.Schema
	if !spec.PredictOnly {
		lh, err := e.handle(ctx, ns, spec.Label.DatasetID)
		if err != nil {
			return nil, err
		}
		labLog, labSchema = lh.log, lh.meta.Schema
	}
	plan, err := planInputs(spec, dsSchema, fields, labSchema)
	if err != nil {
		return nil, err
	}
	r := &runner{
		e: e, ns: ns, name: name, spec: spec, plan: plan, nClasses: nClassesOf(spec.ModelConfigs),
		inFields: fields, inKey: dsSchema.Key,
		in: in, labels: labLog, wake: make(chan struct{}, 1), reqs: make(chan func()), done: make(chan struct{}),
		live: map[string]Metric{},
	}
	if len(spec.InitialState) > 0 {
		r.learner, err = e.decodeLearner(spec.InitialState, plan.spec(r.nClasses))
	} else {
		r.learner, err = e.learners.Build(spec.ModelConfigs, plan.spec(r.nClasses))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: model_configs: %v", ErrInvalid, err)
	}
	r.kind = e.kindOf(r.learner)
	if r.kind == ml.Classifier && r.nClasses == 0 {
		r.nClasses = 2
	}
	r.st = newRunnerState(len(plan.cat))
	r.sink = newSink(r)
	r.inCur.read = in.Read
	if labLog != nil {
		r.labCur.read = logRead(labLog)
	}
	for _, name := range spec.Metrics {
		m, err := e.newMetric(name, DefaultMetricWindow)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		r.live[name] = &sinkMetric{m: m, s: r.sink}
	}
	if r.out, err = e.derived.Open(ctx, OutputTopic(ns, name), OutputSchema); err != nil {
		return nil, fmt.Errorf("open outputs of %q: %w", name, err)
	}
	if r.evals, err = e.derived.Open(ctx, EvalTopic(ns, name), EvalSchema); err != nil {
		r.out.Close()
		return nil, fmt.Errorf("open evaluations of %q: %w", name, err)
	}
	return r, nil
}

func (r *runner) close() {
	r.inCur.release()
	r.labCur.release()
	if r.out != nil {
		r.out.Close()
	}
	if r.evals != nil {
		r.evals.Close()
	}
}

func (e *Engine) kindOf(l ml.Learner) ml.Kind {
	if e.kinds != nil {
		return e.kinds(l.Algorithm())
	}
	return ml.Classifier
}

func (e *Engine) newMetric(name string, window int) (Metric, error) {
	if e.metrics == nil {
		return nil, errors.New("runtime: no metric factory configured")
	}
	return e.metrics(name, window)
}

// startModel loads a registered model, restores its latest version when
// there is one, and starts its loop.
func (e *Engine) startModel(ctx context.Context, ns, name string) error {
	m, err := e.reg.GetModel(ctx, ns, name)
	if err != nil {
		return fmt.Errorf("load model %q: %w", name, err)
	}
	var spec ModelSpec
	if err := json.Unmarshal(m.Config, &spec); err != nil {
		return fmt.Errorf("model %q has a broken config: %w", name, err)
	}
	r, err := e.newRunner(ctx, ns, name, spec)
	if err != nil {
		return err
	}
	if m.CurrentVersion > 0 {
		v, err := e.reg.GetVersion(ctx, ns, name, m.CurrentVersion)
		if err != nil {
			r.close()
			return fmt.Errorf("load version %d of %q: %w", m.CurrentVersion, name, err)
		}
		if err := r.restore(v); err != nil {
			r.close()
			return err
		}
		r.historyDone = true
		r.logs.add("resumed from version %d at input offset %d, label offset %d", v.ID, r.st.InCursor, r.st.LabCursor)
		if err := r.refillOutputs(ctx); err != nil {
			r.close()
			return err
		}
	} else {
		r.historyEnd = r.ends()
		r.logs.add("deployed: learning from history (%d input rows, %d labels) then live", r.historyEnd.In, r.historyEnd.Lab)
	}
	r.paused.Store(m.State == registry.StatePaused)
	rctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	e.mu.Lock()
	e.models[modelKey{ns, name}] = r
	e.mu.Unlock()
	go r.run(rctx)
	return nil
}

// restore loads a version's learner and state into r.
func (r *runner) restore(v registry.Version) error {
	model, st, err := decodeSnapshot(v.Snapshot)
	if err != nil {
		return fmt.Errorf("version %d: %w", v.ID, err)
	}
	l, err := r.e.decodeLearner(model, r.plan.spec(r.nClasses))
	if err != nil {
		return fmt.Errorf("version %d: restore learner: %w", v.ID, err)
	}
	for name, m := range r.live {
		if b, ok := st.Metrics[name]; ok {
			if err := m.UnmarshalBinary(b); err != nil {
				return fmt.Errorf("version %d: restore metric %s: %w", v.ID, name, err)
			}
		}
	}
	if len(st.Dicts) != len(r.plan.cat) {
		st.Dicts = make([]map[string]int64, len(r.plan.cat))
	}
	st.Version = v.ID
	st.Ticks = nil
	r.mu.Lock()
	r.learner, r.st = l, st
	r.mu.Unlock()
	r.restoreQueues()
	return nil
}

// Start resumes every registered model. Call it once after New.
func (e *Engine) Start(ctx context.Context) error {
	ms, err := e.reg.AllModels(ctx)
	if err != nil {
		return fmt.Errorf("list models: %w", err)
	}
	var errs []error
	for _, m := range ms {
		if err := e.startModel(ctx, m.Namespace, m.Name); err != nil {
			e.log.Error("cannot resume model", "namespace", m.Namespace, "model", m.Name, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stopModels stops every runner, snapshotting those that learned since
// their last version.
func (e *Engine) stopModels() {
	e.mu.Lock()
	rs := make([]*runner, 0, len(e.models))
	for k, r := range e.models {
		rs = append(rs, r)
		delete(e.models, k)
	}
	e.mu.Unlock()
	for _, r := range rs {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = r.do(ctx, func() {
			if r.st.Learned > r.versionedLearned {
				r.snapshot(ctx, "shutdown")
			}
		})
		cancel()
		r.cancel()
		<-r.done
		r.close()
	}
}

func (e *Engine) runner(ns, name string) (*runner, error) {
	e.mu.Lock()
	r, ok := e.models[modelKey{ns, name}]
	e.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: model %q does not exist", ErrNotFound, name)
	}
	return r, nil
}

// ModelInfo describes a deployed model.
type ModelInfo struct {
	Name           string
	Spec           ModelSpec
	Algorithm      string
	State, Stage   string
	CurrentVersion int64
	CreatedAt      time.Time
	Stats          ModelStats
}

// ModelStats are a model's live figures.
type ModelStats struct {
	InputOffset, LabelOffset int64 // next rows to process
	InputEnd, LabelEnd       int64
	Predicted, Learned       int64
	Pending, Parked          int
	DroppedRows, DroppedLab  int64
	BadLabels                int64
	RowsPerSec, LabelsPerSec float64
	LabelJoinRate            float64 // learned / labels seen
	LatencyP50, LatencyP99   float64 // seconds, ingest ack → output, over the last 5 s
	Metrics                  map[string]float64
	LastError                string
	Paused                   bool
}

// GetModel returns a model's description and live figures.
func (e *Engine) GetModel(ctx context.Context, ns, name string) (ModelInfo, error) {
	m, err := e.reg.GetModel(ctx, ns, name)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return ModelInfo{}, fmt.Errorf("%w: model %q does not exist", ErrNotFound, name)
		}
		return ModelInfo{}, err
	}
	info := ModelInfo{Name: m.Name, State: m.State, Stage: m.Stage, CurrentVersion: m.CurrentVersion, CreatedAt: m.CreatedAt}
	_ = json.Unmarshal(m.Config, &info.Spec)
	info.Spec.InitialState = nil
	if r, err := e.runner(ns, name); err == nil {
		r.mu.Lock()
		info.Algorithm = r.learner.Algorithm()
		r.mu.Unlock()
		info.Stats = r.statsSnapshot(ctx)
	}
	return info, nil
}

func (r *runner) statsSnapshot(ctx context.Context) ModelStats {
	var s ModelStats
	_ = r.do(ctx, func() {
		r.sink.drain() // the figures then include what the writer has not written yet
		s.InputOffset, s.LabelOffset = r.st.InCursor, r.st.LabCursor
		s.Predicted, s.Learned = r.st.Predicted, r.st.Learned
		s.Pending, s.Parked = len(r.st.Pending), len(r.st.Parked)
		s.DroppedRows, s.DroppedLab = r.st.DroppedRows, r.st.DroppedLabels
		s.Metrics = map[string]float64{}
		for n, m := range r.live {
			s.Metrics[n] = m.Value()
		}
	})
	t := r.ends()
	s.InputEnd, s.LabelEnd = t.In, t.Lab
	s.Paused = r.paused.Load()
	if v, ok := r.lastErr.Load().(string); ok {
		s.LastError = v
	}
	r.stats.mu.Lock()
	s.RowsPerSec, s.LabelsPerSec, s.BadLabels = r.stats.rowsPerSec, r.stats.labelsPerSec, r.stats.badLabels
	if r.stats.labelsSeen > 0 {
		s.LabelJoinRate = float64(s.Learned) / float64(r.stats.labelsSeen)
	}
	lat := r.stats.recentLatencies()
	r.stats.mu.Unlock()
	if len(lat) > 0 {
		sort.Float64s(lat)
		s.LatencyP50 = lat[len(lat)/2]
		s.LatencyP99 = lat[min(len(lat)-1, int(math.Ceil(0.99*float64(len(lat))))-1)]
	}
	return s
}

// ListModels lists a namespace's models.
func (e *Engine) ListModels(ctx context.Context, ns string) ([]ModelInfo, error) {
	ms, err := e.reg.ListModels(ctx, ns)
	if err != nil {
		return nil, err
	}
	out := make([]ModelInfo, 0, len(ms))
	for _, m := range ms {
		info, err := e.GetModel(ctx, ns, m.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// SetPaused pauses or resumes a model. A paused model neither predicts nor
// learns; its inputs wait in the logs.
func (e *Engine) SetPaused(ctx context.Context, ns, name string, paused bool) error {
	r, err := e.runner(ns, name)
	if err != nil {
		return err
	}
	m, err := e.reg.GetModel(ctx, ns, name)
	if err != nil {
		return err
	}
	m.State = registry.StateRunning
	if paused {
		m.State = registry.StatePaused
	}
	if err := e.reg.UpdateModel(ctx, m); err != nil {
		return err
	}
	r.paused.Store(paused)
	select {
	case r.wake <- struct{}{}:
	default:
	}
	r.logs.add("%s", map[bool]string{true: "paused", false: "resumed"}[paused])
	return nil
}

// DeleteModel stops a model and deletes it, its versions and its logs.
func (e *Engine) DeleteModel(ctx context.Context, ns, name string) error {
	r, err := e.runner(ns, name)
	if err == nil {
		e.mu.Lock()
		delete(e.models, modelKey{ns, name})
		e.mu.Unlock()
		r.cancel()
		<-r.done
		r.close()
	}
	if err := e.reg.DeleteModel(ctx, ns, name); err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return fmt.Errorf("%w: model %q does not exist", ErrNotFound, name)
		}
		return err
	}
	return errors.Join(e.derived.Delete(ctx, OutputTopic(ns, name)), e.derived.Delete(ctx, EvalTopic(ns, name)))
}

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

// ReplayVersion restores version id's parent and replays the ticks that led
// to id from the logs, returning the replayed learner's bytes and the
// stored ones. Equal bytes prove the version is reproducible from the log.
func (e *Engine) ReplayVersion(ctx context.Context, ns, name string, id int64) (replayed, stored []byte, err error) {
	v, err := e.reg.GetVersion(ctx, ns, name, id)
	if err != nil {
		return nil, nil, err
	}
	var meta VersionMeta
	_ = json.Unmarshal(v.Meta, &meta)
	stored, st, err := decodeSnapshot(v.Snapshot)
	if err != nil {
		return nil, nil, err
	}
	if meta.Parent == 0 || meta.Reason == "rollback" {
		return nil, nil, fmt.Errorf("%w: version %d has no parent to replay from", ErrInvalid, id)
	}
	m, err := e.reg.GetModel(ctx, ns, name)
	if err != nil {
		return nil, nil, err
	}
	var spec ModelSpec
	_ = json.Unmarshal(m.Config, &spec)
	r, err := e.newRunner(ctx, ns, name, spec)
	if err != nil {
		return nil, nil, err
	}
	defer r.close()
	pv, err := e.reg.GetVersion(ctx, ns, name, meta.Parent)
	if err != nil {
		return nil, nil, err
	}
	if err := r.restore(pv); err != nil {
		return nil, nil, err
	}
	for _, t := range st.Ticks {
		if err := r.step(ctx, t, nil); err != nil {
			return nil, nil, err
		}
	}
	replayed, err = ml.Marshal(r.learner)
	return replayed, stored, err
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

// ModelLogs returns the model's recent log lines.
func (e *Engine) ModelLogs(ns, name string) (string, error) {
	r, err := e.runner(ns, name)
	if err != nil {
		return "", err
	}
	return r.logs.text(), nil
}

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

// decodeLearner restores a learner from its bytes and checks that it reads
// no more inputs than a model of spec in hands it: a corrupt or foreign
// state would otherwise fail on the first row, inside the runner.
func (e *Engine) decodeLearner(b []byte, in ml.Spec) (ml.Learner, error) {
	l, err := e.learners.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	if s, ok := ml.InputSpecOf(l); ok && !s.Fits(in) {
		return nil, fmt.Errorf("the stored %s reads %d numeric and %d categorical inputs; the model gives it %d and %d",
			l.Algorithm(), s.NumNumeric, s.NumCateg, in.NumNumeric, in.NumCateg)
	}
	return l, nil
}

// BuildLearner builds a fresh learner from model configs, or restores one
// from state.
func (e *Engine) BuildLearner(configs []json.RawMessage, numerical, categorical []string, state []byte) (ml.Learner, error) {
	if len(state) > 0 {
		l, err := e.decodeLearner(state, ml.Spec{NumNumeric: len(numerical), NumCateg: len(categorical)})
		if err != nil {
			return nil, fmt.Errorf("%w: state: %v", ErrInvalid, err)
		}
		return l, nil
	}
	l, err := e.learners.Build(configs, ml.Spec{NumNumeric: len(numerical), NumCateg: len(categorical), NClasses: nClassesOf(configs)})
	if err != nil {
		return nil, fmt.Errorf("%w: model_configs: %v", ErrInvalid, err)
	}
	return l, nil
}

// NamedStats are one model's figures with its namespace and name.
type NamedStats struct {
	Namespace, Name string
	Stats           ModelStats
}

// AllModelStats returns the live figures of every running model.
func (e *Engine) AllModelStats() []NamedStats {
	e.mu.Lock()
	rs := make([]*runner, 0, len(e.models))
	for _, r := range e.models {
		rs = append(rs, r)
	}
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out := make([]NamedStats, 0, len(rs))
	for _, r := range rs {
		out = append(out, NamedStats{Namespace: r.ns, Name: r.name, Stats: r.statsSnapshot(ctx)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
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
