package tree

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/spate-ml/spate/core/ml"
)

// rvar is River's stats.Var (ddof 1): weighted Welford mean and sum of
// squared deviations, with Chan's parallel merge and its inverse.
type rvar struct{ n, mean, s float64 }

func (v *rvar) update(x, w float64) {
	old := v.mean
	v.n += w
	v.mean += (w / v.n) * (x - v.mean)
	v.s += w * (x - old) * (x - v.mean)
}

func (v *rvar) get() float64 {
	if v.n > 1 {
		return v.s / (v.n - 1)
	}
	return 0
}

// add is Var.__iadd__.
func (v *rvar) add(o *rvar) {
	d := v.mean - o.mean
	s := v.s + o.s + d*d*v.n*o.n/(v.n+o.n)
	oldN := v.n
	v.n += o.n
	v.mean = (oldN*v.mean + o.n*o.mean) / v.n
	v.s = s
}

// sub is Var.__isub__.
func (v *rvar) sub(o *rvar) {
	oldN := v.n
	v.n -= o.n
	if v.n > 0 {
		v.mean = (oldN*v.mean - o.n*o.mean) / v.n
	} else {
		v.n, v.mean = 0, 0
	}
	d := v.mean - o.mean
	v.s = v.s - o.s - d*d*v.n*o.n/(v.n+o.n)
}

// ebstNode is a node of the extended binary search tree of a numeric
// regression splitter: its estimator covers its own value and its left
// subtree.
type ebstNode struct {
	val         float64
	est         rvar
	left, right int32 // indices in the splitter's arena; -1 for none
}

// ebstSplitter is River's TEBSTSplitter (values rounded to `digits`
// decimals, as Python's round, before entering the E-BST).
type ebstSplitter struct {
	nodes []ebstNode
	root  int32
}

func newEBST() ebstSplitter { return ebstSplitter{root: -1} }

// roundDigits is Python's round(x, d): the correctly rounded decimal.
func roundDigits(x float64, d int) float64 {
	var buf [64]byte
	b := strconv.AppendFloat(buf[:0], x, 'f', d, 64)
	r, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return x
	}
	return r
}

func (s *ebstSplitter) newNode(x, y, w float64) int32 {
	n := ebstNode{val: x, left: -1, right: -1}
	n.est.update(y, w)
	s.nodes = append(s.nodes, n)
	return int32(len(s.nodes) - 1)
}

func (s *ebstSplitter) update(x, y, w float64) {
	if s.root < 0 {
		s.root = s.newNode(x, y, w)
		return
	}
	cur, prev, right := s.root, int32(-1), false
	for cur >= 0 {
		prev = cur
		n := &s.nodes[cur]
		switch {
		case x == n.val:
			n.est.update(y, w)
			return
		case x < n.val:
			n.est.update(y, w)
			cur, right = n.left, false
		default:
			cur, right = n.right, true
		}
	}
	id := s.newNode(x, y, w)
	if right {
		s.nodes[prev].right = id
	} else {
		s.nodes[prev].left = id
	}
}

// best walks the values in order and keeps the first best threshold.
func (s *ebstSplitter) best(t *HoeffdingTreeRegressor, pre *rvar, feature int, c *rcand) {
	c.reset()
	if s.root < 0 {
		return
	}
	var aux rvar
	s.walkBest(t, s.root, pre, &aux, feature, c)
}

func (s *ebstSplitter) walkBest(t *HoeffdingTreeRegressor, id int32, pre, aux *rvar, feature int, c *rcand) {
	n := &s.nodes[id]
	if n.left >= 0 {
		s.walkBest(t, n.left, pre, aux, feature, c)
	}
	left := n.est
	left.add(aux)
	right := *pre
	right.sub(&left)
	post := [2]rvar{left, right}
	if m := t.merit(pre, post[:]); m > c.merit {
		c.merit, c.feature, c.kind, c.threshold = m, int32(feature), numBranch, n.val
		c.children = append(c.children[:0], left, right)
	}
	if n.right >= 0 {
		aux.add(&n.est)
		s.walkBest(t, n.right, pre, aux, feature, c)
		aux.sub(&n.est)
	}
}

// removeBadSplits is River's EBSTSplitter.remove_bad_splits (FIMT-DD's
// pruning of hopeless thresholds after a failed split attempt).
func (s *ebstSplitter) removeBadSplits(t *HoeffdingTreeRegressor, pre *rvar, ratio, vr, eps float64) {
	if s.root < 0 {
		return
	}
	var aux rvar
	before := s.reachable(s.root)
	s.removeBad(t, s.root, -1, true, pre, &aux, ratio, vr, eps)
	if s.reachable(s.root) != before {
		s.compact()
	}
}

func (s *ebstSplitter) removeBad(t *HoeffdingTreeRegressor, id, parent int32, isLeft bool, pre, aux *rvar, ratio, vr, eps float64) bool {
	n := &s.nodes[id]
	bad := true
	if n.left >= 0 {
		bad = s.removeBad(t, n.left, id, true, pre, aux, ratio, vr, eps)
		n = &s.nodes[id]
	}
	if !bad {
		return false
	}
	added := false
	if n.right >= 0 {
		aux.add(&n.est)
		added = true
		bad = s.removeBad(t, n.right, id, false, pre, aux, ratio, vr, eps)
		n = &s.nodes[id]
	}
	if added {
		aux.sub(&n.est)
	}
	if bad {
		left := n.est
		left.add(aux)
		right := *pre
		right.sub(&left)
		post := [2]rvar{left, right}
		if t.merit(pre, post[:])/vr < ratio-2*eps {
			n.left, n.right = -1, -1
			switch {
			case parent < 0:
				s.root = -1
			case isLeft:
				s.nodes[parent].left = -1
			default:
				s.nodes[parent].right = -1
			}
			return true
		}
	}
	return false
}

func (s *ebstSplitter) reachable(id int32) int {
	if id < 0 {
		return 0
	}
	return 1 + s.reachable(s.nodes[id].left) + s.reachable(s.nodes[id].right)
}

// compact drops unreachable nodes from the arena.
func (s *ebstSplitter) compact() {
	if s.root < 0 {
		s.nodes = s.nodes[:0]
		return
	}
	live := make([]ebstNode, 0, len(s.nodes))
	var copyNode func(id int32) int32
	copyNode = func(id int32) int32 {
		n := s.nodes[id]
		at := int32(len(live))
		live = append(live, n)
		if n.left >= 0 {
			l := copyNode(n.left)
			live[at].left = l
		}
		if n.right >= 0 {
			r := copyNode(n.right)
			live[at].right = r
		}
		return at
	}
	if len(s.nodes) > 0 {
		s.root = copyNode(s.root)
		s.nodes = live
	}
}

// nomRegSplitter is River's NominalSplitterReg: target statistics per
// category value.
type nomRegSplitter struct {
	vals  []int64
	stats []rvar
	idx   map[int64]int32
}

func (s *nomRegSplitter) update(v int64, y, w float64) {
	if s.idx == nil {
		s.idx = map[int64]int32{}
	}
	p, ok := s.idx[v]
	if !ok {
		p = int32(len(s.vals))
		s.idx[v] = p
		s.vals = append(s.vals, v)
		s.stats = append(s.stats, rvar{})
	}
	s.stats[p].update(y, w)
}

func (s *nomRegSplitter) best(t *HoeffdingTreeRegressor, pre *rvar, feature int, c *rcand) {
	c.reset()
	order := make([]int32, len(s.vals))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(s.vals[a], s.vals[b]) })
	if !t.binarySplit && len(s.vals) > 2 {
		post := make([]rvar, len(order))
		for i, p := range order {
			post[i] = s.stats[p]
		}
		c.merit, c.feature, c.kind = t.merit(pre, post), int32(feature), nomMultiBranch
		c.values = c.values[:0]
		for _, p := range order {
			c.values = append(c.values, s.vals[p])
		}
		c.children = append(c.children[:0], post...)
	}
	for _, p := range order {
		rest := *pre
		rest.sub(&s.stats[p])
		post := [2]rvar{s.stats[p], rest}
		if m := t.merit(pre, post[:]); m > c.merit {
			c.merit, c.feature, c.kind, c.value = m, int32(feature), nomBinBranch, s.vals[p]
			c.children = append(c.children[:0], post[0], post[1])
		}
	}
}

// rcand is a regression split candidate.
type rcand struct {
	merit     float64
	feature   int32
	kind      nodeKind
	threshold float64
	value     int64
	values    []int64
	children  []rvar
}

func (c *rcand) reset() {
	c.merit, c.feature = math.Inf(-1), -1
	c.children = c.children[:0]
}

// linModel is River's linear_model.LinearRegression with its defaults:
// squared loss, plain SGD (learning rate lr) on the weights, a constant
// learning rate for the intercept, gradient clipping at 1e12. Its inputs
// are all features by position (categorical codes as numbers, as River
// feeds them); missing values are skipped.
type linModel struct {
	w         []float64
	intercept float64
}

func (m *linModel) predict(x ml.Instance, nNum int) float64 {
	if m.w == nil {
		return m.intercept
	}
	s := 0.0
	for i, v := range x.Numeric[:nNum] {
		if v == v {
			s += m.w[i] * v
		}
	}
	for j, v := range x.Categ {
		s += m.w[nNum+j] * float64(v)
	}
	return s + m.intercept
}

func (m *linModel) learn(x ml.Instance, y, w, lr float64, nNum int) {
	if m.w == nil {
		m.w = make([]float64, nNum+len(x.Categ))
	}
	g := 2 * (m.predict(x, nNum) - y)
	g *= w
	g = max(-1e12, min(1e12, g))
	m.intercept -= lr * g
	for i, v := range x.Numeric[:nNum] {
		if v == v {
			m.w[i] -= lr * (v * g)
		}
	}
	for j, v := range x.Categ {
		m.w[nNum+j] -= lr * (float64(v) * g)
	}
}

// Leaf prediction methods of the regressor.
const (
	regMean = iota
	regModel
	regAdaptive
)

// rnode is a leaf or branch of the regression tree.
type rnode struct {
	kind      nodeKind
	feature   int
	threshold float64
	children  []*rnode
	value     int64
	valIndex  map[int64]int

	depth       int
	stats       rvar
	active      bool
	lastSplitAt float64
	splitOrder  []int32
	hasSplit    []bool
	num         []ebstSplitter
	cat         []nomRegSplitter
	model       linModel
	fmseMean    float64
	fmseModel   float64
}

// HoeffdingTreeRegressor is River's tree.HoeffdingTreeRegressor: variance
// reduction splits over truncated E-BST splitters (values rounded to one
// decimal) for numeric features and per-category statistics for
// categorical ones; leaves predict the target mean ("mean"), a linear
// model ("model") or whichever has the lower faded squared error
// ("adaptive").
type HoeffdingTreeRegressor struct {
	nNum, nCat    int
	gracePeriod   float64
	maxDepth      int
	delta, tau    float64
	leafPred      int
	minSamples    float64
	decay         float64
	lr            float64
	binarySplit   bool
	meritPreprune bool
	maxSizeMiB    float64
	memPeriod     int
	digits        int
	root          *rnode
	nActive       int
	nInactive     int
	weightSeen    float64
	growthAllowed bool
	cands         []rcand
	scratch       []*rnode
}

// RegressorParams are the regressor's parameters (snake_case JSON).
type RegressorParams struct {
	Delta              float64 `json:"delta"`
	Tau                float64 `json:"tau"`
	GracePeriod        int     `json:"grace_period"`
	LeafPredMethod     string  `json:"leaf_pred_method"` // "mean", "model" or "adaptive"
	MaxDepth           int     `json:"max_depth"`        // 0: unlimited
	MinSamplesSplit    int     `json:"min_samples_split"`
	ModelSelectorDecay float64 `json:"model_selector_decay"`
	LearningRate       float64 `json:"learning_rate"` // of the leaf linear models
	BinarySplit        bool    `json:"binary_split"`
	MeritPreprune      bool    `json:"merit_preprune"`
	MaxSize            float64 `json:"max_size"` // MiB
	MemoryEstimate     int     `json:"memory_estimate_period"`
	Digits             int     `json:"digits"` // decimals kept by the numeric splitters
}

// DefaultRegressorParams returns TurboML's defaults (delta 1e-7, tau 0.05,
// grace_period 200, "mean") and River's for the rest.
func DefaultRegressorParams() RegressorParams {
	return RegressorParams{Delta: 1e-7, Tau: 0.05, GracePeriod: 200, LeafPredMethod: "mean",
		MinSamplesSplit: 5, ModelSelectorDecay: 0.95, LearningRate: 0.01, MeritPreprune: true,
		MaxSize: 500, MemoryEstimate: 1_000_000, Digits: 1}
}

// NewHoeffdingTreeRegressor builds an empty tree.
func NewHoeffdingTreeRegressor(p RegressorParams, spec ml.Spec) (*HoeffdingTreeRegressor, error) {
	t := &HoeffdingTreeRegressor{nNum: spec.NumNumeric, nCat: spec.NumCateg, gracePeriod: float64(p.GracePeriod),
		maxDepth: p.MaxDepth, delta: p.Delta, tau: p.Tau, minSamples: float64(p.MinSamplesSplit),
		decay: p.ModelSelectorDecay, lr: p.LearningRate, binarySplit: p.BinarySplit, meritPreprune: p.MeritPreprune,
		maxSizeMiB: p.MaxSize, memPeriod: p.MemoryEstimate, digits: p.Digits, growthAllowed: true}
	switch p.LeafPredMethod {
	case "mean":
		t.leafPred = regMean
	case "model":
		t.leafPred = regModel
	case "adaptive":
		t.leafPred = regAdaptive
	default:
		return nil, fmt.Errorf("leaf_pred_method must be mean, model or adaptive, got %q", p.LeafPredMethod)
	}
	if t.maxDepth <= 0 {
		t.maxDepth = maxDepthUnlimited
	}
	switch {
	case spec.NumNumeric < 0 || spec.NumCateg < 0:
		return nil, fmt.Errorf("negative input counts in spec %+v", spec)
	case !(p.Delta > 0 && p.Delta < 1):
		return nil, fmt.Errorf("delta must be in (0, 1), got %v", p.Delta)
	case p.GracePeriod < 1:
		return nil, fmt.Errorf("grace_period must be positive, got %d", p.GracePeriod)
	case p.MemoryEstimate < 1:
		return nil, fmt.Errorf("memory_estimate_period must be positive, got %d", p.MemoryEstimate)
	case p.Digits < 0 || p.Digits > 15:
		return nil, fmt.Errorf("digits must be in [0, 15], got %d", p.Digits)
	case !(p.MaxSize > 0):
		return nil, fmt.Errorf("max_size must be positive, got %v", p.MaxSize)
	}
	return t, nil
}

// Algorithm implements ml.Learner.
func (t *HoeffdingTreeRegressor) Algorithm() string { return "HoeffdingTreeRegressor" }

// merit is River's VarianceReductionSplitCriterion.
func (t *HoeffdingTreeRegressor) merit(pre *rvar, post []rvar) float64 {
	for i := range post {
		if !(post[i].n >= t.minSamples) {
			return 0
		}
	}
	vr := pre.get()
	for i := range post {
		vr -= post[i].n / pre.n * post[i].get()
	}
	return vr
}

func (t *HoeffdingTreeRegressor) newLeaf(depth int, stats rvar, parentModel *linModel) *rnode {
	l := &rnode{kind: leafNode, depth: depth, stats: stats, active: true, lastSplitAt: stats.n}
	if parentModel != nil && t.leafPred != regMean {
		l.model = linModel{w: slices.Clone(parentModel.w), intercept: parentModel.intercept}
	}
	return l
}

func (t *HoeffdingTreeRegressor) branchNo(n *rnode, x ml.Instance) (int, bool) {
	switch n.kind {
	case numBranch:
		v := x.Numeric[n.feature]
		if v != v {
			return 0, false
		}
		if v <= n.threshold {
			return 0, true
		}
		return 1, true
	case nomBinBranch:
		if x.Categ[n.feature-t.nNum] == n.value {
			return 0, true
		}
		return 1, true
	default:
		i, ok := n.valIndex[x.Categ[n.feature-t.nNum]]
		return i, ok
	}
}

func rTotal(n *rnode) float64 {
	if n.kind == leafNode {
		return n.stats.n
	}
	s := 0.0
	for _, c := range n.children {
		s += rTotal(c)
	}
	return s
}

func rMostCommon(n *rnode) (int, *rnode) {
	if n.kind != nomMultiBranch {
		if rTotal(n.children[0]) < rTotal(n.children[1]) {
			return 1, n.children[1]
		}
		return 0, n.children[0]
	}
	best, bw := 0, math.Inf(-1)
	for i, c := range n.children {
		if w := rTotal(c); w > bw {
			best, bw = i, w
		}
	}
	return best, n.children[best]
}

func (t *HoeffdingTreeRegressor) traverse(n *rnode, x ml.Instance, untilLeaf bool) *rnode {
	for n.kind != leafNode {
		b, ok := t.branchNo(n, x)
		if !ok {
			if !untilLeaf {
				return n
			}
			_, n = rMostCommon(n)
			continue
		}
		n = n.children[b]
	}
	return n
}

// Learn implements ml.Learner.
func (t *HoeffdingTreeRegressor) Learn(x ml.Instance, y float64) {
	if y != y || math.IsInf(y, 0) {
		return
	}
	const w = 1.0
	t.weightSeen += w
	if t.root == nil {
		t.root = t.newLeaf(0, rvar{}, &linModel{})
		t.nActive = 1
	}
	var parent *rnode
	pb := -1
	n := t.root
	for n.kind != leafNode {
		b, ok := t.branchNo(n, x)
		if !ok {
			break
		}
		parent, pb, n = n, b, n.children[b]
	}
	if n.kind == leafNode {
		t.learnLeaf(n, x, y, w)
		if t.growthAllowed && n.active {
			if n.depth >= t.maxDepth {
				n.active = false
				t.nActive--
				t.nInactive++
			} else if seen := n.stats.n; seen-n.lastSplitAt >= t.gracePeriod {
				t.attemptSplit(n, parent, pb)
				n.lastSplitAt = seen
			}
		}
	} else {
		for {
			if n.kind == nomMultiBranch {
				l := t.newLeaf(n.depth+1, rvar{}, &linModel{})
				n.valIndex[x.Categ[n.feature-t.nNum]] = len(n.children)
				n.children = append(n.children, l)
				t.nActive++
				n = l
			} else {
				_, n = rMostCommon(n)
				if n.kind != leafNode {
					n = t.traverse(n, x, false)
				}
			}
			if n.kind == leafNode {
				break
			}
		}
		t.learnLeaf(n, x, y, w)
	}
	if math.Mod(t.weightSeen, float64(t.memPeriod)) == 0 {
		t.estimateModelSize()
	}
}

func (t *HoeffdingTreeRegressor) learnLeaf(n *rnode, x ml.Instance, y, w float64) {
	if t.leafPred == regAdaptive {
		pm := n.stats.mean
		pl := n.model.predict(x, t.nNum)
		n.fmseMean = t.decay*n.fmseMean + (y-pm)*(y-pm)
		n.fmseModel = t.decay*n.fmseModel + (y-pl)*(y-pl)
	}
	n.stats.update(y, w)
	if n.active {
		if n.hasSplit == nil {
			n.hasSplit = make([]bool, t.nNum+t.nCat)
			n.num = make([]ebstSplitter, t.nNum)
			n.cat = make([]nomRegSplitter, t.nCat)
		}
		for f, v := range x.Numeric[:t.nNum] {
			if v != v {
				continue
			}
			if !n.hasSplit[f] {
				n.hasSplit[f] = true
				n.splitOrder = append(n.splitOrder, int32(f))
				n.num[f] = newEBST()
			}
			n.num[f].update(roundDigits(v, t.digits), y, w)
		}
		for j, v := range x.Categ[:t.nCat] {
			f := t.nNum + j
			if !n.hasSplit[f] {
				n.hasSplit[f] = true
				n.splitOrder = append(n.splitOrder, int32(f))
			}
			n.cat[j].update(v, y, w)
		}
	}
	if t.leafPred != regMean {
		n.model.learn(x, y, w, t.lr, t.nNum)
	}
}

func (t *HoeffdingTreeRegressor) attemptSplit(leaf, parent *rnode, pb int) {
	need := len(leaf.splitOrder) + 1
	for len(t.cands) < need {
		t.cands = append(t.cands, rcand{})
	}
	k := 0
	if t.meritPreprune {
		t.cands[0].reset()
		k++
	}
	for _, f := range leaf.splitOrder {
		if int(f) < t.nNum {
			leaf.num[f].best(t, &leaf.stats, int(f), &t.cands[k])
		} else {
			leaf.cat[int(f)-t.nNum].best(t, &leaf.stats, int(f), &t.cands[k])
		}
		k++
	}
	cands := t.cands[:k]
	best, second := -1, -1
	for i := range cands {
		switch {
		case best < 0 || cands[i].merit >= cands[best].merit:
			second, best = best, i
		case second < 0 || cands[i].merit >= cands[second].merit:
			second = i
		}
	}
	should := false
	hb := 0.0
	if k < 2 {
		should = k > 0
	} else {
		hb = hoeffdingBound(1.0, t.delta, leaf.stats.n)
		b, s := cands[best].merit, cands[second].merit
		if b > 0 && (s/b < 1-hb || hb < t.tau) {
			should = true
		}
	}
	if should {
		d := &cands[best]
		if d.feature < 0 {
			leaf.active = false
			t.nInactive++
			t.nActive--
		} else {
			br := &rnode{kind: d.kind, depth: leaf.depth, stats: leaf.stats, feature: int(d.feature),
				threshold: d.threshold, value: d.value}
			if d.kind == nomMultiBranch {
				br.valIndex = make(map[int64]int, len(d.values))
				for i, v := range d.values {
					br.valIndex[v] = i
				}
			}
			br.children = make([]*rnode, len(d.children))
			for i := range br.children {
				br.children[i] = t.newLeaf(leaf.depth+1, d.children[i], &leaf.model)
				if t.leafPred == regAdaptive {
					br.children[i].fmseMean, br.children[i].fmseModel = leaf.fmseMean, leaf.fmseModel
				}
			}
			t.nActive += len(br.children) - 1
			if parent == nil {
				t.root = br
			} else {
				parent.children[pb] = br
			}
		}
		t.enforceSizeLimit()
		return
	}
	if k >= 2 && cands[best].merit > 0 && cands[second].merit > 0 {
		ratio := cands[second].merit / cands[best].merit
		for _, f := range leaf.splitOrder {
			if int(f) < t.nNum {
				leaf.num[f].removeBadSplits(t, &leaf.stats, ratio, cands[best].merit, hb)
			}
		}
	}
}

func (t *HoeffdingTreeRegressor) leaves(n *rnode, dst []*rnode) []*rnode {
	if n.kind == leafNode {
		return append(dst, n)
	}
	for _, c := range n.children {
		dst = t.leaves(c, dst)
	}
	return dst
}

func (t *HoeffdingTreeRegressor) leafBytes(n *rnode) float64 {
	b := 400.0
	for _, f := range n.splitOrder {
		if int(f) < t.nNum {
			b += 64 + 48*float64(len(n.num[f].nodes))
		} else {
			b += 64 + 56*float64(len(n.cat[int(f)-t.nNum].vals))
		}
	}
	return b + 8*float64(len(n.model.w))
}

// enforceSizeLimit deactivates the deepest leaves beyond the size bound
// (River's promise for regression leaves is -depth) and re-activates the
// others; each active leaf is costed at its own size.
func (t *HoeffdingTreeRegressor) enforceSizeLimit() {
	ls := t.leaves(t.root, t.scratch[:0])
	defer func() { clear(ls); t.scratch = ls[:0] }()
	budget := t.maxSizeMiB * (1 << 20)
	total := 0.0
	for _, l := range ls {
		total += t.leafBytes(l)
	}
	if total <= budget {
		// Everything fits: the outcome of the general path, without the sort.
		for _, l := range ls {
			if !l.active && l.depth < t.maxDepth {
				l.active = true
				l.splitOrder, l.hasSplit, l.num, l.cat = nil, nil, nil, nil
				t.nActive++
				t.nInactive--
			}
		}
		return
	}
	slices.SortStableFunc(ls, func(a, b *rnode) int { return cmp.Compare(-a.depth, -b.depth) })
	used := 0.0
	for i := len(ls) - 1; i >= 0; i-- {
		l := ls[i]
		used += t.leafBytes(l)
		switch {
		case used > budget && l.active:
			l.active = false
			l.splitOrder, l.hasSplit, l.num, l.cat = nil, nil, nil, nil
			t.nActive--
			t.nInactive++
		case used <= budget && !l.active && l.depth < t.maxDepth:
			l.active = true // with fresh splitters, as River's activate()
			l.splitOrder, l.hasSplit, l.num, l.cat = nil, nil, nil, nil
			t.nActive++
			t.nInactive--
		}
	}
}

func (t *HoeffdingTreeRegressor) estimateModelSize() {
	total := 0.0
	for _, l := range t.leaves(t.root, nil) {
		total += t.leafBytes(l)
	}
	if total > t.maxSizeMiB*(1<<20) {
		t.enforceSizeLimit()
	}
}

// Predict implements ml.Learner: Score is the predicted value.
func (t *HoeffdingTreeRegressor) Predict(x ml.Instance, dst *ml.Prediction) {
	dst.Class, dst.Proba = 0, dst.Proba[:0]
	dst.Score = 0
	if t.root == nil {
		return
	}
	l := t.traverse(t.root, x, true)
	switch {
	case t.leafPred == regMean:
		dst.Score = l.stats.mean
	case t.leafPred == regModel:
		dst.Score = l.model.predict(x, t.nNum)
	case l.fmseMean < l.fmseModel:
		dst.Score = l.stats.mean
	default:
		dst.Score = l.model.predict(x, t.nNum)
	}
}

// Stats reports the current shape of the tree.
func (t *HoeffdingTreeRegressor) Stats() Stats {
	s := Stats{ActiveLeaves: t.nActive, InactiveLeaves: t.nInactive}
	var walk func(n *rnode, d int)
	walk = func(n *rnode, d int) {
		s.Nodes++
		s.Height = max(s.Height, d)
		if n.kind == leafNode {
			s.Leaves++
			return
		}
		s.Branches++
		for _, c := range n.children {
			walk(c, d+1)
		}
	}
	if t.root != nil {
		walk(t.root, 0)
	}
	return s
}

var errBadRegressor = errors.New("malformed regression tree")
