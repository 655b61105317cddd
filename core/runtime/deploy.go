package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

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
		// A damaged segment cut off rows this version had consumed: say so
		// rather than skip new rows silently.
		if h, herr := e.handle(ctx, ns, spec.DatasetID); herr == nil && r.st.InCursor > h.log.End() {
			r.fail(fmt.Errorf("version %d consumed dataset %q up to offset %d but its log now ends at %d: acknowledged rows were lost (damaged segment?); roll back to a version within the log or redeploy", v.ID, spec.DatasetID, r.st.InCursor, h.log.End()))
		} else if r.labels != nil && r.st.LabCursor > r.labels.End() {
			r.fail(fmt.Errorf("version %d consumed labels up to offset %d but the label log now ends at %d: acknowledged rows were lost (damaged segment?); roll back to a version within the log or redeploy", v.ID, r.st.LabCursor, r.labels.End()))
		}
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
