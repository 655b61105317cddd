package tree

import (
	"errors"
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/ml"
)

func encVar(e *enc, v *rvar) {
	e.f(v.n)
	e.f(v.mean)
	e.f(v.s)
}

func decVar(d *dec) rvar { return rvar{n: d.f(), mean: d.f(), s: d.f()} }

// MarshalBinary implements ml.Learner.
func (t *HoeffdingTreeRegressor) MarshalBinary() ([]byte, error) {
	e := enc{}
	e.u(codecVersion)
	e.u(uint64(t.nNum))
	e.u(uint64(t.nCat))
	e.f(t.gracePeriod)
	e.u(uint64(t.maxDepth))
	e.f(t.delta)
	e.f(t.tau)
	e.u(uint64(t.leafPred))
	e.f(t.minSamples)
	e.f(t.decay)
	e.f(t.lr)
	e.bool(t.binarySplit)
	e.bool(t.meritPreprune)
	e.f(t.maxSizeMiB)
	e.u(uint64(t.memPeriod))
	e.u(uint64(t.digits))
	e.u(uint64(t.nActive))
	e.u(uint64(t.nInactive))
	e.f(t.weightSeen)
	e.bool(t.growthAllowed)
	e.bool(t.root != nil)
	if t.root != nil {
		t.encodeNode(&e, t.root)
	}
	return e.b, nil
}

func (t *HoeffdingTreeRegressor) encodeNode(e *enc, n *rnode) {
	e.u(uint64(n.kind))
	e.u(uint64(n.depth))
	encVar(e, &n.stats)
	if n.kind != leafNode {
		e.split(n.kind, n.feature, n.threshold, n.value, n.valIndex, len(n.children))
		for _, c := range n.children {
			t.encodeNode(e, c)
		}
		return
	}
	e.bool(n.active)
	e.f(n.lastSplitAt)
	e.f(n.fmseMean)
	e.f(n.fmseModel)
	e.f(n.model.intercept)
	e.u(uint64(len(n.model.w)))
	for _, w := range n.model.w {
		e.f(w)
	}
	e.u(uint64(len(n.splitOrder)))
	for _, f := range n.splitOrder {
		e.u(uint64(f))
		if int(f) < t.nNum {
			// In-order walk, so equal trees encode equally whatever the
			// arena layout.
			s := &n.num[f]
			e.u(uint64(len(s.nodes)))
			var walk func(id int32)
			walk = func(id int32) {
				if id < 0 {
					e.bool(false)
					return
				}
				e.bool(true)
				nd := &s.nodes[id]
				e.f(nd.val)
				encVar(e, &nd.est)
				walk(nd.left)
				walk(nd.right)
			}
			walk(s.root)
			continue
		}
		s := &n.cat[int(f)-t.nNum]
		e.u(uint64(len(s.vals)))
		for i, v := range s.vals {
			e.i(v)
			encVar(e, &s.stats[i])
		}
	}
}

func decodeHTR(data []byte) (*HoeffdingTreeRegressor, error) {
	d := newDec(data)
	if v := d.u(); d.err == nil && v != codecVersion {
		return nil, fmt.Errorf("unknown tree encoding version %d", v)
	}
	t := &HoeffdingTreeRegressor{}
	t.nNum = d.n(maxCount)
	t.nCat = d.n(maxCount)
	t.gracePeriod = d.f()
	t.maxDepth = d.n(math.MaxInt32)
	t.delta = d.f()
	t.tau = d.f()
	t.leafPred = d.n(regAdaptive)
	t.minSamples = d.f()
	t.decay = d.f()
	t.lr = d.f()
	t.binarySplit = d.bool()
	t.meritPreprune = d.bool()
	t.maxSizeMiB = d.f()
	t.memPeriod = d.n(math.MaxInt32)
	t.digits = d.n(15)
	t.nActive = d.n(maxCount)
	t.nInactive = d.n(maxCount)
	t.weightSeen = d.f()
	t.growthAllowed = d.bool()
	if d.err == nil && t.memPeriod < 1 {
		d.fail(errBadRegressor)
	}
	if d.err == nil {
		d.fail(checkWidths(t.nNum, t.nCat))
	}
	if d.bool() && d.err == nil {
		t.root = t.decodeNode(&d, 0)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail(errors.New("trailing bytes after tree encoding"))
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode tree: %w", d.err)
	}
	return t, nil
}

func (t *HoeffdingTreeRegressor) decodeNode(d *dec, level int) *rnode {
	if level > maxTreeDepth {
		d.fail(errors.New("tree too deep"))
		return nil
	}
	id := d.node
	d.node++
	n := &rnode{}
	n.kind = nodeKind(d.n(int(nomMultiBranch)))
	n.depth = d.n(math.MaxInt32)
	n.stats = decVar(d)
	if d.err != nil {
		return nil
	}
	nf := t.nNum + t.nCat
	if n.kind != leafNode {
		var nc int
		n.feature, n.threshold, n.value, n.valIndex, nc = d.split(id, n.kind, t.nNum, nf)
		if d.err != nil {
			return nil
		}
		n.children = make([]*rnode, nc)
		for i := range n.children {
			if n.children[i] = t.decodeNode(d, level+1); d.err != nil {
				return nil
			}
		}
		return n
	}
	n.active = d.bool()
	n.lastSplitAt = d.f()
	n.fmseMean = d.f()
	n.fmseModel = d.f()
	n.model.intercept = d.f()
	if nw := d.n(nf); nw > 0 {
		if nw != nf {
			d.fail(fmt.Errorf("leaf model of %d weights for %d features", nw, nf))
			return nil
		}
		if nw > len(d.b)/8 {
			d.fail(errTruncated)
			return nil
		}
		n.model.w = make([]float64, nw)
		for i := range n.model.w {
			n.model.w[i] = d.f()
		}
	}
	ns := d.n(nf)
	if d.err != nil {
		return nil
	}
	if ns > 0 && !d.spend(2*nf) {
		return nil
	}
	if ns > 0 {
		n.hasSplit = make([]bool, nf)
		n.num = make([]ebstSplitter, t.nNum)
		n.cat = make([]nomRegSplitter, t.nCat)
	}
	for range ns {
		f := d.index(id, "splitter feature", nf)
		if d.err != nil {
			return nil
		}
		if n.hasSplit[f] {
			d.fail(fmt.Errorf("node %d: two splitters for feature %d", id, f))
			return nil
		}
		n.hasSplit[f] = true
		n.splitOrder = append(n.splitOrder, int32(f))
		if f < t.nNum {
			s := newEBST()
			cnt := d.n(len(d.b))
			var read func(depth int) int32
			read = func(depth int) int32 {
				if d.err != nil || !d.bool() {
					return -1
				}
				if depth > maxTreeDepth || len(s.nodes) >= cnt {
					d.fail(errBadRegressor)
					return -1
				}
				id := int32(len(s.nodes))
				s.nodes = append(s.nodes, ebstNode{val: d.f(), est: decVar(d), left: -1, right: -1})
				l := read(depth + 1)
				r := read(depth + 1)
				s.nodes[id].left, s.nodes[id].right = l, r
				return id
			}
			s.root = read(0)
			if d.err == nil && len(s.nodes) != cnt {
				d.fail(errBadRegressor)
			}
			n.num[f] = s
			continue
		}
		s := &n.cat[f-t.nNum]
		nv := d.n(len(d.b))
		for range nv {
			v := d.i()
			st := decVar(d)
			if d.err != nil {
				return nil
			}
			if _, dup := s.idx[v]; dup {
				d.fail(errBadRegressor)
				return nil
			}
			if s.idx == nil {
				s.idx = map[int64]int32{}
			}
			s.idx[v] = int32(len(s.vals))
			s.vals = append(s.vals, v)
			s.stats = append(s.stats, st)
		}
	}
	return n
}

// Clone implements ml.Learner.
func (t *HoeffdingTreeRegressor) Clone() ml.Learner {
	b, _ := t.MarshalBinary()
	c, err := decodeHTR(b)
	if err != nil {
		panic("tree: clone: " + err.Error())
	}
	return c
}
