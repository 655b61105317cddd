package forest

import (
	"math"
)

// mondrianTree is one tree of an aggregated Mondrian forest, stored as
// parallel node arrays (index 0 is the first node created; root may move
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
	rng       *pyRand

	parent, left, right []int32
	feature             []int32
	threshold, time     []float64
	weight, logWeight   []float64
	nSamples            []int64
	counts              []float64 // classifiers: nClasses per node, by class index of first appearance
	mean                []float64 // regressors: running mean of the targets
	rmin, rmax          []float64 // nFeat per node

	ext []float64 // scratch: cumulative range extensions
}

func newMondrianTree(classifier bool, nFeat, nClasses int, step float64, useAgg bool, dirichlet float64, splitPure bool, seed int64) *mondrianTree {
	t := &mondrianTree{
		classifier: classifier, nFeat: nFeat, nClasses: nClasses,
		step: step, useAggregation: useAgg, dirichlet: dirichlet, splitPure: splitPure,
		rng: newPyRand(seed),
	}
	t.root = t.newNode(-1, 0)
	return t
}

// newNode appends an empty leaf.
func (t *mondrianTree) newNode(parent int32, time float64) int32 {
	i := int32(len(t.parent))
	t.parent = append(t.parent, parent)
	t.left = append(t.left, -1)
	t.right = append(t.right, -1)
	t.feature = append(t.feature, -1)
	t.threshold = append(t.threshold, 0)
	t.time = append(t.time, time)
	t.weight = append(t.weight, 0)
	t.logWeight = append(t.logWeight, 0)
	t.nSamples = append(t.nSamples, 0)
	if t.classifier {
		for k := 0; k < t.nClasses; k++ {
			t.counts = append(t.counts, 0)
		}
	} else {
		t.mean = append(t.mean, 0)
	}
	for k := 0; k < t.nFeat; k++ {
		t.rmin = append(t.rmin, math.NaN())
		t.rmax = append(t.rmax, math.NaN())
	}
	return i
}

// replant copies the statistics of node src into dst (River's
// replant(copy_all=True)).
func (t *mondrianTree) replant(dst, src int32) {
	t.weight[dst] = t.weight[src]
	t.logWeight[dst] = t.logWeight[src]
	t.nSamples[dst] = t.nSamples[src]
	if t.classifier {
		k := t.nClasses
		copy(t.counts[int(dst)*k:int(dst+1)*k], t.counts[int(src)*k:int(src+1)*k])
	} else {
		t.mean[dst] = t.mean[src]
	}
	d := t.nFeat
	copy(t.rmin[int(dst)*d:int(dst+1)*d], t.rmin[int(src)*d:int(src+1)*d])
	copy(t.rmax[int(dst)*d:int(dst+1)*d], t.rmax[int(src)*d:int(src+1)*d])
}

func (t *mondrianTree) isLeaf(i int32) bool { return t.left[i] < 0 }

// nodeScore is the Dirichlet-smoothed probability of class index c at node i
// when nSeen classes have been seen.
func (t *mondrianTree) nodeScore(i int32, c int, nSeen int) float64 {
	return (t.counts[int(i)*t.nClasses+c] + t.dirichlet) / (float64(t.nSamples[i]) + t.dirichlet*float64(nSeen))
}

// updateDownwards adds x (and its label) to node i.
func (t *mondrianTree) updateDownwards(i int32, x []float64, yi int, y float64, nSeen int, doUpdateWeight bool) {
	d := t.nFeat
	mn := t.rmin[int(i)*d : int(i+1)*d]
	mx := t.rmax[int(i)*d : int(i+1)*d]
	if t.nSamples[i] == 0 {
		copy(mn, x)
		copy(mx, x)
	} else {
		for f, v := range x {
			if v != v { // missing
				continue
			}
			cur := mn[f]
			if cur != cur {
				mn[f], mx[f] = v, v
			} else if v < cur {
				mn[f] = v
			} else if v > mx[f] {
				mx[f] = v
			}
		}
	}
	t.nSamples[i]++
	if t.classifier {
		if doUpdateWeight && t.useAggregation {
			t.weight[i] += t.step * math.Log(t.nodeScore(i, yi, nSeen))
		}
		t.counts[int(i)*t.nClasses+yi]++
		return
	}
	if doUpdateWeight && t.useAggregation {
		r := t.mean[i] - y
		t.weight[i] -= t.step * (r * r / 2)
	}
	t.mean[i] += (1.0 / float64(t.nSamples[i])) * (y - t.mean[i])
}

// extensionSum is the total distance from x to the bounding box of node i.
func (t *mondrianTree) extensionSum(i int32, x []float64) float64 {
	d := t.nFeat
	mn := t.rmin[int(i)*d : int(i+1)*d]
	mx := t.rmax[int(i)*d : int(i+1)*d]
	sum := 0.0
	for f, v := range x {
		lo := mn[f]
		if v != v || lo != lo {
			continue
		}
		if v < lo {
			sum += lo - v
		} else if hi := mx[f]; v > hi {
			sum += v - hi
		}
	}
	return sum
}

// pickFeature draws a feature with probability proportional to its range
// extension, in feature order (River sorts the feature names; Spate's
// positions play that role).
func (t *mondrianTree) pickFeature(i int32, x []float64) int {
	d := t.nFeat
	mn := t.rmin[int(i)*d : int(i+1)*d]
	mx := t.rmax[int(i)*d : int(i+1)*d]
	t.ext = t.ext[:0]
	feats := make([]int, 0, 4)
	acc := 0.0
	for f, v := range x {
		lo := mn[f]
		if v != v || lo != lo {
			continue
		}
		var e float64
		if v < lo {
			e = lo - v
		} else if hi := mx[f]; v > hi {
			e = v - hi
		} else {
			continue
		}
		acc += e
		t.ext = append(t.ext, acc)
		feats = append(feats, f)
	}
	return feats[t.rng.choiceCum(t.ext)]
}

// split applies River's MondrianTree._split to node i in place: the node
// becomes (or stays) a branch on (feature, threshold); a new empty leaf at
// splitTime takes the side of the extension and the old content of i moves
// to the other side.
func (t *mondrianTree) split(i int32, splitTime, threshold float64, feature int, isRight bool) {
	if !t.isLeaf(i) {
		oldL, oldR := t.left[i], t.right[i]
		moved := t.newNode(i, splitTime)
		leaf := t.newNode(i, splitTime)
		t.feature[moved] = t.feature[i]
		t.threshold[moved] = t.threshold[i]
		t.replant(moved, i)
		t.left[moved], t.right[moved] = oldL, oldR
		t.parent[oldL], t.parent[oldR] = moved, moved
		t.feature[i] = int32(feature)
		t.threshold[i] = threshold
		if isRight {
			t.left[i], t.right[i] = moved, leaf
		} else {
			t.left[i], t.right[i] = leaf, moved
		}
		return
	}
	l := t.newNode(i, splitTime)
	r := t.newNode(i, splitTime)
	t.feature[i] = int32(feature)
	t.threshold[i] = threshold
	t.left[i], t.right[i] = l, r
	if isRight {
		t.replant(l, i)
	} else {
		t.replant(r, i)
	}
}

// next returns the child of branch i that x goes to.
func (t *mondrianTree) next(i int32, x []float64) int32 {
	v := x[t.feature[i]]
	if v != v {
		l, r := t.left[i], t.right[i]
		if t.weight[l] < t.weight[r] {
			return r
		}
		return l
	}
	if v <= t.threshold[i] {
		return t.left[i]
	}
	return t.right[i]
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
		t.updateDownwards(cur, x, yi, y, nSeen, false)
		return cur
	}
	for {
		splitTime := 0.0
		check := true
		if t.classifier && !t.splitPure {
			check = float64(t.nSamples[cur]) != t.counts[int(cur)*t.nClasses+yi]
		}
		if check {
			if sum := t.extensionSum(cur, x); sum > 0 {
				r := t.rng.random()
				cand := t.time[cur] + (-math.Log(1-r))/sum
				if t.isLeaf(cur) || cand < t.time[t.left[cur]] {
					splitTime = cand
				}
			}
		}
		if splitTime > 0 {
			f := t.pickFeature(cur, x)
			xf := x[f]
			lo, hi := t.rmin[int(cur)*t.nFeat+f], t.rmax[int(cur)*t.nFeat+f]
			isRight := xf > hi
			var thr float64
			if isRight {
				thr = t.rng.uniform(hi, xf)
			} else {
				thr = t.rng.uniform(xf, lo)
			}
			t.split(cur, splitTime, thr, f, isRight)
			t.updateDownwards(cur, x, yi, y, nSeen, true)
			leaf := t.left[cur]
			if isRight {
				leaf = t.right[cur]
			}
			t.updateDownwards(leaf, x, yi, y, nSeen, false)
			return leaf
		}
		t.updateDownwards(cur, x, yi, y, nSeen, true)
		if t.isLeaf(cur) {
			return cur
		}
		cur = t.next(cur, x)
	}
}

const logHalf = -math.Ln2

func logSum2Exp(a, b float64) float64 {
	if a > b {
		return a + logHalf + math.Log1p(math.Exp(b-a))
	}
	return b + logHalf + math.Log1p(math.Exp(a-b))
}

func (t *mondrianTree) goUpwards(i int32) {
	for {
		if t.isLeaf(i) {
			t.logWeight[i] = t.weight[i]
		} else {
			t.logWeight[i] = logSum2Exp(t.weight[i], t.logWeight[t.left[i]]+t.logWeight[t.right[i]])
		}
		p := t.parent[i]
		if p < 0 {
			return
		}
		i = p
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
		for i := t.parent[leaf]; i >= 0; i = t.parent[i] {
			half := 0.5 * math.Exp(t.weight[i]-t.logWeight[i])
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
	pred := t.mean[leaf]
	if !t.useAggregation {
		return pred
	}
	for i := t.parent[leaf]; i >= 0; i = t.parent[i] {
		half := 0.5 * math.Exp(t.weight[i]-t.logWeight[i])
		pred = half*t.mean[i] + (1.0-half)*pred
	}
	return pred
}

func (t *mondrianTree) clone() *mondrianTree {
	c := *t
	r := *t.rng
	c.rng = &r
	c.parent = append([]int32(nil), t.parent...)
	c.left = append([]int32(nil), t.left...)
	c.right = append([]int32(nil), t.right...)
	c.feature = append([]int32(nil), t.feature...)
	c.threshold = append([]float64(nil), t.threshold...)
	c.time = append([]float64(nil), t.time...)
	c.weight = append([]float64(nil), t.weight...)
	c.logWeight = append([]float64(nil), t.logWeight...)
	c.nSamples = append([]int64(nil), t.nSamples...)
	c.counts = append([]float64(nil), t.counts...)
	c.mean = append([]float64(nil), t.mean...)
	c.rmin = append([]float64(nil), t.rmin...)
	c.rmax = append([]float64(nil), t.rmax...)
	c.ext = nil
	return &c
}

func (t *mondrianTree) encode(e *encoder) {
	e.varint(t.iteration)
	e.varint(int64(t.root))
	t.rng.encode(e)
	n := len(t.parent)
	e.uvarint(uint64(n))
	for i := 0; i < n; i++ {
		e.varint(int64(t.parent[i]))
		e.varint(int64(t.left[i]))
		e.varint(int64(t.right[i]))
		e.varint(int64(t.feature[i]))
		e.f64(t.threshold[i])
		e.f64(t.time[i])
		e.f64(t.weight[i])
		e.f64(t.logWeight[i])
		e.varint(t.nSamples[i])
	}
	if t.classifier {
		for _, v := range t.counts {
			e.f64(v)
		}
	} else {
		for _, v := range t.mean {
			e.f64(v)
		}
	}
	for _, v := range t.rmin {
		e.f64(v)
	}
	for _, v := range t.rmax {
		e.f64(v)
	}
}

// decodeInto restores the state written by encode into t, whose shape
// fields (classifier, nFeat, nClasses and the hyper-parameters) are set.
func (t *mondrianTree) decodeInto(d *decoder) {
	t.iteration = d.varint()
	t.root = int32(d.varint())
	t.rng = decodePyRand(d)
	n := d.count(8 * 5)
	t.parent = make([]int32, n)
	t.left = make([]int32, n)
	t.right = make([]int32, n)
	t.feature = make([]int32, n)
	t.threshold = make([]float64, n)
	t.time = make([]float64, n)
	t.weight = make([]float64, n)
	t.logWeight = make([]float64, n)
	t.nSamples = make([]int64, n)
	for i := 0; i < n; i++ {
		t.parent[i] = int32(d.varint())
		t.left[i] = int32(d.varint())
		t.right[i] = int32(d.varint())
		t.feature[i] = int32(d.varint())
		t.threshold[i] = d.f64()
		t.time[i] = d.f64()
		t.weight[i] = d.f64()
		t.logWeight[i] = d.f64()
		t.nSamples[i] = d.varint()
	}
	readN := func(m int) []float64 {
		if d.err != nil || m < 0 || m > len(d.b)/8 {
			d.fail()
			return nil
		}
		out := make([]float64, m)
		for i := range out {
			out[i] = d.f64()
		}
		return out
	}
	if t.classifier {
		t.counts = readN(n * t.nClasses)
	} else {
		t.mean = readN(n)
	}
	t.rmin = readN(n * t.nFeat)
	t.rmax = readN(n * t.nFeat)
	if d.err != nil {
		return
	}
	// Structural sanity: every link points inside the arrays.
	bad := func(v int32, allowNeg bool) bool { return v >= int32(n) || (v < 0 && !(allowNeg && v == -1)) }
	if bad(t.root, false) {
		d.err = errTruncated
		return
	}
	for i := 0; i < n; i++ {
		if bad(t.parent[i], true) || bad(t.left[i], true) || bad(t.right[i], true) || (t.left[i] >= 0 && (t.right[i] < 0 || t.feature[i] < 0 || int(t.feature[i]) >= t.nFeat)) {
			d.err = errTruncated
			return
		}
	}
}
