package schema

import (
	"encoding/base64"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/valyala/fastjson"
)

func memoryAllocator() memory.Allocator { return memory.DefaultAllocator }

// JSONDecoder turns a JSON list of row objects (TurboML's REST upload body)
// into one Arrow record batch in schema order. It reuses its parser between
// calls and is not safe for concurrent use; pool one per goroutine.
//
// Rules: every row must be an object; unknown fields are rejected; a missing
// or null field is null (the key must be present and non-null); integers
// must be whole numbers in range; float fields take numbers and the strings
// "NaN", "Infinity", "-Infinity"; bytes fields take base64 strings.
type JSONDecoder struct {
	s *Schema
	p fastjson.Parser
	// KeyOptional lets rows omit the key (it is then null): for requests
	// that are not stored, such as synchronous predictions.
	KeyOptional bool
}

// NewJSONDecoder returns a decoder for rows of s.
func (s *Schema) NewJSONDecoder() *JSONDecoder { return &JSONDecoder{s: s} }

// Decode parses body and returns the batch, or a *RowError (or a syntax
// error) that rejects the whole body.
func (d *JSONDecoder) Decode(body []byte) (arrow.RecordBatch, error) {
	v, err := d.p.ParseBytes(body)
	if err != nil {
		return nil, &RowError{Row: -1, Msg: fmt.Sprintf("malformed JSON: %v", err)}
	}
	rows, err := v.Array()
	if err != nil {
		return nil, &RowError{Row: -1, Msg: "body must be a JSON list of row objects"}
	}
	s := d.s
	b := array.NewRecordBuilder(memoryAllocator(), s.arrow)
	defer b.Release()
	b.Reserve(len(rows))
	set := make([]bool, len(s.Fields))
	for r, row := range rows {
		obj, err := row.Object()
		if err != nil {
			return nil, &RowError{Row: r, Msg: "is not a JSON object"}
		}
		clear(set)
		var rowErr error
		obj.Visit(func(k []byte, fv *fastjson.Value) {
			if rowErr != nil {
				return
			}
			j, ok := s.index[string(k)]
			if !ok {
				rowErr = &RowError{Row: r, Field: string(k), Msg: "not in the dataset schema"}
				return
			}
			if set[j] {
				rowErr = &RowError{Row: r, Field: string(k), Msg: "appears twice"}
				return
			}
			set[j] = true
			if err := appendJSON(b.Field(j), s.Fields[j].Type, fv); err != nil {
				rowErr = &RowError{Row: r, Field: string(k), Msg: err.Error()}
			}
		})
		if rowErr != nil {
			return nil, rowErr
		}
		for j := range s.Fields {
			if !set[j] {
				b.Field(j).AppendNull()
			}
		}
	}
	rec := b.NewRecordBatch()
	if d.KeyOptional {
		return rec, nil
	}
	if err := s.checkKey(rec.Column(s.KeyIndex())); err != nil {
		rec.Release()
		return nil, err
	}
	return rec, nil
}

func appendJSON(fb array.Builder, t Type, v *fastjson.Value) error {
	if v.Type() == fastjson.TypeNull {
		fb.AppendNull()
		return nil
	}
	switch t {
	case Int32, Int64:
		if v.Type() != fastjson.TypeNumber {
			return fmt.Errorf("want a whole number for %s, got %s", t, v.Type())
		}
		f, err := v.Float64()
		if err != nil {
			return err
		}
		lo, hi := float64(math.MinInt32), float64(math.MaxInt32)
		if t == Int64 {
			lo, hi = -(1 << 63), (1<<63)-1024
		}
		if f != math.Trunc(f) || f < lo || f > hi {
			return fmt.Errorf("%s is not a whole number in %s range", v.String(), t)
		}
		if t == Int32 {
			fb.(*array.Int32Builder).Append(int32(f))
			return nil
		}
		// Parse exactly when the text is an integer, to keep all 64 bits.
		if n, err := v.Int64(); err == nil {
			fb.(*array.Int64Builder).Append(n)
		} else {
			fb.(*array.Int64Builder).Append(int64(f))
		}
	case Float, Double:
		var f float64
		switch v.Type() {
		case fastjson.TypeNumber:
			f, _ = v.Float64()
		case fastjson.TypeString:
			switch string(v.GetStringBytes()) {
			case "NaN", "nan":
				f = math.NaN()
			case "Infinity", "inf":
				f = math.Inf(1)
			case "-Infinity", "-inf":
				f = math.Inf(-1)
			default:
				return fmt.Errorf("want a number for %s, got string %s", t, v.String())
			}
		default:
			return fmt.Errorf("want a number for %s, got %s", t, v.Type())
		}
		if t == Float {
			fb.(*array.Float32Builder).Append(float32(f))
		} else {
			fb.(*array.Float64Builder).Append(f)
		}
	case String:
		if v.Type() != fastjson.TypeString {
			return fmt.Errorf("want a string, got %s", v.Type())
		}
		fb.(*array.StringBuilder).BinaryBuilder.Append(v.GetStringBytes())
	case Bool:
		switch v.Type() {
		case fastjson.TypeTrue:
			fb.(*array.BooleanBuilder).Append(true)
		case fastjson.TypeFalse:
			fb.(*array.BooleanBuilder).Append(false)
		default:
			return fmt.Errorf("want true or false, got %s", v.Type())
		}
	case Bytes:
		if v.Type() != fastjson.TypeString {
			return fmt.Errorf("want a base64 string, got %s", v.Type())
		}
		raw, err := base64.StdEncoding.DecodeString(string(v.GetStringBytes()))
		if err != nil {
			return fmt.Errorf("not valid base64: %v", err)
		}
		fb.(*array.BinaryBuilder).Append(raw)
	default:
		return fmt.Errorf("unsupported type %s", t)
	}
	return nil
}
