package wire

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"
)

// value is one typed value written and read back in the tests.
type value struct {
	name  string
	write func(e *Encoder)
	read  func(d *Decoder) any
	want  any
	bytes []byte // the exact encoding
}

func values() []value {
	return []value{
		{"uvarint 0", func(e *Encoder) { e.Uvarint(0) }, func(d *Decoder) any { return d.Uvarint() }, uint64(0), []byte{0}},
		{"uvarint 300", func(e *Encoder) { e.Uvarint(300) }, func(d *Decoder) any { return d.Uvarint() }, uint64(300), []byte{0xac, 0x02}},
		{"uvarint max", func(e *Encoder) { e.Uvarint(math.MaxUint64) }, func(d *Decoder) any { return d.Uvarint() }, uint64(math.MaxUint64),
			[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"varint -1", func(e *Encoder) { e.Varint(-1) }, func(d *Decoder) any { return d.Varint() }, int64(-1), []byte{0x01}},
		{"varint 64", func(e *Encoder) { e.Varint(64) }, func(d *Decoder) any { return d.Varint() }, int64(64), []byte{0x80, 0x01}},
		{"varint min", func(e *Encoder) { e.Varint(math.MinInt64) }, func(d *Decoder) any { return d.Varint() }, int64(math.MinInt64),
			[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"u32", func(e *Encoder) { e.U32(0x01020304) }, func(d *Decoder) any { return d.U32() }, uint32(0x01020304), []byte{4, 3, 2, 1}},
		{"f64 1", func(e *Encoder) { e.F64(1) }, func(d *Decoder) any { return d.F64() }, 1.0, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}},
		{"f64 -inf", func(e *Encoder) { e.F64(math.Inf(-1)) }, func(d *Decoder) any { return d.F64() }, math.Inf(-1), []byte{0, 0, 0, 0, 0, 0, 0xf0, 0xff}},
		{"true", func(e *Encoder) { e.Boolean(true) }, func(d *Decoder) any { return d.Boolean() }, true, []byte{1}},
		{"false", func(e *Encoder) { e.Boolean(false) }, func(d *Decoder) any { return d.Boolean() }, false, []byte{0}},
		{"f64s", func(e *Encoder) { e.F64s([]float64{0.5, -2}) }, func(d *Decoder) any { return d.F64s() }, []float64{0.5, -2},
			[]byte{2, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0}},
		{"empty f64s", func(e *Encoder) { e.F64s(nil) }, func(d *Decoder) any { return d.F64s() }, []float64{}, []byte{0}},
		{"bytes", func(e *Encoder) { e.Bytes([]byte{9, 8}) }, func(d *Decoder) any { return d.Bytes() }, []byte{9, 8}, []byte{2, 9, 8}},
		{"str", func(e *Encoder) { e.Str("héllo") }, func(d *Decoder) any { return d.Str() }, "héllo", append([]byte{6}, "héllo"...)},
		{"empty str", func(e *Encoder) { e.Str("") }, func(d *Decoder) any { return d.Str() }, "", []byte{0}},
	}
}

func TestRoundTripAndEncoding(t *testing.T) {
	for _, v := range values() {
		t.Run(v.name, func(t *testing.T) {
			var e Encoder
			v.write(&e)
			if !bytes.Equal(e.Data(), v.bytes) {
				t.Fatalf("encoded % x, want % x", e.Data(), v.bytes)
			}
			d := NewDecoder(e.Data())
			if got := v.read(d); !reflect.DeepEqual(got, v.want) {
				t.Fatalf("decoded %#v, want %#v", got, v.want)
			}
			if err := d.Finish(); err != nil {
				t.Fatalf("Finish: %v", err)
			}
		})
	}
}

func TestSequenceRoundTrip(t *testing.T) {
	var e Encoder
	vs := values()
	for _, v := range vs {
		v.write(&e)
	}
	d := NewDecoder(e.Data())
	for _, v := range vs {
		if got := v.read(d); !reflect.DeepEqual(got, v.want) {
			t.Fatalf("%s: decoded %#v, want %#v", v.name, got, v.want)
		}
	}
	if d.Len() != 0 {
		t.Fatalf("Len = %d after reading everything", d.Len())
	}
	if err := d.Finish(); err != nil {
		t.Fatalf("Finish: %v", err)
	}
}

func TestTruncatedInputFails(t *testing.T) {
	for _, v := range values() {
		for cut := 0; cut < len(v.bytes); cut++ {
			if v.name == "empty f64s" || v.name == "empty str" {
				continue // a single byte: the only prefix is empty, tested below
			}
			d := NewDecoder(v.bytes[:cut])
			v.read(d)
			if !errors.Is(d.Err(), ErrTruncated) || !errors.Is(d.Finish(), ErrTruncated) {
				t.Fatalf("%s cut at %d: Err = %v, Finish = %v, want ErrTruncated", v.name, cut, d.Err(), d.Finish())
			}
		}
	}
	d := NewDecoder(nil)
	if d.Uvarint() != 0 || !errors.Is(d.Finish(), ErrTruncated) {
		t.Fatalf("empty input: Finish = %v, want ErrTruncated", d.Finish())
	}
}

func TestErrorSticksAndLaterReadsAreZero(t *testing.T) {
	var e Encoder
	e.U32(7)
	e.F64(3)
	d := NewDecoder(e.Data()[:2])
	if d.U32() != 0 || d.Err() == nil {
		t.Fatal("short U32 did not fail")
	}
	if d.Len() != 0 {
		t.Fatalf("Len = %d after Fail, want 0", d.Len())
	}
	if d.F64() != 0 || d.Boolean() || d.Str() != "" || len(d.F64s()) != 0 {
		t.Fatal("reads after an error returned non-zero values")
	}
}

func TestSetErrKeepsBytesAndFirstErrorWins(t *testing.T) {
	var e Encoder
	e.Uvarint(5)
	e.Uvarint(6)
	d := NewDecoder(e.Data())
	first := errors.New("bad value")
	if d.Uvarint() != 5 {
		t.Fatal("first read")
	}
	d.SetErr(first)
	d.SetErr(errors.New("second"))
	d.Fail()
	if d.Err() != first || d.Finish() != first {
		t.Fatalf("Err = %v, Finish = %v, want %v", d.Err(), d.Finish(), first)
	}
	d2 := NewDecoder(e.Data())
	d2.SetErr(first)
	if d2.Uvarint() != 5 || d2.Uvarint() != 6 {
		t.Fatal("SetErr dropped the bytes left")
	}
}

func TestFinishRejectsTrailingBytes(t *testing.T) {
	var e Encoder
	e.Uvarint(1)
	e.Boolean(true)
	d := NewDecoder(e.Data())
	d.Uvarint()
	if err := d.Finish(); err == nil || errors.Is(err, ErrTruncated) {
		t.Fatalf("Finish with a byte left = %v, want a trailing-bytes error", err)
	}
}

func TestCountGuardsAllocation(t *testing.T) {
	cases := []struct {
		name    string
		n       uint64
		left    int
		min     int
		want    int
		wantErr bool
	}{
		{"fits", 3, 24, 8, 3, false},
		{"one over the floor is allowed", 4, 24, 8, 4, false},
		{"too many", 5, 24, 8, 0, true},
		{"min 0 counts as 1", 10, 9, 0, 10, false},
		{"huge", math.MaxUint64, 100, 1, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e Encoder
			e.Uvarint(c.n)
			data := append(e.Data(), make([]byte, c.left)...)
			d := NewDecoder(data)
			got := d.Count(c.min)
			if got != c.want || (d.Err() != nil) != c.wantErr {
				t.Fatalf("Count = %d, err %v; want %d, err %v", got, d.Err(), c.want, c.wantErr)
			}
		})
	}
}

func TestBytesAreCopied(t *testing.T) {
	var e Encoder
	e.Bytes([]byte{1, 2, 3})
	data := e.Data()
	got := NewDecoder(data).Bytes()
	data[1] = 99
	if !bytes.Equal(got, []byte{1, 2, 3}) {
		t.Fatalf("decoded bytes alias the input: %v", got)
	}
}

func TestAbortStopsReadsAndIgnoresNil(t *testing.T) {
	e := &Encoder{}
	e.Uvarint(7)
	e.Uvarint(9)
	d := NewDecoder(e.Data())
	d.Abort(nil)
	if d.Err() != nil || d.Uvarint() != 7 {
		t.Fatal("Abort(nil) changed the decoder")
	}
	bad := errors.New("bad count")
	d.Abort(bad)
	if d.Uvarint() != 0 || d.Len() != 0 || !errors.Is(d.Err(), bad) {
		t.Fatalf("after Abort: err %v, %d bytes left", d.Err(), d.Len())
	}
	d.Abort(errors.New("later"))
	if !errors.Is(d.Err(), bad) {
		t.Fatalf("the first error must stick, got %v", d.Err())
	}
}
