package schema

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestConcatBatches(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	sc := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.BinaryTypes.String}, {Name: "v", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
	batch := func(keys []string, vals []float64, valid []bool) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, sc)
		defer b.Release()
		b.Field(0).(*array.StringBuilder).AppendValues(keys, nil)
		b.Field(1).(*array.Float64Builder).AppendValues(vals, valid)
		return b.NewRecordBatch()
	}
	a := batch([]string{"a", "b"}, []float64{1, 2}, nil)
	defer a.Release()
	c := batch([]string{"c"}, []float64{0}, []bool{false})
	defer c.Release()

	all, err := ConcatBatches(sc, []arrow.RecordBatch{a, c}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Release()
	keys, vals := all.Column(0).(*array.String), all.Column(1).(*array.Float64)
	if all.NumRows() != 3 || keys.Value(2) != "c" || vals.Value(1) != 2 || !vals.IsNull(2) {
		t.Fatalf("joined batch: %v", all)
	}
	one, err := ConcatBatches(sc, []arrow.RecordBatch{a}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Release()
	if one != a {
		t.Fatal("a single batch should come back as is")
	}
}
