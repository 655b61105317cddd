package schema

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestNames(t *testing.T) {
	cases := []struct {
		check func(string) error
		name  string
		ok    bool
	}{
		{ValidateDatasetID, "transactions", true},
		{ValidateDatasetID, "t_1", true},
		{ValidateDatasetID, "1t", false},
		{ValidateDatasetID, "_t", false},
		{ValidateDatasetID, "a.b", false},
		{ValidateDatasetID, "a-b", false},
		{ValidateDatasetID, "", false},
		{ValidateDatasetID, strings.Repeat("a", MaxNameLen+1), false},
		{ValidateFieldName, "_x9", true},
		{ValidateFieldName, "x y", false},
		{ValidateFieldName, "é", false},
		{ValidateModelName, "fraud-model_2", true},
		{ValidateModelName, "a/b", false},
	}
	for _, c := range cases {
		err := c.check(c.name)
		if (err == nil) != c.ok {
			t.Errorf("%q: err = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("%q: error %v does not wrap ErrInvalidName", c.name, err)
		}
	}
}

func TestNewAndJSON(t *testing.T) {
	fs := []Field{{"id", String}, {"amount", Double}, {"n", Int32}}
	s, err := New(fs, "id")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(s)
	var back Schema
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(s) {
		t.Fatalf("JSON round trip: %s → %v (%v)", b, &back, err)
	}
	if back.Index("amount") != 1 || back.KeyIndex() != 0 || back.Arrow().Field(0).Nullable || !back.Arrow().Field(1).Nullable {
		t.Fatalf("rebuilt schema lost its index or nullability: %s", back.Arrow())
	}
	bad := []struct {
		fields []Field
		key    string
		msg    string
	}{
		{nil, "id", "no fields"},
		{[]Field{{"id", String}, {"id", Int64}}, "id", "appears twice"},
		{[]Field{{"id", String}}, "nope", "not one of the fields"},
		{[]Field{{"id", String}}, "", "key field is empty"},
		{[]Field{{"id", Invalid}}, "id", "invalid type"},
		{[]Field{{"bad name", String}}, "bad name", "must match"},
	}
	for _, c := range bad {
		if _, err := New(c.fields, c.key); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("New(%v, %q) = %v, want error containing %q", c.fields, c.key, err, c.msg)
		}
	}
	for _, name := range []string{"INT32", "float64", "str", "binary", "boolean"} {
		if _, err := ParseType(name); err != nil {
			t.Errorf("ParseType(%q): %v", name, err)
		}
	}
	if _, err := ParseType("datetime"); err == nil {
		t.Error("ParseType(datetime) accepted")
	}
}

func fraudLike(t *testing.T) *Schema {
	t.Helper()
	s, err := New([]Field{{"id", String}, {"amount", Double}, {"n", Int32}, {"big", Int64}, {"f", Float}, {"ok", Bool}, {"raw", Bytes}}, "id")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJSONDecoder(t *testing.T) {
	s := fraudLike(t)
	d := s.NewJSONDecoder()
	rec, err := d.Decode([]byte(`[{"id":"a","amount":1.5,"n":3,"big":9007199254740993,"f":"NaN","ok":true,"raw":"AQI="},{"id":"b"}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if rec.NumRows() != 2 || rec.Column(3).(*array.Int64).Value(0) != 9007199254740993 {
		t.Fatalf("decoded %v", rec)
	}
	if !math.IsNaN(float64(rec.Column(4).(*array.Float32).Value(0))) || string(rec.Column(6).(*array.Binary).Value(0)) != "\x01\x02" {
		t.Fatalf("NaN or base64 not decoded: %v", rec)
	}
	for i := 1; i < 7; i++ {
		if !rec.Column(i).IsNull(1) {
			t.Fatalf("missing field %d not null", i)
		}
	}
	bad := []struct{ body, msg string }{
		{`[`, "malformed JSON"},
		{`{"id":"a"}`, "JSON list"},
		{`[1]`, "row 0: is not a JSON object"},
		{`[{"id":"a","n":2147483648}]`, `row 0, field "n": 2147483648 is not a whole number in int32 range`},
		{`[{"id":"a","n":1.5}]`, `field "n"`},
		{`[{"id":"a","ok":1}]`, `want true or false`},
		{`[{"id":"a","raw":"%%"}]`, `not valid base64`},
		{`[{"id":"a","amount":"x"}]`, `want a number`},
		{`[{"id":"a","id":"b"}]`, `appears twice`},
		{`[{"id":""}]`, `key is empty`},
		{`[{"amount":1}]`, `key is null`},
	}
	for _, c := range bad {
		_, err := d.Decode([]byte(c.body))
		var re *RowError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want a RowError containing %q", c.body, err, c.msg)
		}
	}
	d.KeyOptional = true
	if rec, err := d.Decode([]byte(`[{"amount":1}]`)); err != nil {
		t.Errorf("key optional: %v", err)
	} else {
		rec.Release()
	}
}

func TestConform(t *testing.T) {
	s, _ := New([]Field{{"id", String}, {"x", Double}, {"s", String}}, "id")
	mem := memory.DefaultAllocator
	// Columns out of order, one missing, large strings narrowed.
	in := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64}, {Name: "id", Type: arrow.BinaryTypes.LargeString}}, nil)
	b := array.NewRecordBuilder(mem, in)
	b.Field(0).(*array.Float64Builder).AppendValues([]float64{1, 2}, nil)
	b.Field(1).(*array.LargeStringBuilder).AppendValues([]string{"a", "b"}, nil)
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()
	out, err := s.Conform(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if !out.Schema().Equal(s.Arrow()) || out.Column(0).(*array.String).Value(1) != "b" || !out.Column(2).IsNull(0) {
		t.Fatalf("conformed: %v", out)
	}
	if _, err := s.ConformRequest(func() arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil))
		defer b.Release()
		b.Field(0).(*array.Float64Builder).Append(1)
		return b.NewRecordBatch()
	}()); err != nil {
		t.Fatalf("ConformRequest without key: %v", err)
	}
}

func TestConformReleasesWhatItRetains(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, _ := New([]Field{{"id", String}, {"x", Double}}, "id")
	b := array.NewRecordBuilder(mem, s.Arrow())
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
	b.Field(1).(*array.Float64Builder).AppendValues([]float64{1, 2}, nil)
	rec := b.NewRecordBatch()
	b.Release()
	out, err := s.Conform(rec)
	if err != nil {
		t.Fatal(err)
	}
	out.Release()
	rec.Release()
}
