package feature

import (
	"math"
)

// colKind says how an aggregated column's values are stored.
type colKind uint8

const (
	ckFloat colKind = iota // float64 bits
	ckInt                  // int64
	ckCount                // only validity matters (COUNT of any type)
)

// aggCol is one aggregated input column of a window; vals and valid are
// filled per batch.
type aggCol struct {
	src   int
	kind  colKind
	vals  []uint64
	valid []bool
}

// aggFeat is one aggregate feature computed over a window.
type aggFeat struct {
	op  Op
	col int // index into window.cols
	dq  int // deque index for MIN/MAX, else -1
	out *outBuf
}

// ghdr locates a group's rows in the slab. Entries [head, tail) of the
// group's chunk are retained, sorted by timestamp (ties in arrival order);
// entries [wf, tail) form the running window whose sums and deques are
// maintained incrementally.
type ghdr struct {
	off    uint32 // offset of the chunk in the slab, in words
	head   uint32
	tail   uint32
	wf     uint32
	capLog uint8 // chunk capacity is 1<<capLog entries; 0: no chunk yet
}

// dqh is the extent [head, tail) of one monotonic deque of entry indices.
type dqh struct{ head, tail uint32 }

// nfFlag marks, in a running count, that the group's window holds NaN or
// infinite values (counted in window.nf).
const nfFlag = 1 << 31

// window is the state of all aggregate features sharing a group column, a
// timestamp and a window (width and lateness). Per group it keeps a header
// (20 bytes), per aggregated column a running sum, compensation and count
// (20 bytes) and per MIN/MAX feature a deque extent (8 bytes); the rows
// themselves live in power-of-two chunks of one slab: a timestamp, a null
// mask and one word per column, plus one deque word per MIN/MAX feature.
type window struct {
	w, late int64 // microseconds
	key     *keyIndex
	ts      int // index of the timestamp registration
	cols    []aggCol
	feats   []aggFeat
	stride  int // words per entry: timestamp, null mask, values
	ndq     int

	hdr   []ghdr
	sums  []uint64  // per group and column: float64 bits or int64
	comps []float64 // per group and column: Neumaier compensation
	cnts  []uint32  // per group and column: non-null count | nfFlag
	dqs   []dqh     // per group and deque
	slab  []uint64
	free  [32][]uint32
	nf    map[uint64]*[3]uint32 // NaN, +Inf, -Inf counts per group and column

	lateRows int64
}

func newWindow(w, late int64, key *keyIndex, ts int) *window {
	return &window{w: w, late: late, key: key, ts: ts, nf: map[uint64]*[3]uint32{}}
}

func (w *window) finish() {
	w.stride = 2 + len(w.cols)
}

func (w *window) ensure(g uint32) {
	n := int(g) + 1
	if n <= len(w.hdr) {
		return
	}
	grow := n - len(w.hdr)
	nc, nd := len(w.cols), w.ndq
	w.hdr = append(w.hdr, make([]ghdr, grow)...)
	w.sums = append(w.sums, make([]uint64, grow*nc)...)
	w.comps = append(w.comps, make([]float64, grow*nc)...)
	w.cnts = append(w.cnts, make([]uint32, grow*nc)...)
	w.dqs = append(w.dqs, make([]dqh, grow*nd)...)
}

func (w *window) chunkWords(capLog uint8) int { return (1 << capLog) * (w.stride + w.ndq) }

func (w *window) alloc(capLog uint8) uint32 {
	if fl := w.free[capLog]; len(fl) > 0 {
		off := fl[len(fl)-1]
		w.free[capLog] = fl[:len(fl)-1]
		return off
	}
	off := len(w.slab)
	words := w.chunkWords(capLog)
	if off+words > math.MaxUint32 {
		panic("feature: window state exceeds 2^32 words")
	}
	if cap(w.slab)-off < words {
		ns := make([]uint64, off, 2*cap(w.slab)+words)
		copy(ns, w.slab)
		w.slab = ns
	}
	w.slab = w.slab[:off+words]
	return uint32(off)
}

func (w *window) entry(h *ghdr, i uint32) int { return int(h.off) + int(i)*w.stride }

func (w *window) tsAt(h *ghdr, i uint32) int64 { return int64(w.slab[w.entry(h, i)]) }

// dqBase returns the slab offset of deque d of a group.
func (w *window) dqBase(h *ghdr, d int) int {
	c := 1 << h.capLog
	return int(h.off) + c*w.stride + d*c
}

// makeRoom frees a slot at the end of a full chunk: it moves the retained
// entries to the front of the chunk, or to a chunk twice (or half) as big.
func (w *window) makeRoom(g uint32, h *ghdr) {
	n := h.tail - h.head
	c := uint32(1) << h.capLog
	newLog := h.capLog
	switch {
	case n+1 > c/2:
		newLog++
	case n+1 <= c/4 && h.capLog > 1:
		newLog--
	}
	dq := w.dqs[int(g)*w.ndq : int(g)*w.ndq+w.ndq]
	if newLog == h.capLog {
		base := int(h.off)
		copy(w.slab[base:], w.slab[w.entry(h, h.head):w.entry(h, h.tail)])
		for d := range dq {
			b := w.dqBase(h, d)
			m := dq[d].tail - dq[d].head
			for j := uint32(0); j < m; j++ {
				w.slab[b+int(j)] = w.slab[b+int(dq[d].head+j)] - uint64(h.head)
			}
			dq[d] = dqh{0, m}
		}
	} else {
		off := w.alloc(newLog)
		nh := ghdr{off: off, capLog: newLog}
		copy(w.slab[w.entry(&nh, 0):], w.slab[w.entry(h, h.head):w.entry(h, h.tail)])
		for d := range dq {
			ob, nb := w.dqBase(h, d), w.dqBase(&nh, d)
			m := dq[d].tail - dq[d].head
			for j := uint32(0); j < m; j++ {
				w.slab[nb+int(j)] = w.slab[ob+int(dq[d].head+j)] - uint64(h.head)
			}
			dq[d] = dqh{0, m}
		}
		w.free[h.capLog] = append(w.free[h.capLog], h.off)
		h.off, h.capLog = off, newLog
	}
	h.wf -= h.head
	h.tail = n
	h.head = 0
}

// writeEntry stores row i of the batch at entry index e.
func (w *window) writeEntry(h *ghdr, e uint32, t int64, i int) {
	p := w.entry(h, e)
	w.slab[p] = uint64(t)
	var mask uint64
	for c := range w.cols {
		col := &w.cols[c]
		if !col.valid[i] {
			mask |= 1 << c
			w.slab[p+2+c] = 0
		} else {
			w.slab[p+2+c] = col.vals[i]
		}
	}
	w.slab[p+1] = mask
}

func nsum(s, c, x float64) (float64, float64) {
	t := s + x
	if math.Abs(s) >= math.Abs(x) {
		c += (s - t) + x
	} else {
		c += (x - t) + s
	}
	return t, c
}

func nfSlot(x float64) int {
	switch {
	case x != x:
		return 0
	case x > 0:
		return 1
	}
	return 2
}

func (w *window) nfAdd(k int, x float64, delta int32) {
	key := uint64(k)
	e := w.nf[key]
	if e == nil {
		e = new([3]uint32)
		w.nf[key] = e
		w.cnts[k] |= nfFlag
	}
	e[nfSlot(x)] = uint32(int32(e[nfSlot(x)]) + delta)
	if e[0] == 0 && e[1] == 0 && e[2] == 0 {
		delete(w.nf, key)
		w.cnts[k] &^= nfFlag
	}
}

// run adds (sign +1) or removes (sign -1) entry e to or from the group's
// running sums and counts.
func (w *window) run(g uint32, h *ghdr, e uint32, sign int) {
	p := w.entry(h, e)
	mask := w.slab[p+1]
	nc := len(w.cols)
	for c := range w.cols {
		if mask&(1<<c) != 0 {
			continue
		}
		k := int(g)*nc + c
		v := w.slab[p+2+c]
		if sign > 0 {
			w.cnts[k]++
		} else {
			w.cnts[k]--
		}
		switch w.cols[c].kind {
		case ckFloat:
			x := math.Float64frombits(v)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				w.nfAdd(k, x, int32(sign))
			} else if sign > 0 {
				s, cc := nsum(math.Float64frombits(w.sums[k]), w.comps[k], x)
				w.sums[k], w.comps[k] = math.Float64bits(s), cc
			} else {
				s, cc := nsum(math.Float64frombits(w.sums[k]), w.comps[k], -x)
				w.sums[k], w.comps[k] = math.Float64bits(s), cc
			}
		case ckInt:
			if sign > 0 {
				w.sums[k] += v
			} else {
				w.sums[k] -= v
			}
		}
		if sign < 0 && w.cnts[k]&^nfFlag == 0 {
			w.sums[k], w.comps[k] = 0, 0
		}
	}
}

// gtf orders floats with NaN above everything, as DuckDB does.
func gtf(a, b float64) bool {
	if a != a {
		return b == b
	}
	return a > b
}

// dominates reports whether a later value v makes an earlier value u
// useless for the deque of op.
func (w *window) dominates(kind colKind, op Op, v, u uint64) bool {
	if kind == ckInt {
		a, b := int64(v), int64(u)
		if op == OpMax {
			return a >= b
		}
		return a <= b
	}
	a, b := math.Float64frombits(v), math.Float64frombits(u)
	if op == OpMax {
		return !gtf(b, a)
	}
	return !gtf(a, b)
}

func (w *window) value(h *ghdr, e uint32, c int) uint64 { return w.slab[w.entry(h, e)+2+c] }

func (w *window) isNull(h *ghdr, e uint32, c int) bool {
	return w.slab[w.entry(h, e)+1]&(1<<c) != 0
}

// dqPush appends entry e (the newest) to the MIN/MAX deques.
func (w *window) dqPush(g uint32, h *ghdr, e uint32) {
	for fi := range w.feats {
		f := &w.feats[fi]
		if f.dq < 0 || w.isNull(h, e, f.col) {
			continue
		}
		d := &w.dqs[int(g)*w.ndq+f.dq]
		b := w.dqBase(h, f.dq)
		x := w.value(h, e, f.col)
		kind := w.cols[f.col].kind
		for d.tail > d.head && w.dominates(kind, f.op, x, w.value(h, uint32(w.slab[b+int(d.tail-1)]), f.col)) {
			d.tail--
		}
		w.slab[b+int(d.tail)] = uint64(e)
		d.tail++
	}
}

// dqPopFront drops deque entries that left the running window.
func (w *window) dqPopFront(g uint32, h *ghdr) {
	for k := 0; k < w.ndq; k++ {
		d := &w.dqs[int(g)*w.ndq+k]
		b := w.dqBase(h, k)
		for d.tail > d.head && uint32(w.slab[b+int(d.head)]) < h.wf {
			d.head++
		}
	}
}

// dqInsert puts entry e, inserted out of order inside the running window,
// into the MIN/MAX deques. Deque indices >= e were already shifted.
func (w *window) dqInsert(g uint32, h *ghdr, e uint32) {
	for fi := range w.feats {
		f := &w.feats[fi]
		if f.dq < 0 || w.isNull(h, e, f.col) {
			continue
		}
		d := &w.dqs[int(g)*w.ndq+f.dq]
		b := w.dqBase(h, f.dq)
		x := w.value(h, e, f.col)
		kind := w.cols[f.col].kind
		// q: first deque position whose entry is later than e.
		lo, hi := d.head, d.tail
		for lo < hi {
			m := (lo + hi) / 2
			if uint32(w.slab[b+int(m)]) > e {
				hi = m
			} else {
				lo = m + 1
			}
		}
		q := lo
		if q < d.tail && w.dominates(kind, f.op, w.value(h, uint32(w.slab[b+int(q)]), f.col), x) {
			continue // a later value already dominates x
		}
		// Earlier values that x dominates: positions [j, q).
		j := q
		for j > d.head && w.dominates(kind, f.op, x, w.value(h, uint32(w.slab[b+int(j-1)]), f.col)) {
			j--
		}
		// Replace [j, q) by x.
		removed := q - j
		switch {
		case removed == 0:
			copy(w.slab[b+int(q)+1:b+int(d.tail)+1], w.slab[b+int(q):b+int(d.tail)])
			d.tail++
		case removed > 1:
			copy(w.slab[b+int(j)+1:], w.slab[b+int(q):b+int(d.tail)])
			d.tail -= removed - 1
		}
		w.slab[b+int(j)] = uint64(e)
	}
}

// process runs one row (batch index i) of group g at time t through the
// window and writes the features' values at output row i.
func (w *window) process(g uint32, t int64, i int) {
	w.ensure(g)
	h := &w.hdr[g]
	if h.capLog == 0 {
		h.off, h.capLog = w.alloc(1), 1
	}
	if h.tail > h.head {
		if maxTs := w.tsAt(h, h.tail-1); t < maxTs {
			w.outOfOrder(g, h, t, i, maxTs)
			return
		}
	}
	lo := t - w.w
	for h.wf < h.tail && w.tsAt(h, h.wf) < lo {
		w.run(g, h, h.wf, -1)
		h.wf++
	}
	rlo := lo - w.late
	for h.head < h.wf && w.tsAt(h, h.head) < rlo {
		h.head++
	}
	if w.ndq > 0 {
		w.dqPopFront(g, h)
	}
	if h.tail == 1<<h.capLog {
		w.makeRoom(g, h)
	}
	e := h.tail
	w.writeEntry(h, e, t, i)
	h.tail++
	w.run(g, h, e, +1)
	if w.ndq > 0 {
		w.dqPush(g, h, e)
	}
	w.emitRunning(g, h, i)
}

func (w *window) floatSum(k int) float64 {
	if w.cnts[k]&nfFlag != 0 {
		e := w.nf[uint64(k)]
		switch {
		case e[0] > 0 || (e[1] > 0 && e[2] > 0):
			return math.NaN()
		case e[1] > 0:
			return math.Inf(1)
		default:
			return math.Inf(-1)
		}
	}
	return math.Float64frombits(w.sums[k]) + w.comps[k]
}

func (w *window) emitRunning(g uint32, h *ghdr, i int) {
	nc := len(w.cols)
	for fi := range w.feats {
		f := &w.feats[fi]
		k := int(g)*nc + f.col
		cnt := w.cnts[k] &^ nfFlag
		o := f.out
		kind := w.cols[f.col].kind
		switch f.op {
		case OpCount:
			o.i[i], o.valid[i] = int64(cnt), true
			continue
		case OpSum:
			if cnt == 0 {
				break
			}
			if kind == ckInt {
				o.i[i] = int64(w.sums[k])
			} else {
				o.f[i] = w.floatSum(k)
			}
			o.valid[i] = true
			continue
		case OpAvg:
			if cnt == 0 {
				break
			}
			if kind == ckInt {
				o.f[i] = float64(int64(w.sums[k])) / float64(cnt)
			} else {
				o.f[i] = w.floatSum(k) / float64(cnt)
			}
			o.valid[i] = true
			continue
		default: // MIN, MAX
			d := w.dqs[int(g)*w.ndq+f.dq]
			if d.tail == d.head {
				break
			}
			v := w.value(h, uint32(w.slab[w.dqBase(h, f.dq)+int(d.head)]), f.col)
			if kind == ckInt {
				o.i[i] = int64(v)
			} else {
				o.f[i] = math.Float64frombits(v)
			}
			o.valid[i] = true
			continue
		}
		o.valid[i] = false
	}
}

// search returns the first entry index in [h.head, h.tail) whose timestamp
// is >= t (strict false) or > t (strict true).
func (w *window) search(h *ghdr, t int64, strict bool) uint32 {
	lo, hi := h.head, h.tail
	for lo < hi {
		m := (lo + hi) / 2
		ts := w.tsAt(h, m)
		if ts > t || (!strict && ts == t) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// outOfOrder handles a row older than its group's newest row.
func (w *window) outOfOrder(g uint32, h *ghdr, t int64, i int, maxTs int64) {
	if t < maxTs-w.late {
		w.lateRows++
	}
	retain := t >= maxTs-w.w-w.late
	if retain && h.tail == 1<<h.capLog {
		w.makeRoom(g, h)
	}
	lo := w.search(h, t-w.w, false)
	p := w.search(h, t, true)
	w.emitScan(h, lo, p, i)
	if !retain {
		return
	}
	// Insert at p.
	copy(w.slab[w.entry(h, p+1):w.entry(h, h.tail+1)], w.slab[w.entry(h, p):w.entry(h, h.tail)])
	w.writeEntry(h, p, t, i)
	h.tail++
	for k := 0; k < w.ndq; k++ {
		d := w.dqs[int(g)*w.ndq+k]
		b := w.dqBase(h, k)
		for j := d.head; j < d.tail; j++ {
			if uint32(w.slab[b+int(j)]) >= p {
				w.slab[b+int(j)]++
			}
		}
	}
	if t >= maxTs-w.w {
		w.run(g, h, p, +1)
		if w.ndq > 0 {
			w.dqInsert(g, h, p)
		}
	} else {
		h.wf++
	}
}

// emitScan computes the features of row i from entries [lo, hi) plus the
// row itself.
func (w *window) emitScan(h *ghdr, lo, hi uint32, i int) {
	for fi := range w.feats {
		f := &w.feats[fi]
		col := &w.cols[f.col]
		var (
			cnt       int64
			s, c      float64
			is        uint64
			nan, pinf bool
			ninf      bool
			best      uint64
			have      bool
		)
		add := func(v uint64) {
			cnt++
			switch col.kind {
			case ckFloat:
				x := math.Float64frombits(v)
				switch {
				case x != x:
					nan = true
				case math.IsInf(x, 1):
					pinf = true
				case math.IsInf(x, -1):
					ninf = true
				default:
					s, c = nsum(s, c, x)
				}
			case ckInt:
				is += v
			}
			if f.dq >= 0 && (!have || w.dominates(col.kind, f.op, v, best)) {
				best, have = v, true
			}
		}
		for e := lo; e < hi; e++ {
			if !w.isNull(h, e, f.col) {
				add(w.value(h, e, f.col))
			}
		}
		if col.valid[i] {
			add(col.vals[i])
		}
		o := f.out
		if f.op == OpCount {
			o.i[i], o.valid[i] = cnt, true
			continue
		}
		o.valid[i] = cnt > 0
		if cnt == 0 {
			continue
		}
		fsum := s + c
		switch {
		case nan || (pinf && ninf):
			fsum = math.NaN()
		case pinf:
			fsum = math.Inf(1)
		case ninf:
			fsum = math.Inf(-1)
		}
		switch f.op {
		case OpSum:
			if col.kind == ckInt {
				o.i[i] = int64(is)
			} else {
				o.f[i] = fsum
			}
		case OpAvg:
			if col.kind == ckInt {
				o.f[i] = float64(int64(is)) / float64(cnt)
			} else {
				o.f[i] = fsum / float64(cnt)
			}
		default:
			if col.kind == ckInt {
				o.i[i] = int64(best)
			} else {
				o.f[i] = math.Float64frombits(best)
			}
		}
	}
}

// stateBytes counts the bytes the window's state occupies.
func (w *window) stateBytes() int64 {
	n := int64(len(w.hdr))*20 + int64(len(w.sums))*8 + int64(len(w.comps))*8 +
		int64(len(w.cnts))*4 + int64(len(w.dqs))*8 + int64(cap(w.slab))*8
	for _, fl := range w.free {
		n += int64(cap(fl)) * 4
	}
	return n + int64(len(w.nf))*(8+8+12)
}

func mathBits(f float64) uint64 { return math.Float64bits(f) }
func mathFrom(u uint64) float64 { return math.Float64frombits(u) }
