package feature

import (
	"math"
	"unsafe"
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
// maintained incrementally. It is a working copy of the first three words
// of the group's record.
type ghdr struct {
	off    uint32 // offset of the chunk in the slab, in words; 0: none yet
	head   uint32
	tail   uint32
	wf     uint32
	capLog uint8 // chunk capacity is 1<<capLog entries
}

// slabReserved words start the slab, so that offset 0 marks a group
// without a chunk.
const slabReserved = 8

// nfFlag marks, in a running count, that the group's window holds NaN or
// infinite values (counted in window.nf).
const nfFlag = 1 << 63

// Group record layout, in 64-bit words: the header (3 words), then per
// aggregated column a running sum (float64 bits or int64), a Neumaier
// compensation and a non-null count (nfFlag in the top bit), then
// per MIN/MAX feature a deque extent (head | tail<<32).
const (
	hdrWords = 3
	colWords = 3
)

// window is the state of all aggregate features sharing a group column, a
// timestamp and a window (width and lateness). Each group has one record of
// gw words in grp (56 bytes for one column with a MIN or MAX), so that a
// row touches one record; the rows themselves live in power-of-two chunks
// of one slab: per entry a timestamp, a null mask and one word per column,
// plus one deque word per MIN/MAX feature.
type window struct {
	w, late int64 // microseconds
	key     *keyIndex
	ts      int // index of the timestamp registration
	cols    []aggCol
	feats   []aggFeat
	stride  int // words per entry: timestamp, null mask, values
	ndq     int
	gw      int // words per group record

	ngroups int
	grp     []uint64
	slab    []uint64
	free    [32][]uint32
	nf      map[uint64]*[3]uint32 // NaN, +Inf, -Inf counts per group and column

	lateRows int64
}

// Prefetch distances, in rows: the group record is touched pfGroup rows
// ahead and the group's newest entry pfRows rows ahead, so the cache misses
// of upcoming rows overlap with the work on the current one.
const (
	pfGroup = 16
	pfRows  = 8
)

// prefetch asks for the state that the rows pfGroup and pfRows ahead of
// row i will need: the group record, then the group's newest entry.
func (w *window) prefetch(gids []uint32, i int) {
	if j := i + pfGroup; j < len(gids) {
		if g := int(gids[j]); g < w.ngroups {
			prefetch(uintptr(unsafe.Pointer(&w.grp[g*w.gw])))
		}
	}
	if j := i + pfRows; j < len(gids) {
		if g := int(gids[j]); g < w.ngroups {
			r := w.grp[g*w.gw:]
			if tail := uint32(r[1] >> 32); tail > 0 {
				prefetch(uintptr(unsafe.Pointer(&w.slab[int(uint32(r[0]))+int(tail-1)*w.stride])))
			}
		}
	}
}

func newWindow(w, late int64, key *keyIndex, ts int) *window {
	return &window{w: w, late: late, key: key, ts: ts, nf: map[uint64]*[3]uint32{}}
}

func (w *window) finish() {
	w.stride = 2 + len(w.cols)
	w.gw = hdrWords + colWords*len(w.cols) + w.ndq
}

func (w *window) ensure(g uint32) {
	n := int(g) + 1
	if n <= w.ngroups {
		return
	}
	need := n * w.gw
	if need > cap(w.grp) {
		ng := make([]uint64, len(w.grp), max(need, 2*cap(w.grp)))
		copy(ng, w.grp)
		w.grp = ng
	}
	w.grp = w.grp[:need]
	w.ngroups = n
}

func (w *window) loadHdr(g uint32) ghdr {
	r := w.grp[int(g)*w.gw:]
	return ghdr{off: uint32(r[0]), capLog: uint8(r[0] >> 32), head: uint32(r[1]), tail: uint32(r[1] >> 32), wf: uint32(r[2])}
}

func (w *window) storeHdr(g uint32, h *ghdr) {
	r := w.grp[int(g)*w.gw:]
	r[0] = uint64(h.off) | uint64(h.capLog)<<32
	r[1] = uint64(h.head) | uint64(h.tail)<<32
	r[2] = uint64(h.wf)
}

// colRec returns the index in grp of column c's running state of group g.
func (w *window) colRec(g uint32, c int) int { return int(g)*w.gw + hdrWords + colWords*c }

// dqRec returns the index in grp of deque d's extent of group g.
func (w *window) dqRec(g uint32, d int) int {
	return int(g)*w.gw + hdrWords + colWords*len(w.cols) + d
}

func (w *window) dqGet(g uint32, d int) (head, tail uint32) {
	v := w.grp[w.dqRec(g, d)]
	return uint32(v), uint32(v >> 32)
}

func (w *window) dqSet(g uint32, d int, head, tail uint32) {
	w.grp[w.dqRec(g, d)] = uint64(head) | uint64(tail)<<32
}

func (w *window) chunkWords(capLog uint8) int { return (1 << capLog) * (w.stride + w.ndq) }

func (w *window) alloc(capLog uint8) uint32 {
	if fl := w.free[capLog]; len(fl) > 0 {
		off := fl[len(fl)-1]
		w.free[capLog] = fl[:len(fl)-1]
		return off
	}
	if len(w.slab) == 0 {
		w.slab = make([]uint64, slabReserved, 1024) // offset 0 means "no chunk"
	}
	off := len(w.slab)
	words := w.chunkWords(capLog)
	if uint64(off)+uint64(words) > math.MaxUint32 {
		panic("feature: window state exceeds 2^32 words")
	}
	if cap(w.slab)-off < words {
		ns := make([]uint64, off, cap(w.slab)+cap(w.slab)/4+words) // 1.25x: less slack

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
// Small chunks compact in place whenever their head has room; larger ones
// grow when more than half full, which keeps the copying amortized O(1).
func (w *window) makeRoom(g uint32, h *ghdr) {
	n := h.tail - h.head
	c := uint32(1) << h.capLog
	newLog := h.capLog
	switch {
	case n == c || (n+1 > c/2 && c > 8):
		newLog++
	case n+1 <= c/4 && h.capLog > 0:
		newLog--
	}
	nh := *h
	if newLog != h.capLog {
		nh = ghdr{off: w.alloc(newLog), capLog: newLog}
	}
	copy(w.slab[w.entry(&nh, 0):], w.slab[w.entry(h, h.head):w.entry(h, h.tail)])
	for d := 0; d < w.ndq; d++ {
		ob, nb := w.dqBase(h, d), w.dqBase(&nh, d)
		dh, dt := w.dqGet(g, d)
		m := dt - dh
		for j := uint32(0); j < m; j++ {
			w.slab[nb+int(j)] = w.slab[ob+int(dh+j)] - uint64(h.head)
		}
		w.dqSet(g, d, 0, m)
	}
	if newLog != h.capLog {
		w.free[h.capLog] = append(w.free[h.capLog], h.off)
		h.off, h.capLog = nh.off, newLog
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

// nfAdd counts a NaN or infinite value in or out of the running state at
// grp index k.
func (w *window) nfAdd(k int, x float64, delta int32) {
	key := uint64(k)
	e := w.nf[key]
	if e == nil {
		e = new([3]uint32)
		w.nf[key] = e
		w.grp[k+2] |= nfFlag
	}
	e[nfSlot(x)] = uint32(int32(e[nfSlot(x)]) + delta)
	if e[0] == 0 && e[1] == 0 && e[2] == 0 {
		delete(w.nf, key)
		w.grp[k+2] &^= nfFlag
	}
}

// run adds (sign +1) or removes (sign -1) entry e to or from the group's
// running sums and counts.
func (w *window) run(g uint32, h *ghdr, e uint32, sign int) {
	p := w.entry(h, e)
	mask := w.slab[p+1]
	for c := range w.cols {
		if mask&(1<<c) != 0 {
			continue
		}
		k := w.colRec(g, c)
		r := w.grp[k : k+3]
		v := w.slab[p+2+c]
		if sign > 0 {
			r[2]++
		} else {
			r[2]--
		}
		switch w.cols[c].kind {
		case ckFloat:
			x := math.Float64frombits(v)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				w.nfAdd(k, x, int32(sign))
			} else {
				if sign < 0 {
					x = -x
				}
				s, cc := nsum(math.Float64frombits(r[0]), math.Float64frombits(r[1]), x)
				r[0], r[1] = math.Float64bits(s), math.Float64bits(cc)
			}
		case ckInt:
			if sign > 0 {
				r[0] += v
			} else {
				r[0] -= v
			}
		}
		if sign < 0 && r[2]&^nfFlag == 0 {
			r[0], r[1] = 0, 0
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
func dominates(kind colKind, op Op, v, u uint64) bool {
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
		dh, dt := w.dqGet(g, f.dq)
		b := w.dqBase(h, f.dq)
		x := w.value(h, e, f.col)
		kind := w.cols[f.col].kind
		for dt > dh && dominates(kind, f.op, x, w.value(h, uint32(w.slab[b+int(dt-1)]), f.col)) {
			dt--
		}
		w.slab[b+int(dt)] = uint64(e)
		w.dqSet(g, f.dq, dh, dt+1)
	}
}

// dqPopFront drops deque entries that left the running window.
func (w *window) dqPopFront(g uint32, h *ghdr) {
	for k := 0; k < w.ndq; k++ {
		dh, dt := w.dqGet(g, k)
		b := w.dqBase(h, k)
		h0 := dh
		for dt > dh && uint32(w.slab[b+int(dh)]) < h.wf {
			dh++
		}
		if dh != h0 {
			w.dqSet(g, k, dh, dt)
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
		dh, dt := w.dqGet(g, f.dq)
		b := w.dqBase(h, f.dq)
		x := w.value(h, e, f.col)
		kind := w.cols[f.col].kind
		// q: first deque position whose entry is later than e.
		lo, hi := dh, dt
		for lo < hi {
			m := (lo + hi) / 2
			if uint32(w.slab[b+int(m)]) > e {
				hi = m
			} else {
				lo = m + 1
			}
		}
		q := lo
		if q < dt && dominates(kind, f.op, w.value(h, uint32(w.slab[b+int(q)]), f.col), x) {
			continue // a later value already dominates x
		}
		// Earlier values that x dominates: positions [j, q).
		j := q
		for j > dh && dominates(kind, f.op, x, w.value(h, uint32(w.slab[b+int(j-1)]), f.col)) {
			j--
		}
		// Replace [j, q) by x.
		removed := q - j
		switch {
		case removed == 0:
			copy(w.slab[b+int(q)+1:b+int(dt)+1], w.slab[b+int(q):b+int(dt)])
			dt++
		case removed > 1:
			copy(w.slab[b+int(j)+1:], w.slab[b+int(q):b+int(dt)])
			dt -= removed - 1
		}
		w.slab[b+int(j)] = uint64(e)
		w.dqSet(g, f.dq, dh, dt)
	}
}

// process runs one row (batch index i) of group g at time t through the
// window and writes the features' values at output row i.
func (w *window) process(g uint32, t int64, i int) {
	w.ensure(g)
	h := w.loadHdr(g)
	defer w.storeHdr(g, &h)
	if h.off == 0 {
		h.off, h.capLog = w.alloc(0), 0
	}
	if h.tail > h.head {
		if maxTs := w.tsAt(&h, h.tail-1); t < maxTs {
			w.outOfOrder(g, &h, t, i, maxTs)
			return
		}
	}
	lo := t - w.w
	for h.wf < h.tail && w.tsAt(&h, h.wf) < lo {
		w.run(g, &h, h.wf, -1)
		h.wf++
	}
	rlo := lo - w.late
	for h.head < h.wf && w.tsAt(&h, h.head) < rlo {
		h.head++
	}
	if w.ndq > 0 {
		w.dqPopFront(g, &h)
	}
	if h.tail == 1<<h.capLog {
		w.makeRoom(g, &h)
	}
	e := h.tail
	w.writeEntry(&h, e, t, i)
	h.tail++
	w.run(g, &h, e, +1)
	if w.ndq > 0 {
		w.dqPush(g, &h, e)
	}
	w.emitRunning(g, &h, i)
}

// floatSum returns the running sum of the column record at grp index k.
func (w *window) floatSum(k int) float64 {
	if w.grp[k+2]&nfFlag != 0 {
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
	return math.Float64frombits(w.grp[k]) + math.Float64frombits(w.grp[k+1])
}

func (w *window) emitRunning(g uint32, h *ghdr, i int) {
	for fi := range w.feats {
		f := &w.feats[fi]
		k := w.colRec(g, f.col)
		cnt := w.grp[k+2] &^ nfFlag
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
				o.i[i] = int64(w.grp[k])
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
				o.f[i] = float64(int64(w.grp[k])) / float64(cnt)
			} else {
				o.f[i] = w.floatSum(k) / float64(cnt)
			}
			o.valid[i] = true
			continue
		default: // MIN, MAX
			dh, dt := w.dqGet(g, f.dq)
			if dt == dh {
				break
			}
			v := w.value(h, uint32(w.slab[w.dqBase(h, f.dq)+int(dh)]), f.col)
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
		dh, dt := w.dqGet(g, k)
		b := w.dqBase(h, k)
		for j := dh; j < dt; j++ {
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
			if f.dq >= 0 && (!have || dominates(col.kind, f.op, v, best)) {
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

// stateBytes returns the bytes of the group records (and non-finite
// counters) and of the row slab (with free lists).
func (w *window) stateBytes() (groups, rows int64) {
	groups = int64(w.ngroups)*int64(w.gw)*8 + int64(len(w.nf))*(8+8+12)
	rows = int64(cap(w.slab)) * 8
	for _, fl := range w.free {
		rows += int64(cap(fl)) * 4
	}
	return groups, rows
}

func mathBits(f float64) uint64 { return math.Float64bits(f) }
func mathFrom(u uint64) float64 { return math.Float64frombits(u) }
