package tree

import (
	"math"

	"github.com/spate-ml/spate/core/ml"
)

// HoeffdingTreeClassifier is an incremental decision tree (VFDT) that
// follows River's tree.HoeffdingTreeClassifier step by step.
type HoeffdingTreeClassifier struct {
	core
	memo nbMemo
}

// nbMemo carries the naive Bayes guess a Predict made to the Learn that
// follows it on the same row, which needs that very guess for the
// adaptive leaf's bookkeeping (nba). It is used only when nothing can have
// changed in between: same leaf, no Learn since, and the same feature
// values bit for bit. It is a cache, not state: never encoded.
type nbMemo struct {
	leaf  *node
	seen  float64 // weightSeen when the guess was made
	num   []float64
	cat   []int64
	class int // argmax of the votes; -1 for River's empty result
}

func (m *nbMemo) remember(n *node, seen float64, x ml.Instance, class int) {
	m.leaf, m.seen, m.class = n, seen, class
	m.num = append(m.num[:0], x.Numeric...)
	m.cat = append(m.cat[:0], x.Categ...)
}

// recall returns the remembered guess for leaf n and row x when the only
// change since is the weight of the Learn in progress; it forgets it either
// way.
func (m *nbMemo) recall(n *node, seen, w float64, x ml.Instance) (int, bool) {
	leaf := m.leaf
	m.leaf = nil
	if leaf != n || m.seen+w != seen || len(x.Numeric) != len(m.num) || len(x.Categ) != len(m.cat) {
		return 0, false
	}
	for i, v := range x.Numeric {
		if math.Float64bits(v) != math.Float64bits(m.num[i]) {
			return 0, false
		}
	}
	for i, v := range x.Categ {
		if v != m.cat[i] {
			return 0, false
		}
	}
	return m.class, true
}

// NewHoeffdingTreeClassifier builds an empty tree; use the registry factory
// to build one from TurboML params.
func NewHoeffdingTreeClassifier(p ClassifierParams, spec ml.Spec) (*HoeffdingTreeClassifier, error) {
	cfg, err := p.config(spec)
	if err != nil {
		return nil, err
	}
	return &HoeffdingTreeClassifier{core: newCore(cfg)}, nil
}

// Algorithm implements ml.Learner.
func (t *HoeffdingTreeClassifier) Algorithm() string { return "HoeffdingTreeClassifier" }

// Learn implements ml.Learner. Labels outside 0..n_classes-1 are ignored.
func (t *HoeffdingTreeClassifier) Learn(x ml.Instance, y float64) {
	c := int(y)
	if c < 0 || c >= t.cfg.nClasses || float64(c) != y {
		return
	}
	const w = 1.0
	t.classes[c] = true
	t.weightSeen += w
	if t.root == nil {
		t.root = t.newLeaf(0)
		t.nActive = 1
	}
	var parent *node
	pb := -1
	n := t.root
	for !n.isLeaf() {
		if b, ok := numStep(n, x.Numeric); ok {
			parent, pb, n = n, b, n.children[b]
			continue
		}
		b, ok := t.branchNo(n, x)
		if !ok {
			break
		}
		parent, pb, n = n, b, n.children[b]
	}
	if n.isLeaf() {
		t.learnLeaf(n, x, c, w)
		if t.growthAllowed && n.active {
			if n.depth >= t.cfg.maxDepth {
				t.deactivate(n)
				t.nActive--
				t.nInactive++
			} else {
				seen := n.stats.total()
				if seen-n.lastSplitAt >= t.cfg.gracePeriod {
					t.attemptSplit(n, parent, pb, nil)
					n.lastSplitAt = seen
				}
			}
		}
	} else {
		for {
			if n.kind == nomMultiBranch {
				// A category without a branch yet: grow one.
				l := t.newLeaf(n.depth + 1)
				n.valIndex[x.Categ[n.feature-t.cfg.nNum]] = len(n.children)
				n.children = append(n.children, l)
				t.nActive++
				n = l
			} else {
				_, n = mostCommonPath(n)
				if !n.isLeaf() {
					n = t.traverse(n, x, false)
				}
			}
			if n.isLeaf() {
				break
			}
		}
		t.learnLeaf(n, x, c, w)
	}
	if t.memoryCheckDue() {
		t.estimateModelSize()
	}
}

func (t *HoeffdingTreeClassifier) learnLeaf(n *node, x ml.Instance, c int, w float64) {
	if t.cfg.leafPred == predNBA {
		if nb, ok := t.memo.recall(n, t.weightSeen, w, x); ok {
			t.nbaCount(n, c, w, nb)
		} else {
			t.nbaBookkeeping(n, x, c, w)
		}
	}
	n.stats.add(c, w)
	if n.active {
		t.updateSplitters(n, x, c, w)
	}
}

// Predict implements ml.Learner.
func (t *HoeffdingTreeClassifier) Predict(x ml.Instance, dst *ml.Prediction) {
	resetProba(dst, t.cfg.nClasses)
	if t.root == nil {
		dst.Class, dst.Score = 0, 0
		return
	}
	l := t.traverse(t.root, x, true)
	if t.cfg.leafPred == predNBA && t.usesNaiveBayes(l) {
		// The adaptive leaf predicts with naive Bayes: keep the guess for
		// the Learn that usually follows.
		nb := -1
		if t.naiveBayes(l, x, t.votes) {
			nb = argmaxFirst(l.stats.order, t.votes)
			for _, c := range l.stats.order {
				dst.Proba[c] = t.votes[c]
			}
		}
		t.memo.remember(l, t.weightSeen, x, nb)
	} else if t.leafDist(l, x, t.votes) {
		for _, c := range l.stats.order {
			dst.Proba[c] = t.votes[c]
		}
	}
	t.fillPrediction(dst)
}

// MarshalBinary implements ml.Learner.
func (t *HoeffdingTreeClassifier) MarshalBinary() ([]byte, error) {
	return t.core.marshal(nil), nil
}

// Clone implements ml.Learner.
func (t *HoeffdingTreeClassifier) Clone() ml.Learner {
	c, err := decodeHTC(t.core.marshal(nil))
	if err != nil {
		panic("tree: clone: " + err.Error())
	}
	return c
}

func decodeHTC(data []byte) (*HoeffdingTreeClassifier, error) {
	c, err := unmarshalCore(data)
	if err != nil {
		return nil, err
	}
	return &HoeffdingTreeClassifier{core: c}, nil
}

// Stats summarises the tree's shape.
type Stats struct {
	Nodes, Branches, Leaves, ActiveLeaves, InactiveLeaves, Height int
}

// Stats reports the current shape of the tree.
func (t *core) Stats() Stats {
	s := Stats{ActiveLeaves: t.nActive, InactiveLeaves: t.nInactive}
	if t.root != nil {
		var walk func(n *node, d int)
		walk = func(n *node, d int) {
			s.Nodes++
			if d > s.Height {
				s.Height = d
			}
			if n.isLeaf() {
				s.Leaves++
				return
			}
			s.Branches++
			for _, c := range n.children {
				walk(c, d+1)
			}
		}
		walk(t.root, 0)
	}
	return s
}
