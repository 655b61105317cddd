package forest

import (
	"math"
	"slices"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml/internal/pyrand"
)

// mnode is the part of a node that the walks read: its links, its split
// and its aggregation weights.
//
// Weights are held as exponentials (see expw): w is exp of River's weight,
// the node's cumulated log-loss. A node's tree weight (exp of River's
// log_weight_tree) lives in its parent, in lw by side (the root's in
// mondrianTree.rootLW): the upward pass that recomputes a branch's tree
// weight reads both children's, and keeping them in the branch spares it a
// load of the child off the sample's path.
type mnode struct {
	parent, left, right, feature int32
	threshold                    float64
	// half is a branch's share in the aggregation, River's
	// 0.5·exp(weight − log_weight_tree), kept by the upward pass so that a
	// prediction only reads it. Not encoded: a decoded tree derives it
	// again from the same inputs.
	half float64
	w    expw
	lw   [2]expw // the children's tree weights, left then right
}

// Slots of a node's payload, the per-node float64 record beside its mnode:
// the sample count, the node's creation time, its children's (both
// children of a branch are created together), then the class counts
// (classifiers) or the running mean of the targets (regressors), then the
// bounding box with the min and max of each feature interleaved.
const (
	slotN = iota
	slotTime
	slotChildTime
	slotStats
)

// mondrianTree is one tree of an aggregated Mondrian forest, stored as
// node headers and payload records, both in paged lists indexed by node
// (index 0 is the root: a split rewrites the split node in place and moves
// its old content to a new node). A node is a leaf when left < 0.
//
// Features are addressed by position. A NaN input is a missing feature: it
// does not enter bounding boxes and, at a branch on it, the sample follows
// the child with the larger aggregation weight, as River does for a key
// absent from x. Bounding boxes mark a feature never seen by a node with NaN.
type mondrianTree struct {
	classifier bool
	nFeat      int // features per bounding box
	nClasses   int // class counts per node (classifiers)

	step           float64
	useAggregation bool
	dirichlet      float64
	splitPure      bool

	iteration int64
	root      int32
	rootLW    expw // the root's tree weight
	rng       *pyrand.Rand

	nodes   pagedList[mnode] // node headers, one per slot
	payload records          // one record of stride floats per node, see slotN
	stride  int
	boxOff  int // offset of the bounding box in a payload record

	ext    []float64   // scratch: cumulative range extensions
	feats  []int       // scratch: the features of ext
	path   []int32     // scratch: the nodes of the current walk, root first
	sums   []float64   // scratch: range extensions by depth (see scanBoxes)
	change []boxChange // scratch: how x changes the boxes, by depth
}

func newMondrianTree(classifier bool, nFeat, nClasses int, step float64, useAgg bool, dirichlet float64, splitPure bool, seed int64) *mondrianTree {
	t := &mondrianTree{
		classifier: classifier, nFeat: nFeat, nClasses: nClasses,
		step: step, useAggregation: useAgg, dirichlet: dirichlet, splitPure: splitPure,
		rng:    pyrand.New(seed),
		rootLW: expw{m: 1},
	}
	t.setShape()
	t.root = t.newNode(-1, 0)
	return t
}

// setShape derives the payload layout from classifier, nFeat and nClasses.
func (t *mondrianTree) setShape() {
	stats := 1 // the mean
	if t.classifier {
		stats = t.nClasses
	}
	t.boxOff = slotStats + stats
	t.stride = t.boxOff + 2*t.nFeat
	t.nodes = pagedList[mnode]{width: 1}
	t.payload = records{width: t.stride}
}

// newNode appends an empty leaf. Its box is left for the caller to fill:
// every new node either receives its first sample at once (which sets the
// whole box, NaN for the features the sample lacks) or a copy of another
// node's statistics (replant).
func (t *mondrianTree) newNode(parent int32, time float64) int32 {
	i := t.nodes.add()
	*t.nodes.elem(i) = mnode{parent: parent, left: -1, right: -1, feature: -1, w: expw{m: 1}, lw: [2]expw{{m: 1}, {m: 1}}}
	t.payload.add()
	p := t.rec(i)
	clear(p[:t.boxOff])
	p[slotTime] = time
	return i
}

// rec is node i's payload record.
func (t *mondrianTree) rec(i int32) []float64 {
	return t.payload.at(i)
}

// box is node i's bounding box, min and max of each feature interleaved.
func (t *mondrianTree) box(i int32) []float64 {
	return t.payload.at(i)[t.boxOff:]
}

// ownLW is node i's tree weight, kept by its parent.
func (t *mondrianTree) ownLW(i int32) expw {
	p := t.nodes.elem(i).parent
	if p < 0 {
		return t.rootLW
	}
	if t.nodes.elem(p).left == i {
		return t.nodes.elem(p).lw[0]
	}
	return t.nodes.elem(p).lw[1]
}

// replant copies the statistics of node src into dst but not its time
// (River's replant(copy_all=True)); the caller files src's tree weight as
// dst's.
func (t *mondrianTree) replant(dst, src int32) {
	d, o := t.nodes.elem(dst), t.nodes.elem(src)
	d.w, d.half = o.w, o.half
	d.lw = o.lw
	p := t.rec(dst)
	time := p[slotTime]
	copy(p, t.rec(src))
	p[slotTime] = time
}

func (t *mondrianTree) isLeaf(i int32) bool { return t.nodes.elem(i).left < 0 }

// nodeScore is the Dirichlet-smoothed probability of class index c for a
// node with payload record p when nSeen classes have been seen.
func (t *mondrianTree) nodeScore(p []float64, c int, nSeen int) float64 {
	return (p[slotStats+c] + t.dirichlet) / (p[slotN] + t.dirichlet*float64(nSeen))
}

// boxChange is what adding a sample does to a node's bounding box.
type boxChange uint8

const (
	boxWiden       boxChange = iota // widen it case by case
	boxWidenFinite                  // widen it; neither it nor x holds a NaN or an infinity
	boxKept                         // nothing: x lies inside it (see extension)
)

// updateDownwards adds x (and its label) to node i, changing its box as
// the caller knows it must.
func (t *mondrianTree) updateDownwards(i int32, x []float64, yi int, y float64, nSeen int, doUpdateWeight bool, box boxChange) {
	p := t.rec(i)
	b := p[t.boxOff : t.boxOff+2*t.nFeat]
	n := t.nodes.elem(i)
	if box == boxKept {
		// Nothing to widen.
	} else if p[slotN] == 0 {
		for f, v := range x {
			b[2*f], b[2*f+1] = v, v
		}
	} else if box == boxWidenFinite {
		// Which side x widens, if any, is the data's call: no jumps.
		// min and max differ from the cases below only on a zero, whose
		// sign they may change, which no extension, threshold or
		// prediction sees.
		b = b[:2*len(x)]
		for f, v := range x {
			b[2*f], b[2*f+1] = min(b[2*f], v), max(b[2*f+1], v)
		}
	} else {
		for f, v := range x {
			if v != v { // missing
				continue
			}
			cur := b[2*f]
			if cur != cur {
				b[2*f], b[2*f+1] = v, v
			} else if v < cur {
				b[2*f] = v
			} else if v > b[2*f+1] {
				b[2*f+1] = v
			}
		}
	}
	p[slotN]++ // before the weight update, as River counts
	if t.classifier {
		if doUpdateWeight && t.useAggregation {
			// River: weight += step·log(score).
			if s := t.nodeScore(p, yi, nSeen); t.step == 1 {
				n.w = n.w.mulScore(s)
			} else {
				n.w = n.w.mulExp(t.step * math.Log(s))
			}
		}
		p[slotStats+yi]++
		return
	}
	if doUpdateWeight && t.useAggregation {
		r := p[slotStats] - y
		n.w = n.w.mulExp(-t.step * (r * r / 2))
	}
	p[slotStats] += (1.0 / p[slotN]) * (y - p[slotStats])
}

// countInside is updateDownwards for a classifier with aggregation and
// step 1 on nodes whose boxes x lies inside: the hot loop of learning,
// with nothing to decide per node.
func (t *mondrianTree) countInside(nodes []int32, yi int, nSeen int) {
	d, dK := t.dirichlet, t.dirichlet*float64(nSeen)
	for _, i := range nodes {
		p := t.rec(i)[:slotStats+t.nClasses]
		n := p[slotN] + 1
		p[slotN] = n
		c := &p[slotStats+yi]
		w := &t.nodes.elem(i).w
		*w = w.mulScore((*c + d) / (n + dK))
		*c++
	}
}

// meanInside is updateDownwards for a regressor with aggregation on nodes
// whose boxes x lies inside.
func (t *mondrianTree) meanInside(nodes []int32, y float64) {
	for _, i := range nodes {
		p := t.rec(i)[:slotStats+1]
		n := p[slotN] + 1
		p[slotN] = n
		r := p[slotStats] - y
		w := &t.nodes.elem(i).w
		*w = w.mulExp(-t.step * (r * r / 2))
		p[slotStats] += (1.0 / n) * (y - p[slotStats])
	}
}

// extension is the total distance from x to the bounding box b, summed
// in feature order as River does, and whether x lies inside the box: no
// feature outside it and none that the box has not seen yet, so that
// adding x leaves the box as it is.
//
// Each feature adds its gap, or 0, which leaves the sum as it is: the sum
// is River's to the bit, and x is inside when it is 0. A NaN (a missing
// input, or a feature the box has not seen) or an infinity spoils check or
// the sum, and extensionByCase sorts those boxes out; finite reports that
// there was none.
func extension(b, x []float64) (sum float64, inside, finite bool) {
	b = b[:2*len(x)]
	check := 0.0
	for f, v := range x {
		e, spoil := gap(b[2*f], b[2*f+1], v)
		check += spoil
		sum += e
	}
	if check-check != 0 || sum-sum != 0 {
		sum, inside = extensionByCase(b, x)
		return sum, inside, false
	}
	return sum, sum == 0, true
}

// gap is how far v lies outside [lo, hi]: lo − v below it, v − hi above
// it, 0 inside, exactly, and without a jump. Whether v is outside is the
// data's call, and a jump on it would be mispredicted on most boxes a
// scan measures. For d = lo − v (or v − hi), (d + |d|)/2 is d when d > 0
// and 0 otherwise, and v is outside on at most one side. spoil is NaN or
// infinite when any of lo, hi and v is (a missing input, a feature the box
// has not seen, an infinite input) or a difference overflows; e is then
// not to be trusted, and the caller sorts the case out.
func gap(lo, hi, v float64) (e, spoil float64) {
	below, above := lo-v, v-hi
	return ((below + math.Abs(below)) + (above + math.Abs(above))) * 0.5, below + above
}

// extensionByCase is extension one case at a time, for the boxes and
// samples with NaNs or infinities.
func extensionByCase(b, x []float64) (sum float64, inside bool) {
	b = b[:2*len(x)]
	inside = true
	for f, v := range x {
		lo, hi := b[2*f], b[2*f+1]
		switch {
		case v != v: // missing: no extension
		case lo != lo: // a feature the box has not seen
			inside = false
		case v < lo:
			sum += lo - v
			inside = false
		case v > hi:
			sum += v - hi
			inside = false
		}
	}
	return sum, inside
}

// pickFeature draws a feature with probability proportional to its range
// extension, in feature order (River sorts the feature names; Spate's
// positions play that role). finite is what the box measure found (see
// extension): then each feature's extension is its gap, and a feature
// whose gap is 0 is written over by the next, which leaves River's list of
// the features x lies outside the box on.
func (t *mondrianTree) pickFeature(i int32, x []float64, finite bool) int {
	b := t.box(i)
	if finite {
		b = b[:2*len(x)]
		ext := slices.Grow(t.ext[:0], len(x))[:len(x)]
		feats := slices.Grow(t.feats[:0], len(x))[:len(x)]
		t.ext, t.feats = ext, feats
		k, acc := 0, 0.0
		for f, v := range x {
			e, _ := gap(b[2*f], b[2*f+1], v)
			acc += e
			ext[k], feats[k] = acc, f
			if e > 0 {
				k++
			}
		}
		return feats[t.rng.ChoiceCum(ext[:k])]
	}
	t.ext, t.feats = t.ext[:0], t.feats[:0]
	acc := 0.0
	for f, v := range x {
		lo := b[2*f]
		if v != v || lo != lo {
			continue
		}
		var e float64
		if v < lo {
			e = lo - v
		} else if hi := b[2*f+1]; v > hi {
			e = v - hi
		} else {
			continue
		}
		acc += e
		t.ext = append(t.ext, acc)
		t.feats = append(t.feats, f)
	}
	return t.feats[t.rng.ChoiceCum(t.ext)]
}

// split applies River's MondrianTree._split to node i in place: the node
// becomes (or stays) a branch on (feature, threshold); a new empty leaf at
// splitTime takes the side of the extension and the old content of i moves
// to the other side.
func (t *mondrianTree) split(i int32, splitTime, threshold float64, feature int, isRight bool) {
	lw := t.ownLW(i)
	var moved, leaf int32
	if !t.isLeaf(i) {
		oldL, oldR := t.nodes.elem(i).left, t.nodes.elem(i).right
		moved = t.newNode(i, splitTime)
		leaf = t.newNode(i, splitTime)
		t.replant(moved, i)
		t.nodes.elem(moved).feature = t.nodes.elem(i).feature
		t.nodes.elem(moved).threshold = t.nodes.elem(i).threshold
		t.nodes.elem(moved).left, t.nodes.elem(moved).right = oldL, oldR
		t.nodes.elem(oldL).parent, t.nodes.elem(oldR).parent = moved, moved
	} else {
		// River creates the left child first.
		l := t.newNode(i, splitTime)
		r := t.newNode(i, splitTime)
		moved, leaf = r, l
		if isRight {
			moved, leaf = l, r
		}
		t.replant(moved, i)
	}
	n := t.nodes.elem(i)
	n.feature = int32(feature)
	n.threshold = threshold
	if isRight {
		n.left, n.right = moved, leaf
		n.lw = [2]expw{lw, {m: 1}}
	} else {
		n.left, n.right = leaf, moved
		n.lw = [2]expw{{m: 1}, lw}
	}
	t.rec(i)[slotChildTime] = splitTime
}

// next returns the child of branch i that x goes to.
func (t *mondrianTree) next(i int32, x []float64) int32 {
	n := t.nodes.elem(i)
	v := x[n.feature]
	if v != v {
		if t.nodes.elem(n.left).w.less(t.nodes.elem(n.right).w) {
			return n.right
		}
		return n.left
	}
	if v <= n.threshold {
		return n.left
	}
	return n.right
}

// learn runs River's downward then upward procedure for one sample, whose
// path forest.learn left in t.path. yi is the class index
// (classifiers), y the target (regressors), nSeen the number of classes
// seen so far including this sample's.
func (t *mondrianTree) learn(x []float64, yi int, y float64, nSeen int) {
	t.goDownwards(x, yi, y, nSeen)
	if t.useAggregation && t.iteration >= 1 {
		t.goUpwards()
	}
	t.iteration++
}

// goDownwards adds the sample to the nodes on its path, splitting where
// River's Mondrian process does, and leaves the path in t.path.
func (t *mondrianTree) goDownwards(x []float64, yi int, y float64, nSeen int) {
	path := t.path
	if t.iteration == 0 {
		t.updateDownwards(path[0], x, yi, y, nSeen, false, boxWiden)
		return
	}
	// x cannot split a node whose box it lies in, nor widen that box.
	in := t.scanBoxes(x)
	switch {
	case t.classifier && t.useAggregation && t.step == 1:
		t.countInside(path[:in], yi, nSeen)
	case !t.classifier && t.useAggregation:
		t.meanInside(path[:in], y)
	default:
		for _, cur := range path[:in] {
			t.updateDownwards(cur, x, yi, y, nSeen, true, boxKept)
		}
	}
	for depth := in; depth < len(path); depth++ {
		cur := path[depth]
		p := t.rec(cur)
		splitTime := 0.0
		check := true
		if t.classifier && !t.splitPure {
			check = p[slotN] != p[slotStats+yi]
		}
		if check {
			// scanBoxes measured this box: x is outside it, or the box
			// has not seen one of x's features yet.
			if sum := t.sums[depth]; sum > 0 {
				// River: split_time = time + expovariate(sum), a split
				// when below the children's time (always at a leaf).
				// −log(1−r) >= r, so a time computed from a little less
				// than r that is already too late settles most branches
				// without the log (1−r is exact for Random's r).
				r := t.rng.Random()
				leaf := t.isLeaf(cur)
				if leaf || p[slotTime]+r*(1-1e-12)/sum < p[slotChildTime] {
					cand := p[slotTime] + (-math.Log(1-r))/sum
					if leaf || cand < p[slotChildTime] {
						splitTime = cand
					}
				}
			}
		}
		if splitTime > 0 {
			f := t.pickFeature(cur, x, t.change[depth] == boxWidenFinite)
			xf := x[f]
			b := t.box(cur)
			lo, hi := b[2*f], b[2*f+1]
			isRight := xf > hi
			var thr float64
			if isRight {
				thr = t.rng.Uniform(hi, xf)
			} else {
				thr = t.rng.Uniform(xf, lo)
			}
			t.split(cur, splitTime, thr, f, isRight)
			t.updateDownwards(cur, x, yi, y, nSeen, true, t.change[depth])
			leaf := t.nodes.elem(cur).left
			if isRight {
				leaf = t.nodes.elem(cur).right
			}
			t.updateDownwards(leaf, x, yi, y, nSeen, false, boxWiden)
			t.path = append(t.path[:depth+1], leaf)
			return
		}
		t.updateDownwards(cur, x, yi, y, nSeen, true, t.change[depth])
	}
}

// scanBoxes measures x against the boxes on its path from the leaf up and
// returns how many nodes at the top have boxes x lies inside (see
// extension), leaving the extensions of the others in t.sums by depth. A
// node's box holds every sample that went through its children, so boxes
// shrink down a path: the scan stops at the first box x lies inside, and
// the nodes above it need no check.
func (t *mondrianTree) scanBoxes(x []float64) int {
	path := t.path
	t.sums = slices.Grow(t.sums[:0], len(path))[:len(path)]
	t.change = slices.Grow(t.change[:0], len(path))[:len(path)]
	for k := len(path) - 1; k >= 0; k-- {
		sum, in, finite := extension(t.box(path[k]), x)
		if in {
			return k + 1
		}
		t.sums[k] = sum
		t.change[k] = boxWiden
		if finite {
			t.change[k] = boxWidenFinite
		}
	}
	return 0
}

// aggregate returns a branch's tree weight, River's
// log_weight_tree = log((exp(weight) + exp(l))/2) with l the sum of its
// children's, as an exponential, and its aggregation share
// 0.5·exp(weight − log_weight_tree), which is w/(w + exp(l)).
func aggregate(w, lwLeft, lwRight expw) (lw expw, half float64) {
	s := w.add(lwLeft.mul(lwRight)) // w + exp(l)
	return s.half(), w.ratio(s)
}

// goUpwards recomputes the tree weights along t.path, leaf first, and
// files each in its parent.
func (t *mondrianTree) goUpwards() {
	path := t.path
	last := len(path) - 1
	n := t.nodes.elem(path[last])
	lw := n.w // the path ends at a leaf
	if n.left >= 0 {
		lw, n.half = aggregate(n.w, n.lw[0], n.lw[1])
	}
	// Each level's tree weight is the next one's input: the chain runs
	// through registers, on a mantissa left unnormalized (within 2^±40)
	// so that each link is a multiply, a scaled add and no renormalizing;
	// the normalized copy filed in the node is off the chain. Scaling by
	// powers of two is exact, so the values are those aggregate computes.
	m, e := lw.m, lw.e
	for k := last - 1; k >= 0; k-- {
		child := path[k+1]
		n := t.nodes.elem(path[k])
		side := 0
		if n.left != child {
			side = 1
		}
		sib := n.lw[1-side]
		w := n.w
		if m == 0 || sib.m == 0 || w.m == 0 || m > 0x1p40 || m < 0x1p-40 {
			lw, n.half = aggregate(w, norm(m, e), sib)
			n.lw[side] = norm(m, e)
			m, e = lw.m, lw.e
			continue
		}
		n.lw[side] = norm(m, e)
		// s = w + exp(l), exp(l) the children's product.
		sm, se := sumAligned(w.m, w.e, m*sib.m, e+sib.e)
		n.half = w.ratio(norm(sm, se))
		m, e = sm*0.5, se
	}
	t.rootLW = norm(m, e)
}

// deriveHalves recomputes every branch's aggregation share from its weight
// and its children's tree weights, as goUpwards last did (after a decode).
func (t *mondrianTree) deriveHalves() {
	for i := range int32(t.nodes.n) {
		n := t.nodes.elem(i)
		if n.left >= 0 {
			_, n.half = aggregate(n.w, n.lw[0], n.lw[1])
		}
	}
}

// addProba adds this tree's class-index probabilities for the sample whose
// path findPaths left in t.path, divided by div, to out (length >= nSeen).
func (t *mondrianTree) addProba(nSeen int, div float64, out, scratch []float64) {
	path := t.path
	leaf := path[len(path)-1]
	s := scratch[:nSeen]
	p := t.rec(leaf)
	for c := range s {
		s[c] = t.nodeScore(p, c, nSeen)
	}
	if t.useAggregation && nSeen == 2 {
		// Binary classification, the common case: the two running
		// probabilities are each a chain through every level, so they
		// stay in registers.
		d, dK := t.dirichlet, 2*t.dirichlet
		s0, s1 := s[0], s[1]
		for k := len(path) - 2; k >= 0; k-- {
			i := path[k]
			half := t.nodes.elem(i).half
			comp := 1.0 - half
			p := t.rec(i)[:slotStats+2]
			w := half / (p[slotN] + dK)
			s0 = w*(p[slotStats]+d) + comp*s0
			s1 = w*(p[slotStats+1]+d) + comp*s1
		}
		s[0], s[1] = s0, s1
		if total := s0 + s1; total > 0 {
			inv := 1.0 / total
			s[0], s[1] = s0*inv, s1*inv
		}
	} else if t.useAggregation {
		d, dK := t.dirichlet, t.dirichlet*float64(nSeen)
		for k := len(path) - 2; k >= 0; k-- {
			i := path[k]
			half := t.nodes.elem(i).half
			comp := 1.0 - half
			p := t.rec(i)
			// half·nodeScore with one division per node, not per class.
			w := half / (p[slotN] + dK)
			counts := p[slotStats : slotStats+len(s)]
			for c := range s {
				s[c] = w*(counts[c]+d) + comp*s[c]
			}
		}
		total := 0.0
		for _, v := range s {
			total += v
		}
		if total > 0 {
			inv := 1.0 / total
			for c := range s {
				s[c] *= inv
			}
		}
	}
	for c, v := range s {
		out[c] += v / div
	}
}

// predictValue is the tree's regression prediction for the sample whose
// path findPaths left in t.path.
func (t *mondrianTree) predictValue() float64 {
	path := t.path
	pred := t.rec(path[len(path)-1])[slotStats]
	if !t.useAggregation {
		return pred
	}
	for k := len(path) - 2; k >= 0; k-- {
		i := path[k]
		half := t.nodes.elem(i).half
		pred = half*t.rec(i)[slotStats] + (1.0-half)*pred
	}
	return pred
}

func (t *mondrianTree) clone() *mondrianTree {
	c := *t
	r := *t.rng
	c.rng = &r
	c.nodes = t.nodes.clone()
	c.payload = t.payload.clone()
	c.ext, c.feats, c.path, c.sums, c.change = nil, nil, nil, nil, nil
	return &c
}

// encodeW writes a weight as its mantissa and exponent, exactly (state
// version 2), or as River's log-weight (version 1).
func encodeW(e *wire.Encoder, v expw, version uint64) {
	if version < 2 {
		e.F64(v.log())
		return
	}
	e.F64(v.m)
	e.Varint(v.e)
}

// decodeW reads a weight: a mantissa and exponent from state version 2 on,
// a River log-weight before.
func decodeW(d *wire.Decoder, version uint64) expw {
	if version < 2 {
		return fromLog(d.F64())
	}
	v := expw{m: d.F64(), e: d.Varint()}
	if !(v.m == 0 || (v.m >= 1 && v.m < 2)) {
		d.Fail()
	}
	return v
}

func (t *mondrianTree) encode(e *wire.Encoder, version uint64) {
	e.Varint(t.iteration)
	e.Varint(int64(t.root))
	t.rng.Encode(e)
	e.Uvarint(uint64(t.nodes.n))
	for i := range int32(t.nodes.n) {
		n := t.nodes.elem(i)
		p := t.rec(i)
		e.Varint(int64(n.parent))
		e.Varint(int64(n.left))
		e.Varint(int64(n.right))
		e.Varint(int64(n.feature))
		e.F64(n.threshold)
		e.F64(p[slotTime])
		encodeW(e, n.w, version)
		encodeW(e, t.ownLW(i), version)
		e.Varint(int64(p[slotN]))
	}
	for i := range int32(t.nodes.n) {
		for _, v := range t.rec(i)[slotStats:t.boxOff] {
			e.F64(v)
		}
	}
	for side := 0; side < 2; side++ {
		for i := range int32(t.nodes.n) {
			b := t.box(i)
			for k := side; k < len(b); k += 2 {
				e.F64(b[k])
			}
		}
	}
}

// decodeInto restores the state written by encode (or by state version
// 1, which held the weights as logs) into t, whose shape fields
// (classifier, nFeat, nClasses and the hyper-parameters) are set.
func (t *mondrianTree) decodeInto(d *wire.Decoder, version uint64) {
	t.setShape()
	t.iteration = d.Varint()
	t.root = int32(d.Varint())
	t.rng = pyrand.Decode(d)
	n := d.Count(8 * 5)
	if n > math.MaxInt32 {
		d.Fail()
		return
	}
	t.nodes.init(1, n)
	lws := make([]expw, n)
	times := make([]float64, n)
	counts := make([]float64, n)
	for i := range int32(t.nodes.n) {
		nd := t.nodes.elem(i)
		nd.parent = int32(d.Varint())
		nd.left = int32(d.Varint())
		nd.right = int32(d.Varint())
		nd.feature = int32(d.Varint())
		nd.threshold = d.F64()
		times[i] = d.F64()
		nd.w = decodeW(d, version)
		lws[i] = decodeW(d, version)
		counts[i] = float64(d.Varint())
	}
	stats := t.boxOff - slotStats
	// The payload is the largest allocation: check the input can fill it.
	if d.Err() != nil || n*(stats+2*t.nFeat) > d.Len()/8 {
		d.Fail()
		return
	}
	t.payload.init(t.stride, n)
	for i := range int32(t.nodes.n) {
		p := t.rec(i)
		p[slotN] = counts[i]
		p[slotTime] = times[i]
		for k := slotStats; k < t.boxOff; k++ {
			p[k] = d.F64()
		}
	}
	for side := 0; side < 2; side++ {
		for i := range int32(t.nodes.n) {
			b := t.box(i)
			for k := side; k < len(b); k += 2 {
				b[k] = d.F64()
			}
		}
	}
	if d.Err() != nil {
		return
	}
	// Structural sanity: every link points inside the arrays.
	bad := func(v int32, allowNeg bool) bool { return v >= int32(n) || (v < 0 && !(allowNeg && v == -1)) }
	if bad(t.root, false) {
		d.SetErr(wire.ErrTruncated)
		return
	}
	for i := range int32(t.nodes.n) {
		nd := t.nodes.elem(i)
		if bad(nd.parent, true) || bad(nd.left, true) || bad(nd.right, true) || (nd.left >= 0 && (nd.right < 0 || nd.feature < 0 || int(nd.feature) >= t.nFeat)) {
			d.SetErr(wire.ErrTruncated)
			return
		}
	}
	t.rootLW = lws[t.root]
	for i := range int32(t.nodes.n) {
		nd := t.nodes.elem(i)
		if nd.left >= 0 {
			nd.lw = [2]expw{lws[nd.left], lws[nd.right]}
			t.rec(i)[slotChildTime] = times[nd.left]
		} else {
			nd.lw = [2]expw{{m: 1}, {m: 1}}
		}
	}
	t.deriveHalves()
}
