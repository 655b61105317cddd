package feature

import (
	"math"
	"slices"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/spate-ml/spate/core/schema"
)

// keyIndex gives every distinct value of a group-by column a dense group id
// (0, 1, 2, ...). All windows grouped by the same column share one index.
// String keys are copied into large shared chunks, so a key costs its bytes
// plus one map slot.
type keyIndex struct {
	col    int
	typ    schema.Type
	strs   map[string]uint32
	ints   map[int64]uint32
	arena  []byte
	nullID uint32 // id+1 of the NULL key's group; 0 when not seen yet
	n      uint32
	gids   []uint32 // per-batch scratch
}

const arenaChunk = 64 << 10

func newKeyIndex(col int, typ schema.Type) *keyIndex {
	k := &keyIndex{col: col, typ: typ}
	switch typ {
	case schema.String, schema.Bytes:
		k.strs = make(map[string]uint32)
	default:
		k.ints = make(map[int64]uint32)
	}
	return k
}

// intern copies b into the arena and returns a string over the copy.
func (k *keyIndex) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > cap(k.arena)-len(k.arena) {
		if len(b) > arenaChunk/4 {
			c := slices.Clone(b)
			return unsafe.String(&c[0], len(c))
		}
		k.arena = make([]byte, 0, arenaChunk)
	}
	start := len(k.arena)
	k.arena = append(k.arena, b...)
	return unsafe.String(&k.arena[start], len(b))
}

func (k *keyIndex) newID() uint32 {
	id := k.n
	k.n++
	return id
}

func (k *keyIndex) nullGroup() uint32 {
	if k.nullID == 0 {
		k.nullID = k.newID() + 1
	}
	return k.nullID - 1
}

func (k *keyIndex) str(s string) uint32 {
	if id, ok := k.strs[s]; ok {
		return id
	}
	id := k.newID()
	k.strs[k.intern(unsafe.Slice(unsafe.StringData(s), len(s)))] = id
	return id
}

func (k *keyIndex) int(v int64) uint32 {
	if id, ok := k.ints[v]; ok {
		return id
	}
	id := k.newID()
	k.ints[v] = id
	return id
}

func floatKey(f float64) int64 {
	if f == 0 {
		f = 0 // -0 and +0 are one group
	}
	if f != f {
		f = math.NaN()
	}
	return int64(math.Float64bits(f))
}

// lookup maps every row of col to its group id, creating new groups.
func (k *keyIndex) lookup(col arrow.Array) []uint32 {
	n := col.Len()
	k.gids = slices.Grow(k.gids[:0], n)[:n]
	g := k.gids
	for i := range n {
		if col.IsNull(i) {
			g[i] = k.nullGroup()
		}
	}
	switch c := col.(type) {
	case *array.String:
		for i := range n {
			if c.IsValid(i) {
				g[i] = k.str(c.Value(i))
			}
		}
	case *array.Binary:
		for i := range n {
			if c.IsValid(i) {
				b := c.Value(i)
				g[i] = k.str(unsafe.String(unsafe.SliceData(b), len(b)))
			}
		}
	case *array.Int64:
		for i, v := range c.Int64Values() {
			if c.IsValid(i) {
				g[i] = k.int(v)
			}
		}
	case *array.Int32:
		for i, v := range c.Int32Values() {
			if c.IsValid(i) {
				g[i] = k.int(int64(v))
			}
		}
	case *array.Float64:
		for i, v := range c.Float64Values() {
			if c.IsValid(i) {
				g[i] = k.int(floatKey(v))
			}
		}
	case *array.Float32:
		for i, v := range c.Float32Values() {
			if c.IsValid(i) {
				g[i] = k.int(floatKey(float64(v)))
			}
		}
	case *array.Boolean:
		for i := range n {
			if c.IsValid(i) {
				b := int64(0)
				if c.Value(i) {
					b = 1
				}
				g[i] = k.int(b)
			}
		}
	}
	return g
}

// bytes estimates the memory of the index: map slots and key bytes.
func (k *keyIndex) bytes() int64 {
	// A Swiss-table slot holds key and value; groups keep 8 slots plus an
	// 8-byte control word at a load of at most 7/8.
	slot := int64(unsafe.Sizeof("") + 4)
	if k.ints != nil {
		slot = 8 + 4 + 4
	}
	var keyBytes int64
	for s := range k.strs {
		keyBytes += int64(len(s))
	}
	return int64(k.n)*(slot+1)*8/7 + keyBytes
}
