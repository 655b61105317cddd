package tree

import (
	"cmp"
	"math"
	"slices"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/drift"
)

// Leaf prediction methods of the classification trees.
const (
	predMC = iota
	predNB
	predNBA
)

type nodeKind uint8

const (
	leafNode nodeKind = iota
	numBranch
	nomBinBranch
	nomMultiBranch
)

// node is a leaf or a branch of a classification tree. Features are
// numbered by position: numeric features first, then categorical ones.
type node struct {
	// Branch (the fields a traversal reads come first, in one cache line).
	kind      nodeKind
	feature   int
	threshold float64 // numBranch: x <= threshold goes left
	children  []*node
	value     int64         // nomBinBranch: x == value goes left
	valIndex  map[int64]int // nomMultiBranch: value → child

	depth int
	stats classDist // leaf: class weights; branch: weights seen at split time (and after, in HAT)

	// Leaf.
	active      bool
	lastSplitAt float64
	splitOrder  []int32 // features in the order their splitter was created
	hasSplit    []bool
	num         []gaussSplitter
	cat         []nominalSplitter
	mcCorrect   float64
	nbCorrect   float64

	// Hoeffding adaptive tree.
	det     *drift.ADWIN
	errN    float64 // running mean of the 0/1 error
	errMean float64
	alt     *node
}

func (n *node) isLeaf() bool { return n.kind == leafNode }

// config holds the parameters shared by the classification trees.
type config struct {
	nClasses      int
	nNum, nCat    int
	gracePeriod   float64
	maxDepth      int
	criterion     int
	delta, tau    float64
	leafPred      int
	nbThreshold   float64
	nSplits       int
	binarySplit   bool
	minBranchFrac float64
	maxShare      float64
	maxSizeMiB    float64
	memPeriod     int
	stopMem       bool
	meritPreprune bool
}

// candidate is one split suggestion (River's BranchFactory).
type candidate struct {
	merit     float64
	feature   int32 // -1: no split (the null split, or a feature without a valid one)
	kind      nodeKind
	threshold float64
	value     int64
	values    []int64 // nomMultiBranch: one branch per value, ascending
	children  []classDist
	nChildren int
}

func (c *candidate) reset() {
	c.merit = math.Inf(-1)
	c.feature = -1
	c.nChildren = 0
}

func (c *candidate) setChildren(post []classDist) {
	for len(c.children) < len(post) {
		c.children = append(c.children, newClassDist(len(post[0].w)))
	}
	for i := range post {
		c.children[i].copyFrom(&post[i])
	}
	c.nChildren = len(post)
}

// core is the machinery shared by HoeffdingTreeClassifier and
// HoeffdingAdaptiveTreeClassifier.
type core struct {
	cfg           config
	root          *node
	classes       []bool // classes seen by Learn
	nActive       int
	nInactive     int
	activeEst     float64
	inactiveEst   float64
	overhead      float64
	growthAllowed bool
	weightSeen    float64
	memNext       float64 // no multiple of the memory period lies in [weightSeen, memNext)

	// Scratch buffers, never part of the state.
	post   []classDist
	ws     []float64
	cands  []candidate
	votes  []float64
	votes2 []float64
	sigma  []float64
	leaves []leafRank
	path   []*node
}

type leafRank struct {
	promise float64
	n       *node
}

func newCore(cfg config) core {
	return core{cfg: cfg, classes: make([]bool, cfg.nClasses), overhead: 1, growthAllowed: true,
		votes: make([]float64, cfg.nClasses), votes2: make([]float64, cfg.nClasses)}
}

func (t *core) scratchPost(n int) []classDist {
	for len(t.post) < n {
		t.post = append(t.post, newClassDist(t.cfg.nClasses))
	}
	return t.post[:n]
}

// memoryCheckDue reports whether the weight seen is a multiple of the
// memory estimate period (River's test), without a float modulo on every
// call: after a check on an integral weight, the next multiple is known.
func (t *core) memoryCheckDue() bool {
	if t.weightSeen < t.memNext {
		return false
	}
	p := float64(t.cfg.memPeriod)
	due := math.Mod(t.weightSeen, p) == 0
	t.memNext = 0
	if ws := t.weightSeen; t.cfg.memPeriod > 0 && ws >= 0 && ws < 1<<52 && ws == math.Trunc(ws) {
		t.memNext = float64((int64(ws)/int64(t.cfg.memPeriod) + 1) * int64(t.cfg.memPeriod))
	}
	return due
}

func (t *core) scratchSigma() []float64 {
	if len(t.sigma) < t.cfg.nClasses {
		t.sigma = make([]float64, t.cfg.nClasses)
	}
	return t.sigma[:t.cfg.nClasses]
}

func (t *core) scratchW(n int) []float64 {
	if cap(t.ws) < n {
		t.ws = make([]float64, n)
	}
	return t.ws[:n]
}

func (t *core) newLeaf(depth int) *node {
	return &node{kind: leafNode, depth: depth, stats: newClassDist(t.cfg.nClasses), active: true}
}

// newLeafWith builds a leaf whose initial class weights are d; its last
// split attempt is set to that initial weight.
func (t *core) newLeafWith(depth int, d *classDist) *node {
	l := t.newLeaf(depth)
	l.stats.copyFrom(d)
	l.lastSplitAt = l.stats.total()
	return l
}

func (t *core) deactivate(n *node) {
	n.active = false
}

// activate gives an inactive leaf fresh (empty) splitters.
func (t *core) activate(n *node) {
	if n.active {
		return
	}
	n.active = true
	for _, f := range n.splitOrder {
		n.hasSplit[f] = false
		if int(f) < t.cfg.nNum {
			n.num[f].reset()
		} else {
			n.cat[int(f)-t.cfg.nNum].reset()
		}
	}
	n.splitOrder = n.splitOrder[:0]
}

// dropSplitters frees the splitters of an inactive leaf (memory bound).
func (t *core) dropSplitters(n *node) {
	n.splitOrder, n.hasSplit, n.num, n.cat = nil, nil, nil, nil
}

// updateSplitters feeds x to the leaf's splitters, creating them on first
// sight of a feature; missing (NaN) numeric values are skipped.
func (t *core) updateSplitters(n *node, x ml.Instance, c int, w float64) {
	if n.hasSplit == nil {
		n.hasSplit = make([]bool, t.cfg.nNum+t.cfg.nCat)
		n.num = newGaussSplitters(t.cfg.nNum, t.cfg.nClasses)
		n.cat = make([]nominalSplitter, t.cfg.nCat)
		n.splitOrder = make([]int32, 0, t.cfg.nNum+t.cfg.nCat)
	}
	num := x.Numeric[:t.cfg.nNum]
	if len(n.splitOrder) < len(n.hasSplit) {
		// Some feature has no splitter yet: record first sights, in
		// feature order (the steady state skips this pass).
		for f, v := range num {
			if v == v && !n.hasSplit[f] {
				n.hasSplit[f] = true
				n.splitOrder = append(n.splitOrder, int32(f))
			}
		}
	}
	for f, v := range num {
		if v != v {
			continue
		}
		g := &n.num[f]
		e := &g.cls[c]
		if !e.in {
			g.insert(c, v)
		}
		e.observe(v, w)
	}
	for j, v := range x.Categ[:t.cfg.nCat] {
		f := t.cfg.nNum + j
		if !n.hasSplit[f] {
			n.hasSplit[f] = true
			n.splitOrder = append(n.splitOrder, int32(f))
			if n.cat[j].classIn == nil {
				n.cat[j] = newNominalSplitter(t.cfg.nClasses)
			}
		}
		n.cat[j].update(v, c, w)
	}
}

// naiveBayes writes River's do_naive_bayes_prediction for the leaf into
// votes (keys: the leaf's classes). It returns false for River's empty
// result (no weight yet).
func (t *core) naiveBayes(n *node, x ml.Instance, votes []float64) bool {
	st := &n.stats
	total := st.total()
	if st.size() == 0 || total == 0 {
		return false
	}
	for _, c32 := range st.order {
		c := int(c32)
		cw := st.w[c]
		if !(cw > 0) {
			votes[c] = 0
			continue
		}
		v := math.Log(cw / total)
		if n.active {
			for _, f := range n.splitOrder {
				if int(f) < t.cfg.nNum {
					xv := x.Numeric[f]
					if xv != xv {
						continue
					}
					if lp := n.num[f].logPdf(xv, c); lp > math.Inf(-1) {
						v += lp
					}
				} else {
					j := int(f) - t.cfg.nNum
					if p := n.cat[j].condProba(x.Categ[j], c); p > 0 {
						v += math.Log(p)
					}
				}
			}
		}
		votes[c] = v
	}
	maxLL := math.Inf(-1)
	for _, c := range st.order {
		if votes[c] > maxLL {
			maxLL = votes[c]
		}
	}
	s := 0.0
	for _, c := range st.order {
		s += math.Exp(votes[c] - maxLL)
	}
	lse := maxLL + math.Log(s)
	for _, c := range st.order {
		votes[c] = math.Exp(votes[c] - lse)
	}
	return true
}

// nbaBookkeeping updates the adaptive leaf's counters of correct majority
// class and naive Bayes guesses (before the statistics are updated).
func (t *core) nbaBookkeeping(n *node, x ml.Instance, c int, w float64) {
	if !n.active {
		return
	}
	nb := -1
	if t.naiveBayes(n, x, t.votes2) {
		nb = argmaxFirst(n.stats.order, t.votes2)
	}
	t.nbaCount(n, c, w, nb)
}

// nbaCount is nbaBookkeeping's second half, given the naive Bayes guess
// nb (-1 for none): it credits the majority class and the guess.
func (t *core) nbaCount(n *node, c int, w float64, nb int) {
	if !n.active {
		return
	}
	if n.stats.size() == 0 {
		n.mcCorrect += w
	} else {
		n.stats.normalizeInto(t.votes2)
		if argmaxFirst(n.stats.order, t.votes2) == c {
			n.mcCorrect += w
		}
	}
	if nb == c {
		n.nbCorrect += w
	}
}

// leafDist writes the leaf's class distribution (per the leaf prediction
// method) into out for the leaf's classes; it returns false when the
// distribution is River's empty dict.
func (t *core) leafDist(n *node, x ml.Instance, out []float64) bool {
	if t.usesNaiveBayes(n) {
		return t.naiveBayes(n, x, out)
	}
	n.stats.normalizeInto(out)
	return true
}

// usesNaiveBayes reports whether leaf n predicts with naive Bayes (per the
// leaf prediction method) rather than its majority class.
func (t *core) usesNaiveBayes(n *node) bool {
	switch t.cfg.leafPred {
	case predNB:
		return n.active && n.stats.total() >= t.cfg.nbThreshold
	case predNBA:
		return n.active && n.nbCorrect >= n.mcCorrect
	}
	return false
}

// branchNo returns the child index x goes to, or false when the branch
// cannot route x (missing value, or a category without a branch).
func (t *core) branchNo(n *node, x ml.Instance) (int, bool) {
	switch n.kind {
	case numBranch:
		return numStep(n, x.Numeric)
	case nomBinBranch:
		if x.Categ[n.feature-t.cfg.nNum] == n.value {
			return 0, true
		}
		return 1, true
	default:
		i, ok := n.valIndex[x.Categ[n.feature-t.cfg.nNum]]
		return i, ok
	}
}

// numStep is the hot case of branchNo, small enough to inline: the child
// index of numeric branch n that x goes to, or false when n is not a numeric
// branch or x's value is missing. Which side a row takes is data-dependent
// and would mispredict half the time, so the side is picked without a jump.
func numStep(n *node, num []float64) (int, bool) {
	if n.kind != numBranch {
		return 0, false
	}
	v := num[n.feature]
	if v != v {
		return 0, false
	}
	b := 0
	if v > n.threshold {
		b = 1
	}
	return b, true
}

// totalWeight is River's total_weight: a leaf's class weight sum, or the sum
// over a branch's children.
func totalWeight(n *node) float64 {
	if n.isLeaf() {
		return n.stats.total()
	}
	s := 0.0
	for _, c := range n.children {
		s += totalWeight(c)
	}
	return s
}

// mostCommonPath returns the child that has seen the most weight (the left
// one on a tie of a binary branch, the first one for a multiway branch).
func mostCommonPath(n *node) (int, *node) {
	if n.kind != nomMultiBranch {
		if totalWeight(n.children[0]) < totalWeight(n.children[1]) {
			return 1, n.children[1]
		}
		return 0, n.children[0]
	}
	best, bw := 0, math.Inf(-1)
	for i, c := range n.children {
		if w := totalWeight(c); w > bw {
			best, bw = i, w
		}
	}
	return best, n.children[best]
}

// traverse follows x down from n. With untilLeaf, a branch that cannot
// route x sends it down its most common path; otherwise the walk stops at
// that branch.
func (t *core) traverse(n *node, x ml.Instance, untilLeaf bool) *node {
	for !n.isLeaf() {
		if b, ok := numStep(n, x.Numeric); ok {
			n = n.children[b]
			continue
		}
		b, ok := t.branchNo(n, x)
		if !ok {
			if !untilLeaf {
				return n
			}
			_, n = mostCommonPath(n)
			continue
		}
		n = n.children[b]
	}
	return n
}

// bestSuggestions fills t.cands with the leaf's split candidates in River's
// order (null split first, then one per splitter in creation order) and
// returns how many there are.
func (t *core) bestSuggestions(n *node) int {
	need := len(n.splitOrder) + 1
	for len(t.cands) < need {
		t.cands = append(t.cands, candidate{})
	}
	maj := n.stats.maxWeight()
	if maj != 0 && maj/n.stats.total() > t.cfg.maxShare {
		t.cands[0].reset()
		return 1
	}
	k := 0
	if t.cfg.meritPreprune {
		t.cands[0].reset()
		k++
	}
	for _, f := range n.splitOrder {
		c := &t.cands[k]
		if int(f) < t.cfg.nNum {
			n.num[f].best(t, &n.stats, int(f), c)
		} else {
			n.cat[int(f)-t.cfg.nNum].best(t, &n.stats, int(f), c)
		}
		k++
	}
	return k
}

// hoeffdingBound is sqrt(R²·ln(1/δ)/(2n)).
func hoeffdingBound(r, delta, n float64) float64 {
	return math.Sqrt((r * r * math.Log(1.0/delta)) / (2.0 * n))
}

// topTwo returns the last and second-to-last candidates of a stable
// ascending sort by merit.
func topTwo(c []candidate) (best, second int) {
	best, second = -1, -1
	for i := range c {
		switch {
		case best < 0 || c[i].merit >= c[best].merit:
			second, best = best, i
		case second < 0 || c[i].merit >= c[second].merit:
			second = i
		}
	}
	return best, second
}

// attemptSplit is River's HoeffdingTreeClassifier._attempt_to_split. The
// new branch replaces parent.children[pb] (or the root when parent is nil);
// wrap, when set, decorates new branches (HAT gives them a drift detector).
func (t *core) attemptSplit(leaf, parent *node, pb int, wrap func(*node)) {
	if !leaf.stats.nonZeroAtLeast2() {
		return
	}
	nc := t.bestSuggestions(leaf)
	cands := t.cands[:nc]
	should := false
	best, second := topTwo(cands)
	if nc < 2 {
		should = nc > 0
	} else {
		hb := hoeffdingBound(t.rangeOfMerit(&leaf.stats), t.cfg.delta, leaf.stats.total())
		if cands[best].merit-cands[second].merit > hb || hb < t.cfg.tau {
			should = true
		}
	}
	if !should {
		return
	}
	d := &cands[best]
	if d.feature < 0 {
		t.deactivate(leaf)
		t.nInactive++
		t.nActive--
	} else {
		br := &node{kind: d.kind, depth: leaf.depth, stats: leaf.stats, feature: int(d.feature)}
		switch d.kind {
		case numBranch:
			br.threshold = d.threshold
		case nomBinBranch:
			br.value = d.value
		case nomMultiBranch:
			br.valIndex = make(map[int64]int, len(d.values))
			for i, v := range d.values {
				br.valIndex[v] = i
			}
		}
		br.children = make([]*node, d.nChildren)
		for i := range br.children {
			br.children[i] = t.newLeafWith(leaf.depth+1, &d.children[i])
			if wrap != nil {
				wrap(br.children[i])
			}
		}
		if wrap != nil {
			wrap(br)
		}
		t.nActive += d.nChildren - 1
		if parent == nil {
			t.root = br
		} else {
			parent.children[pb] = br
		}
	}
	t.enforceSizeLimit()
}

// findLeaves lists the leaves left to right (alternate subtrees after the
// child that owns them, as in River's HAT).
func (t *core) findLeaves(n *node, dst []leafRank) []leafRank {
	if n.isLeaf() {
		return append(dst, leafRank{n: n})
	}
	for _, c := range n.children {
		dst = t.findLeaves(c, dst)
		if !c.isLeaf() && c.alt != nil {
			dst = t.findLeaves(c.alt, dst)
		}
	}
	return dst
}

func promise(n *node) float64 {
	tw := n.stats.total()
	if tw > 0 {
		return tw - n.stats.maxWeight()
	}
	return 0
}

// enforceSizeLimit is River's memory manager (after Kirkby 2007): keep the
// most promising leaves active within the size bound, re-activate the
// others when they fit.
func (t *core) enforceSizeLimit() {
	maxBytes := t.cfg.maxSizeMiB * (1 << 20)
	size := t.overhead * (t.activeEst + float64(t.nInactive)*t.inactiveEst)
	if (t.nInactive > 0 || size > maxBytes) && t.cfg.stopMem {
		t.growthAllowed = false
		return
	}
	if t.activeEst == 0 && t.inactiveEst == 0 {
		// No size estimate yet: every leaf fits, so the manager only
		// re-activates (the outcome of the general path, without the sort).
		if t.nInactive > 0 {
			t.activateAll(t.root)
		}
		return
	}
	t.leaves = t.findLeaves(t.root, t.leaves[:0])
	for i := range t.leaves {
		t.leaves[i].promise = promise(t.leaves[i].n)
	}
	slices.SortStableFunc(t.leaves, func(a, b leafRank) int { return cmp.Compare(a.promise, b.promise) })
	maxActive := 0
	for maxActive < len(t.leaves) {
		maxActive++
		if (float64(maxActive)*t.activeEst+float64(len(t.leaves)-maxActive)*t.inactiveEst)*t.overhead > maxBytes {
			maxActive--
			break
		}
	}
	cut := len(t.leaves) - maxActive
	for i := 0; i < cut; i++ {
		if l := t.leaves[i].n; l.active {
			t.deactivate(l)
			t.dropSplitters(l)
			t.nInactive++
			t.nActive--
		}
	}
	for i := cut; i < len(t.leaves); i++ {
		if l := t.leaves[i].n; !l.active && l.depth < t.cfg.maxDepth {
			t.activate(l)
			t.nActive++
			t.nInactive--
		}
	}
	clear(t.leaves)
}

// activateAll re-activates every inactive leaf above max_depth, left to
// right.
func (t *core) activateAll(n *node) {
	if n.isLeaf() {
		if !n.active && n.depth < t.cfg.maxDepth {
			t.activate(n)
			t.nActive++
			t.nInactive--
		}
		return
	}
	for _, c := range n.children {
		t.activateAll(c)
		if !c.isLeaf() && c.alt != nil {
			t.activateAll(c.alt)
		}
	}
}

// Byte sizes used by the memory bound: Go's in-memory footprint of each
// part (River measures Python object sizes, which a Go tree cannot match).
func (t *core) leafBytes(n *node) float64 {
	k := float64(t.cfg.nClasses)
	b := 320 + 13*k
	for _, f := range n.splitOrder {
		if int(f) < t.cfg.nNum {
			b += 160 + 45*k
		} else {
			s := &n.cat[int(f)-t.cfg.nNum]
			b += 200 + 13*k + float64(len(s.vals))*(8*k+40)
		}
	}
	if n.det != nil {
		b += float64(n.det.SizeBytes())
	}
	return b
}

func (t *core) modelBytes(n *node) float64 {
	if n.isLeaf() {
		return t.leafBytes(n)
	}
	b := 320 + 13*float64(t.cfg.nClasses) + 8*float64(len(n.children))
	if n.valIndex != nil {
		b += 24 * float64(len(n.valIndex))
	}
	if n.det != nil {
		b += float64(n.det.SizeBytes())
	}
	for _, c := range n.children {
		b += t.modelBytes(c)
	}
	if n.alt != nil {
		b += t.modelBytes(n.alt)
	}
	return b
}

// estimateModelSize is River's _estimate_model_size with Go byte sizes.
func (t *core) estimateModelSize() {
	t.leaves = t.findLeaves(t.root, t.leaves[:0])
	act, inact := 0.0, 0.0
	for _, l := range t.leaves {
		if l.n.active {
			act += t.leafBytes(l.n)
		} else {
			inact += t.leafBytes(l.n)
		}
	}
	clear(t.leaves)
	if act > 0 && t.nActive > 0 {
		t.activeEst = act / float64(t.nActive)
	}
	if inact > 0 && t.nInactive > 0 {
		t.inactiveEst = inact / float64(t.nInactive)
	}
	actual := t.modelBytes(t.root)
	est := float64(t.nActive)*t.activeEst + float64(t.nInactive)*t.inactiveEst
	if est > 0 {
		t.overhead = actual / est
	}
	if actual > t.cfg.maxSizeMiB*(1<<20) {
		t.enforceSizeLimit()
	}
}

// fillPrediction turns per-class values into a Prediction: Proba over all
// n_classes, Class the first maximum among the classes seen so far (the
// smallest on ties, as River's predict_one over sorted classes).
func (t *core) fillPrediction(dst *ml.Prediction) {
	k := t.cfg.nClasses
	best := -1
	for c := 0; c < k; c++ {
		if t.classes[c] && (best < 0 || dst.Proba[c] > dst.Proba[best]) {
			best = c
		}
	}
	if best < 0 {
		best = 0
	}
	dst.Class = best
	if k == 2 {
		dst.Score = dst.Proba[1]
	} else {
		dst.Score = dst.Proba[best]
	}
}

func resetProba(dst *ml.Prediction, k int) {
	if cap(dst.Proba) < k {
		dst.Proba = make([]float64, k)
	}
	dst.Proba = dst.Proba[:k]
	clear(dst.Proba)
}
