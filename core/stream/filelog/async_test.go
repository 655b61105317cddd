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
