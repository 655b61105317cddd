package forest

import (
	"math"
	"slices"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml/internal/pyrand"
)

// mnode holds a node's links and scalar statistics.
type mnode struct {
	parent, left, right, feature int32
	threshold, time              float64
	weight, logWeight            float64
	nSamples                     int64
	mean                         float64 // regressors: running mean of the targets
	// half is a branch's share in the aggregation, River's
	// 0.5·exp(weight − logWeight), derived with logWeight (see
	// logSum2ExpHalf) so that a prediction needs no exp. Not encoded: a
	// decoded tree derives it again from the same inputs.
	half float64
}

// mondrianTree is one tree of an aggregated Mondrian forest, stored as
// a node array (index 0 is the first node created; root may move
// when a split happens above it). A node is a leaf when left[i] < 0.
//
// Features are addressed by position. A NaN input is a missing feature: it
// does not enter bounding boxes and, at a branch on it, the sample follows
// the child with the larger aggregation weight, as River does for a key
// absent from x. Bounding boxes mark a feature never seen by a node with NaN.
type mondrianTree struct {
	classifier bool
	nFeat      int // bounding-box stride
	nClasses   int // count stride (classifiers)

	step           float64
	useAggregation bool
	dirichlet      float64
	splitPure      bool

	iteration int64
	root      int32
	rng       *pyrand.Rand

	nodes  []mnode
	counts []float64 // classifiers: nClasses per node, by class index of first appearance
	ranges []float64 // 2*nFeat per node: min and max of each feature, interleaved

	ext   []float64 // scratch: cumulative range extensions
	feats []int     // scratch: the features of ext
}

func newMondrianTree(classifier bool, nFeat, nClasses int, step float64, useAgg bool, dirichlet float64, splitPure bool, seed int64) *mondrianTree {
	t := &mondrianTree{
		classifier: classifier, nFeat: nFeat, nClasses: nClasses,
		step: step, useAggregation: useAgg, dirichlet: dirichlet, splitPure: splitPure,
		rng: pyrand.New(seed),
	}
	t.root = t.newNode(-1, 0)
	return t
}

// grow makes room for n more elements in s, doubling its capacity when it
// is full: a tree grows by a node or two on most learns, and append's
// gentler growth for large slices would copy the arrays about five times
// over instead of twice.
func grow[E any](s []E, n int) []E {
	if len(s)+n <= cap(s) {
		return s
	}
	return slices.Grow(s, max(n, len(s)))
}

// newNode appends an empty leaf.
func (t *mondrianTree) newNode(parent int32, time float64) int32 {
	i := int32(len(t.nodes))
	t.nodes = append(grow(t.nodes, 1), mnode{parent: parent, left: -1, right: -1, feature: -1, time: time})
	if t.classifier {
		t.counts = grow(t.counts, t.nClasses)
		for k := 0; k < t.nClasses; k++ {
			t.counts = append(t.counts, 0)
		}
	}
	nan := math.NaN()
	t.ranges = grow(t.ranges, 2*t.nFeat)
	for k := 0; k < 2*t.nFeat; k++ {
		t.ranges = append(t.ranges, nan)
	}
	return i
}

// replant copies the statistics of node src into dst (River's
// replant(copy_all=True)).
func (t *mondrianTree) replant(dst, src int32) {
	d, o := &t.nodes[dst], &t.nodes[src]
	d.weight, d.logWeight, d.nSamples, d.mean, d.half = o.weight, o.logWeight, o.nSamples, o.mean, o.half
	if t.classifier {
		k := t.nClasses
		copy(t.counts[int(dst)*k:int(dst+1)*k], t.counts[int(src)*k:int(src+1)*k])
	}
	r := 2 * t.nFeat
	copy(t.ranges[int(dst)*r:int(dst+1)*r], t.ranges[int(src)*r:int(src+1)*r])
}

func (t *mondrianTree) isLeaf(i int32) bool { return t.nodes[i].left < 0 }

// nodeScore is the Dirichlet-smoothed probability of class index c at node i
// when nSeen classes have been seen.
func (t *mondrianTree) nodeScore(i int32, c int, nSeen int) float64 {
	return (t.counts[int(i)*t.nClasses+c] + t.dirichlet) / (float64(t.nodes[i].nSamples) + t.dirichlet*float64(nSeen))
}

func (t *mondrianTree) box(i int32) []float64 {
	r := 2 * t.nFeat
	return t.ranges[int(i)*r : int(i+1)*r : int(i+1)*r]
}

// updateDownwards adds x (and its label) to node i. With inside, the
// caller knows x cannot change the node's bounding box (see extension).
func (t *mondrianTree) updateDownwards(i int32, x []float64, yi int, y float64, nSeen int, doUpdateWeight, inside bool) {
	b := t.box(i)
	n := &t.nodes[i]
	if inside {
		// Nothing to widen.
	} else if n.nSamples == 0 {
		for f, v := range x {
			b[2*f], b[2*f+1] = v, v
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
	n.nSamples++
	if t.classifier {
		if doUpdateWeight && t.useAggregation {
			n.weight += t.step * math.Log(t.nodeScore(i, yi, nSeen))
		}
		t.counts[int(i)*t.nClasses+yi]++
		return
	}
	if doUpdateWeight && t.useAggregation {
		r := n.mean - y
		n.weight -= t.step * (r * r / 2)
	}
	n.mean += (1.0 / float64(n.nSamples)) * (y - n.mean)
}

// extension is the total distance from x to the bounding box of node i,
// and whether x lies inside the box: no feature outside it and none that
// the box has not seen yet, so that adding x leaves the box as it is.
func (t *mondrianTree) extension(i int32, x []float64) (sum float64, inside bool) {
	b := t.box(i)
	fresh := false
	for f, v := range x {
		lo := b[2*f]
		if v != v {
			continue
		}
		if lo != lo {
			fresh = true
			continue
		}
		if v < lo {
			sum += lo - v
		} else if hi := b[2*f+1]; v > hi {
			sum += v - hi
		}
	}
	return sum, sum == 0 && !fresh
}

// pickFeature draws a feature with probability proportional to its range
// extension, in feature order (River sorts the feature names; Spate's
// positions play that role).
func (t *mondrianTree) pickFeature(i int32, x []float64) int {
	b := t.box(i)
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
	if !t.isLeaf(i) {
		oldL, oldR := t.nodes[i].left, t.nodes[i].right
		moved := t.newNode(i, splitTime)
		leaf := t.newNode(i, splitTime)
		t.nodes[moved].feature = t.nodes[i].feature
		t.nodes[moved].threshold = t.nodes[i].threshold
		t.replant(moved, i)
		t.nodes[moved].left, t.nodes[moved].right = oldL, oldR
		t.nodes[oldL].parent, t.nodes[oldR].parent = moved, moved
		t.nodes[i].feature = int32(feature)
		t.nodes[i].threshold = threshold
		if isRight {
			t.nodes[i].left, t.nodes[i].right = moved, leaf
		} else {
			t.nodes[i].left, t.nodes[i].right = leaf, moved
		}
		return
	}
	l := t.newNode(i, splitTime)
	r := t.newNode(i, splitTime)
	t.nodes[i].feature = int32(feature)
	t.nodes[i].threshold = threshold
	t.nodes[i].left, t.nodes[i].right = l, r
	if isRight {
		t.replant(l, i)
	} else {
		t.replant(r, i)
	}
}

// next returns the child of branch i that x goes to.
func (t *mondrianTree) next(i int32, x []float64) int32 {
	n := &t.nodes[i]
	v := x[n.feature]
	if v != v {
		if t.nodes[n.left].weight < t.nodes[n.right].weight {
			return n.right
		}
		return n.left
	}
	if v <= n.threshold {
		return n.left
	}
	return n.right
}

// learn runs the downward then the upward procedure for one sample. yi is
// the class index (classifiers), y the target (regressors), nSeen the number
// of classes seen so far including this sample's.
func (t *mondrianTree) learn(x []float64, yi int, y float64, nSeen int) {
	leaf := t.goDownwards(x, yi, y, nSeen)
	if t.useAggregation && t.iteration >= 1 {
		t.goUpwards(leaf)
	}
	t.iteration++
}

func (t *mondrianTree) goDownwards(x []float64, yi int, y float64, nSeen int) int32 {
	cur := t.root
	if t.iteration == 0 {
		t.updateDownwards(cur, x, yi, y, nSeen, false, false)
		return cur
	}
	for {
		splitTime := 0.0
		check := true
		if t.classifier && !t.splitPure {
			check = float64(t.nodes[cur].nSamples) != t.counts[int(cur)*t.nClasses+yi]
		}
		inside := false
		if check {
			var sum float64
			if sum, inside = t.extension(cur, x); sum > 0 {
				r := t.rng.Random()
				cand := t.nodes[cur].time + (-math.Log(1-r))/sum
				if t.isLeaf(cur) || cand < t.nodes[t.nodes[cur].left].time {
					splitTime = cand
				}
			}
		}
		if splitTime > 0 {
			f := t.pickFeature(cur, x)
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
			t.updateDownwards(cur, x, yi, y, nSeen, true, false)
			leaf := t.nodes[cur].left
			if isRight {
				leaf = t.nodes[cur].right
			}
			t.updateDownwards(leaf, x, yi, y, nSeen, false, false)
			return leaf
		}
		t.updateDownwards(cur, x, yi, y, nSeen, true, inside)
		if t.isLeaf(cur) {
			return cur
		}
		cur = t.next(cur, x)
	}
}

const logHalf = -math.Ln2

// logSum2ExpHalf returns River's logWeight of a branch whose own weight is
// w and whose children's log-weights sum to l, log((exp(w)+exp(l))/2), and
// the branch's aggregation share 0.5·exp(w − logWeight).
//
// The log-weight is computed as River does. The share is derived from the
// same e = exp(−|w − l|): it is 1/(1+e) when w >= l and e/(1+e) otherwise,
// which is River's expression without its cancellation; the two agree to
// within a few units in the last place of the weights.
//
// When the terms are more than 40 apart, e is below 2^-57, so adding
// log1p(e) to a sum of magnitude >= 1 cannot change it: the shortcut
// returns the bits the full formula would.
func logSum2ExpHalf(w, l float64) (logW, half float64) {
	a, b := w, l
	if a < b {
		a, b = b, a
	}
	s := a + logHalf
	if a-b > 40 && (s >= 1 || s <= -1) {
		if w >= l {
			return s, 1
		}
		e := math.Exp(b - a)
		return s, e / (1 + e)
	}
	e := math.Exp(b - a)
	logW = s + math.Log1p(e)
	if w >= l {
		return logW, 1 / (1 + e)
	}
	return logW, e / (1 + e)
}

func (t *mondrianTree) goUpwards(i int32) {
	for {
		n := &t.nodes[i]
		if n.left < 0 {
			n.logWeight = n.weight
		} else {
			n.logWeight, n.half = logSum2ExpHalf(n.weight, t.nodes[n.left].logWeight+t.nodes[n.right].logWeight)
		}
		if n.parent < 0 {
			return
		}
		i = n.parent
	}
}

// deriveHalves recomputes every branch's aggregation share from its weight
// and its children's log-weights, as goUpwards last did (after a decode).
func (t *mondrianTree) deriveHalves() {
	for i := range t.nodes {
		n := &t.nodes[i]
		if n.left >= 0 {
			_, n.half = logSum2ExpHalf(n.weight, t.nodes[n.left].logWeight+t.nodes[n.right].logWeight)
		}
	}
}

func (t *mondrianTree) findLeaf(x []float64) int32 {
	i := t.root
	for !t.isLeaf(i) {
		i = t.next(i, x)
	}
	return i
}

// addProba adds this tree's class-index probabilities for x, divided by
// div, to out (length >= nSeen).
func (t *mondrianTree) addProba(x []float64, nSeen int, div float64, out, scratch []float64) {
	leaf := t.findLeaf(x)
	s := scratch[:nSeen]
	for c := range s {
		s[c] = t.nodeScore(leaf, c, nSeen)
	}
	if t.useAggregation {
		for i := t.nodes[leaf].parent; i >= 0; i = t.nodes[i].parent {
			n := &t.nodes[i]
			half := n.half
			comp := 1.0 - half
			for c := range s {
				s[c] = half*t.nodeScore(i, c, nSeen) + comp*s[c]
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

// predictValue is the tree's regression prediction for x.
func (t *mondrianTree) predictValue(x []float64) float64 {
	leaf := t.findLeaf(x)
	pred := t.nodes[leaf].mean
	if !t.useAggregation {
		return pred
	}
	for i := t.nodes[leaf].parent; i >= 0; i = t.nodes[i].parent {
		n := &t.nodes[i]
		pred = n.half*n.mean + (1.0-n.half)*pred
	}
	return pred
}

func (t *mondrianTree) clone() *mondrianTree {
	c := *t
	r := *t.rng
	c.rng = &r
	c.nodes = append([]mnode(nil), t.nodes...)
	c.counts = append([]float64(nil), t.counts...)
	c.ranges = append([]float64(nil), t.ranges...)
	c.ext, c.feats = nil, nil
	return &c
}

func (t *mondrianTree) encode(e *wire.Encoder) {
	e.Varint(t.iteration)
	e.Varint(int64(t.root))
	t.rng.Encode(e)
	e.Uvarint(uint64(len(t.nodes)))
	for i := range t.nodes {
		n := &t.nodes[i]
		e.Varint(int64(n.parent))
		e.Varint(int64(n.left))
		e.Varint(int64(n.right))
		e.Varint(int64(n.feature))
		e.F64(n.threshold)
		e.F64(n.time)
		e.F64(n.weight)
		e.F64(n.logWeight)
		e.Varint(n.nSamples)
	}
	if t.classifier {
		for _, v := range t.counts {
			e.F64(v)
		}
	} else {
		for i := range t.nodes {
			e.F64(t.nodes[i].mean)
		}
	}
	for side := 0; side < 2; side++ {
		for k := side; k < len(t.ranges); k += 2 {
			e.F64(t.ranges[k])
		}
	}
}

// decodeInto restores the state written by encode into t, whose shape
// fields (classifier, nFeat, nClasses and the hyper-parameters) are set.
func (t *mondrianTree) decodeInto(d *wire.Decoder) {
	t.iteration = d.Varint()
	t.root = int32(d.Varint())
	t.rng = pyrand.Decode(d)
	n := d.Count(8 * 5)
	t.nodes = make([]mnode, n)
	for i := range t.nodes {
		nd := &t.nodes[i]
		nd.parent = int32(d.Varint())
		nd.left = int32(d.Varint())
		nd.right = int32(d.Varint())
		nd.feature = int32(d.Varint())
		nd.threshold = d.F64()
		nd.time = d.F64()
		nd.weight = d.F64()
		nd.logWeight = d.F64()
		nd.nSamples = d.Varint()
	}
	readN := func(m int) []float64 {
		if d.Err() != nil || m < 0 || m > d.Len()/8 {
			d.Fail()
			return nil
		}
		out := make([]float64, m)
		for i := range out {
			out[i] = d.F64()
		}
		return out
	}
	if t.classifier {
		t.counts = readN(n * t.nClasses)
	} else {
		for i, v := range readN(n) {
			t.nodes[i].mean = v
		}
	}
	mins := readN(n * t.nFeat)
	maxs := readN(n * t.nFeat)
	if d.Err() != nil {
		return
	}
	t.ranges = make([]float64, 2*n*t.nFeat)
	for k := range mins {
		t.ranges[2*k], t.ranges[2*k+1] = mins[k], maxs[k]
	}
	// Structural sanity: every link points inside the arrays.
	bad := func(v int32, allowNeg bool) bool { return v >= int32(n) || (v < 0 && !(allowNeg && v == -1)) }
	if bad(t.root, false) {
		d.SetErr(wire.ErrTruncated)
		return
	}
	for i := range t.nodes {
		nd := &t.nodes[i]
		if bad(nd.parent, true) || bad(nd.left, true) || bad(nd.right, true) || (nd.left >= 0 && (nd.right < 0 || nd.feature < 0 || int(nd.feature) >= t.nFeat)) {
			d.SetErr(wire.ErrTruncated)
			return
		}
	}
	t.deriveHalves()
}
