package memlog

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/spate-ml/spate/core/stream"
)

var testSchema = arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)

// seq builds a batch holding the values lo..hi-1.
func seq(t *testing.T, lo, hi int64) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, testSchema)
	defer b.Release()
	for v := lo; v < hi; v++ {
		b.Field(0).(*array.Int64Builder).Append(v)
	}
	return b.NewRecordBatch()
}

func values(recs []arrow.RecordBatch) []int64 {
	var out []int64
	for _, r := range recs {
		out = append(out, r.Column(0).(*array.Int64).Int64Values()...)
	}
	return out
}

func TestReadSlicesAtOffsets(t *testing.T) {
	ctx := context.Background()
	b := New()
	defer b.Close()
	l, err := b.Open(ctx, "t.read", testSchema)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int64{{0, 3}, {3, 10}, {10, 11}} {
		rec := seq(t, r[0], r[1])
		first, err := l.Append(ctx, rec)
		rec.Release()
		if err != nil || first != r[0] {
			t.Fatalf("append %v: first %d, err %v", r, first, err)
		}
	}
	tests := []struct {
		from     int64
		max      int
		wantLo   int64
		wantNext int64
	}{
		{0, 100, 0, 11},
		{0, 2, 0, 2},
		{2, 3, 2, 5},
		{5, 0, 5, 10},
		{10, 5, 10, 11},
		{11, 5, 11, 11},
	}
	for _, tc := range tests {
		recs, next, err := l.Read(ctx, tc.from, tc.max)
		if err != nil {
			t.Fatalf("read(%d,%d): %v", tc.from, tc.max, err)
		}
		got := values(recs)
		for _, r := range recs {
			r.Release()
		}
		if next != tc.wantNext || int64(len(got)) != tc.wantNext-tc.wantLo {
			t.Fatalf("read(%d,%d): next %d, %d rows; want next %d", tc.from, tc.max, next, len(got), tc.wantNext)
		}
		for i, v := range got {
			if v != tc.wantLo+int64(i) {
				t.Fatalf("read(%d,%d): row %d = %d", tc.from, tc.max, i, v)
			}
		}
	}
	if _, _, err := l.Read(ctx, 12, 1); !errors.Is(err, stream.ErrOutOfRange) {
		t.Fatalf("read past end: %v", err)
	}
}

func TestWaitWakesAndCloses(t *testing.T) {
	ctx := context.Background()
	b := New()
	l, err := b.Open(ctx, "t.wait", testSchema)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx, 0) }()
	time.Sleep(10 * time.Millisecond)
	rec := seq(t, 0, 1)
	defer rec.Release()
	if _, err := l.Append(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("wait: %v", err)
	}
	go func() { done <- l.Wait(ctx, 5) }()
	time.Sleep(10 * time.Millisecond)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, stream.ErrClosed) {
		t.Fatalf("wait after close: %v", err)
	}
}

func TestValidateTopic(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"ns.inputs.transactions", true},
		{"a", true},
		{"a-b_c.D9", true},
		{"", false},
		{".a", false},
		{"a.", false},
		{"a..b", false},
		{"../x", false},
		{"a/b", false},
		{"a b", false},
	} {
		if err := stream.ValidateTopic(tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidateTopic(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestAppendAsync(t *testing.T) {
	ctx := context.Background()
	b := New()
	defer b.Close()
	l, err := b.Open(ctx, "t.async", testSchema)
	if err != nil {
		t.Fatal(err)
	}
	aa, ok := l.(interface {
		AppendAsync(context.Context, arrow.RecordBatch) (int64, func() error, error)
	})
	if !ok {
		t.Fatal("memlog logs do not have AppendAsync")
	}
	for i, want := range []int64{0, 4, 8} {
		rec := seq(t, want, want+4)
		first, wait, err := aa.AppendAsync(ctx, rec)
		rec.Release()
		if err != nil || first != want {
			t.Fatalf("append %d: first %d, err %v", i, first, err)
		}
		if err := wait(); err != nil {
			t.Fatal(err)
		}
	}
	if l.End() != 12 {
		t.Fatalf("End() = %d", l.End())
	}
}
