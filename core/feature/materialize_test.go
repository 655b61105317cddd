package feature

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/spate-ml/spate/core/stream"
	"github.com/spate-ml/spate/core/stream/memlog"
)

// flakyCheckpointer stops persisting after `keep` saves, as if the process
// crashed between appending output rows and saving the next checkpoint.
type flakyCheckpointer struct {
	MemCheckpointer
	mu    sync.Mutex
	keep  int
	saves int
}

func (f *flakyCheckpointer) Save(ctx context.Context, cp Checkpoint) error {
	f.mu.Lock()
	f.saves++
	drop := f.saves > f.keep
	f.mu.Unlock()
	if drop {
		return nil
	}
	return f.MemCheckpointer.Save(ctx, cp)
}

func matSetup(t *testing.T) (*Pipeline, func() *Pipeline, [][]cell, arrow.RecordBatch) {
	t.Helper()
	s := aggSchema(t)
	defs := append(aggDefs([]string{"30 minutes", "6 hours"}, "10 minutes"),
		Def{Name: "neg", Kind: KindSQL, SQL: `"val" < 0`})
	tss := []Timestamp{{Column: "ts", Format: FormatEpochSeconds}}
	mk := func() *Pipeline {
		p, err := Compile(s, tss, defs)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	rows := genRows(21, genOpts{rows: 6000, groups: 50, jitter: 900, nullGroups: true, special: true})
	rec := buildBatch(t, s, rows)
	return mk(), mk, rows, rec
}

// matLogs opens an input log of the aggregate test schema and an output
// log of schema out on a fresh in-memory broker, closed when the test ends.
func matLogs(t *testing.T, out *arrow.Schema) (stream.Broker, stream.Log, stream.Log) {
	t.Helper()
	b := memlog.New()
	t.Cleanup(func() { b.Close() })
	in, err := b.Open(context.Background(), "ns.inputs.tx", aggSchema(t).Arrow())
	if err != nil {
		t.Fatal(err)
	}
	o, err := b.Open(context.Background(), "ns.features.tx", out)
	if err != nil {
		t.Fatal(err)
	}
	return b, in, o
}

func appendRows(t *testing.T, log stream.Log, rec arrow.RecordBatch, from, to, batch int) {
	t.Helper()
	for i := from; i < to; i += batch {
		part := sliceBatch(rec, i, min(i+batch, to))
		if _, err := log.Append(context.Background(), part); err != nil {
			t.Fatal(err)
		}
		part.Release()
	}
}

func readAll(t *testing.T, log stream.Log) [][]cell {
	t.Helper()
	var res [][]cell
	for pos := int64(0); pos < log.End(); {
		recs, next, err := log.Read(context.Background(), pos, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if res == nil {
				res = make([][]cell, r.NumCols())
			}
			for c := range res {
				res[c] = append(res[c], columnCells(r.Column(c))...)
			}
			r.Release()
		}
		pos = next
	}
	return res
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func sameColumns(t *testing.T, got, want [][]cell) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d columns, want %d", len(got), len(want))
	}
	for c := range want {
		if len(got[c]) != len(want[c]) {
			t.Fatalf("column %d: %d rows, want %d", c, len(got[c]), len(want[c]))
		}
		for i := range want[c] {
			if !identical(got[c][i], want[c][i]) {
				t.Fatalf("column %d row %d: %v, want %v", c, i, got[c][i], want[c][i])
			}
		}
	}
}

func TestMaterializerBackfillAndTail(t *testing.T) {
	p, mk, rows, rec := matSetup(t)
	defer rec.Release()
	want := runPipeline(t, mk(), rec, 500)
	ctx := context.Background()
	_, in, out := matLogs(t, p.ArrowSchema())
	appendRows(t, in, rec, 0, 4000, 333) // history
	m, err := NewMaterializer(p, MaterializerOptions{Input: in, Output: out, Checkpointer: &MemCheckpointer{}, CheckpointRows: 1000, BatchRows: 700})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(rctx) }()
	appendRows(t, in, rec, 4000, len(rows), 97) // live rows keep flowing
	waitFor(t, "the materializer to catch up", func() bool { return m.Status().Processed == int64(len(rows)) })
	st := m.Status()
	if st.Lag != 0 || !st.Running || st.Stats.LateRows == 0 || st.Checkpointed < 4000 {
		t.Errorf("status %+v", st)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := m.Status(); st.Checkpointed != int64(len(rows)) || st.Running {
		t.Errorf("after stop: %+v", st)
	}
	sameColumns(t, readAll(t, out), want)
}

func TestMaterializerResumesExactly(t *testing.T) {
	_, mk, rows, rec := matSetup(t)
	defer rec.Release()
	want := runPipeline(t, mk(), rec, 500)
	ctx := context.Background()
	_, in, out := matLogs(t, mk().ArrowSchema())
	appendRows(t, in, rec, 0, 2500, 250)
	// First life: checkpoints stop persisting after two saves, so the
	// output runs ahead of the last durable checkpoint ("crash").
	ck := &flakyCheckpointer{keep: 2}
	m1, err := NewMaterializer(mk(), MaterializerOptions{Input: in, Output: out, Checkpointer: ck, CheckpointRows: 500, BatchRows: 250})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m1.Run(rctx) }()
	waitFor(t, "first run", func() bool { return m1.Status().Processed == 2500 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cp, ok, _ := ck.Load(ctx)
	if !ok || cp.Offset >= out.End() {
		t.Fatalf("test setup: checkpoint at %d, output at %d: want the output ahead", cp.Offset, out.End())
	}
	appendRows(t, in, rec, 2500, len(rows), 411)
	// Second life: a fresh pipeline resumes from the stale checkpoint.
	ck.keep = 1 << 30
	m2, err := NewMaterializer(mk(), MaterializerOptions{Input: in, Output: out, Checkpointer: ck, CheckpointRows: 700, BatchRows: 300})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel = context.WithCancel(ctx)
	go func() { done <- m2.Run(rctx) }()
	waitFor(t, "second run", func() bool { return m2.Status().Processed == int64(len(rows)) })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := m2.Status(); st.Skipped != 2500-cp.Offset {
		t.Errorf("skipped %d replayed rows, want %d", st.Skipped, 2500-cp.Offset)
	}
	sameColumns(t, readAll(t, out), want)
}

func TestMaterializerErrors(t *testing.T) {
	p, mk, _, rec := matSetup(t)
	defer rec.Release()
	ctx := context.Background()
	b, in, out := matLogs(t, p.ArrowSchema())
	wrong, _ := b.Open(ctx, "ns.features.other", aggSchema(t).Arrow())
	if _, err := NewMaterializer(p, MaterializerOptions{Input: in, Output: wrong, Checkpointer: &MemCheckpointer{}}); err == nil {
		t.Error("accepted an output log with the wrong schema")
	}
	if _, err := NewMaterializer(p, MaterializerOptions{Input: out, Output: out, Checkpointer: &MemCheckpointer{}}); err == nil {
		t.Error("accepted an input log with the wrong schema")
	}
	// A checkpoint beyond the output's end means lost output rows.
	appendRows(t, in, rec, 0, 100, 100)
	src := mk()
	runPipeline(t, src, sliceBatch(rec, 0, 50), 50)
	st, _ := src.MarshalState()
	ck := &MemCheckpointer{}
	_ = ck.Save(ctx, Checkpoint{Offset: 50, State: st})
	m, err := NewMaterializer(mk(), MaterializerOptions{Input: in, Output: out, Checkpointer: ck})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(ctx); err == nil || m.Status().Err == "" {
		t.Errorf("Run with lost output rows: %v", err)
	}
	var loadErr = errors.New("disk on fire")
	m, _ = NewMaterializer(mk(), MaterializerOptions{Input: in, Output: out, Checkpointer: failingCheckpointer{loadErr}})
	if err := m.Run(ctx); !errors.Is(err, loadErr) {
		t.Errorf("Run with a failing checkpointer: %v", err)
	}
}

type failingCheckpointer struct{ err error }

func (f failingCheckpointer) Load(context.Context) (Checkpoint, bool, error) {
	return Checkpoint{}, false, f.err
}
func (f failingCheckpointer) Save(context.Context, Checkpoint) error { return f.err }

// cancellingLog cancels the run's context inside the n-th Append, as a
// shutdown in the middle of a batch does.
type cancellingLog struct {
	stream.Log
	mu     sync.Mutex
	n      int
	cancel context.CancelFunc
}

func (c *cancellingLog) Append(ctx context.Context, rec arrow.RecordBatch) (int64, error) {
	c.mu.Lock()
	c.n--
	hit := c.n == 0
	c.mu.Unlock()
	if hit {
		c.cancel()
		return 0, context.Canceled
	}
	return c.Log.Append(ctx, rec)
}

// TestMaterializerStopMidBatch checks that a stop while appending leaves a
// consistent checkpoint: the resumed run writes exactly the uninterrupted
// output.
func TestMaterializerStopMidBatch(t *testing.T) {
	_, mk, rows, rec := matSetup(t)
	defer rec.Release()
	want := runPipeline(t, mk(), rec, 500)
	ctx := context.Background()
	_, in, out := matLogs(t, mk().ArrowSchema())
	appendRows(t, in, rec, 0, len(rows), 300)
	ck := &MemCheckpointer{}
	rctx, cancel := context.WithCancel(ctx)
	m1, err := NewMaterializer(mk(), MaterializerOptions{Input: in, Output: &cancellingLog{Log: out, n: 7, cancel: cancel}, Checkpointer: ck, CheckpointRows: 400, BatchRows: 350})
	if err != nil {
		t.Fatal(err)
	}
	if err := m1.Run(rctx); err != nil {
		t.Fatal(err)
	}
	if cp, ok, _ := ck.Load(ctx); !ok || cp.Offset > out.End() {
		t.Fatalf("checkpoint %+v beyond the output's %d rows", cp.Offset, out.End())
	}
	m2, err := NewMaterializer(mk(), MaterializerOptions{Input: in, Output: out, Checkpointer: ck, BatchRows: 1000})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel = context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m2.Run(rctx) }()
	waitFor(t, "resumed run", func() bool { return m2.Status().Processed == int64(len(rows)) })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sameColumns(t, readAll(t, out), want)
}

// TestMaterializerIdleWakeupsDoNotCheckpoint streams rows one batch at a
// time, letting the materializer go idle between batches: with checkpoints
// due every hour or every million rows, none may be taken while it runs
// (a checkpoint stops the materializer while the state is written, which
// is the latency tail of every row behind it), and stopping takes exactly
// one.
func TestMaterializerIdleWakeupsDoNotCheckpoint(t *testing.T) {
	p, _, rows, rec := matSetup(t)
	defer rec.Release()
	ctx := context.Background()
	_, in, out := matLogs(t, p.ArrowSchema())
	ck := &flakyCheckpointer{keep: 1 << 30}
	m, err := NewMaterializer(p, MaterializerOptions{Input: in, Output: out, Checkpointer: ck,
		CheckpointRows: 1_000_000, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(rctx) }()
	const batches = 30
	for i := range batches {
		lo, hi := i*len(rows)/batches, (i+1)*len(rows)/batches
		appendRows(t, in, rec, lo, hi, hi-lo)
		waitFor(t, "the batch to be processed", func() bool { return m.Status().Processed == int64(hi) })
	}
	ck.mu.Lock()
	saves := ck.saves
	ck.mu.Unlock()
	if saves != 0 {
		t.Fatalf("%d checkpoints while streaming %d batches; none was due", saves, batches)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ck.saves != 1 {
		t.Fatalf("stopping took %d checkpoints, want 1", ck.saves)
	}
}
