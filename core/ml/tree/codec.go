package tree

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/ml/drift"
)

// codecVersion prefixes every encoding so the format can evolve.
const codecVersion = 1

// enc appends a deterministic little-endian encoding.
type enc struct{ b []byte }

func (e *enc) u(v uint64)  { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) i(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) f(v float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v)) }
func (e *enc) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// dec reads what enc wrote; the first error sticks. budget is how many
// more per-class and per-feature slots the decoded state may allocate
// (see allocBudget).
type dec struct {
	b      []byte
	err    error
	budget int
	node   int // nodes started so far, to name one in errors
}

// newDec returns a dec reading data with the allocation budget its size
// allows.
func newDec(data []byte) dec { return dec{b: data, budget: allocBudget(len(data))} }

var errTruncated = errors.New("truncated tree encoding")

func (d *dec) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *dec) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errTruncated)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) i() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errTruncated)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) f() float64 {
	if d.err != nil || len(d.b) < 8 {
		d.fail(errTruncated)
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *dec) bool() bool {
	if d.err != nil || len(d.b) < 1 {
		d.fail(errTruncated)
		return false
	}
	v := d.b[0] != 0
	d.b = d.b[1:]
	return v
}

// n reads a count bounded by limit.
func (d *dec) n(limit int) int {
	v := d.u()
	if v > uint64(limit) {
		d.fail(fmt.Errorf("count %d over limit %d", v, limit))
		return 0
	}
	return int(v)
}

// class reads a class index below k.
func (d *dec) class(k int) int { return d.n(k - 1) }

func (d *dec) bytes() []byte {
	n := d.u()
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail(errTruncated)
	}
	if d.err != nil {
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

const maxCount = 1 << 30

func (c *config) encode(e *enc) {
	e.u(uint64(c.nClasses))
	e.u(uint64(c.nNum))
	e.u(uint64(c.nCat))
	e.f(c.gracePeriod)
	e.u(uint64(c.maxDepth))
	e.u(uint64(c.criterion))
	e.f(c.delta)
	e.f(c.tau)
	e.u(uint64(c.leafPred))
	e.f(c.nbThreshold)
	e.u(uint64(c.nSplits))
	e.bool(c.binarySplit)
	e.f(c.minBranchFrac)
	e.f(c.maxShare)
	e.f(c.maxSizeMiB)
	e.u(uint64(c.memPeriod))
	e.bool(c.stopMem)
	e.bool(c.meritPreprune)
}

// split writes a branch's routing: feature, threshold, value, the number
// of children and, for a multiway branch, the value of each child in order.
func (e *enc) split(kind nodeKind, feature int, threshold float64, value int64, valIndex map[int64]int, nChildren int) {
	e.u(uint64(feature))
	e.f(threshold)
	e.i(value)
	e.u(uint64(nChildren))
	if kind == nomMultiBranch {
		vals := make([]int64, nChildren)
		for v, i := range valIndex {
			vals[i] = v
		}
		for _, v := range vals {
			e.i(v)
		}
	}
}

// split reads what enc.split wrote for node id and checks it against the
// inputs (nNum numeric features of nFeat): the child count is returned for
// the caller to read the children.
func (d *dec) split(id int, kind nodeKind, nNum, nFeat int) (feature int, threshold float64, value int64, valIndex map[int64]int, nChildren int) {
	feature = d.index(id, "feature", nFeat)
	threshold = d.f()
	value = d.i()
	nChildren = d.n(maxCount)
	if d.err != nil {
		return
	}
	if err := checkBranch(id, kind, feature, nNum, nChildren, len(d.b)); err != nil {
		d.fail(err)
		return
	}
	if kind == nomMultiBranch {
		valIndex = make(map[int64]int, nChildren)
		for i := range nChildren {
			valIndex[d.i()] = i
		}
		if len(valIndex) != nChildren {
			d.fail(fmt.Errorf("node %d: duplicate branch value", id))
		}
	}
	return
}

func decodeConfig(d *dec) config {
	var c config
	c.nClasses = d.n(1 << 16)
	c.nNum = d.n(maxCount)
	c.nCat = d.n(maxCount)
	c.gracePeriod = d.f()
	c.maxDepth = d.n(math.MaxInt32)
	c.criterion = d.n(critHellinger)
	c.delta = d.f()
	c.tau = d.f()
	c.leafPred = d.n(predNBA)
	c.nbThreshold = d.f()
	c.nSplits = d.n(maxCount)
	c.binarySplit = d.bool()
	c.minBranchFrac = d.f()
	c.maxShare = d.f()
	c.maxSizeMiB = d.f()
	c.memPeriod = d.n(math.MaxInt32)
	c.stopMem = d.bool()
	c.meritPreprune = d.bool()
	if d.err == nil && (c.nClasses < 2 || c.memPeriod < 1 || c.nSplits < 1) {
		d.fail(errors.New("invalid tree config"))
	}
	if d.err == nil {
		d.fail(checkWidths(c.nNum, c.nCat))
	}
	return c
}

func encodeDist(e *enc, cd *classDist) {
	e.u(uint64(len(cd.order)))
	for _, c := range cd.order {
		e.u(uint64(c))
		e.f(cd.w[c])
	}
}

func decodeDist(d *dec, k int) classDist {
	cd := newClassDist(k)
	n := d.n(k)
	for range n {
		c := d.class(k)
		w := d.f()
		if d.err != nil {
			break
		}
		if cd.in[c] {
			d.fail(errors.New("duplicate class in distribution"))
			break
		}
		cd.set(c, w)
	}
	return cd
}

func (t *core) encode(e *enc) {
	e.u(codecVersion)
	t.cfg.encode(e)
	for _, s := range t.classes {
		e.bool(s)
	}
	e.u(uint64(t.nActive))
	e.u(uint64(t.nInactive))
	e.f(t.activeEst)
	e.f(t.inactiveEst)
	e.f(t.overhead)
	e.bool(t.growthAllowed)
	e.f(t.weightSeen)
	e.bool(t.root != nil)
	if t.root != nil {
		t.encodeNode(e, t.root)
	}
}

func (t *core) marshal(dst []byte) []byte {
	e := enc{b: dst}
	t.encode(&e)
	return e.b
}

func decodeCore(d *dec) core {
	if v := d.u(); d.err == nil && v != codecVersion {
		d.fail(fmt.Errorf("unknown tree encoding version %d", v))
	}
	cfg := decodeConfig(d)
	if d.err != nil {
		return core{}
	}
	t := newCore(cfg)
	for c := range t.classes {
		t.classes[c] = d.bool()
	}
	t.nActive = d.n(maxCount)
	t.nInactive = d.n(maxCount)
	t.activeEst = d.f()
	t.inactiveEst = d.f()
	t.overhead = d.f()
	t.growthAllowed = d.bool()
	t.weightSeen = d.f()
	if d.bool() {
		t.root = t.decodeNode(d, 0)
	}
	return t
}

func unmarshalCore(data []byte) (core, error) {
	d := newDec(data)
	t := decodeCore(&d)
	if d.err == nil && len(d.b) != 0 {
		d.fail(errors.New("trailing bytes after tree encoding"))
	}
	if d.err != nil {
		return core{}, fmt.Errorf("decode tree: %w", d.err)
	}
	if err := t.validate(false); err != nil {
		return core{}, fmt.Errorf("decode tree: %w", err)
	}
	return t, nil
}

func (t *core) encodeNode(e *enc, n *node) {
	e.u(uint64(n.kind))
	e.u(uint64(n.depth))
	encodeDist(e, &n.stats)
	e.bool(n.det != nil)
	if n.det != nil {
		b, _ := n.det.MarshalBinary()
		e.u(uint64(len(b)))
		e.b = append(e.b, b...)
		e.f(n.errN)
		e.f(n.errMean)
	}
	if !n.isLeaf() {
		e.split(n.kind, n.feature, n.threshold, n.value, n.valIndex, len(n.children))
		for _, c := range n.children {
			t.encodeNode(e, c)
		}
		e.bool(n.alt != nil)
		if n.alt != nil {
			t.encodeNode(e, n.alt)
		}
		return
	}
	e.bool(n.active)
	e.f(n.lastSplitAt)
	e.f(n.mcCorrect)
	e.f(n.nbCorrect)
	e.u(uint64(len(n.splitOrder)))
	for _, f := range n.splitOrder {
		e.u(uint64(f))
		if int(f) < t.cfg.nNum {
			g := &n.num[f]
			e.u(uint64(len(g.order)))
			for _, c := range g.order {
				gc := &g.cls[c]
				e.u(uint64(c))
				e.f(gc.min)
				e.f(gc.max)
				e.f(gc.n)
				e.f(gc.mean)
				e.f(gc.s)
			}
			continue
		}
		s := &n.cat[int(f)-t.cfg.nNum]
		e.u(uint64(len(s.vals)))
		for _, v := range s.vals {
			e.i(v)
		}
		e.u(uint64(len(s.classOrder)))
		for _, c := range s.classOrder {
			e.u(uint64(c))
			e.f(s.classTotal[c])
			for p := range s.vals {
				e.f(s.cnt[p*s.k+int(c)])
			}
		}
		e.f(s.total)
	}
}

const maxTreeDepth = 1 << 16

func (t *core) decodeNode(d *dec, level int) *node {
	if level > maxTreeDepth {
		d.fail(errors.New("tree too deep"))
		return nil
	}
	k := t.cfg.nClasses
	id := d.node
	d.node++
	if !d.spend(k) {
		return nil
	}
	n := &node{}
	n.kind = nodeKind(d.n(int(nomMultiBranch)))
	n.depth = d.n(math.MaxInt32)
	n.stats = decodeDist(d, k)
	if d.bool() {
		det, err := drift.UnmarshalADWIN(d.bytes())
		if err != nil {
			d.fail(err)
			return nil
		}
		n.det = det
		n.errN = d.f()
		n.errMean = d.f()
	}
	if d.err != nil {
		return nil
	}
	if !n.isLeaf() {
		var nc int
		n.feature, n.threshold, n.value, n.valIndex, nc = d.split(id, n.kind, t.cfg.nNum, t.cfg.nNum+t.cfg.nCat)
		if d.err != nil {
			return nil
		}
		n.children = make([]*node, nc)
		for i := range n.children {
			n.children[i] = t.decodeNode(d, level+1)
			if d.err != nil {
				return nil
			}
		}
		if d.bool() {
			n.alt = t.decodeNode(d, level+1)
		}
		return n
	}
	n.active = d.bool()
	n.lastSplitAt = d.f()
	n.mcCorrect = d.f()
	n.nbCorrect = d.f()
	ns := d.n(t.cfg.nNum + t.cfg.nCat)
	if d.err != nil {
		return nil
	}
	if ns > 0 && !d.spend((t.cfg.nNum+t.cfg.nCat)*(k+1)) {
		return nil
	}
	if ns > 0 {
		n.hasSplit = make([]bool, t.cfg.nNum+t.cfg.nCat)
		n.num = newGaussSplitters(t.cfg.nNum, k)
		n.cat = make([]nominalSplitter, t.cfg.nCat)
		n.splitOrder = make([]int32, 0, t.cfg.nNum+t.cfg.nCat)
	}
	for range ns {
		f := d.index(id, "splitter feature", t.cfg.nNum+t.cfg.nCat)
		if d.err != nil {
			return nil
		}
		if n.hasSplit[f] {
			d.fail(fmt.Errorf("node %d: two splitters for feature %d", id, f))
			return nil
		}
		n.hasSplit[f] = true
		n.splitOrder = append(n.splitOrder, int32(f))
		if f < t.cfg.nNum {
			g := &n.num[f]
			nc := d.n(k)
			for range nc {
				c := d.class(k)
				if d.err != nil || g.cls[c].in {
					d.fail(errors.New("malformed numeric splitter"))
					return nil
				}
				g.order = append(g.order, int32(c))
				g.cls[c] = gaussClass{in: true, min: d.f(), max: d.f(), n: d.f(), mean: d.f(), s: d.f()}
			}
			continue
		}
		s := newNominalSplitter(k)
		nv := d.n(len(d.b))
		for range nv {
			v := d.i()
			if _, dup := s.idx[v]; dup || d.err != nil {
				d.fail(errors.New("malformed nominal splitter"))
				return nil
			}
			s.idx[v] = int32(len(s.vals))
			s.vals = append(s.vals, v)
		}
		if !d.spend(nv * (k + 2)) {
			return nil
		}
		s.cnt = make([]float64, nv*k)
		s.sorted = make([]int32, nv)
		for i := range s.sorted {
			s.sorted[i] = int32(i)
		}
		sortByValue(s.sorted, s.vals)
		nc := d.n(k)
		for range nc {
			c := d.class(k)
			if d.err != nil || s.classIn[c] {
				d.fail(errors.New("malformed nominal splitter"))
				return nil
			}
			s.classIn[c] = true
			s.classOrder = append(s.classOrder, int32(c))
			s.classTotal[c] = d.f()
			for p := range nv {
				s.cnt[p*k+c] = d.f()
			}
		}
		s.total = d.f()
		n.cat[f-t.cfg.nNum] = s
	}
	return n
}
