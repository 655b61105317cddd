package tree

import (
	"errors"
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml"
)

func encVar(e *wire.Encoder, v *rvar) {
	e.F64(v.n)
	e.F64(v.mean)
	e.F64(v.s)
}

func decVar(d *dec) rvar { return rvar{n: d.F64(), mean: d.F64(), s: d.F64()} }

// MarshalBinary implements ml.Learner.
func (t *HoeffdingTreeRegressor) MarshalBinary() ([]byte, error) {
	e := &wire.Encoder{}
	e.Uvarint(codecVersion)
	e.Uvarint(uint64(t.nNum))
	e.Uvarint(uint64(t.nCat))
	e.F64(t.gracePeriod)
	e.Uvarint(uint64(t.maxDepth))
	e.F64(t.delta)
	e.F64(t.tau)
	e.Uvarint(uint64(t.leafPred))
	e.F64(t.minSamples)
	e.F64(t.decay)
	e.F64(t.lr)
	e.Boolean(t.binarySplit)
	e.Boolean(t.meritPreprune)
	e.F64(t.maxSizeMiB)
	e.Uvarint(uint64(t.memPeriod))
	e.Uvarint(uint64(t.digits))
	e.Uvarint(uint64(t.nActive))
	e.Uvarint(uint64(t.nInactive))
	e.F64(t.weightSeen)
	e.Boolean(t.growthAllowed)
	e.Boolean(t.root != nil)
	if t.root != nil {
		t.encodeNode(e, t.root)
	}
	return e.Data(), nil
}

func (t *HoeffdingTreeRegressor) encodeNode(e *wire.Encoder, n *rnode) {
	e.Uvarint(uint64(n.kind))
	e.Uvarint(uint64(n.depth))
	encVar(e, &n.stats)
	if n.kind != leafNode {
		encodeSplit(e, n.kind, n.feature, n.threshold, n.value, n.valIndex, len(n.children))
		for _, c := range n.children {
			t.encodeNode(e, c)
		}
		return
	}
	e.Boolean(n.active)
	e.F64(n.lastSplitAt)
	e.F64(n.fmseMean)
	e.F64(n.fmseModel)
	e.F64(n.model.intercept)
	e.Uvarint(uint64(len(n.model.w)))
	for _, w := range n.model.w {
		e.F64(w)
	}
	e.Uvarint(uint64(len(n.splitOrder)))
	for _, f := range n.splitOrder {
		e.Uvarint(uint64(f))
		if int(f) < t.nNum {
			// In-order walk, so equal trees encode equally whatever the
			// arena layout.
			s := &n.num[f]
			e.Uvarint(uint64(len(s.nodes)))
			var walk func(id int32)
			walk = func(id int32) {
				if id < 0 {
					e.Boolean(false)
					return
				}
				e.Boolean(true)
				nd := &s.nodes[id]
				e.F64(nd.val)
				encVar(e, &nd.est)
				walk(nd.left)
				walk(nd.right)
			}
			walk(s.root)
			continue
		}
		s := &n.cat[int(f)-t.nNum]
		e.Uvarint(uint64(len(s.vals)))
		for i, v := range s.vals {
			e.Varint(v)
			encVar(e, &s.stats[i])
		}
	}
}

func decodeHTR(data []byte) (*HoeffdingTreeRegressor, error) {
	d := newDec(data)
	if v := d.Uvarint(); d.Err() == nil && v != codecVersion {
		return nil, fmt.Errorf("unknown tree encoding version %d", v)
	}
	t := &HoeffdingTreeRegressor{}
	t.nNum = d.n(maxCount)
	t.nCat = d.n(maxCount)
	t.gracePeriod = d.F64()
	t.maxDepth = d.n(math.MaxInt32)
	t.delta = d.F64()
	t.tau = d.F64()
	t.leafPred = d.n(regAdaptive)
	t.minSamples = d.F64()
	t.decay = d.F64()
	t.lr = d.F64()
	t.binarySplit = d.Boolean()
	t.meritPreprune = d.Boolean()
	t.maxSizeMiB = d.F64()
	t.memPeriod = d.n(math.MaxInt32)
	t.digits = d.n(15)
	t.nActive = d.n(maxCount)
	t.nInactive = d.n(maxCount)
	t.weightSeen = d.F64()
	t.growthAllowed = d.Boolean()
	if d.Err() == nil && t.memPeriod < 1 {
		d.Abort(errBadRegressor)
	}
	if d.Err() == nil {
		d.Abort(checkWidths(t.nNum, t.nCat))
	}
	if d.Boolean() && d.Err() == nil {
		t.root = t.decodeNode(&d, 0)
	}
	if d.Err() == nil && d.Len() != 0 {
		d.Abort(errors.New("trailing bytes after tree encoding"))
	}
	if d.Err() != nil {
		return nil, fmt.Errorf("decode tree: %w", d.Err())
	}
	return t, nil
}

func (t *HoeffdingTreeRegressor) decodeNode(d *dec, level int) *rnode {
	if level > maxTreeDepth {
		d.Abort(errors.New("tree too deep"))
		return nil
	}
	id := d.node
	d.node++
	n := &rnode{}
	n.kind = nodeKind(d.n(int(nomMultiBranch)))
	n.depth = d.n(math.MaxInt32)
	n.stats = decVar(d)
	if d.Err() != nil {
		return nil
	}
	nf := t.nNum + t.nCat
	if n.kind != leafNode {
		var nc int
		n.feature, n.threshold, n.value, n.valIndex, nc = d.split(id, n.kind, t.nNum, nf)
		if d.Err() != nil {
			return nil
		}
		n.children = make([]*rnode, nc)
		for i := range n.children {
			if n.children[i] = t.decodeNode(d, level+1); d.Err() != nil {
				return nil
			}
		}
		return n
	}
	n.active = d.Boolean()
	n.lastSplitAt = d.F64()
	n.fmseMean = d.F64()
	n.fmseModel = d.F64()
	n.model.intercept = d.F64()
	if nw := d.n(nf); nw > 0 {
		if nw != nf {
			d.Abort(fmt.Errorf("leaf model of %d weights for %d features", nw, nf))
			return nil
		}
		if nw > d.Len()/8 {
			d.Abort(wire.ErrTruncated)
			return nil
		}
		n.model.w = make([]float64, nw)
		for i := range n.model.w {
			n.model.w[i] = d.F64()
		}
	}
	ns := d.n(nf)
	if d.Err() != nil {
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
		if d.Err() != nil {
			return nil
		}
		if n.hasSplit[f] {
			d.Abort(fmt.Errorf("node %d: two splitters for feature %d", id, f))
			return nil
		}
		n.hasSplit[f] = true
		n.splitOrder = append(n.splitOrder, int32(f))
		if f < t.nNum {
			s := newEBST()
			cnt := d.n(d.Len())
			var read func(depth int) int32
			read = func(depth int) int32 {
				if d.Err() != nil || !d.Boolean() {
					return -1
				}
				if depth > maxTreeDepth || len(s.nodes) >= cnt {
					d.Abort(errBadRegressor)
					return -1
				}
				id := int32(len(s.nodes))
				s.nodes = append(s.nodes, ebstNode{val: d.F64(), est: decVar(d), left: -1, right: -1})
				l := read(depth + 1)
				r := read(depth + 1)
				s.nodes[id].left, s.nodes[id].right = l, r
				return id
			}
			s.root = read(0)
			if d.Err() == nil && len(s.nodes) != cnt {
				d.Abort(errBadRegressor)
			}
			n.num[f] = s
			continue
		}
		s := &n.cat[f-t.nNum]
		nv := d.n(d.Len())
		for range nv {
			v := d.Varint()
			st := decVar(d)
			if d.Err() != nil {
				return nil
			}
			if _, dup := s.idx[v]; dup {
				d.Abort(errBadRegressor)
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
