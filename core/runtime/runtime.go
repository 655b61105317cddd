// Package runtime wires the engine together: it owns the path of a row from
// the moment it is accepted (validated against its dataset's schema and
// appended durably to the dataset's log) to the moment it is read back, and
// it is the one place where the registry (what exists) meets the logs (what
// was written). The server is a thin shell over an *Engine.
package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/schema"
	"github.com/spate-ml/spate/core/stream"
)

var (
	// ErrNotFound is when a named resource does not exist in the namespace.
	ErrNotFound = errors.New("not found")
	// ErrExists is when a resource with that name already exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid is wrapped by every rejection of bad input.
	ErrInvalid = errors.New("invalid argument")
)

// Options configure an Engine.
type Options struct {
	Registry registry.Store
	Broker   stream.Broker
	// Derived, when set, holds the logs computed from the datasets'
	// (feature values, model outputs, evaluations). They can be rebuilt
	// from the dataset logs, so a back end that skips fsync is fine here:
	// it survives a process crash, and after a machine crash the engine
	// recomputes what was lost. Default: Broker.
	Derived stream.Broker
	Logger  *slog.Logger
	// Learners builds and restores model learners (required to deploy).
	Learners Learners
	// Kinds tells an algorithm's kind by name (classifier by default).
	Kinds func(algorithm string) ml.Kind
	// Metrics builds windowed metrics by name (required for metrics).
	Metrics MetricFactory
	// CheckpointDir keeps feature materializer checkpoints (required to
	// materialize features).
	CheckpointDir string
	// Retention bounds the derived logs (see retention.go).
	Retention RetentionOptions
	// Backpressure bounds how far producers may run ahead of consumers
	// (see backpressure.go).
	Backpressure BackpressureOptions
}

// Engine runs datasets (and, as the platform grows, features and models) for
// every namespace. It is safe for concurrent use.
type Engine struct {
	reg     registry.Store
	broker  stream.Broker
	derived stream.Broker
	log     *slog.Logger

	learners Learners
	kinds    func(string) ml.Kind
	metrics  MetricFactory

	mu       sync.Mutex
	datasets map[dsKey]*datasetHandle
	models   map[modelKey]*runner
	aliases  sync.Map // aliasKey → model name

	featMu      sync.Mutex // serializes feature definition changes
	feat        featureState
	checkpoints *checkpointStore

	ret *retainer     // retention of derived logs
	bp  *backpressure // consumer progress, for Admit
}

type dsKey struct{ ns, id string }

// datasetHandle caches what the hot path needs: the schema, the open log and
// a pool of JSON decoders.
type datasetHandle struct {
	meta     registry.Dataset
	log      stream.Log
	decoders sync.Pool

	resume sync.WaitGroup // feature resumption started when the handle opened

	ackMu sync.Mutex
	acks  [256]ackMark // ring of recent appends: end offset → ack time
	ackN  int
}

type ackMark struct {
	end int64
	at  time.Time
}

func (h *datasetHandle) markAck(end int64) {
	h.ackMu.Lock()
	h.acks[h.ackN%len(h.acks)] = ackMark{end, time.Now()}
	h.ackN++
	h.ackMu.Unlock()
}

// ackTime returns when the row at off was acknowledged, if it was recent.
func (e *Engine) ackTime(ns, id string, off int64) (time.Time, bool) {
	e.mu.Lock()
	h, ok := e.datasets[dsKey{ns, id}]
	e.mu.Unlock()
	if !ok {
		return time.Time{}, false
	}
	h.ackMu.Lock()
	defer h.ackMu.Unlock()
	var best ackMark
	found := false
	for _, m := range h.acks {
		if m.end > off && (!found || m.end < best.end) {
			best, found = m, true
		}
	}
	return best.at, found && !best.at.IsZero()
}

// New returns an engine over a registry and a broker.
func New(o Options) (*Engine, error) {
	if o.Registry == nil || o.Broker == nil {
		return nil, errors.New("runtime: Registry and Broker are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Derived == nil {
		o.Derived = o.Broker
	}
	e := &Engine{reg: o.Registry, broker: o.Broker, derived: o.Derived, log: o.Logger, learners: o.Learners, kinds: o.Kinds, metrics: o.Metrics,
		datasets: map[dsKey]*datasetHandle{}, models: map[modelKey]*runner{},
		feat: featureState{runs: map[dsKey]*featureRun{}}, checkpoints: &checkpointStore{dir: o.CheckpointDir},
		bp: newBackpressure(o.Backpressure)}
	e.startRetention(o.Retention)
	return e, nil
}

// Close closes the logs the engine opened. It does not close the registry
// or the broker.
func (e *Engine) Close() error {
	e.stopRetention()
	e.stopModels()
	e.mu.Lock()
	hs := make([]*datasetHandle, 0, len(e.datasets))
	for _, h := range e.datasets {
		hs = append(hs, h)
	}
	e.mu.Unlock()
	for _, h := range hs {
		h.resume.Wait()
	}
	e.feat.mu.Lock()
	runs := e.feat.runs
	e.feat.runs = map[dsKey]*featureRun{}
	e.feat.mu.Unlock()
	for _, r := range runs {
		r.stop()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for k, h := range e.datasets {
		errs = append(errs, h.log.Close())
		delete(e.datasets, k)
	}
	return errors.Join(errs...)
}

// InputTopic names the log of a dataset's rows.
func InputTopic(ns, id string) string { return ns + ".inputs." + id }

// DatasetInfo is a dataset's metadata plus how many rows its log holds.
type DatasetInfo struct {
	registry.Dataset
	Rows int64
}

// LastOffset is the offset of the newest row, or -1 when there is none.
func (d DatasetInfo) LastOffset() int64 { return d.Rows - 1 }

// CreateDataset registers a dataset and creates its log.
func (e *Engine) CreateDataset(ctx context.Context, ns, id string, s *schema.Schema) (DatasetInfo, error) {
	if err := schema.ValidateDatasetID(id); err != nil {
		return DatasetInfo{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if s == nil {
		return DatasetInfo{}, fmt.Errorf("%w: dataset %q has no schema", ErrInvalid, id)
	}
	d := registry.Dataset{Namespace: ns, ID: id, Schema: s, Timestamps: map[string]string{}}
	if err := e.reg.CreateDataset(ctx, d); err != nil {
		if errors.Is(err, registry.ErrExists) {
			return DatasetInfo{}, fmt.Errorf("%w: dataset %q already exists", ErrExists, id)
		}
		return DatasetInfo{}, fmt.Errorf("create dataset %q: %w", id, err)
	}
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return DatasetInfo{}, err
	}
	return DatasetInfo{Dataset: h.meta, Rows: h.log.End()}, nil
}

// handle returns the cached handle of a dataset, opening its log on first
// use.
func (e *Engine) handle(ctx context.Context, ns, id string) (*datasetHandle, error) {
	k := dsKey{ns, id}
	e.mu.Lock()
	h, ok := e.datasets[k]
	e.mu.Unlock()
	if ok {
		return h, nil
	}
	meta, err := e.reg.GetDataset(ctx, ns, id)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return nil, fmt.Errorf("%w: dataset %q does not exist", ErrNotFound, id)
		}
		return nil, fmt.Errorf("look up dataset %q: %w", id, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if h, ok := e.datasets[k]; ok {
		return h, nil
	}
	l, err := e.broker.Open(ctx, InputTopic(ns, id), meta.Schema.Arrow())
	if err != nil {
		return nil, fmt.Errorf("open log of dataset %q: %w", id, err)
	}
	sch := meta.Schema
	h = &datasetHandle{meta: meta, log: l}
	h.decoders.New = func() any { return sch.NewJSONDecoder() }
	e.datasets[k] = h
	h.resume.Add(1)
	go func() {
		// Resume materializing this dataset's features, if it has any.
		defer h.resume.Done()
		if err := e.resumeFeatures(context.Background(), ns, id); err != nil {
			e.log.Error("cannot resume features", "namespace", ns, "dataset", id, "err", err)
		}
	}()
	return h, nil
}

// Dataset returns a dataset's metadata and row count.
func (e *Engine) Dataset(ctx context.Context, ns, id string) (DatasetInfo, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return DatasetInfo{}, err
	}
	meta, err := e.reg.GetDataset(ctx, ns, id)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return DatasetInfo{}, fmt.Errorf("%w: dataset %q does not exist", ErrNotFound, id)
		}
		return DatasetInfo{}, err
	}
	return DatasetInfo{Dataset: meta, Rows: h.log.End()}, nil
}

// Datasets lists a namespace's datasets.
func (e *Engine) Datasets(ctx context.Context, ns string) ([]DatasetInfo, error) {
	ds, err := e.reg.ListDatasets(ctx, ns)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	out := make([]DatasetInfo, 0, len(ds))
	for _, d := range ds {
		h, err := e.handle(ctx, ns, d.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, DatasetInfo{Dataset: d, Rows: h.log.End()})
	}
	return out, nil
}

// DeleteDataset removes a dataset, its log, its features and its registry
// entries. A dataset that a deployed model reads (as input or labels) is
// not deleted: delete the model first.
func (e *Engine) DeleteDataset(ctx context.Context, ns, id string) error {
	if users, err := e.modelsUsing(ctx, ns, id); err != nil {
		return err
	} else if len(users) > 0 {
		return fmt.Errorf("%w: dataset %q is used by model %q; delete the model first", ErrInvalid, id, users[0])
	}
	var version int64
	if d, err := e.reg.GetDataset(ctx, ns, id); err == nil {
		version = d.FeatureVersion
	}
	if err := e.reg.DeleteDataset(ctx, ns, id); err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return fmt.Errorf("%w: dataset %q does not exist", ErrNotFound, id)
		}
		return fmt.Errorf("delete dataset %q: %w", id, err)
	}
	e.feat.mu.Lock()
	run := e.feat.runs[dsKey{ns, id}]
	delete(e.feat.runs, dsKey{ns, id})
	e.feat.mu.Unlock()
	if run != nil {
		run.stop()
	}
	for v := int64(1); v <= version; v++ {
		_ = e.derived.Delete(ctx, FeatureTopic(ns, id, v))
		_ = e.checkpoints.Delete(FeatureTopic(ns, id, v))
	}
	e.mu.Lock()
	if h, ok := e.datasets[dsKey{ns, id}]; ok {
		h.resume.Wait()
		_ = h.log.Close()
		delete(e.datasets, dsKey{ns, id})
	}
	e.mu.Unlock()
	if err := e.broker.Delete(ctx, InputTopic(ns, id)); err != nil {
		return fmt.Errorf("delete log of dataset %q: %w", id, err)
	}
	return nil
}

// modelsUsing names the models of ns that read dataset id.
func (e *Engine) modelsUsing(ctx context.Context, ns, id string) ([]string, error) {
	ms, err := e.reg.ListModels(ctx, ns)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		full, err := e.reg.GetModel(ctx, ns, m.Name)
		if err != nil {
			continue
		}
		var s ModelSpec
		if json.Unmarshal(full.Config, &s) != nil {
			continue
		}
		if s.DatasetID == id || (s.Label != nil && s.Label.DatasetID == id) {
			out = append(out, m.Name)
		}
	}
	return out, nil
}

// Schema returns the schema of a dataset.
func (e *Engine) Schema(ctx context.Context, ns, id string) (*schema.Schema, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return nil, err
	}
	return h.meta.Schema, nil
}

// Append validates a batch against the dataset's schema and appends it
// durably. The batch is accepted or rejected whole; on success it returns
// the offset of its first row.
func (e *Engine) Append(ctx context.Context, ns, id string, rec arrow.RecordBatch) (int64, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return 0, err
	}
	conformed, err := h.meta.Schema.Conform(rec)
	if err != nil {
		return 0, fmt.Errorf("%w: dataset %q: %v", ErrInvalid, id, err)
	}
	defer conformed.Release()
	return e.appendConformed(ctx, h, id, conformed)
}

func (e *Engine) appendConformed(ctx context.Context, h *datasetHandle, id string, rec arrow.RecordBatch) (int64, error) {
	if rec.NumRows() == 0 {
		return h.log.End(), nil
	}
	first, err := h.log.Append(ctx, rec)
	if err != nil {
		return 0, fmt.Errorf("append to dataset %q: %w", id, err)
	}
	h.markAck(first + rec.NumRows())
	return first, nil
}

// AppendAsync validates a batch and queues it for a durable append: it
// returns the first offset at once and wait, which returns nil once the rows
// are durable. One producer can keep several batches in flight (they keep
// their order and share group commits). The caller may release rec at once.
func (e *Engine) AppendAsync(ctx context.Context, ns, id string, rec arrow.RecordBatch) (int64, func() error, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return 0, nil, err
	}
	conformed, err := h.meta.Schema.Conform(rec)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: dataset %q: %v", ErrInvalid, id, err)
	}
	defer conformed.Release()
	aa, ok := h.log.(stream.AsyncAppender)
	if !ok || conformed.NumRows() == 0 {
		first, err := e.appendConformed(ctx, h, id, conformed)
		return first, func() error { return err }, nil
	}
	first, wait, err := aa.AppendAsync(ctx, conformed)
	if err != nil {
		return 0, nil, fmt.Errorf("append to dataset %q: %w", id, err)
	}
	end := first + conformed.NumRows()
	return first, func() error {
		if err := wait(); err != nil {
			return fmt.Errorf("append to dataset %q: %w", id, err)
		}
		h.markAck(end)
		return nil
	}, nil
}

// AppendJSON validates a JSON list of row objects (TurboML's REST upload
// body) and appends it as one batch. It returns the first offset and the
// number of rows.
func (e *Engine) AppendJSON(ctx context.Context, ns, id string, body []byte) (first, n int64, err error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return 0, 0, err
	}
	dec := h.decoders.Get().(*schema.JSONDecoder)
	rec, err := dec.Decode(body)
	h.decoders.Put(dec)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: dataset %q: %v", ErrInvalid, id, err)
	}
	defer rec.Release()
	first, err = e.appendConformed(ctx, h, id, rec)
	return first, rec.NumRows(), err
}

// Read returns rows of a dataset from offset `from`, at most about maxRows,
// and the offset after the last returned row.
func (e *Engine) Read(ctx context.Context, ns, id string, from int64, maxRows int) ([]arrow.RecordBatch, int64, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return nil, 0, err
	}
	if from < 0 {
		return nil, 0, fmt.Errorf("%w: offset %d is negative", ErrInvalid, from)
	}
	if end := h.log.End(); from > end {
		return nil, 0, fmt.Errorf("%w: offset %d is beyond the end of dataset %q (%d rows)", ErrInvalid, from, id, end)
	}
	return h.log.Read(ctx, from, maxRows)
}

func wrapInvalid(id string, err error) error {
	return fmt.Errorf("%w: dataset %q: %v", ErrInvalid, id, err)
}
