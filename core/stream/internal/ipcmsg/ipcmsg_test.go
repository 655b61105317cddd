package ipcmsg

import (
	"bytes"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// encode writes rec as one record-batch message, the way the logs store it.
func encode(t *testing.T, rec arrow.RecordBatch, mem memory.Allocator) []byte {
	t.Helper()
	p, err := ipc.GetRecordBatchPayload(rec, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	var buf bytes.Buffer
	if _, err := p.WritePayload(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeRoundTripAndErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	d := NewDecoder(SchemaMeta(schema, mem), mem)
	defer d.Release()
	for round, n := range []int{3, 1, 5} {
		for i := 0; i < n; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(round*10 + i))
		}
		rec := b.NewRecordBatch()
		msg := encode(t, rec, mem)
		meta, body, err := Split(msg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Decode(meta, body, int64(n))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !array.RecordEqual(got, rec) {
			t.Errorf("round %d: decoded %v, want %v", round, got, rec)
		}
		got.Release()
		if _, err := d.Decode(meta, body, int64(n+1)); err == nil {
			t.Errorf("round %d: a wrong row count was accepted", round)
		}
		rec.Release()
	}
	for _, bad := range [][]byte{nil, {1, 2, 3}, {0xFF, 0xFF, 0xFF, 0xFF, 100, 0, 0, 0}} {
		if _, _, err := Split(bad); !errors.Is(err, ErrNotMessage) {
			t.Errorf("Split(%v) = %v, want ErrNotMessage", bad, err)
		}
	}
}
