package tree

import (
	"errors"
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml/drift"
)

// codecVersion prefixes every encoding so the format can evolve.
const codecVersion = 1

// dec reads what a wire.Encoder wrote, with the tree's own checks: budget
// is how many more per-class and per-feature slots the decoded state may
// allocate (see allocBudget), node counts the nodes started so far, to
// name one in errors. The first fault sticks and stops further reads
// (wire.Decoder.Abort).
type dec struct {
	*wire.Decoder
	budget int
	node   int
}

// newDec returns a dec reading data with the allocation budget its size
// allows.
func newDec(data []byte) dec {
	return dec{Decoder: wire.NewDecoder(data), budget: allocBudget(len(data))}
}

// n reads a count bounded by limit.
func (d *dec) n(limit int) int {
	v := d.Uvarint()
	if v > uint64(limit) {
		d.Abort(fmt.Errorf("count %d over limit %d", v, limit))
		return 0
	}
	return int(v)
}

// class reads a class index below k.
func (d *dec) class(k int) int { return d.n(k - 1) }

const maxCount = 1 << 30

func (c *config) encode(e *wire.Encoder) {
	e.Uvarint(uint64(c.nClasses))
	e.Uvarint(uint64(c.nNum))
	e.Uvarint(uint64(c.nCat))
	e.F64(c.gracePeriod)
	e.Uvarint(uint64(c.maxDepth))
	e.Uvarint(uint64(c.criterion))
	e.F64(c.delta)
	e.F64(c.tau)
	e.Uvarint(uint64(c.leafPred))
	e.F64(c.nbThreshold)
	e.Uvarint(uint64(c.nSplits))
	e.Boolean(c.binarySplit)
	e.F64(c.minBranchFrac)
	e.F64(c.maxShare)
	e.F64(c.maxSizeMiB)
	e.Uvarint(uint64(c.memPeriod))
	e.Boolean(c.stopMem)
	e.Boolean(c.meritPreprune)
}

// encodeSplit writes a branch's routing: feature, threshold, value, the
// number of children and, for a multiway branch, the value of each child in
// order.
func encodeSplit(e *wire.Encoder, kind nodeKind, feature int, threshold float64, value int64, valIndex map[int64]int, nChildren int) {
	e.Uvarint(uint64(feature))
	e.F64(threshold)
	e.Varint(value)
	e.Uvarint(uint64(nChildren))
	if kind == nomMultiBranch {
		vals := make([]int64, nChildren)
		for v, i := range valIndex {
			vals[i] = v
		}
		for _, v := range vals {
			e.Varint(v)
		}
	}
}

// split reads what encodeSplit wrote for node id and checks it against the
// inputs (nNum numeric features of nFeat): the child count is returned for
// the caller to read the children.
func (d *dec) split(id int, kind nodeKind, nNum, nFeat int) (feature int, threshold float64, value int64, valIndex map[int64]int, nChildren int) {
	feature = d.index(id, "feature", nFeat)
	threshold = d.F64()
	value = d.Varint()
	nChildren = d.n(maxCount)
	if d.Err() != nil {
		return
	}
	if err := checkBranch(id, kind, feature, nNum, nChildren, d.Len()); err != nil {
		d.Abort(err)
		return
	}
	if kind == nomMultiBranch {
		valIndex = make(map[int64]int, nChildren)
		for i := range nChildren {
			valIndex[d.Varint()] = i
		}
		if len(valIndex) != nChildren {
			d.Abort(fmt.Errorf("node %d: duplicate branch value", id))
		}
	}
	return
}

func decodeConfig(d *dec) config {
	var c config
	c.nClasses = d.n(1 << 16)
	c.nNum = d.n(maxCount)
	c.nCat = d.n(maxCount)
	c.gracePeriod = d.F64()
	c.maxDepth = d.n(math.MaxInt32)
	c.criterion = d.n(critHellinger)
	c.delta = d.F64()
	c.tau = d.F64()
	c.leafPred = d.n(predNBA)
	c.nbThreshold = d.F64()
	c.nSplits = d.n(maxCount)
	c.binarySplit = d.Boolean()
	c.minBranchFrac = d.F64()
	c.maxShare = d.F64()
	c.maxSizeMiB = d.F64()
	c.memPeriod = d.n(math.MaxInt32)
	c.stopMem = d.Boolean()
	c.meritPreprune = d.Boolean()
	if d.Err() == nil && (c.nClasses < 2 || c.memPeriod < 1 || c.nSplits < 1) {
		d.Abort(errors.New("invalid tree config"))
	}
	if d.Err() == nil {
		d.Abort(checkWidths(c.nNum, c.nCat))
	}
	return c
}

func encodeDist(e *wire.Encoder, cd *classDist) {
	e.Uvarint(uint64(len(cd.order)))
	for _, c := range cd.order {
		e.Uvarint(uint64(c))
		e.F64(cd.w[c])
	}
}

func decodeDist(d *dec, k int) classDist {
	cd := newClassDist(k)
	n := d.n(k)
	for range n {
		c := d.class(k)
		w := d.F64()
		if d.Err() != nil {
			break
		}
		if cd.in[c] {
			d.Abort(errors.New("duplicate class in distribution"))
			break
		}
		cd.set(c, w)
	}
	return cd
}

func (t *core) encode(e *wire.Encoder) {
	e.Uvarint(codecVersion)
	t.cfg.encode(e)
	for _, s := range t.classes {
		e.Boolean(s)
	}
	e.Uvarint(uint64(t.nActive))
	e.Uvarint(uint64(t.nInactive))
	e.F64(t.activeEst)
	e.F64(t.inactiveEst)
	e.F64(t.overhead)
	e.Boolean(t.growthAllowed)
	e.F64(t.weightSeen)
	e.Boolean(t.root != nil)
	if t.root != nil {
		t.encodeNode(e, t.root)
	}
}

func (t *core) marshal(dst []byte) []byte {
	e := wire.NewEncoder(dst)
	t.encode(e)
	return e.Data()
}

func decodeCore(d *dec) core {
	if v := d.Uvarint(); d.Err() == nil && v != codecVersion {
		d.Abort(fmt.Errorf("unknown tree encoding version %d", v))
	}
	cfg := decodeConfig(d)
	if d.Err() != nil {
		return core{}
	}
	t := newCore(cfg)
	for c := range t.classes {
		t.classes[c] = d.Boolean()
	}
	t.nActive = d.n(maxCount)
	t.nInactive = d.n(maxCount)
	t.activeEst = d.F64()
	t.inactiveEst = d.F64()
	t.overhead = d.F64()
	t.growthAllowed = d.Boolean()
	t.weightSeen = d.F64()
	if d.Boolean() {
		t.root = t.decodeNode(d, 0)
	}
	return t
}

func unmarshalCore(data []byte) (core, error) {
	d := newDec(data)
	t := decodeCore(&d)
	if d.Err() == nil && d.Len() != 0 {
		d.Abort(errors.New("trailing bytes after tree encoding"))
	}
	if d.Err() != nil {
		return core{}, fmt.Errorf("decode tree: %w", d.Err())
	}
	if err := t.validate(false); err != nil {
		return core{}, fmt.Errorf("decode tree: %w", err)
	}
	return t, nil
}

func (t *core) encodeNode(e *wire.Encoder, n *node) {
	e.Uvarint(uint64(n.kind))
	e.Uvarint(uint64(n.depth))
	encodeDist(e, &n.stats)
	e.Boolean(n.det != nil)
	if n.det != nil {
		b, _ := n.det.MarshalBinary()
		e.Bytes(b)
		e.F64(n.errN)
		e.F64(n.errMean)
	}
	if !n.isLeaf() {
		encodeSplit(e, n.kind, n.feature, n.threshold, n.value, n.valIndex, len(n.children))
		for _, c := range n.children {
			t.encodeNode(e, c)
		}
		e.Boolean(n.alt != nil)
		if n.alt != nil {
			t.encodeNode(e, n.alt)
		}
		return
	}
	e.Boolean(n.active)
	e.F64(n.lastSplitAt)
	e.F64(n.mcCorrect)
	e.F64(n.nbCorrect)
	e.Uvarint(uint64(len(n.splitOrder)))
	for _, f := range n.splitOrder {
		e.Uvarint(uint64(f))
		if int(f) < t.cfg.nNum {
			g := &n.num[f]
			e.Uvarint(uint64(len(g.order)))
			for _, c := range g.order {
				gc := &g.cls[c]
				e.Uvarint(uint64(c))
				e.F64(gc.min)
				e.F64(gc.max)
				e.F64(gc.n)
				e.F64(gc.mean)
				e.F64(gc.s)
			}
			continue
		}
		s := &n.cat[int(f)-t.cfg.nNum]
		e.Uvarint(uint64(len(s.vals)))
		for _, v := range s.vals {
			e.Varint(v)
		}
		e.Uvarint(uint64(len(s.classOrder)))
		for _, c := range s.classOrder {
			e.Uvarint(uint64(c))
			e.F64(s.classTotal[c])
			for p := range s.vals {
				e.F64(s.cnt[p*s.k+int(c)])
			}
		}
		e.F64(s.total)
	}
}

const maxTreeDepth = 1 << 16

func (t *core) decodeNode(d *dec, level int) *node {
	if level > maxTreeDepth {
		d.Abort(errors.New("tree too deep"))
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
	if d.Boolean() {
		det, err := drift.UnmarshalADWIN(d.Bytes())
		if err != nil {
			d.Abort(err)
			return nil
		}
		n.det = det
		n.errN = d.F64()
		n.errMean = d.F64()
	}
	if d.Err() != nil {
		return nil
	}
	if !n.isLeaf() {
		var nc int
		n.feature, n.threshold, n.value, n.valIndex, nc = d.split(id, n.kind, t.cfg.nNum, t.cfg.nNum+t.cfg.nCat)
		if d.Err() != nil {
			return nil
		}
		n.children = make([]*node, nc)
		for i := range n.children {
			n.children[i] = t.decodeNode(d, level+1)
			if d.Err() != nil {
				return nil
			}
		}
		if d.Boolean() {
			n.alt = t.decodeNode(d, level+1)
		}
		return n
	}
	n.active = d.Boolean()
	n.lastSplitAt = d.F64()
	n.mcCorrect = d.F64()
	n.nbCorrect = d.F64()
	ns := d.n(t.cfg.nNum + t.cfg.nCat)
	if d.Err() != nil {
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
		if d.Err() != nil {
			return nil
		}
		if n.hasSplit[f] {
			d.Abort(fmt.Errorf("node %d: two splitters for feature %d", id, f))
			return nil
		}
		n.hasSplit[f] = true
		n.splitOrder = append(n.splitOrder, int32(f))
		if f < t.cfg.nNum {
			g := &n.num[f]
			nc := d.n(k)
			for range nc {
				c := d.class(k)
				if d.Err() != nil || g.cls[c].in {
					d.Abort(errors.New("malformed numeric splitter"))
					return nil
				}
				g.order = append(g.order, int32(c))
				g.cls[c] = gaussClass{in: true, min: d.F64(), max: d.F64(), n: d.F64(), mean: d.F64(), s: d.F64()}
			}
			continue
		}
		s := newNominalSplitter(k)
		nv := d.n(d.Len())
		for range nv {
			v := d.Varint()
			if _, dup := s.idx[v]; dup || d.Err() != nil {
				d.Abort(errors.New("malformed nominal splitter"))
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
			if d.Err() != nil || s.classIn[c] {
				d.Abort(errors.New("malformed nominal splitter"))
				return nil
			}
			s.classIn[c] = true
			s.classOrder = append(s.classOrder, int32(c))
			s.classTotal[c] = d.F64()
			for p := range nv {
				s.cnt[p*k+c] = d.F64()
			}
		}
		s.total = d.F64()
		n.cat[f-t.cfg.nNum] = s
	}
	return n
}
