package filelog

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/spate-ml/spate/core/stream"
	"github.com/spate-ml/spate/core/stream/streamtest"
)

func TestAppendAsyncKeepsOrder(t *testing.T) {
	ctx := context.Background()
	for _, depth := range []int{1, 3, 16} {
		t.Run(fmt.Sprintf("depth=%d", depth), func(t *testing.T) {
			dir := t.TempDir()
			b, err := Open(Options{Dir: dir, SegmentSize: 16 << 10})
			if err != nil {
				t.Fatal(err)
			}
			l, err := b.Open(ctx, "async.rows", streamtest.Schema)
			if err != nil {
				t.Fatal(err)
			}
			aa := l.(AsyncAppender)
			var pending []func() error
			var id int64
			for i := 0; i < 60; i++ {
				n := int64(1 + i%23)
				rec := streamtest.Batch(id, id+n, 0)
				first, wait, err := aa.AppendAsync(ctx, rec)
				rec.Release()
				if err != nil {
					t.Fatal(err)
				}
				if first != id {
					t.Fatalf("append %d: first %d, want %d", i, first, id)
				}
				id += n
				pending = append(pending, wait)
				if len(pending) >= depth {
					if err := pending[0](); err != nil {
						t.Fatal(err)
					}
					pending = pending[1:]
				}
			}
			// Close drains what is still queued.
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			for _, wait := range pending {
				if err := wait(); err != nil {
					t.Fatalf("wait after close: %v", err)
				}
			}
			rec := streamtest.Batch(0, 1, 0)
			defer rec.Release()
			if _, _, err := aa.AppendAsync(ctx, rec); !errors.Is(err, stream.ErrClosed) {
				t.Fatalf("append after close: %v, want ErrClosed", err)
			}
			b, err = Open(Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			l, err = b.Open(ctx, "async.rows", streamtest.Schema)
			if err != nil {
				t.Fatal(err)
			}
			if l.End() != id {
				t.Fatalf("End() after reopen = %d, want %d", l.End(), id)
			}
			for i, r := range readRows(t, l, 0, id) {
				if want := streamtest.Expected(int64(i), 0); r != want {
					t.Fatalf("offset %d: got %+v, want %+v", i, r, want)
				}
			}
		})
	}
}

// TestMixedAppendsKeepOrder interleaves blocking appends (which a topic
// without syncs writes on the caller's goroutine when nothing is queued)
// with pipelined asynchronous ones from another goroutine: every batch must
// land whole at the offsets its append returned, in both sync modes.
func TestMixedAppendsKeepOrder(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []SyncMode{SyncNone, SyncData} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			b, err := Open(Options{Dir: t.TempDir(), Sync: mode, SegmentSize: 16 << 10})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			l, err := b.Open(ctx, "mixed.rows", streamtest.Schema)
			if err != nil {
				t.Fatal(err)
			}
			const perWriter = 150
			type landed struct{ first, n int64 }
			results := make([][]landed, 2)
			errs := make(chan error, 2)
			go func() { // writer 0: blocking appends
				for i := range perWriter {
					n := int64(1 + i%5)
					rec := streamtest.Batch(int64(i)*10, int64(i)*10+n, 0)
					first, err := l.Append(ctx, rec)
					rec.Release()
					if err != nil {
						errs <- err
						return
					}
					results[0] = append(results[0], landed{first, n})
				}
				errs <- nil
			}()
			go func() { // writer 1: pipelined, four in flight
				aa := l.(AsyncAppender)
				var waits []func() error
				for i := range perWriter {
					n := int64(1 + i%7)
					rec := streamtest.Batch(int64(i)*10, int64(i)*10+n, 1)
					first, wait, err := aa.AppendAsync(ctx, rec)
					rec.Release()
					if err != nil {
						errs <- err
						return
					}
					results[1] = append(results[1], landed{first, n})
					waits = append(waits, wait)
					if len(waits) == 4 {
						if err := waits[0](); err != nil {
							errs <- err
							return
						}
						waits = waits[1:]
					}
				}
				for _, w := range waits {
					if err := w(); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			var total int64
			for _, rs := range results {
				for _, r := range rs {
					total += r.n
				}
			}
			if l.End() != total {
				t.Fatalf("End() = %d, want %d", l.End(), total)
			}
			rows := readRows(t, l, 0, total)
			seen := make([]bool, total)
			for w, rs := range results {
				for i, r := range rs {
					for k := int64(0); k < r.n; k++ {
						off := r.first + k
						if seen[off] {
							t.Fatalf("offset %d returned twice", off)
						}
						seen[off] = true
						if want := streamtest.Expected(int64(i)*10+k, int32(w)); rows[off] != want {
							t.Fatalf("offset %d: got %+v, want %+v", off, rows[off], want)
						}
					}
				}
			}
		})
	}
}
