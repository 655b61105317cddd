package feature

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/spate-ml/spate/core/schema"
)

// keyIndex gives every distinct value of a group-by column a dense group id
// (0, 1, 2, ...). All windows grouped by the same column share one index.
//
// It is an open-addressing hash table of 24-byte slots: a hash tag, the
// group id and the key, inline when it is at most 15 bytes (or an integer),
// else an offset into a byte arena. A batch is looked up in two passes:
// hashing every key, then probing while touching the slots of keys a few
// rows ahead, so that the cache misses of a large table overlap.
type keyIndex struct {
	col    int
	typ    schema.Type
	str    bool
	seed   maphash.Seed
	slots  []kslot
	mask   uint64
	used   int
	arena  []byte
	nullID uint32 // id+1 of the NULL key's group; 0 when not seen yet
	n      uint32
	gids   []uint32 // per-batch scratch
	hashes []uint64
}

// kslot is one table slot. tag is the hash's high half with the low bit set
// (0: empty). For strings of at most 15 bytes, a holds bytes 0-7 and b
// bytes 8-14 plus the length in its top byte; longer strings keep the
// arena offset in a and the length in b with the top byte 0xff. Integer
// keys are in a.
type kslot struct {
	tag uint32
	id  uint32
	a   uint64
	b   uint64
}

const (
	probeAhead = 12
	longKey    = 0xff << 56
)

func newKeyIndex(col int, typ schema.Type) *keyIndex {
	k := &keyIndex{col: col, typ: typ, str: typ == schema.String || typ == schema.Bytes, seed: maphash.MakeSeed()}
	k.slots = make([]kslot, 1024)
	k.mask = 1023
	return k
}

// inline packs a short key into two words; ok is false for keys longer
// than 15 bytes.
func inline(s string) (a, b uint64, ok bool) {
	if len(s) > 15 {
		return 0, 0, false
	}
	var buf [16]byte
	copy(buf[:], s)
	buf[15] = byte(len(s))
	return binary.LittleEndian.Uint64(buf[:8]), binary.LittleEndian.Uint64(buf[8:]), true
}

func (k *keyIndex) slotKey(s *kslot) string {
	if s.b>>56 == 0xff {
		return unsafe.String(&k.arena[s.a], int(s.b&^longKey))
	}
	var buf [16]byte
	binary.LittleEndian.PutUint64(buf[:8], s.a)
	binary.LittleEndian.PutUint64(buf[8:], s.b)
	return string(buf[:buf[15]])
}

func tagOf(h uint64) uint32 { return uint32(h>>32) | 1 }

func (k *keyIndex) hashStr(s string) uint64 { return maphash.String(k.seed, s) }

func (k *keyIndex) hashInt(v int64) uint64 { return maphash.Comparable(k.seed, v) }

// findStr returns the id of key s with hash h, inserting it if new.
func (k *keyIndex) findStr(s string, h uint64) uint32 {
	tag := tagOf(h)
	a, b, short := inline(s)
	for i := h & k.mask; ; i = (i + 1) & k.mask {
		sl := &k.slots[i]
		if sl.tag == 0 {
			return k.insertAt(i, tag, s, a, b, short, 0)
		}
		if sl.tag != tag {
			continue
		}
		if short {
			if sl.a == a && sl.b == b {
				return sl.id
			}
		} else if sl.b>>56 == 0xff && int(sl.b&^longKey) == len(s) && string(k.arena[sl.a:sl.a+uint64(len(s))]) == s {
			return sl.id
		}
	}
}

func (k *keyIndex) findInt(v int64, h uint64) uint32 {
	tag := tagOf(h)
	for i := h & k.mask; ; i = (i + 1) & k.mask {
		sl := &k.slots[i]
		if sl.tag == 0 {
			return k.insertAt(i, tag, "", uint64(v), 0, true, 0)
		}
		if sl.tag == tag && sl.a == uint64(v) {
			return sl.id
		}
	}
}

// insertAt stores a new key in empty slot i and returns its new id (or id
// when restoring, with fixed >0 meaning id fixed-1).
func (k *keyIndex) insertAt(i uint64, tag uint32, s string, a, b uint64, short bool, fixed uint32) uint32 {
	id := fixed - 1
	if fixed == 0 {
		id = k.n
		k.n++
	}
	sl := kslot{tag: tag, id: id, a: a, b: b}
	if !short {
		sl.a, sl.b = uint64(len(k.arena)), uint64(len(s))|longKey
		k.arena = append(k.arena, s...)
	}
	k.slots[i] = sl
	k.used++
	if k.used*4 > len(k.slots)*3 {
		k.grow()
	}
	return id
}

func (k *keyIndex) grow() {
	old := k.slots
	k.slots = make([]kslot, 2*len(old))
	k.mask = uint64(len(k.slots) - 1)
	for _, sl := range old {
		if sl.tag == 0 {
			continue
		}
		var h uint64
		if k.str {
			h = k.hashStr(k.slotKey(&sl))
		} else {
			h = k.hashInt(int64(sl.a))
		}
		sl.tag = tagOf(h)
		i := h & k.mask
		for k.slots[i].tag != 0 {
			i = (i + 1) & k.mask
		}
		k.slots[i] = sl
	}
}

func (k *keyIndex) nullGroup() uint32 {
	if k.nullID == 0 {
		k.nullID = k.n + 1
		k.n++
	}
	return k.nullID - 1
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
	k.hashes = slices.Grow(k.hashes[:0], n)[:n]
	g, hs := k.gids, k.hashes
	switch c := col.(type) {
	case *array.String:
		for i := range n {
			hs[i] = k.hashStr(c.Value(i))
		}
		for i := range n {
			k.touch(hs, i)
			if c.IsNull(i) {
				g[i] = k.nullGroup()
			} else {
				g[i] = k.findStr(c.Value(i), hs[i])
			}
		}
		return g
	case *array.Binary:
		for i := range n {
			b := c.Value(i)
			if c.IsNull(i) {
				g[i] = k.nullGroup()
			} else {
				s := unsafe.String(unsafe.SliceData(b), len(b))
				g[i] = k.findStr(s, k.hashStr(s))
			}
		}
		return g
	}
	vals := k.hashes // integer keys, reusing the hash scratch
	switch c := col.(type) {
	case *array.Int64:
		for i, v := range c.Int64Values() {
			vals[i] = uint64(v)
		}
	case *array.Int32:
		for i, v := range c.Int32Values() {
			vals[i] = uint64(int64(v))
		}
	case *array.Float64:
		for i, v := range c.Float64Values() {
			vals[i] = uint64(floatKey(v))
		}
	case *array.Float32:
		for i, v := range c.Float32Values() {
			vals[i] = uint64(floatKey(float64(v)))
		}
	case *array.Boolean:
		for i := range n {
			vals[i] = 0
			if c.Value(i) {
				vals[i] = 1
			}
		}
	}
	for i := range n {
		if col.IsNull(i) {
			g[i] = k.nullGroup()
		} else {
			g[i] = k.findInt(int64(vals[i]), k.hashInt(int64(vals[i])))
		}
	}
	return g
}

// touch prefetches the home slot of the key probeAhead rows ahead.
func (k *keyIndex) touch(hs []uint64, i int) {
	if j := i + probeAhead; j < len(hs) {
		prefetch(uintptr(unsafe.Pointer(&k.slots[hs[j]&k.mask])))
	}
}

// bytes returns the memory of the index: slots and arena.
func (k *keyIndex) bytes() int64 {
	return int64(len(k.slots))*int64(unsafe.Sizeof(kslot{})) + int64(cap(k.arena))
}

// restore inserts a key with a known id (state restore).
func (k *keyIndex) restoreStr(s string, id uint32) {
	h := k.hashStr(s)
	a, b, short := inline(s)
	i := h & k.mask
	for k.slots[i].tag != 0 {
		i = (i + 1) & k.mask
	}
	k.insertAt(i, tagOf(h), s, a, b, short, id+1)
}

func (k *keyIndex) restoreInt(v int64, id uint32) {
	h := k.hashInt(v)
	i := h & k.mask
	for k.slots[i].tag != 0 {
		i = (i + 1) & k.mask
	}
	k.insertAt(i, tagOf(h), "", uint64(v), 0, true, id+1)
}

// entries lists the keys (string or integer) with their ids.
func (k *keyIndex) each(f func(s string, v int64, id uint32)) {
	for i := range k.slots {
		sl := &k.slots[i]
		if sl.tag == 0 {
			continue
		}
		if k.str {
			f(k.slotKey(sl), 0, sl.id)
		} else {
			f("", int64(sl.a), sl.id)
		}
	}
}
