package feature

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/spate-ml/spate/core/schema"
)

// cell is one test value; nil is NULL.
type cell = any

// buildBatch builds a batch of schema s from rows of cells in schema order.
func buildBatch(t testing.TB, s *schema.Schema, rows [][]cell) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, s.Arrow())
	defer b.Release()
	for _, r := range rows {
		for j, v := range r {
			fb := b.Field(j)
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch x := fb.(type) {
			case *array.Int64Builder:
				x.Append(v.(int64))
			case *array.Int32Builder:
				x.Append(v.(int32))
			case *array.Float64Builder:
				x.Append(v.(float64))
			case *array.Float32Builder:
				x.Append(v.(float32))
			case *array.StringBuilder:
				x.Append(v.(string))
			case *array.BooleanBuilder:
				x.Append(v.(bool))
			default:
				t.Fatalf("unsupported builder %T", fb)
			}
		}
	}
	return b.NewRecordBatch()
}

// sliceBatch returns rows [i, j) of rec.
func sliceBatch(rec arrow.RecordBatch, i, j int) arrow.RecordBatch {
	return rec.NewSlice(int64(i), int64(j))
}

// value reads row i of a column as int64, float64, string, bool or nil.
func value(col arrow.Array, i int) cell {
	if col.IsNull(i) {
		return nil
	}
	switch c := col.(type) {
	case *array.Int64:
		return c.Value(i)
	case *array.Int32:
		return int64(c.Value(i))
	case *array.Int8:
		return int64(c.Value(i))
	case *array.Int16:
		return int64(c.Value(i))
	case *array.Uint64:
		return int64(c.Value(i))
	case *array.Float64:
		return c.Value(i)
	case *array.Float32:
		return float64(c.Value(i))
	case *array.String:
		return c.Value(i)
	case *array.LargeString:
		return c.Value(i)
	case *array.Boolean:
		return c.Value(i)
	case *array.Decimal128:
		dt := c.DataType().(*arrow.Decimal128Type)
		return c.Value(i).ToFloat64(dt.Scale)
	}
	panic(fmt.Sprintf("unsupported column type %s", col.DataType()))
}

// writeParquet writes rec (plus a leading rn row-number column) to path.
func writeParquet(t testing.TB, rec arrow.RecordBatch, path string) {
	t.Helper()
	n := int(rec.NumRows())
	rb := array.NewInt64Builder(memory.DefaultAllocator)
	for i := range n {
		rb.Append(int64(i))
	}
	rn := rb.NewArray()
	rb.Release()
	defer rn.Release()
	fields := append([]arrow.Field{{Name: "rn", Type: arrow.PrimitiveTypes.Int64}}, rec.Schema().Fields()...)
	cols := append([]arrow.Array{rn}, rec.Columns()...)
	full := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
	defer full.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(full.Schema(), f, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(full); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func readParquet(t testing.TB, path string) arrow.Table {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// duckSelect evaluates a SELECT list with DuckDB over rec (view t, with a
// row-number column rn) and returns one column of values per selected
// expression (rn excluded), row i = row i of rec.
func duckSelect(t testing.TB, rec arrow.RecordBatch, selectList string) [][]cell {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 with the duckdb package is required for this test: %v", err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.parquet"), filepath.Join(dir, "out.parquet")
	writeParquet(t, rec, in)
	cmd := exec.Command(py, "testdata/duck.py", in, out, selectList)
	msg, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("DuckDB run failed (python3 needs the duckdb package): %v\n%s", err, msg)
	}
	tbl := readParquet(t, out)
	defer tbl.Release()
	if tbl.NumRows() != rec.NumRows() {
		t.Fatalf("DuckDB returned %d rows, want %d", tbl.NumRows(), rec.NumRows())
	}
	res := make([][]cell, tbl.NumCols()-1)
	for c := 1; c < int(tbl.NumCols()); c++ {
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				res[c-1] = append(res[c-1], value(chunk, i))
			}
		}
	}
	return res
}

// sameValue compares two cells; floats agree within tol (absolute) or
// both NaN; an int and a float compare numerically.
func sameValue(a, b cell, tol float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	fa, aok := toF(a)
	fb, bok := toF(b)
	if aok && bok {
		if math.IsNaN(fa) || math.IsNaN(fb) {
			return math.IsNaN(fa) && math.IsNaN(fb)
		}
		if math.IsInf(fa, 0) || math.IsInf(fb, 0) {
			return fa == fb
		}
		return math.Abs(fa-fb) <= tol
	}
	return a == b
}

func toF(v cell) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func columnCells(col arrow.Array) []cell {
	out := make([]cell, col.Len())
	for i := range out {
		out[i] = value(col, i)
	}
	return out
}

func fmtRow(rec arrow.RecordBatch, i int) string {
	var b strings.Builder
	for c := range int(rec.NumCols()) {
		fmt.Fprintf(&b, "%s=%v ", rec.ColumnName(c), value(rec.Column(c), i))
	}
	return b.String()
}
