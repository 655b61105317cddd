// Package wire owns the compact, deterministic binary encoding of Spate's
// stored state (the online learners' MarshalBinary and registry decoders,
// the runtime's model snapshots): unsigned and zig-zag varints,
// little-endian fixed-width numbers, booleans and length-prefixed float
// slices, byte strings and strings. Equal state always encodes to equal
// bytes.
package wire

import (
	"encoding/binary"
	"errors"
	"math"
)

// ErrTruncated is the error a Decoder records when the input ends early or
// a length does not fit the bytes left.
var ErrTruncated = errors.New("truncated state")

// Encoder appends values to a byte slice. The zero value is ready to use.
type Encoder struct{ b []byte }

// NewEncoder returns an Encoder that appends after prefix (a header, and
// the capacity the caller expects to fill).
func NewEncoder(prefix []byte) *Encoder { return &Encoder{b: prefix} }

// Data returns the bytes written so far.
func (e *Encoder) Data() []byte { return e.b }

// Uvarint appends v as an unsigned varint.
func (e *Encoder) Uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }

// Varint appends v as a zig-zag varint.
func (e *Encoder) Varint(v int64) { e.b = binary.AppendVarint(e.b, v) }

// U32 appends v as four little-endian bytes.
func (e *Encoder) U32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }

// F64 appends the IEEE 754 bits of v as eight little-endian bytes.
func (e *Encoder) F64(v float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v)) }

// Boolean appends v as one byte, 1 or 0.
func (e *Encoder) Boolean(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// F64s appends the length of v then each element as F64.
func (e *Encoder) F64s(v []float64) {
	e.Uvarint(uint64(len(v)))
	for _, x := range v {
		e.F64(x)
	}
}

// Bytes appends the length of v then v.
func (e *Encoder) Bytes(v []byte) {
	e.Uvarint(uint64(len(v)))
	e.b = append(e.b, v...)
}

// Str appends the length of s then s.
func (e *Encoder) Str(s string) {
	e.Uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// Decoder reads what an Encoder wrote. The first error sticks: once one is
// recorded by Fail, later reads return zero values, and Err and Finish
// report it.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder returns a Decoder reading b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err returns the first error recorded, or nil.
func (d *Decoder) Err() error { return d.err }

// Len returns the number of bytes left to read.
func (d *Decoder) Len() int { return len(d.b) }

// Fail records ErrTruncated (unless an error is already recorded) and drops
// the bytes left, so that later reads return zero values.
func (d *Decoder) Fail() { d.Abort(ErrTruncated) }

// Abort records err (unless an error is already recorded) and, like Fail,
// drops the bytes left, so that later reads return zero values and no
// count read after the fault can drive an allocation. A nil err does
// nothing.
func (d *Decoder) Abort(err error) {
	if err == nil {
		return
	}
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

// SetErr records err unless an error is already recorded. Unlike Fail it
// keeps the bytes left readable; callers use it for state that decodes
// but does not make sense.
func (d *Decoder) SetErr(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.Fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Varint reads a zig-zag varint.
func (d *Decoder) Varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.Fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// U32 reads four little-endian bytes.
func (d *Decoder) U32() uint32 {
	if len(d.b) < 4 {
		d.Fail()
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

// F64 reads a float64 written by Encoder.F64.
func (d *Decoder) F64() float64 {
	if len(d.b) < 8 {
		d.Fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

// Boolean reads one byte; anything but 0 is true.
func (d *Decoder) Boolean() bool {
	if len(d.b) < 1 {
		d.Fail()
		return false
	}
	v := d.b[0] != 0
	d.b = d.b[1:]
	return v
}

// Count reads a length and checks it against the bytes left, each element
// taking at least min bytes, so that corrupt input cannot make the caller
// allocate far more than the input could hold.
func (d *Decoder) Count(min int) int {
	n := d.Uvarint()
	if n > uint64(len(d.b)/max(min, 1)+1) {
		d.Fail()
		return 0
	}
	return int(n)
}

// F64s reads what Encoder.F64s wrote; the result is never nil.
func (d *Decoder) F64s() []float64 {
	n := d.Count(8)
	out := make([]float64, n)
	for i := range out {
		out[i] = d.F64()
	}
	return out
}

// Bytes reads what Encoder.Bytes wrote, copied out of the input.
func (d *Decoder) Bytes() []byte {
	n := d.Count(1)
	if n > len(d.b) {
		d.Fail()
		return nil
	}
	out := append([]byte(nil), d.b[:n]...)
	d.b = d.b[n:]
	return out
}

// Str reads what Encoder.Str wrote.
func (d *Decoder) Str() string { return string(d.Bytes()) }

// Finish reports the first error recorded, or one if bytes are left over.
func (d *Decoder) Finish() error {
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return errors.New("trailing bytes after the state")
	}
	return nil
}
