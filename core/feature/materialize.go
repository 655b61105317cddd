package feature

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/spate-ml/spate/core/schema"
	"github.com/spate-ml/spate/core/stream"
)

// Checkpoint is a materializer's resume point: the pipeline state after
// consuming the first Offset input rows, whose feature rows are all in the
// output log.
type Checkpoint struct {
	Offset int64  `json:"offset"`
	State  []byte `json:"state"`
}

// Checkpointer stores a materializer's latest checkpoint. Save must be
// durable when it returns nil; Load returns ok=false when nothing was saved.
// Implementations must be safe for use by one materializer at a time.
type Checkpointer interface {
	Load(ctx context.Context) (cp Checkpoint, ok bool, err error)
	Save(ctx context.Context, cp Checkpoint) error
}

// MemCheckpointer keeps the latest checkpoint in memory (tests,
// single-process use). The zero value is ready.
type MemCheckpointer struct {
	mu sync.Mutex
	cp *Checkpoint
}

// Load returns the saved checkpoint.
func (m *MemCheckpointer) Load(context.Context) (Checkpoint, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cp == nil {
		return Checkpoint{}, false, nil
	}
	return *m.cp, true, nil
}

// Save replaces the saved checkpoint.
func (m *MemCheckpointer) Save(_ context.Context, cp Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cp = &cp
	return nil
}

// MaterializerOptions configures a Materializer. Input, Output and
// Checkpointer are required.
type MaterializerOptions struct {
	// Input is the dataset's log; its batches have the dataset schema.
	Input stream.Log
	// Output receives one feature row per input row, in input order; its
	// schema must be the pipeline's ArrowSchema. Nothing else may append
	// to it.
	Output stream.Log
	// Checkpointer stores the resume point.
	Checkpointer Checkpointer
	// CheckpointRows saves a checkpoint at least every this many input
	// rows (default 100,000).
	CheckpointRows int64
	// CheckpointInterval saves a checkpoint at least this often while rows
	// flow or wait to be checkpointed (default 10 s).
	CheckpointInterval time.Duration
	// BatchRows bounds the rows read per Read call (default 8192).
	BatchRows int
	// Logger receives progress and errors (default: discard).
	Logger *slog.Logger
}

// Status is a materializer's progress.
type Status struct {
	// Processed is the input offset up to which feature rows exist.
	Processed int64 `json:"processed"`
	// InputEnd is the input log's end when last looked at.
	InputEnd int64 `json:"input_end"`
	// Lag is InputEnd - Processed.
	Lag int64 `json:"lag"`
	// Checkpointed is the offset of the last saved checkpoint.
	Checkpointed int64 `json:"checkpointed"`
	// Skipped counts replayed rows whose output was already written
	// before a restart.
	Skipped int64 `json:"skipped"`
	// Stats are the pipeline's counters (rows, late rows, bad timestamps).
	Stats Stats `json:"stats"`
	// Running is true while Run is active.
	Running bool `json:"running"`
	// Err is the error that stopped Run, if any.
	Err string `json:"err,omitempty"`
}

// Materializer tails a dataset's log, computes its features and appends
// them to an output log, checkpointing as it goes. After a restart (a new
// Materializer with a freshly compiled pipeline and the same logs and
// checkpointer) it resumes from the checkpoint: it replays the input from
// the checkpoint's offset to rebuild the window state and appends only the
// rows beyond the output's end, so the output is exactly what an
// uninterrupted run would have written.
type Materializer struct {
	p    *Pipeline
	o    MaterializerOptions
	log  *slog.Logger
	mu   sync.Mutex
	st   Status
	runs sync.Mutex
	// pmu serializes the pipeline between Run (state changes) and Peek.
	pmu sync.Mutex
}

// NewMaterializer checks the options against the pipeline. The pipeline
// must be fresh (nothing processed yet) and is owned by the materializer.
func NewMaterializer(p *Pipeline, o MaterializerOptions) (*Materializer, error) {
	if p == nil || o.Input == nil || o.Output == nil || o.Checkpointer == nil {
		return nil, errors.New("feature: materializer needs a pipeline, input and output logs and a checkpointer")
	}
	if !o.Output.Schema().Equal(p.ArrowSchema()) {
		return nil, fmt.Errorf("feature: output log schema %s is not the features' schema %s", o.Output.Schema(), p.ArrowSchema())
	}
	in := o.Input.Schema()
	if in.NumFields() != len(p.schema.Fields) {
		return nil, fmt.Errorf("feature: input log schema %s is not the dataset schema %s", in, p.schema)
	}
	for i, f := range p.schema.Fields {
		if in.Field(i).Name != f.Name || !arrow.TypeEqual(in.Field(i).Type, f.Type.Arrow()) {
			return nil, fmt.Errorf("feature: input log schema %s is not the dataset schema %s", in, p.schema)
		}
	}
	if o.CheckpointRows <= 0 {
		o.CheckpointRows = 100_000
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = 10 * time.Second
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 8192
	}
	lg := o.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Materializer{p: p, o: o, log: lg}, nil
}

// Status returns the current progress; safe to call at any time.
func (m *Materializer) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st
	st.InputEnd = max(st.InputEnd, m.o.Input.End())
	st.Lag = st.InputEnd - st.Processed
	return st
}

func (m *Materializer) update(f func(*Status)) {
	m.mu.Lock()
	f(&m.st)
	m.mu.Unlock()
}

// Run materializes until ctx ends (then it returns nil, after saving a
// last checkpoint unless it was stopped in the middle of a batch) or an
// error occurs. Only one Run may be active at a time. Each Read of up to
// BatchRows input rows becomes one Append to the output.
func (m *Materializer) Run(ctx context.Context) (err error) {
	if !m.runs.TryLock() {
		return errors.New("feature: materializer is already running")
	}
	defer m.runs.Unlock()
	m.update(func(s *Status) { s.Running, s.Err = true, "" })
	defer func() {
		m.update(func(s *Status) {
			s.Running = false
			if err != nil {
				s.Err = err.Error()
			}
		})
	}()

	cp, ok, err := m.o.Checkpointer.Load(ctx)
	if err != nil {
		return fmt.Errorf("feature: load checkpoint: %w", err)
	}
	pos := int64(0)
	if ok {
		m.pmu.Lock()
		err := m.p.RestoreState(cp.State)
		m.pmu.Unlock()
		if err != nil {
			return fmt.Errorf("feature: restore checkpoint at offset %d: %w", cp.Offset, err)
		}
		pos = cp.Offset
	} else if m.p.stats.Rows != 0 {
		return errors.New("feature: the pipeline has already processed rows; compile a fresh one")
	}
	outEnd := m.o.Output.End()
	if outEnd < pos {
		return fmt.Errorf("feature: output log ends at %d, before the checkpoint at %d: output rows were lost", outEnd, pos)
	}
	if end := m.o.Input.End(); outEnd > end {
		return fmt.Errorf("feature: output log (%d rows) is longer than the input (%d rows)", outEnd, end)
	}
	m.log.Info("materializer starting", "checkpoint", pos, "output_end", outEnd, "features", m.p.Describe())
	m.update(func(s *Status) { s.Processed, s.Checkpointed = min(outEnd, pos), pos })

	saved, savedAt := pos, time.Now()
	save := func(ctx context.Context) error {
		if pos == saved {
			return nil
		}
		m.pmu.Lock()
		state, err := m.p.MarshalState()
		m.pmu.Unlock()
		if err != nil {
			return fmt.Errorf("feature: marshal state: %w", err)
		}
		if err := m.o.Checkpointer.Save(ctx, Checkpoint{Offset: pos, State: state}); err != nil {
			return fmt.Errorf("feature: save checkpoint at %d: %w", pos, err)
		}
		saved, savedAt = pos, time.Now()
		m.update(func(s *Status) { s.Checkpointed = pos })
		return nil
	}
	final := func() error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return save(sctx)
	}

	for {
		if ctx.Err() != nil {
			return final()
		}
		recs, _, err := m.o.Input.Read(ctx, pos, m.o.BatchRows)
		if err != nil {
			if ctx.Err() != nil {
				return final()
			}
			return fmt.Errorf("feature: read input at %d: %w", pos, err)
		}
		if len(recs) == 0 {
			wctx := ctx
			var cancel context.CancelFunc = func() {}
			if pos != saved {
				wctx, cancel = context.WithDeadline(ctx, savedAt.Add(m.o.CheckpointInterval))
			}
			err := m.o.Input.Wait(wctx, pos)
			// Read the deadline before cancel: after it wctx.Err() is
			// always set, and every wake-up would take a checkpoint.
			idleDue := wctx.Err() != nil
			cancel()
			switch {
			case ctx.Err() != nil:
				return final()
			case idleDue: // checkpoint deadline while idle
				if err := save(ctx); err != nil {
					return err
				}
			case err != nil:
				return fmt.Errorf("feature: wait for input at %d: %w", pos, err)
			}
			continue
		}
		next, err := m.consume(ctx, recs, pos, &outEnd)
		if err != nil {
			// The pipeline may now be ahead of pos: never checkpoint it.
			// A restart resumes from the last checkpoint.
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		pos = next
		if pos-saved >= m.o.CheckpointRows || time.Since(savedAt) >= m.o.CheckpointInterval {
			if err := save(ctx); err != nil {
				return err
			}
		}
	}
}

// consume processes the batches of one Read, which start at input offset
// pos, and appends their feature rows beyond *outEnd as one batch (one
// durable append per Read, not per input batch). It releases recs and
// returns the offset after them.
func (m *Materializer) consume(ctx context.Context, recs []arrow.RecordBatch, pos int64, outEnd *int64) (int64, error) {
	outs := make([]arrow.RecordBatch, 0, len(recs))
	defer func() {
		for _, r := range recs {
			r.Release()
		}
		for _, o := range outs {
			o.Release()
		}
	}()
	next := pos
	m.pmu.Lock()
	for _, rec := range recs {
		out, err := m.p.Process(rec)
		if err != nil {
			m.pmu.Unlock()
			return pos, fmt.Errorf("feature: process input rows %d..%d: %w", next, next+rec.NumRows(), err)
		}
		outs = append(outs, out)
		next += rec.NumRows()
	}
	st := m.p.Stats()
	m.pmu.Unlock()
	skip := min(max(0, *outEnd-pos), next-pos)
	if next > *outEnd {
		all, err := schema.ConcatBatches(m.p.ArrowSchema(), outs, m.p.mem)
		if err != nil {
			return pos, fmt.Errorf("feature: combine feature rows %d..%d: %w", pos, next, err)
		}
		defer all.Release()
		part := all
		if skip > 0 {
			part = all.NewSlice(skip, next-pos)
			defer part.Release()
		}
		first, err := m.o.Output.Append(ctx, part)
		if err != nil {
			return pos, fmt.Errorf("feature: append feature rows %d..%d: %w", pos+skip, next, err)
		}
		if first != pos+skip {
			return pos, fmt.Errorf("feature: output log got rows at %d, want %d: another writer appends to it", first, pos+skip)
		}
		*outEnd = next
	}
	m.update(func(s *Status) {
		s.Processed, s.Stats = next, st
		s.Skipped += skip
	})
	return next, nil
}

// Peek computes the feature values rows of the dataset schema would get if
// they were appended now, from the materializer's current state, without
// changing it (see Pipeline.Peek). Safe to call while Run is active.
func (m *Materializer) Peek(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	m.pmu.Lock()
	defer m.pmu.Unlock()
	return m.p.Peek(rec)
}
