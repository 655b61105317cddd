package forest

import (
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/ml"
)

// InputSpec reports the widths and class count the forest was built for
// (ml.SpecReporter).
func (c *Classifier) InputSpec() ml.Spec {
	return ml.Spec{NumNumeric: c.nFeat, NClasses: c.p.NClasses}
}

// InputSpec reports the width the forest was built for (ml.SpecReporter).
func (r *Regressor) InputSpec() ml.Spec { return ml.Spec{NumNumeric: r.nFeat} }

// maxFirstLearnBytes bounds what a forest allocates on its first sample, a
// generator and a root node per tree, so that an absurd configuration or a
// corrupt stored state is an error instead of running the server out of
// memory.
const maxFirstLearnBytes = 1 << 30

// checkSize checks the first-sample allocation of nEstimators trees over
// nFeat features with stats statistics per node against
// maxFirstLearnBytes.
func checkSize(nEstimators, nFeat, stats int) error {
	const perTree = 3 << 10 // generator state, node header, slices
	need := int64(nEstimators) * (perTree + 8*int64(slotStats+stats+2*nFeat))
	if need > maxFirstLearnBytes {
		return fmt.Errorf("n_estimators %d over %d inputs would take %d MB before the first sample (limit %d MB)",
			nEstimators, nFeat, need>>20, maxFirstLearnBytes>>20)
	}
	return nil
}

// validate checks a decoded classifier: the parameters NewClassifier
// accepts, one tree per estimator once trees exist, and each tree's
// structure.
func (c *Classifier) validate() error {
	switch {
	case !(c.p.Step > 0) || math.IsInf(c.p.Step, 1):
		return fmt.Errorf("step %v must be finite and > 0", c.p.Step)
	case !(c.p.Dirichlet > 0) || math.IsInf(c.p.Dirichlet, 1):
		return fmt.Errorf("dirichlet %v must be finite and > 0", c.p.Dirichlet)
	case len(c.idxClass) > c.p.NClasses:
		return fmt.Errorf("%d classes seen of %d", len(c.idxClass), c.p.NClasses)
	}
	return c.validateTrees(c.p.NEstimators, c.nFeat, c.p.NClasses, c.p.NClasses)
}

// validate checks a decoded regressor like Classifier.validate.
func (r *Regressor) validate() error {
	switch {
	case !(r.p.Step > 0) || math.IsInf(r.p.Step, 1):
		return fmt.Errorf("step %v must be finite and > 0", r.p.Step)
	}
	return r.validateTrees(r.p.NEstimators, r.nFeat, 1, 0)
}

// validateTrees checks what both learners need of decoded trees: one per
// estimator once they exist, a first sample within maxFirstLearnBytes
// (stats statistics per node), and each tree's structure for nFeat
// features and nClasses classes (0 for a regressor).
func (f *forest) validateTrees(nEstimators, nFeat, stats, nClasses int) error {
	if f.trees != nil && len(f.trees) != nEstimators {
		return fmt.Errorf("%d trees for %d estimators", len(f.trees), nEstimators)
	}
	if err := checkSize(nEstimators, nFeat, stats); err != nil {
		return err
	}
	for i, t := range f.trees {
		if err := t.validate(nFeat, nClasses); err != nil {
			return fmt.Errorf("tree %d: %w", i, err)
		}
	}
	return nil
}

// validate checks what learning and prediction rely on in a decoded tree:
// the arrays have one slot per node; the links form one tree rooted at
// root (every node reached exactly once, each child pointing back to its
// parent, so that walks up and down end); a branch names a feature in
// [0, nFeat) and has two children, a leaf none; sample counts and class
// counts are finite and not negative.
func (t *mondrianTree) validate(nFeat, nClasses int) error {
	n := t.nodes.n
	switch {
	case t.rng == nil:
		return fmt.Errorf("no generator")
	case t.iteration < 0:
		return fmt.Errorf("iteration %d < 0", t.iteration)
	case n == 0:
		return fmt.Errorf("no node")
	case t.root < 0 || int(t.root) >= n:
		return fmt.Errorf("root %d out of range [0,%d)", t.root, n)
	case t.nodes.elem(t.root).parent != -1:
		return fmt.Errorf("root %d has parent %d", t.root, t.nodes.elem(t.root).parent)
	case t.nFeat != nFeat || (t.classifier && t.nClasses != nClasses):
		return fmt.Errorf("tree shape %d features, %d classes for a forest of %d, %d", t.nFeat, t.nClasses, nFeat, nClasses)
	case t.payload.n != n || t.payload.width != t.stride:
		return fmt.Errorf("%d payload records of width %d for %d nodes of stride %d", t.payload.n, t.payload.width, n, t.stride)
	}
	seen := make([]bool, n)
	seen[t.root] = true
	stack := []int32{t.root}
	reached := 1
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nd := t.nodes.elem(i)
		if ns := t.rec(i)[slotN]; ns < 0 {
			return fmt.Errorf("node %d: %v samples", i, ns)
		}
		if nd.left < 0 {
			if nd.left != -1 || nd.right != -1 {
				return fmt.Errorf("node %d: leaf with links %d, %d", i, nd.left, nd.right)
			}
			continue
		}
		if nd.feature < 0 || int(nd.feature) >= nFeat {
			return fmt.Errorf("node %d: feature %d out of range [0,%d)", i, nd.feature, nFeat)
		}
		for _, ch := range [2]int32{nd.left, nd.right} {
			if ch < 0 || int(ch) >= n {
				return fmt.Errorf("node %d: child %d out of range [0,%d)", i, ch, n)
			}
			if seen[ch] {
				return fmt.Errorf("node %d: child %d reached twice", i, ch)
			}
			if t.nodes.elem(ch).parent != i {
				return fmt.Errorf("node %d: child %d has parent %d", i, ch, t.nodes.elem(ch).parent)
			}
			seen[ch] = true
			reached++
			stack = append(stack, ch)
		}
	}
	if reached != n {
		return fmt.Errorf("%d of %d nodes not reachable from root %d", n-reached, n, t.root)
	}
	if t.classifier {
		for i := range t.nodes.n {
			for c, v := range t.rec(int32(i))[slotStats:t.boxOff] {
				if !(v >= 0) || math.IsInf(v, 1) {
					return fmt.Errorf("node %d: class %d count %v must be finite and >= 0", i, c, v)
				}
			}
		}
	}
	return nil
}
