// Package streamtest owns the conformance suite every stream.Broker back end
// must pass (in-memory, embedded files, Kafka protocol): append/read round
// trips at arbitrary offsets and row limits, contiguity of concurrent
// appends, Wait semantics, schema checks, deletion and, for durable back
// ends, reopening.
package streamtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/spate-ml/spate/core/stream"
)

// OpenFunc returns a fresh, empty broker. The suite closes it.
type OpenFunc func(t *testing.T) stream.Broker

// ReopenFunc closes old and returns a broker over the same storage, as a
// restarted process would see it.
type ReopenFunc func(t *testing.T, old stream.Broker) stream.Broker

// Option tunes Run.
type Option func(*config)

type config struct {
	reopen ReopenFunc
}

// WithReopen declares the back end durable and gives the suite a way to
// reopen its storage; the suite then checks that rows survive a restart.
func WithReopen(f ReopenFunc) Option {
	return func(c *config) { c.reopen = f }
}

// Schema is the schema of the batches the suite writes: an id that equals
// the row's intended offset within its writer, a writer number, a nullable
// string and a double.
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "writer", Type: arrow.PrimitiveTypes.Int32},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64},
}, nil)

// otherSchema differs from Schema in one column's type.
var otherSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "writer", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64},
}, nil)

// Row is the decoded content of one suite row.
type Row struct {
	ID     int64
	Writer int32
	Name   string
	Null   bool
	Score  float64
}

// Expected returns the row the suite writes with this id and writer.
func Expected(id int64, writer int32) Row {
	r := Row{ID: id, Writer: writer, Score: float64(id)*0.5 + float64(writer)}
	if id%7 == 3 {
		r.Null = true
	} else {
		r.Name = fmt.Sprintf("w%d-row-%d", writer, id)
	}
	return r
}

// Batch builds a batch of Schema with ids lo..hi-1 for writer.
func Batch(lo, hi int64, writer int32) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, Schema)
	defer b.Release()
	ids := b.Field(0).(*array.Int64Builder)
	ws := b.Field(1).(*array.Int32Builder)
	names := b.Field(2).(*array.StringBuilder)
	scores := b.Field(3).(*array.Float64Builder)
	for id := lo; id < hi; id++ {
		r := Expected(id, writer)
		ids.Append(r.ID)
		ws.Append(r.Writer)
		if r.Null {
			names.AppendNull()
		} else {
			names.Append(r.Name)
		}
		scores.Append(r.Score)
	}
	return b.NewRecordBatch()
}

// Rows decodes the rows of batches of Schema.
func Rows(t testing.TB, recs []arrow.RecordBatch) []Row {
	t.Helper()
	var out []Row
	for _, rec := range recs {
		if !rec.Schema().Equal(Schema) {
			t.Fatalf("read batch has schema %s, want %s", rec.Schema(), Schema)
		}
		ids := rec.Column(0).(*array.Int64)
		ws := rec.Column(1).(*array.Int32)
		names := rec.Column(2).(*array.String)
		scores := rec.Column(3).(*array.Float64)
		for i := 0; i < int(rec.NumRows()); i++ {
			r := Row{ID: ids.Value(i), Writer: ws.Value(i), Score: scores.Value(i)}
			if names.IsNull(i) {
				r.Null = true
			} else {
				r.Name = names.Value(i)
			}
			out = append(out, r)
		}
	}
	return out
}

func release(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// Run runs the conformance suite against the back end that open creates.
// Beyond the text of the stream interfaces it holds back ends to these
// choices: Read with maxRows > 0 returns at most maxRows rows, and with
// maxRows <= 0 at least one; appending an empty batch returns End() and
// changes nothing; a zero-copy slice is stored as its rows only; deleting a
// missing topic is not an error; closing a handle, deleting its topic or
// closing the broker makes its Append, Read and Wait fail with
// stream.ErrClosed (waking a blocked Wait); other handles of the topic keep
// working after one closes; and topic names that are not dot-separated
// identifiers are refused.
func Run(t *testing.T, open OpenFunc, opts ...Option) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, open OpenFunc)
	}{
		{"RoundTrip", testRoundTrip},
		{"ReadBounds", testReadBounds},
		{"EmptyBatch", testEmptyBatch},
		{"SlicedBatch", testSlicedBatch},
		{"ConcurrentAppends", testConcurrentAppends},
		{"ConcurrentReaders", testConcurrentReaders},
		{"Wait", testWait},
		{"SchemaMismatch", testSchemaMismatch},
		{"SharedTopic", testSharedTopic},
		{"TopicIsolation", testTopicIsolation},
		{"Delete", testDelete},
		{"Closed", testClosed},
		{"BadTopic", testBadTopic},
		{"Trim", testTrim},
		{"TrimWhileReading", testTrimWhileReading},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
	if c.reopen != nil {
		t.Run("Reopen", func(t *testing.T) { testReopen(t, open, c.reopen) })
		t.Run("TrimReopen", func(t *testing.T) { testTrimReopen(t, open, c.reopen) })
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openLog(t *testing.T, ctx context.Context, b stream.Broker, topic string) stream.Log {
	t.Helper()
	l, err := b.Open(ctx, topic, Schema)
	if err != nil {
		t.Fatalf("open %q: %v", topic, err)
	}
	return l
}

func appendRange(t *testing.T, ctx context.Context, l stream.Log, lo, hi int64, writer int32) int64 {
	t.Helper()
	rec := Batch(lo, hi, writer)
	defer rec.Release()
	first, err := l.Append(ctx, rec)
	if err != nil {
		t.Fatalf("append ids [%d,%d): %v", lo, hi, err)
	}
	return first
}

// readAll reads [from, End()) in calls of maxRows and checks the Read
// contract on the way.
func readAll(t *testing.T, ctx context.Context, l stream.Log, from int64, maxRows int) []Row {
	t.Helper()
	end := l.End()
	var rows []Row
	for from < end {
		recs, next, err := l.Read(ctx, from, maxRows)
		if err != nil {
			t.Fatalf("read(%d, %d): %v", from, maxRows, err)
		}
		got := Rows(t, recs)
		release(recs)
		if len(got) == 0 {
			t.Fatalf("read(%d, %d) below end %d returned no rows", from, maxRows, end)
		}
		if maxRows > 0 && len(got) > maxRows {
			t.Fatalf("read(%d, %d) returned %d rows", from, maxRows, len(got))
		}
		if next != from+int64(len(got)) {
			t.Fatalf("read(%d, %d): next %d after %d rows", from, maxRows, next, len(got))
		}
		rows = append(rows, got...)
		from = next
	}
	return rows
}

func checkRows(t *testing.T, got []Row, lo int64, writer int32) {
	t.Helper()
	for i, r := range got {
		if want := Expected(lo+int64(i), writer); r != want {
			t.Fatalf("row %d: got %+v, want %+v", i, r, want)
		}
	}
}

func testRoundTrip(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	l := openLog(t, ctx, b, "suite.roundtrip")
	if l.End() != 0 {
		t.Fatalf("new log End() = %d", l.End())
	}
	if !l.Schema().Equal(Schema) {
		t.Fatalf("Schema() = %s", l.Schema())
	}
	sizes := []int64{1, 5, 100, 3, 1000, 7, 1, 64}
	var end int64
	for _, n := range sizes {
		if first := appendRange(t, ctx, l, end, end+n, 0); first != end {
			t.Fatalf("append of %d rows: first %d, want %d", n, first, end)
		}
		end += n
		if l.End() != end {
			t.Fatalf("End() = %d, want %d", l.End(), end)
		}
	}
	froms := []int64{0, 1, 2, 5, 6, 50, 105, 106, 108, 500, 1108, 1115, end - 1}
	for _, maxRows := range []int{1, 2, 7, 100, 4096, 0} {
		for _, from := range froms {
			t.Run(fmt.Sprintf("from%d_max%d", from, maxRows), func(t *testing.T) {
				got := readAll(t, ctx, l, from, maxRows)
				if int64(len(got)) != end-from {
					t.Fatalf("read %d rows from %d, want %d", len(got), from, end-from)
				}
				checkRows(t, got, from, 0)
			})
		}
	}
}

func testReadBounds(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	l := openLog(t, ctx, b, "suite.bounds")
	tests := []struct {
		name    string
		rows    int64
		from    int64
		wantErr error
	}{
		{"EmptyAtZero", 0, 0, nil},
		{"EmptyPastEnd", 0, 1, stream.ErrOutOfRange},
		{"Negative", 0, -1, stream.ErrOutOfRange},
		{"AtEnd", 10, 10, nil},
		{"PastEnd", 10, 11, stream.ErrOutOfRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if e := l.End(); e < tc.rows {
				appendRange(t, ctx, l, e, tc.rows, 0)
			}
			recs, next, err := l.Read(ctx, tc.from, 10)
			release(recs)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("read(%d): err %v, want %v", tc.from, err, tc.wantErr)
			}
			if tc.wantErr == nil && (len(recs) != 0 || next != tc.from) {
				t.Fatalf("read(%d) at end: %d batches, next %d", tc.from, len(recs), next)
			}
		})
	}
}

func testEmptyBatch(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	l := openLog(t, ctx, b, "suite.empty")
	appendRange(t, ctx, l, 0, 3, 0)
	if first := appendRange(t, ctx, l, 3, 3, 0); first != 3 {
		t.Fatalf("empty append: first %d, want 3", first)
	}
	if l.End() != 3 {
		t.Fatalf("End() after empty append = %d", l.End())
	}
	if first := appendRange(t, ctx, l, 3, 5, 0); first != 3 {
		t.Fatalf("append after empty: first %d, want 3", first)
	}
	checkRows(t, readAll(t, ctx, l, 0, 100), 0, 0)
}

// testSlicedBatch appends zero-copy slices of a larger batch: the log must
// store the slice's rows only.
func testSlicedBatch(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	l := openLog(t, ctx, b, "suite.sliced")
	big := Batch(0, 100, 0)
	defer big.Release()
	for _, r := range [][2]int64{{0, 10}, {10, 11}, {11, 57}, {57, 100}} {
		part := big.NewSlice(r[0], r[1])
		first, err := l.Append(ctx, part)
		part.Release()
		if err != nil {
			t.Fatalf("append slice %v: %v", r, err)
		}
		if first != r[0] {
			t.Fatalf("append slice %v: first %d", r, first)
		}
	}
	got := readAll(t, ctx, l, 0, 1000)
	if len(got) != 100 {
		t.Fatalf("read %d rows, want 100", len(got))
	}
	checkRows(t, got, 0, 0)
}

func testConcurrentAppends(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	l := openLog(t, ctx, b, "suite.concurrent")
	const writers, batches = 4, 40
	type ack struct {
		first, lo, n int64
	}
	acks := make([][]ack, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var id int64
			for i := 0; i < batches; i++ {
				n := int64(1 + (i*7+w*3)%50)
				rec := Batch(id, id+n, int32(w))
				first, err := l.Append(ctx, rec)
				rec.Release()
				if err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, i, err)
					return
				}
				acks[w] = append(acks[w], ack{first, id, n})
				id += n
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rows := readAll(t, ctx, l, 0, 333)
	var total int64
	covered := make([]bool, len(rows))
	for w, as := range acks {
		prev := int64(-1)
		for _, a := range as {
			total += a.n
			if a.first <= prev {
				t.Fatalf("writer %d: first offsets not increasing: %d after %d", w, a.first, prev)
			}
			prev = a.first
			if a.first+a.n > int64(len(rows)) {
				t.Fatalf("writer %d: ack [%d,+%d) beyond %d rows", w, a.first, a.n, len(rows))
			}
			for i := int64(0); i < a.n; i++ {
				off := a.first + i
				if covered[off] {
					t.Fatalf("offset %d acknowledged twice", off)
				}
				covered[off] = true
				if want := Expected(a.lo+i, int32(w)); rows[off] != want {
					t.Fatalf("offset %d: got %+v, want %+v", off, rows[off], want)
				}
			}
		}
	}
	if total != int64(len(rows)) || l.End() != total {
		t.Fatalf("acknowledged %d rows, log holds %d, End() %d", total, len(rows), l.End())
	}
}

func testConcurrentReaders(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	l := openLog(t, ctx, b, "suite.readers")
	const total = 2000
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			var from int64
			for from < total {
				if err := l.Wait(ctx, from); err != nil {
					errs <- fmt.Errorf("reader %d: wait %d: %w", r, from, err)
					return
				}
				recs, next, err := l.Read(ctx, from, 10+r*37)
				if err != nil {
					errs <- fmt.Errorf("reader %d: read %d: %w", r, from, err)
					return
				}
				for i, row := range Rows(t, recs) {
					if want := Expected(from+int64(i), 0); row != want {
						errs <- fmt.Errorf("reader %d: offset %d: got %+v", r, from+int64(i), row)
						release(recs)
						return
					}
				}
				release(recs)
				from = next
			}
		}(r)
	}
	for id := int64(0); id < total; id += 50 {
		appendRange(t, ctx, l, id, id+50, 0)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func testWait(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	l := openLog(t, ctx, b, "suite.wait")

	t.Run("WakesOnAppend", func(t *testing.T) {
		done := make(chan error, 1)
		go func() { done <- l.Wait(ctx, 0) }()
		select {
		case err := <-done:
			t.Fatalf("wait on empty log returned early: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		appendRange(t, ctx, l, 0, 2, 0)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("wait: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("wait did not wake up after append")
		}
	})
	t.Run("ReturnsAtOnceWhenRowsExist", func(t *testing.T) {
		for _, from := range []int64{0, 1} {
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := l.Wait(wctx, from)
			cancel()
			if err != nil {
				t.Fatalf("wait(%d) with End()=%d: %v", from, l.End(), err)
			}
		}
	})
	t.Run("HonoursCancel", func(t *testing.T) {
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- l.Wait(wctx, 2) }()
		time.Sleep(10 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("wait after cancel: %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("wait ignored cancel")
		}
	})
	t.Run("HonoursDeadline", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if err := l.Wait(wctx, 100); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("wait past deadline: %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("WakesOnClose", func(t *testing.T) {
		l2 := openLog(t, ctx, b, "suite.wait")
		done := make(chan error, 1)
		go func() { done <- l2.Wait(ctx, 100) }()
		time.Sleep(10 * time.Millisecond)
		if err := l2.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, stream.ErrClosed) {
				t.Fatalf("wait on closed log: %v, want ErrClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("wait did not wake up on Close")
		}
	})
}

func testSchemaMismatch(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	l := openLog(t, ctx, b, "suite.schema")
	if _, err := b.Open(ctx, "suite.schema", otherSchema); !errors.Is(err, stream.ErrSchemaMismatch) {
		t.Fatalf("open with another schema: %v, want ErrSchemaMismatch", err)
	}
	bld := array.NewRecordBuilder(memory.DefaultAllocator, otherSchema)
	defer bld.Release()
	bld.Field(0).(*array.Int64Builder).Append(1)
	bld.Field(1).(*array.Int64Builder).Append(1)
	bld.Field(2).(*array.StringBuilder).Append("x")
	bld.Field(3).(*array.Float64Builder).Append(1)
	rec := bld.NewRecordBatch()
	defer rec.Release()
	if _, err := l.Append(ctx, rec); !errors.Is(err, stream.ErrSchemaMismatch) {
		t.Fatalf("append with another schema: %v, want ErrSchemaMismatch", err)
	}
	if l.End() != 0 {
		t.Fatalf("rejected append moved End() to %d", l.End())
	}
}

func testSharedTopic(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	l1 := openLog(t, ctx, b, "suite.shared")
	l2 := openLog(t, ctx, b, "suite.shared")
	appendRange(t, ctx, l1, 0, 10, 0)
	if l2.End() != 10 {
		t.Fatalf("second handle End() = %d, want 10", l2.End())
	}
	if first := appendRange(t, ctx, l2, 10, 15, 0); first != 10 {
		t.Fatalf("append on second handle: first %d", first)
	}
	if err := l1.Close(); err != nil {
		t.Fatal(err)
	}
	checkRows(t, readAll(t, ctx, l2, 0, 4), 0, 0)
	l3 := openLog(t, ctx, b, "suite.shared")
	if l3.End() != 15 {
		t.Fatalf("reopened handle End() = %d, want 15", l3.End())
	}
}

func testTopicIsolation(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	a := openLog(t, ctx, b, "suite.iso.a")
	c := openLog(t, ctx, b, "suite.iso.b")
	appendRange(t, ctx, a, 0, 5, 1)
	appendRange(t, ctx, c, 0, 3, 2)
	if a.End() != 5 || c.End() != 3 {
		t.Fatalf("End() = %d and %d, want 5 and 3", a.End(), c.End())
	}
	checkRows(t, readAll(t, ctx, a, 0, 100), 0, 1)
	checkRows(t, readAll(t, ctx, c, 0, 100), 0, 2)
}

func testDelete(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	l := openLog(t, ctx, b, "suite.delete")
	keep := openLog(t, ctx, b, "suite.keep")
	appendRange(t, ctx, l, 0, 10, 0)
	appendRange(t, ctx, keep, 0, 4, 0)
	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx, 100) }()
	time.Sleep(10 * time.Millisecond)
	if err := b.Delete(ctx, "suite.delete"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, stream.ErrClosed) {
			t.Fatalf("wait on deleted topic: %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not wake up on Delete")
	}
	rec := Batch(10, 11, 0)
	defer rec.Release()
	if _, err := l.Append(ctx, rec); !errors.Is(err, stream.ErrClosed) {
		t.Fatalf("append to deleted topic: %v, want ErrClosed", err)
	}
	// The name is free again, even for another schema.
	l2, err := b.Open(ctx, "suite.delete", otherSchema)
	if err != nil {
		t.Fatalf("open after delete: %v", err)
	}
	if l2.End() != 0 {
		t.Fatalf("recreated topic End() = %d", l2.End())
	}
	if keep.End() != 4 {
		t.Fatalf("other topic End() = %d after delete", keep.End())
	}
	if err := b.Delete(ctx, "suite.never"); err != nil {
		t.Fatalf("delete of a missing topic: %v", err)
	}
}

func testClosed(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	l := openLog(t, ctx, b, "suite.closed")
	appendRange(t, ctx, l, 0, 3, 0)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rec := Batch(3, 4, 0)
	defer rec.Release()
	if _, err := l.Append(ctx, rec); !errors.Is(err, stream.ErrClosed) {
		t.Fatalf("append after Close: %v, want ErrClosed", err)
	}
	if _, _, err := l.Read(ctx, 0, 1); !errors.Is(err, stream.ErrClosed) {
		t.Fatalf("read after Close: %v, want ErrClosed", err)
	}
	if err := l.Wait(ctx, 0); !errors.Is(err, stream.ErrClosed) {
		t.Fatalf("wait after Close: %v, want ErrClosed", err)
	}
	l2 := openLog(t, ctx, b, "suite.closed")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l2.Append(ctx, rec); !errors.Is(err, stream.ErrClosed) {
		t.Fatalf("append after broker Close: %v, want ErrClosed", err)
	}
	if _, err := b.Open(ctx, "suite.closed", Schema); !errors.Is(err, stream.ErrClosed) {
		t.Fatalf("open after broker Close: %v, want ErrClosed", err)
	}
}

func testBadTopic(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	for _, name := range []string{"", "..", "../escape", "a/b", "a..b", ".a", "a b"} {
		if l, err := b.Open(ctx, name, Schema); err == nil {
			l.Close()
			t.Errorf("open %q succeeded", name)
		}
	}
}

func testReopen(t *testing.T, open OpenFunc, reopen ReopenFunc) {
	ctx := ctxT(t)
	b := open(t)
	l := openLog(t, ctx, b, "suite.reopen")
	var end int64
	for _, n := range []int64{10, 1, 300, 5} {
		appendRange(t, ctx, l, end, end+n, 0)
		end += n
	}
	appendRange(t, ctx, openLog(t, ctx, b, "suite.reopen.other"), 0, 2, 1)
	for round := 0; round < 2; round++ {
		b = reopen(t, b)
		if _, err := b.Open(ctx, "suite.reopen", otherSchema); !errors.Is(err, stream.ErrSchemaMismatch) {
			t.Fatalf("round %d: reopen with another schema: %v, want ErrSchemaMismatch", round, err)
		}
		l = openLog(t, ctx, b, "suite.reopen")
		if l.End() != end {
			t.Fatalf("round %d: End() after reopen = %d, want %d", round, l.End(), end)
		}
		checkRows(t, readAll(t, ctx, l, 0, 77), 0, 0)
		checkRows(t, readAll(t, ctx, l, end-3, 2), end-3, 0)
		if first := appendRange(t, ctx, l, end, end+20, 0); first != end {
			t.Fatalf("round %d: append after reopen: first %d, want %d", round, first, end)
		}
		end += 20
		o := openLog(t, ctx, b, "suite.reopen.other")
		if o.End() != 2 {
			t.Fatalf("round %d: other topic End() = %d", round, o.End())
		}
	}
	if err := b.Delete(ctx, "suite.reopen"); err != nil {
		t.Fatal(err)
	}
	b = reopen(t, b)
	defer b.Close()
	l = openLog(t, ctx, b, "suite.reopen")
	if l.End() != 0 {
		t.Fatalf("deleted topic came back with %d rows", l.End())
	}
}

// trimmer returns l as a stream.Trimmer; a back end without retention skips
// the trim tests.
func trimmer(t *testing.T, l stream.Log) stream.Trimmer {
	t.Helper()
	tr, ok := l.(stream.Trimmer)
	if !ok {
		t.Skipf("%T does not implement stream.Trimmer", l)
	}
	return tr
}

// fillSegments appends batches of 200 rows until the log has at least min
// segments (or 20,000 rows), and returns the end.
func fillSegments(t *testing.T, ctx context.Context, l stream.Log, tr stream.Trimmer, min int) int64 {
	t.Helper()
	end := l.End()
	for len(tr.Segments()) < min && end < 20000 {
		appendRange(t, ctx, l, end, end+200, 0)
		end += 200
	}
	return end
}

// checkSegments checks that the segments are contiguous, cover
// [Start(), End()) and take bytes.
func checkSegments(t *testing.T, l stream.Log, tr stream.Trimmer) []stream.Segment {
	t.Helper()
	segs := tr.Segments()
	if len(segs) == 0 {
		t.Fatal("Segments() is empty")
	}
	if segs[0].Base != tr.Start() {
		t.Fatalf("first segment starts at %d, Start() = %d", segs[0].Base, tr.Start())
	}
	for i, s := range segs {
		if i > 0 && s.Base != segs[i-1].End {
			t.Fatalf("segment %d starts at %d, previous ends at %d", i, s.Base, segs[i-1].End)
		}
		if s.End < s.Base || (i < len(segs)-1 && s.End == s.Base) {
			t.Fatalf("segment %d is [%d, %d)", i, s.Base, s.End)
		}
		if s.End > s.Base && s.Bytes <= 0 {
			t.Fatalf("segment %d of %d rows takes %d bytes", i, s.End-s.Base, s.Bytes)
		}
		if s.End > s.Base && s.LastWrite.IsZero() {
			t.Fatalf("segment %d has no last write time", i)
		}
	}
	if last := segs[len(segs)-1].End; last != l.End() {
		t.Fatalf("last segment ends at %d, End() = %d", last, l.End())
	}
	return segs
}

func testTrim(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	l := openLog(t, ctx, b, "suite.trim")
	tr := trimmer(t, l)
	if tr.Start() != 0 {
		t.Fatalf("Start() of a new log = %d", tr.Start())
	}
	if start, err := tr.TrimBefore(ctx, 0); err != nil || start != 0 {
		t.Fatalf("TrimBefore(0) on an empty log = %d, %v", start, err)
	}
	end := fillSegments(t, ctx, l, tr, 4)
	segs := checkSegments(t, l, tr)
	other := openLog(t, ctx, b, "suite.trim") // a second handle sees the trim
	defer other.Close()

	mid := end / 2
	start, err := tr.TrimBefore(ctx, mid)
	if err != nil {
		t.Fatalf("TrimBefore(%d): %v", mid, err)
	}
	if start > mid {
		t.Fatalf("TrimBefore(%d) moved the start to %d, past the asked offset", mid, start)
	}
	if len(segs) >= 3 && start == 0 {
		t.Fatalf("TrimBefore(%d) removed nothing from %d segments", mid, len(segs))
	}
	if !slices.ContainsFunc(segs, func(s stream.Segment) bool { return s.Base == start }) {
		t.Fatalf("new start %d is not a segment boundary", start)
	}
	if tr.Start() != start || other.(stream.Trimmer).Start() != start {
		t.Fatalf("Start() = %d / %d on the two handles, TrimBefore said %d", tr.Start(), other.(stream.Trimmer).Start(), start)
	}
	if l.End() != end {
		t.Fatalf("End() after trim = %d, want %d", l.End(), end)
	}
	checkSegments(t, l, tr)
	if start > 0 {
		for _, from := range []int64{0, start - 1} {
			_, _, err := other.Read(ctx, from, 10)
			if !errors.Is(err, stream.ErrTrimmed) || !errors.Is(err, stream.ErrOutOfRange) {
				t.Fatalf("read at %d before start %d: %v, want ErrTrimmed (an ErrOutOfRange)", from, start, err)
			}
		}
	}
	checkRows(t, readAll(t, ctx, other, start, 333), start, 0)
	// Appends go on at the same offsets.
	if first := appendRange(t, ctx, l, end, end+50, 0); first != end {
		t.Fatalf("append after trim: first %d, want %d", first, end)
	}
	end += 50
	checkRows(t, readAll(t, ctx, l, start, 0), start, 0)

	// Trimming beyond the end keeps the last segment and its rows.
	start, err = tr.TrimBefore(ctx, end+1000)
	if err != nil {
		t.Fatalf("TrimBefore past the end: %v", err)
	}
	if start >= end {
		t.Fatalf("TrimBefore past the end emptied the log: start %d, end %d", start, end)
	}
	segs = checkSegments(t, l, tr)
	if len(segs) != 1 {
		t.Fatalf("%d segments after trimming everything, want the last one", len(segs))
	}
	checkRows(t, readAll(t, ctx, l, start, 0), start, 0)
	// Trimming backwards is a no-op.
	if again, err := tr.TrimBefore(ctx, 0); err != nil || again != start {
		t.Fatalf("TrimBefore(0) after a trim = %d, %v, want %d", again, err, start)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.TrimBefore(ctx, end); !errors.Is(err, stream.ErrClosed) {
		t.Fatalf("TrimBefore on a closed handle: %v, want ErrClosed", err)
	}
}

// testTrimWhileReading trims a log while readers read its newest rows and
// a writer appends: no reader of a kept row fails, and no row changes.
func testTrimWhileReading(t *testing.T, open OpenFunc) {
	ctx := ctxT(t)
	b := open(t)
	defer b.Close()
	l := openLog(t, ctx, b, "suite.trimread")
	tr := trimmer(t, l)
	end := fillSegments(t, ctx, l, tr, 3)
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	var stop atomic.Bool
	wg.Add(1)
	go func() { // writer
		defer wg.Done()
		for e := end; e < end+4000; e += 100 {
			rec := Batch(e, e+100, 0)
			_, err := l.Append(ctx, rec)
			rec.Release()
			if err != nil {
				errc <- err
				return
			}
		}
	}()
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() { // readers of the last 100 rows
			defer wg.Done()
			for i := 0; i < 200 && !stop.Load(); i++ {
				e := l.End()
				from := max(tr.Start(), e-100)
				recs, _, err := l.Read(ctx, from, 100)
				if errors.Is(err, stream.ErrTrimmed) {
					continue // the trimmer overtook this reader; allowed
				}
				if err != nil {
					errc <- fmt.Errorf("read at %d: %w", from, err)
					return
				}
				for j, row := range Rows(t, recs) {
					if want := Expected(from+int64(j), 0); row != want {
						errc <- fmt.Errorf("row %d: got %+v, want %+v", from+int64(j), row, want)
					}
				}
				release(recs)
			}
		}()
	}
	for i := 0; i < 50; i++ {
		if _, err := tr.TrimBefore(ctx, l.End()-300); err != nil {
			t.Fatalf("trim: %v", err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	checkSegments(t, l, tr)
}

// testTrimReopen checks that a trim survives a restart of the broker.
func testTrimReopen(t *testing.T, open OpenFunc, reopen ReopenFunc) {
	ctx := ctxT(t)
	b := open(t)
	l := openLog(t, ctx, b, "suite.trimreopen")
	tr := trimmer(t, l)
	end := fillSegments(t, ctx, l, tr, 4)
	start, err := tr.TrimBefore(ctx, end/2)
	if err != nil {
		t.Fatal(err)
	}
	b = reopen(t, b)
	defer b.Close()
	l = openLog(t, ctx, b, "suite.trimreopen")
	tr = trimmer(t, l)
	if tr.Start() != start || l.End() != end {
		t.Fatalf("after reopen: Start() %d, End() %d; want %d, %d", tr.Start(), l.End(), start, end)
	}
	checkSegments(t, l, tr)
	checkRows(t, readAll(t, ctx, l, start, 0), start, 0)
	if start > 0 {
		if _, _, err := l.Read(ctx, start-1, 1); !errors.Is(err, stream.ErrTrimmed) {
			t.Fatalf("read before start after reopen: %v, want ErrTrimmed", err)
		}
	}
}
