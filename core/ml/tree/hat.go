package tree

import (
	"errors"
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/drift"
	"github.com/spate-ml/spate/core/ml/internal/pyrand"
)

// HoeffdingAdaptiveTreeClassifier is the Hoeffding adaptive tree (Bifet &
// Gavaldà 2009) as River's tree.HoeffdingAdaptiveTreeClassifier: every node
// watches its 0/1 error with an ADWIN detector; a branch whose error rises
// grows an alternate subtree and swaps it in when it is significantly
// better. Leaves weight their examples by Poisson(1) bootstrap draws from a
// seeded Mersenne Twister (the generator of CPython's random module, so
// that a River run with the same seed draws the same weights); the
// generator's state is part of the encoding.
//
// River quirks kept for parity: a zero Poisson draw keeps weight 1; an
// alternate leaf that splits replaces the subtree it was competing with;
// the prediction sums every reached leaf's distribution (alternates
// included), each divided by its weight sum times its squared error rate
// (undivided when the error rate is 0).
type HoeffdingAdaptiveTreeClassifier struct {
	core
	bootstrap      bool
	driftWindow    float64
	switchSig      float64
	adwin          drift.ADWINConfig
	seed           int64
	rng            *pyrand.Rand
	nAlternates    int
	nPruned        int
	nSwitched      int
	hatVotes       []float64
	wrapForSplit   func(*node)
	leafPredBuffer []float64

	// Within one Learn call every branch on the path asks the same leaf for
	// its prediction before that leaf changes; it is computed once.
	cacheLeaf *node
	cachePred int
}

// NewHoeffdingAdaptiveTreeClassifier builds an empty tree.
func NewHoeffdingAdaptiveTreeClassifier(p ClassifierParams, spec ml.Spec) (*HoeffdingAdaptiveTreeClassifier, error) {
	cfg, err := p.config(spec)
	if err != nil {
		return nil, err
	}
	ac := drift.DefaultADWINConfig()
	ac.Delta = p.ADWINDelta
	if _, err := drift.NewADWINWith(ac); err != nil {
		return nil, err
	}
	if p.DriftWindowThreshold < 0 || !(p.SwitchSignificance > 0 && p.SwitchSignificance < 1) {
		return nil, fmt.Errorf("drift_window_threshold must be >= 0 and switch_significance in (0, 1), got %d and %v",
			p.DriftWindowThreshold, p.SwitchSignificance)
	}
	t := &HoeffdingAdaptiveTreeClassifier{
		core: newCore(cfg), bootstrap: p.BootstrapSampling, driftWindow: float64(p.DriftWindowThreshold),
		switchSig: p.SwitchSignificance, adwin: ac, seed: p.Seed,
	}
	t.rng = pyrand.New(p.Seed)
	t.init()
	return t, nil
}

func (t *HoeffdingAdaptiveTreeClassifier) init() {
	t.hatVotes = make([]float64, t.cfg.nClasses)
	t.leafPredBuffer = make([]float64, t.cfg.nClasses)
	t.wrapForSplit = func(n *node) { t.adorn(n) }
}

// adorn gives a new node its drift detector and error mean.
func (t *HoeffdingAdaptiveTreeClassifier) adorn(n *node) {
	d, _ := drift.NewADWINWith(t.adwin)
	n.det = d
	n.errN, n.errMean = 0, 0
}

func (t *HoeffdingAdaptiveTreeClassifier) newAdaLeaf(depth int) *node {
	l := t.newLeaf(depth)
	t.adorn(l)
	return l
}

// Algorithm implements ml.Learner.
func (t *HoeffdingAdaptiveTreeClassifier) Algorithm() string {
	return "HoeffdingAdaptiveTreeClassifier"
}

func meanUpdate(n *node, x float64) {
	n.errN++
	n.errMean += (1 / n.errN) * (x - n.errMean)
}

// Learn implements ml.Learner. Labels outside 0..n_classes-1 are ignored.
func (t *HoeffdingAdaptiveTreeClassifier) Learn(x ml.Instance, y float64) {
	c := int(y)
	if c < 0 || c >= t.cfg.nClasses || float64(c) != y {
		return
	}
	t.classes[c] = true
	t.weightSeen++
	if t.root == nil {
		t.root = t.newAdaLeaf(0)
		t.nActive = 1
	}
	t.cacheLeaf = nil
	t.learnNode(t.root, x, c, 1, nil, -1)
	t.cacheLeaf = nil
	if t.memoryCheckDue() {
		t.estimateModelSize()
	}
}

func (t *HoeffdingAdaptiveTreeClassifier) learnNode(n *node, x ml.Instance, c int, w float64, parent *node, pb int) {
	if n.isLeaf() {
		t.learnLeaf(n, x, c, w, parent, pb)
	} else {
		t.learnBranch(n, x, c, w, parent, pb)
	}
}

// errorOf feeds the node's detector with the 0/1 error of pred against c
// and reports whether a drift was detected while the error rose.
func (t *HoeffdingAdaptiveTreeClassifier) errorOf(n *node, predicted int, c int) (drifted, rose bool) {
	in := 1.0
	if predicted == c {
		in = 0
	}
	old := n.errMean
	n.det.Update(in)
	meanUpdate(n, in)
	if n.det.DriftDetected() && old > n.errMean {
		n.errN, n.errMean = 0, 0
		return true, false
	}
	return n.det.DriftDetected(), true
}

func (t *HoeffdingAdaptiveTreeClassifier) learnLeaf(n *node, x ml.Instance, c int, w float64, parent *node, pb int) {
	if t.bootstrap {
		if k := t.rng.Poisson(1); k > 0 {
			w *= float64(k)
		}
	}
	predicted := t.predictedBy(n, x)
	if n == t.cacheLeaf {
		t.cacheLeaf = nil
	}
	t.errorOf(n, predicted, c)
	t.nbaBookkeeping(n, x, c, w)
	n.stats.add(c, w)
	if n.active {
		t.updateSplitters(n, x, c, w)
	}
	seen := n.stats.total()
	if seen-n.lastSplitAt >= t.cfg.gracePeriod {
		if n.depth >= t.cfg.maxDepth {
			t.deactivate(n)
			t.nInactive++
			t.nActive--
		} else if n.active {
			t.attemptSplit(n, parent, pb, t.wrapForSplit)
			n.lastSplitAt = seen
		}
	}
}

func (t *HoeffdingAdaptiveTreeClassifier) learnBranch(n *node, x ml.Instance, c int, w float64, parent *node, pb int) {
	predicted := t.predictedBy(t.traverse(n, x, true), x)
	n.stats.add(c, w)
	drifted, rose := t.errorOf(n, predicted, c)
	switch {
	case drifted && rose:
		n.errN, n.errMean = 0, 0
		n.alt = t.newAdaLeaf(n.depth)
		t.nAlternates++
	case n.alt != nil:
		altN, nObs := n.alt.errN, n.errN
		if altN > t.driftWindow && nObs > t.driftWindow {
			oldRate, altRate := n.errMean, n.alt.errMean
			m := 1.0/altN + 1.0/nObs
			bound := math.Sqrt(2.0 * oldRate * (1.0 - oldRate) * math.Log(2.0/t.switchSig) * m)
			if bound < oldRate-altRate {
				t.nActive -= countLeaves(n)
				t.nActive += countLeaves(n.alt)
				t.killTreeChildren(n)
				if parent != nil {
					parent.children[pb] = n.alt
					n.alt = nil
				} else {
					t.root = n.alt
				}
				t.nSwitched++
			} else if bound < altRate-oldRate {
				if !n.alt.isLeaf() {
					t.killTreeChildren(n.alt)
				}
				n.alt = nil
				t.nPruned++
			}
		}
	}
	if n.alt != nil {
		t.learnNode(n.alt, x, c, w, parent, pb)
	}
	if b, ok := t.branchNo(n, x); ok {
		t.learnNode(n.children[b], x, c, w, n, b)
		return
	}
	if n.kind == nomMultiBranch {
		l := t.newAdaLeaf(n.depth + 1)
		n.valIndex[x.Categ[n.feature-t.cfg.nNum]] = len(n.children)
		n.children = append(n.children, l)
		t.nActive++
		t.learnNode(l, x, c, w, n, len(n.children)-1)
		return
	}
	b, child := mostCommonPath(n)
	t.learnNode(child, x, c, w, n, b)
}

// predictedBy is the class the leaf predicts for x (-1 for none).
func (t *HoeffdingAdaptiveTreeClassifier) predictedBy(l *node, x ml.Instance) int {
	if l == t.cacheLeaf {
		return t.cachePred
	}
	p := -1
	if t.adaPrediction(l, x, t.leafPredBuffer) {
		p = argmaxFirst(l.stats.order, t.leafPredBuffer)
	}
	t.cacheLeaf, t.cachePred = l, p
	return p
}

// killTreeChildren drops the alternate subtrees below a replaced subtree
// (River's kill_tree_children): the replaced subtree still finishes the
// current Learn call, without its alternates.
func (t *HoeffdingAdaptiveTreeClassifier) killTreeChildren(n *node) {
	for _, c := range n.children {
		if c.isLeaf() {
			continue
		}
		if c.alt != nil {
			if !c.alt.isLeaf() {
				t.killTreeChildren(c.alt)
			}
			t.nPruned++
			c.alt = nil
		}
		t.killTreeChildren(c)
	}
}

func countLeaves(n *node) int {
	if n.isLeaf() {
		return 1
	}
	s := 0
	for _, c := range n.children {
		s += countLeaves(c)
	}
	return s
}

// adaPrediction is River's AdaLeafClassifier.prediction written into out
// for the leaf's classes: the leaf's distribution divided by its sum times
// the squared error rate. It returns false for River's None or {}.
func (t *HoeffdingAdaptiveTreeClassifier) adaPrediction(n *node, x ml.Instance, out []float64) bool {
	if n.stats.size() == 0 {
		return false
	}
	var ok bool
	switch {
	case !n.active || t.cfg.leafPred == predMC:
		n.stats.normalizeInto(out)
		ok = true
	case t.cfg.leafPred == predNB:
		if n.stats.total() >= t.cfg.nbThreshold {
			ok = t.naiveBayes(n, x, out)
		} else {
			n.stats.normalizeInto(out)
			ok = true
		}
	default:
		ok = t.leafDist(n, x, out)
	}
	if !ok {
		return false
	}
	sum := 0.0
	for _, c := range n.stats.order {
		sum += out[c]
	}
	f := sum * n.errMean * n.errMean
	if f != 0 && !math.IsNaN(f) {
		m := 1 / f
		for _, c := range n.stats.order {
			out[c] *= m
		}
	}
	return true
}

// Predict implements ml.Learner.
func (t *HoeffdingAdaptiveTreeClassifier) Predict(x ml.Instance, dst *ml.Prediction) {
	resetProba(dst, t.cfg.nClasses)
	if t.root == nil {
		dst.Class, dst.Score = 0, 0
		return
	}
	if t.root.isLeaf() {
		t.addLeaf(t.root, x, dst.Proba)
	} else {
		n := t.root
		for !n.isLeaf() {
			if n.alt != nil {
				t.addLeaf(n.alt, x, dst.Proba)
			}
			b, ok := t.branchNo(n, x)
			if !ok {
				_, n = mostCommonPath(n)
				// River's walk visits the most common child twice.
				if !n.isLeaf() && n.alt != nil {
					t.addLeaf(n.alt, x, dst.Proba)
				}
				continue
			}
			n = n.children[b]
		}
		t.addLeaf(n, x, dst.Proba)
	}
	sum := 0.0
	for c := range dst.Proba {
		if t.classes[c] {
			sum += dst.Proba[c]
		}
	}
	if sum != 0 && !math.IsNaN(sum) {
		m := 1 / sum
		for c := range dst.Proba {
			dst.Proba[c] *= m
		}
	}
	t.fillPrediction(dst)
}

// addLeaf adds a reached node's prediction (a leaf, or the leaf an
// alternate subtree routes x to) to acc.
func (t *HoeffdingAdaptiveTreeClassifier) addLeaf(n *node, x ml.Instance, acc []float64) {
	if !n.isLeaf() {
		n = t.traverse(n, x, true)
	}
	if t.adaPrediction(n, x, t.hatVotes) {
		for _, c := range n.stats.order {
			acc[c] += t.hatVotes[c]
		}
	}
}

// Counts reports how many alternate subtrees were started, pruned and
// switched in.
func (t *HoeffdingAdaptiveTreeClassifier) Counts() (alternates, pruned, switched int) {
	return t.nAlternates, t.nPruned, t.nSwitched
}

// MarshalBinary implements ml.Learner.
func (t *HoeffdingAdaptiveTreeClassifier) MarshalBinary() ([]byte, error) {
	e := wire.NewEncoder(t.core.marshal(nil))
	e.Boolean(t.bootstrap)
	e.F64(t.driftWindow)
	e.F64(t.switchSig)
	e.F64(t.adwin.Delta)
	e.Varint(t.seed)
	e.Uvarint(uint64(t.nAlternates))
	e.Uvarint(uint64(t.nPruned))
	e.Uvarint(uint64(t.nSwitched))
	t.rng.Encode(e)
	return e.Data(), nil
}

func decodeHAT(data []byte) (*HoeffdingAdaptiveTreeClassifier, error) {
	d := newDec(data)
	c := decodeCore(&d)
	if d.Err() != nil {
		return nil, fmt.Errorf("decode tree: %w", d.Err())
	}
	t := &HoeffdingAdaptiveTreeClassifier{core: c}
	t.bootstrap = d.Boolean()
	t.driftWindow = d.F64()
	t.switchSig = d.F64()
	t.adwin = drift.DefaultADWINConfig()
	t.adwin.Delta = d.F64()
	t.seed = d.Varint()
	t.nAlternates = d.n(math.MaxInt32)
	t.nPruned = d.n(math.MaxInt32)
	t.nSwitched = d.n(math.MaxInt32)
	t.rng = pyrand.Decode(d.Decoder)
	if d.Err() == nil && d.Len() != 0 {
		d.Abort(errors.New("trailing bytes after the generator state"))
	}
	if d.Err() != nil {
		return nil, fmt.Errorf("decode tree: %w", d.Err())
	}
	if err := t.validate(); err != nil {
		return nil, fmt.Errorf("decode tree: %w", err)
	}
	t.init()
	return t, nil
}

// Clone implements ml.Learner.
func (t *HoeffdingAdaptiveTreeClassifier) Clone() ml.Learner {
	b, _ := t.MarshalBinary()
	c, err := decodeHAT(b)
	if err != nil {
		panic("tree: clone: " + err.Error())
	}
	return c
}
