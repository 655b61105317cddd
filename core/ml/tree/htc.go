package tree

import (
	"github.com/spate-ml/spate/core/ml"
)

// HoeffdingTreeClassifier is an incremental decision tree (VFDT) that
// follows River's tree.HoeffdingTreeClassifier step by step.
type HoeffdingTreeClassifier struct {
	core
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
		t.nbaBookkeeping(n, x, c, w)
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
	if t.leafDist(l, x, t.votes) {
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
