package feature

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// noGroup marks a key the index has never seen.
const noGroup = ^uint32(0)

// peekIDs maps every row of col to its group id without creating groups:
// unseen keys get noGroup.
func (k *keyIndex) peekIDs(col arrow.Array) []uint32 {
	n := col.Len()
	g := make([]uint32, n)
	for i := range n {
		g[i] = noGroup
		if col.IsNull(i) {
			if k.nullID > 0 {
				g[i] = k.nullID - 1
			}
			continue
		}
		switch c := col.(type) {
		case *array.String:
			g[i] = k.peekStr(c.Value(i))
		case *array.Binary:
			b := c.Value(i)
			g[i] = k.peekStr(unsafe.String(unsafe.SliceData(b), len(b)))
		case *array.Int64:
			g[i] = k.peekInt(c.Value(i))
		case *array.Int32:
			g[i] = k.peekInt(int64(c.Value(i)))
		case *array.Float64:
			g[i] = k.peekInt(floatKey(c.Value(i)))
		case *array.Float32:
			g[i] = k.peekInt(floatKey(float64(c.Value(i))))
		case *array.Boolean:
			var v int64
			if c.Value(i) {
				v = 1
			}
			g[i] = k.peekInt(v)
		}
	}
	return g
}

func (k *keyIndex) peekStr(s string) uint32 {
	h := k.hashStr(s)
	tag := tagOf(h)
	a, b, short := inline(s)
	for i := h & k.mask; ; i = (i + 1) & k.mask {
		sl := &k.slots[i]
		switch {
		case sl.tag == 0:
			return noGroup
		case sl.tag != tag:
		case short:
			if sl.a == a && sl.b == b {
				return sl.id
			}
		case sl.b>>56 == 0xff && int(sl.b&^longKey) == len(s) && string(k.arena[sl.a:sl.a+uint64(len(s))]) == s:
			return sl.id
		}
	}
}

func (k *keyIndex) peekInt(v int64) uint32 {
	h := k.hashInt(v)
	tag := tagOf(h)
	for i := h & k.mask; ; i = (i + 1) & k.mask {
		sl := &k.slots[i]
		if sl.tag == 0 {
			return noGroup
		}
		if sl.tag == tag && sl.a == uint64(v) {
			return sl.id
		}
	}
}

// peek writes at output row i the features a row of group g at time t
// would get if it arrived now, without changing the window: the retained
// rows of g with timestamps in [t-W, t], plus the row itself.
func (w *window) peek(g uint32, t int64, i int) {
	var h ghdr
	lo, hi := uint32(0), uint32(0)
	if g != noGroup && int(g) < w.ngroups {
		if h = w.loadHdr(g); h.off != 0 {
			lo, hi = w.search(&h, t-w.w, false), w.search(&h, t, true)
		}
	}
	w.emitScan(&h, lo, hi, i)
}

// Peek computes the feature values that rec's rows would get if each of
// them were the next row processed, without changing the window state or
// the counters: rows of one Peek do not see each other. For an aggregate
// that is the retained rows of the row's group with timestamps in [t-W, t]
// plus the row itself: exactly Process's value for rows that are not late
// (float SUM and AVG may differ in the last bits: Process keeps a running
// sum, Peek adds up the window). rec has the dataset schema, as for Process.
// Peek shares scratch space with Process: callers serialize the two
// (Materializer.Peek does). It serves synchronous predictions.
func (p *Pipeline) Peek(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	if err := p.checkBatch(rec); err != nil {
		return nil, err
	}
	n := int(rec.NumRows())
	for _, o := range p.outs {
		o.reset(n)
	}
	if len(p.windows) > 0 {
		for _, t := range p.timestamps {
			if t.used {
				t.vals, t.valid = t.p.column(rec.Column(t.col), t.vals, t.valid)
			}
		}
		gids := make(map[*keyIndex][]uint32, len(p.keys))
		for _, k := range p.keys {
			gids[k] = k.peekIDs(rec.Column(k.col))
		}
		for _, w := range p.windows {
			for c := range w.cols {
				fillAggCol(&w.cols[c], rec.Column(w.cols[c].src))
			}
			ts := p.timestamps[w.ts]
			g := gids[w.key]
			for i := range n {
				if ts.valid[i] {
					w.peek(g[i], ts.vals[i], i)
				}
			}
		}
	}
	return p.finishBatch(rec, n), nil
}
