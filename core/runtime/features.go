package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/spate-ml/spate/core/feature"
	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/schema"
	"github.com/spate-ml/spate/core/stream"
)

// FeatureTopic names the log of a dataset's materialized feature values for
// one feature version: row i holds the features of input row i.
func FeatureTopic(ns, id string, version int64) string {
	return fmt.Sprintf("%s.features.%s.v%d", ns, id, version)
}

// featureRun is the materializer of one feature version of a dataset.
type featureRun struct {
	version int64
	defs    []feature.Def
	fields  []schema.Field
	mat     *feature.Materializer
	out     stream.Log
	cancel  context.CancelFunc
	done    chan struct{}
}

func (f *featureRun) stop() {
	f.cancel()
	<-f.done
	f.out.Close()
}

// featureState holds the running feature versions per dataset.
type featureState struct {
	mu   sync.Mutex
	runs map[dsKey]*featureRun
}

// RegisterTimestamp registers a column as event time with a format.
// Registering it again with the same format is a no-op; with another format
// it is an error.
func (e *Engine) RegisterTimestamp(ctx context.Context, ns, id, column, format string) error {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return err
	}
	f, ok := h.meta.Schema.Field(column)
	if !ok {
		return fmt.Errorf("%w: %q is not a column of dataset %q", ErrInvalid, column, id)
	}
	if !slices.Contains(feature.TimestampFormats(), format) {
		return fmt.Errorf("%w: unknown timestamp format %q (known: %v)", ErrInvalid, format, feature.TimestampFormats())
	}
	if _, err := feature.Compile(h.meta.Schema, []feature.Timestamp{{Column: column, Format: format}}, nil); err != nil {
		return fmt.Errorf("%w: column %q (%s) cannot be a %s timestamp: %v", ErrInvalid, column, f.Type, format, err)
	}
	e.featMu.Lock()
	defer e.featMu.Unlock()
	d, err := e.reg.GetDataset(ctx, ns, id)
	if err != nil {
		return err
	}
	if old, ok := d.Timestamps[column]; ok {
		if old == format {
			return nil
		}
		return fmt.Errorf("%w: column %q is already registered as %s; it cannot be re-registered as %s", ErrInvalid, column, old, format)
	}
	if d.Timestamps == nil {
		d.Timestamps = map[string]string{}
	}
	d.Timestamps[column] = format
	if err := e.reg.UpdateDataset(ctx, d); err != nil {
		return fmt.Errorf("register timestamp: %w", err)
	}
	e.refreshMeta(ns, id, d)
	return nil
}

func (e *Engine) refreshMeta(ns, id string, d registry.Dataset) {
	e.mu.Lock()
	if h, ok := e.datasets[dsKey{ns, id}]; ok {
		h.meta = d
	}
	e.mu.Unlock()
}

func timestampsOf(d registry.Dataset) []feature.Timestamp {
	ts := make([]feature.Timestamp, 0, len(d.Timestamps))
	for c, f := range d.Timestamps {
		ts = append(ts, feature.Timestamp{Column: c, Format: f})
	}
	slices.SortFunc(ts, func(a, b feature.Timestamp) int {
		if a.Column < b.Column {
			return -1
		}
		if a.Column > b.Column {
			return 1
		}
		return 0
	})
	return ts
}

// FeatureInfo is a feature definition and whether it is materialized.
type FeatureInfo struct {
	Def          feature.Def
	Materialized bool
}

// Features lists a dataset's features.
func (e *Engine) Features(ctx context.Context, ns, id string) ([]FeatureInfo, error) {
	if _, err := e.handle(ctx, ns, id); err != nil {
		return nil, err
	}
	fs, err := e.reg.ListFeatures(ctx, ns, id)
	if err != nil {
		return nil, err
	}
	out := make([]FeatureInfo, 0, len(fs))
	for _, f := range fs {
		var d feature.Def
		if err := json.Unmarshal(f.Spec, &d); err != nil {
			return nil, fmt.Errorf("feature %q has a broken definition: %w", f.Name, err)
		}
		out = append(out, FeatureInfo{Def: d, Materialized: f.Materialized})
	}
	return out, nil
}

func (e *Engine) materializedDefs(ctx context.Context, ns, id string) ([]feature.Def, error) {
	fs, err := e.Features(ctx, ns, id)
	if err != nil {
		return nil, err
	}
	var defs []feature.Def
	for _, f := range fs {
		if f.Materialized {
			defs = append(defs, f.Def)
		}
	}
	return defs, nil
}

// sameDef compares two definitions.
func sameDef(a, b feature.Def) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// CompileFeatures checks definitions against a dataset (its schema,
// registered timestamps and materialized features) without storing them.
func (e *Engine) CompileFeatures(ctx context.Context, ns, id string, defs []feature.Def) (*feature.Pipeline, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return nil, err
	}
	d, err := e.reg.GetDataset(ctx, ns, id)
	if err != nil {
		return nil, err
	}
	p, err := feature.Compile(h.meta.Schema, timestampsOf(d), defs)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return p, nil
}

// MaterializeFeatures makes features part of the dataset: from now on they
// are computed for every row, and for the whole history now (backfill, while
// new rows keep flowing). Names already materialized with the same
// definition are accepted and left alone; a different definition under a
// materialized name is an error.
func (e *Engine) MaterializeFeatures(ctx context.Context, ns, id string, defs []feature.Def) error {
	e.featMu.Lock()
	defer e.featMu.Unlock()
	current, err := e.materializedDefs(ctx, ns, id)
	if err != nil {
		return err
	}
	byName := map[string]feature.Def{}
	for _, d := range current {
		byName[d.Name] = d
	}
	var added []feature.Def
	for _, d := range defs {
		if old, ok := byName[d.Name]; ok {
			if !sameDef(old, d) {
				return fmt.Errorf("%w: feature %q is already materialized with another definition; drop it first", ErrExists, d.Name)
			}
			continue
		}
		byName[d.Name] = d
		added = append(added, d)
	}
	if len(added) == 0 {
		return nil
	}
	all := append(slices.Clone(current), added...)
	if _, err := e.CompileFeatures(ctx, ns, id, all); err != nil {
		return err
	}
	for _, d := range added {
		spec, _ := json.Marshal(d)
		f := registry.Feature{Namespace: ns, Dataset: id, Name: d.Name, Spec: spec, Materialized: true}
		if err := e.reg.PutFeature(ctx, f); err != nil {
			if !errors.Is(err, registry.ErrExists) {
				return fmt.Errorf("store feature %q: %w", d.Name, err)
			}
			if err := e.reg.UpdateFeature(ctx, f); err != nil {
				return fmt.Errorf("store feature %q: %w", d.Name, err)
			}
		}
	}
	return e.restartFeatures(ctx, ns, id, all)
}

// DropFeature removes a materialized feature, unless a model uses it.
func (e *Engine) DropFeature(ctx context.Context, ns, id, name string) error {
	e.featMu.Lock()
	defer e.featMu.Unlock()
	ms, err := e.reg.ListModels(ctx, ns)
	if err != nil {
		return err
	}
	for _, m := range ms {
		full, err := e.reg.GetModel(ctx, ns, m.Name)
		if err != nil {
			continue
		}
		var s ModelSpec
		if json.Unmarshal(full.Config, &s) != nil || s.DatasetID != id {
			continue
		}
		if slices.Contains(s.NumericalFields, name) || slices.Contains(s.CategoricalFields, name) || s.TimeField == name {
			return fmt.Errorf("%w: feature %q is used by model %q; delete the model first", ErrInvalid, name, m.Name)
		}
	}
	if err := e.reg.DeleteFeature(ctx, ns, id, name); err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return fmt.Errorf("%w: dataset %q has no feature %q", ErrNotFound, id, name)
		}
		return err
	}
	defs, err := e.materializedDefs(ctx, ns, id)
	if err != nil {
		return err
	}
	return e.restartFeatures(ctx, ns, id, defs)
}

// restartFeatures starts a new feature version for defs (the caller holds
// featMu) and retires the previous one once the new one has caught up.
func (e *Engine) restartFeatures(ctx context.Context, ns, id string, defs []feature.Def) error {
	d, err := e.reg.GetDataset(ctx, ns, id)
	if err != nil {
		return err
	}
	d.FeatureVersion++
	if err := e.reg.UpdateDataset(ctx, d); err != nil {
		return fmt.Errorf("bump feature version: %w", err)
	}
	e.refreshMeta(ns, id, d)
	var run *featureRun
	if len(defs) > 0 {
		if run, err = e.startFeatureRun(ctx, ns, id, d, defs); err != nil {
			return err
		}
	}
	e.feat.mu.Lock()
	old := e.feat.runs[dsKey{ns, id}]
	if run != nil {
		e.feat.runs[dsKey{ns, id}] = run
	} else {
		delete(e.feat.runs, dsKey{ns, id})
	}
	e.feat.mu.Unlock()
	if old != nil {
		go e.retire(ns, id, old, run)
	}
	return nil
}

// retire stops an old feature version after its successor has processed as
// many rows, then deletes its log.
func (e *Engine) retire(ns, id string, old, next *featureRun) {
	for next != nil {
		st := next.mat.Status()
		if st.Processed >= old.mat.Status().Processed || !st.Running {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	old.stop()
	_ = e.derived.Delete(context.Background(), FeatureTopic(ns, id, old.version))
	_ = e.checkpoints.Delete(FeatureTopic(ns, id, old.version))
}

func (e *Engine) startFeatureRun(ctx context.Context, ns, id string, d registry.Dataset, defs []feature.Def) (*featureRun, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return nil, err
	}
	p, err := feature.Compile(d.Schema, timestampsOf(d), defs)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	topic := FeatureTopic(ns, id, d.FeatureVersion)
	out, err := e.derived.Open(ctx, topic, p.ArrowSchema())
	if err != nil {
		return nil, fmt.Errorf("open feature log: %w", err)
	}
	mat, err := feature.NewMaterializer(p, feature.MaterializerOptions{
		Input: h.log, Output: out, Checkpointer: e.checkpoints.For(topic, out), Logger: e.log,
		// A checkpoint pauses the materializer while the state is written;
		// rarer checkpoints keep latency flat, and a restart replays at
		// most this many rows (about half a second of work).
		CheckpointRows: 1_000_000, CheckpointInterval: time.Minute,
		// Large reads: a stored batch is decoded once, not once per
		// slice of it, and the feature log gets fewer, larger frames.
		BatchRows: 65536,
	})
	if err != nil {
		out.Close()
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	run := &featureRun{version: d.FeatureVersion, defs: defs, fields: p.Fields(), mat: mat, out: out, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(run.done)
		for rctx.Err() == nil {
			if err := mat.Run(rctx); err != nil && rctx.Err() == nil {
				e.log.Error("feature materializer stopped; restarting", "namespace", ns, "dataset", id, "err", err)
				sleepCtx(rctx, time.Second)
			}
		}
	}()
	return run, nil
}

// resumeFeatures starts the materializer of one dataset if it has
// materialized features and none is running.
func (e *Engine) resumeFeatures(ctx context.Context, ns, id string) error {
	e.feat.mu.Lock()
	_, running := e.feat.runs[dsKey{ns, id}]
	e.feat.mu.Unlock()
	if running {
		return nil
	}
	e.featMu.Lock()
	defer e.featMu.Unlock()
	defs, err := e.materializedDefs(ctx, ns, id)
	if err != nil || len(defs) == 0 {
		return err
	}
	d, err := e.reg.GetDataset(ctx, ns, id)
	if err != nil {
		return err
	}
	run, err := e.startFeatureRun(ctx, ns, id, d, defs)
	if err != nil {
		return err
	}
	e.feat.mu.Lock()
	e.feat.runs[dsKey{ns, id}] = run
	e.feat.mu.Unlock()
	return nil
}

func (e *Engine) featureRunOf(ns, id string) *featureRun {
	e.mu.Lock()
	h := e.datasets[dsKey{ns, id}]
	e.mu.Unlock()
	if h != nil {
		h.resume.Wait() // a freshly opened dataset may be resuming its features
	}
	e.feat.mu.Lock()
	defer e.feat.mu.Unlock()
	return e.feat.runs[dsKey{ns, id}]
}

// FeatureStatus returns the materializer status of a dataset (zero when it
// has no materialized features).
func (e *Engine) FeatureStatus(ns, id string) (feature.Status, int64) {
	run := e.featureRunOf(ns, id)
	if run == nil {
		return feature.Status{}, 0
	}
	return run.mat.Status(), run.version
}

// featureSource joins a dataset's raw rows with its current feature
// version's rows.
type featureSource struct {
	e      *Engine
	ns, id string
	raw    stream.Log
	want   []string // feature names the reader needs (nil: none)
}

func (s *featureSource) run() *featureRun { return s.e.featureRunOf(s.ns, s.id) }

func (s *featureSource) Frontier() int64 {
	end := s.raw.End()
	if len(s.want) == 0 {
		return end
	}
	run := s.run()
	if run == nil || !hasFields(run.fields, s.want) {
		return 0
	}
	return min(end, run.out.End())
}

func hasFields(fs []schema.Field, names []string) bool {
	for _, n := range names {
		if !slices.ContainsFunc(fs, func(f schema.Field) bool { return f.Name == n }) {
			return false
		}
	}
	return true
}

func (s *featureSource) Wait(ctx context.Context, from int64) error {
	if len(s.want) == 0 {
		return s.raw.Wait(ctx, from)
	}
	if run := s.run(); run != nil {
		return run.out.Wait(ctx, from)
	}
	<-ctx.Done()
	return ctx.Err()
}

// Read returns batches of raw columns followed by every feature column of
// the current version (or only raw columns when the reader needs none).
func (s *featureSource) Read(ctx context.Context, from int64, maxRows int) ([]arrow.RecordBatch, error) {
	front := s.Frontier()
	if from >= front {
		return nil, nil
	}
	maxRows = int(min(int64(maxRows), front-from))
	raws, _, err := s.raw.Read(ctx, from, maxRows)
	if err != nil || len(s.want) == 0 {
		return raws, err
	}
	run := s.run()
	if run == nil {
		releaseAll(raws)
		return nil, errors.New("features are not materialized")
	}
	return joinFeatures(ctx, raws, run, from, front)
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// joinFeatures appends to each raw batch (starting at offset from) the
// feature columns of the same rows, cutting at end.
func joinFeatures(ctx context.Context, raws []arrow.RecordBatch, run *featureRun, from, end int64) ([]arrow.RecordBatch, error) {
	defer releaseAll(raws)
	var out []arrow.RecordBatch
	off := from
	for _, raw := range raws {
		n := min(raw.NumRows(), end-off)
		if n <= 0 {
			break
		}
		feats, err := readSpan(ctx, logRead(run.out), off, n)
		if err != nil {
			releaseAll(out)
			return nil, err
		}
		rawCut := raw.NewSlice(0, n)
		out = append(out, hstack(rawCut, feats))
		rawCut.Release()
		feats.Release()
		off += n
	}
	return out, nil
}

// readFunc reads batches from an offset (stream.Log's Read without the
// next offset).
type readFunc func(ctx context.Context, from int64, maxRows int) ([]arrow.RecordBatch, error)

// logRead adapts a log's Read to readFunc.
func logRead(l stream.Log) readFunc {
	return func(ctx context.Context, from int64, maxRows int) ([]arrow.RecordBatch, error) {
		recs, _, err := l.Read(ctx, from, maxRows)
		return recs, err
	}
}

// readSpan reads exactly the n rows from off on as one batch, with as many
// reads as it takes.
func readSpan(ctx context.Context, read readFunc, off, n int64) (arrow.RecordBatch, error) {
	var parts []arrow.RecordBatch
	for got := int64(0); got < n; {
		recs, err := read(ctx, off+got, int(min(n-got, 65536)))
		if err != nil {
			releaseAll(parts)
			return nil, err
		}
		if len(recs) == 0 {
			releaseAll(parts)
			return nil, fmt.Errorf("rows at %d of %d..%d are not readable", off+got, off, off+n)
		}
		for _, r := range recs {
			if take := min(r.NumRows(), n-got); take > 0 {
				parts = append(parts, r.NewSlice(0, take))
				got += take
			}
			r.Release()
		}
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	defer releaseAll(parts)
	return schema.ConcatBatches(parts[0].Schema(), parts, memAlloc())
}

// FeatureFields returns the raw fields of a dataset followed by its
// current materialized feature fields.
func (e *Engine) FeatureFields(ctx context.Context, ns, id string) ([]schema.Field, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return nil, err
	}
	fields := slices.Clone(h.meta.Schema.Fields)
	if run := e.featureRunOf(ns, id); run != nil {
		fields = append(fields, run.fields...)
	}
	return fields, nil
}

// ReadFeatures reads a dataset's rows with their materialized features
// (raw columns, then features) from an offset, up to the rows whose
// features are computed. It returns the batches and the next offset.
func (e *Engine) ReadFeatures(ctx context.Context, ns, id string, from int64, maxRows int) ([]arrow.RecordBatch, int64, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return nil, 0, err
	}
	src := &featureSource{e: e, ns: ns, id: id, raw: h.log}
	if run := e.featureRunOf(ns, id); run != nil {
		for _, f := range run.fields {
			src.want = append(src.want, f.Name)
		}
	}
	front := src.Frontier()
	if from < 0 || from > h.log.End() {
		return nil, 0, fmt.Errorf("%w: offset %d is outside [0, %d]", ErrInvalid, from, h.log.End())
	}
	if from >= front {
		return nil, from, nil
	}
	recs, err := src.Read(ctx, from, maxRows)
	if err != nil {
		return nil, 0, err
	}
	next := from
	for _, r := range recs {
		next += r.NumRows()
	}
	return recs, next, nil
}

// FeatureFrontier is the offset up to which a dataset's rows have their
// materialized features computed.
func (e *Engine) FeatureFrontier(ctx context.Context, ns, id string) (int64, error) {
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return 0, err
	}
	run := e.featureRunOf(ns, id)
	if run == nil {
		return h.log.End(), nil
	}
	return min(h.log.End(), run.out.End()), nil
}

// PreviewFeatures computes the materialized features plus pending ones over
// the first limit rows of a dataset (limit < 0: all rows), without storing
// or materializing anything. It calls emit with batches of raw columns
// followed by every feature column.
func (e *Engine) PreviewFeatures(ctx context.Context, ns, id string, pending []feature.Def, limit int64, emit func(arrow.RecordBatch) error) error {
	p, err := e.previewPipeline(ctx, ns, id, pending)
	if err != nil {
		return err
	}
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return err
	}
	end := h.log.End()
	if limit >= 0 && limit < end {
		end = limit
	}
	for off := int64(0); off < end; {
		recs, _, err := h.log.Read(ctx, off, int(min(end-off, 65536)))
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return fmt.Errorf("dataset %q has no rows at %d", id, off)
		}
		for i, raw := range recs {
			n := min(raw.NumRows(), end-off)
			cut := raw.NewSlice(0, n)
			feats, err := p.Process(cut)
			if err != nil {
				cut.Release()
				releaseAll(recs[i:])
				return fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			joined := hstack(cut, feats)
			cut.Release()
			feats.Release()
			raw.Release()
			err = emit(joined)
			joined.Release()
			if err != nil {
				releaseAll(recs[i+1:])
				return err
			}
			off += n
		}
	}
	return nil
}

// previewPipeline compiles the materialized features with pending ones (a
// pending definition replaces a materialized one of the same name).
func (e *Engine) previewPipeline(ctx context.Context, ns, id string, pending []feature.Def) (*feature.Pipeline, error) {
	defs, err := e.materializedDefs(ctx, ns, id)
	if err != nil {
		return nil, err
	}
	for _, d := range pending {
		if i := slices.IndexFunc(defs, func(c feature.Def) bool { return c.Name == d.Name }); i >= 0 {
			defs[i] = d
		} else {
			defs = append(defs, d)
		}
	}
	return e.CompileFeatures(ctx, ns, id, defs)
}

// PreviewSchema is the schema of PreviewFeatures' batches: the raw columns,
// then every materialized and pending feature.
func (e *Engine) PreviewSchema(ctx context.Context, ns, id string, pending []feature.Def) (*arrow.Schema, error) {
	p, err := e.previewPipeline(ctx, ns, id, pending)
	if err != nil {
		return nil, err
	}
	h, err := e.handle(ctx, ns, id)
	if err != nil {
		return nil, err
	}
	return arrow.NewSchema(append(slices.Clone(h.meta.Schema.Arrow().Fields()), p.ArrowSchema().Fields()...), nil), nil
}

// hstack puts the columns of b after those of a (same row count).
func hstack(a, b arrow.RecordBatch) arrow.RecordBatch {
	cols := make([]arrow.Array, 0, int(a.NumCols()+b.NumCols()))
	fields := make([]arrow.Field, 0, cap(cols))
	for i := 0; i < int(a.NumCols()); i++ {
		cols = append(cols, a.Column(i))
		fields = append(fields, a.Schema().Field(i))
	}
	for i := 0; i < int(b.NumCols()); i++ {
		cols = append(cols, b.Column(i))
		fields = append(fields, b.Schema().Field(i))
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, a.NumRows())
}

// peeker computes feature values for rows as if they were appended now,
// without changing the state.
type peeker interface {
	Peek(rec arrow.RecordBatch) (arrow.RecordBatch, error)
}
