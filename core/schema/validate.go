package schema

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// RowError says which row and which field of a batch broke a rule. Row is
// zero-based within the batch; Field is empty for batch-level problems.
type RowError struct {
	Row   int
	Field string
	Msg   string
}

func (e *RowError) Error() string {
	switch {
	case e.Row < 0 && e.Field == "":
		return e.Msg
	case e.Row < 0:
		return fmt.Sprintf("field %q: %s", e.Field, e.Msg)
	case e.Field == "":
		return fmt.Sprintf("row %d: %s", e.Row, e.Msg)
	}
	return fmt.Sprintf("row %d, field %q: %s", e.Row, e.Field, e.Msg)
}

// Conform checks an Arrow record batch against s and returns a batch whose
// columns are exactly the schema's, in schema order. Columns may arrive in any
// order; a missing nullable column becomes all-null; an unknown column, a
// column of the wrong type or a null/empty key rejects the whole batch. The
// returned batch holds its own references (Release it); rec is not released.
func (s *Schema) Conform(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	return s.conform(rec, true)
}

// ConformRequest is Conform for rows that are not stored (predictions):
// the key may be missing or null.
func (s *Schema) ConformRequest(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	return s.conform(rec, false)
}

func (s *Schema) conform(rec arrow.RecordBatch, needKey bool) (arrow.RecordBatch, error) {
	in := rec.Schema()
	nrows := int(rec.NumRows())
	cols := make([]arrow.Array, len(s.Fields))
	release := func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}
	seen := make([]bool, len(s.Fields))
	for i, f := range in.Fields() {
		j, ok := s.index[f.Name]
		if !ok {
			release()
			return nil, &RowError{Row: -1, Field: f.Name, Msg: fmt.Sprintf("not in the dataset schema (%s)", s)}
		}
		if seen[j] {
			release()
			return nil, &RowError{Row: -1, Field: f.Name, Msg: "column appears twice"}
		}
		seen[j] = true
		want := s.Fields[j].Type
		got, err := FromArrow(f.Type)
		if err != nil || got != want {
			release()
			return nil, &RowError{Row: -1, Field: f.Name, Msg: fmt.Sprintf("has type %s, want %s", f.Type, want)}
		}
		col := rec.Column(i)
		if col.Len() != nrows {
			release()
			return nil, &RowError{Row: -1, Field: f.Name, Msg: fmt.Sprintf("column has %d values for %d rows", col.Len(), nrows)}
		}
		if !arrow.TypeEqual(col.DataType(), want.Arrow()) {
			// Large string/binary: narrow to the canonical type.
			col = narrow(col, want)
		} else {
			col.Retain()
		}
		cols[j] = col
	}
	for j, f := range s.Fields {
		if seen[j] {
			continue
		}
		if f.Name == s.Key && needKey {
			release()
			return nil, &RowError{Row: -1, Field: f.Name, Msg: "key column is missing"}
		}
		cols[j] = array.MakeArrayOfNull(memoryAllocator(), f.Type.Arrow(), nrows)
	}
	// The batch takes its own references; drop the ones taken above.
	defer release()
	if needKey {
		if err := s.checkKey(cols[s.KeyIndex()]); err != nil {
			return nil, err
		}
		return array.NewRecordBatch(s.arrow, cols, int64(nrows)), nil
	}
	loose := make([]arrow.Field, len(s.Fields))
	copy(loose, s.arrow.Fields())
	loose[s.KeyIndex()].Nullable = true
	return array.NewRecordBatch(arrow.NewSchema(loose, nil), cols, int64(nrows)), nil
}

func (s *Schema) checkKey(col arrow.Array) error {
	for i := 0; i < col.Len(); i++ {
		if col.IsNull(i) {
			return &RowError{Row: i, Field: s.Key, Msg: "key is null"}
		}
	}
	switch c := col.(type) {
	case *array.String:
		for i := 0; i < c.Len(); i++ {
			if c.Value(i) == "" {
				return &RowError{Row: i, Field: s.Key, Msg: "key is empty"}
			}
		}
	case *array.Float32:
		for i, v := range c.Float32Values() {
			if math.IsNaN(float64(v)) {
				return &RowError{Row: i, Field: s.Key, Msg: "key is NaN"}
			}
		}
	case *array.Float64:
		for i, v := range c.Float64Values() {
			if math.IsNaN(v) {
				return &RowError{Row: i, Field: s.Key, Msg: "key is NaN"}
			}
		}
	}
	return nil
}

// narrow copies a large-string or large-binary column into the schema's
// canonical 32-bit-offset type.
func narrow(col arrow.Array, want Type) arrow.Array {
	mem := memoryAllocator()
	switch want {
	case String:
		c := col.(*array.LargeString)
		b := array.NewStringBuilder(mem)
		defer b.Release()
		for i := 0; i < c.Len(); i++ {
			if c.IsNull(i) {
				b.AppendNull()
			} else {
				b.Append(c.Value(i))
			}
		}
		return b.NewArray()
	case Bytes:
		c := col.(*array.LargeBinary)
		b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
		defer b.Release()
		for i := 0; i < c.Len(); i++ {
			if c.IsNull(i) {
				b.AppendNull()
			} else {
				b.Append(c.Value(i))
			}
		}
		return b.NewArray()
	}
	col.Retain()
	return col
}
