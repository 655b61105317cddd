package tree

import (
	"fmt"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml"
)

// InputSpec reports the widths and class count the classifier was built
// for (ml.SpecReporter).
func (t *core) InputSpec() ml.Spec {
	return ml.Spec{NumNumeric: t.cfg.nNum, NumCateg: t.cfg.nCat, NClasses: t.cfg.nClasses}
}

// InputSpec reports the widths the regressor was built for
// (ml.SpecReporter).
func (t *HoeffdingTreeRegressor) InputSpec() ml.Spec {
	return ml.Spec{NumNumeric: t.nNum, NumCateg: t.nCat}
}

// allocBudget is how many per-class and per-feature slots (class
// distributions, splitters, nominal counts) a decoded tree may allocate:
// plenty for any tree an encoding of n bytes holds, yet small enough that
// a corrupt width or class count cannot make a few bytes allocate
// gigabytes.
func allocBudget(n int) int { return 1<<20 + 64*n }

// spend takes n slots from the budget; it records an error and returns
// false when they are not there.
func (d *dec) spend(n int) bool {
	if d.Err() != nil {
		return false
	}
	if n > d.budget {
		d.Abort(fmt.Errorf("state would allocate far more than its %d bytes hold", d.Len()))
		return false
	}
	d.budget -= n
	return true
}

// index reads a non-negative index below limit for node id.
func (d *dec) index(id int, what string, limit int) int {
	v := d.Uvarint()
	if d.Err() == nil && v >= uint64(limit) {
		d.Abort(fmt.Errorf("node %d: %s %d out of range [0,%d)", id, what, v, limit))
		return 0
	}
	return int(v)
}

// checkWidths bounds the input widths of a decoded tree.
func checkWidths(nNum, nCat int) error {
	if nNum+nCat > ml.MaxInputs {
		return fmt.Errorf("%d numeric and %d categorical inputs, more than %d", nNum, nCat, ml.MaxInputs)
	}
	return nil
}

// checkBranch checks that branch node id of the given kind tests a feature
// of its type and has the children its kind needs: two for binary
// branches, at least one for a multiway branch, no more than the bytes
// left can hold.
func checkBranch(id int, kind nodeKind, feature, nNum, nChildren, left int) error {
	switch {
	case kind == numBranch && feature >= nNum:
		return fmt.Errorf("node %d: numeric branch on categorical feature %d", id, feature)
	case kind != numBranch && feature < nNum:
		return fmt.Errorf("node %d: nominal branch on numeric feature %d", id, feature)
	case kind != nomMultiBranch && nChildren != 2:
		return fmt.Errorf("node %d: binary branch with %d children", id, nChildren)
	case nChildren < 1:
		return fmt.Errorf("node %d: multiway branch without children", id)
	case nChildren > left:
		return fmt.Errorf("node %d: %d children: %w", id, nChildren, wire.ErrTruncated)
	}
	return nil
}

// validate checks a decoded classification tree: every node of an
// adaptive tree has its drift detector and only an adaptive tree has
// detectors or alternate trees. (Values such as class weights are not
// checked: Clone decodes, so whatever decoding accepts must stay
// acceptable after any Learn, and NaN or negative weights, which learning
// from extreme inputs can produce, make no index go out of range.)
func (t *core) validate(adaptive bool) error {
	id := 0
	var walk func(n *node) error
	walk = func(n *node) error {
		me := id
		id++
		if adaptive != (n.det != nil) {
			if adaptive {
				return fmt.Errorf("node %d: no drift detector in an adaptive tree", me)
			}
			return fmt.Errorf("node %d: drift detector in a non-adaptive tree", me)
		}
		if !adaptive && n.alt != nil {
			return fmt.Errorf("node %d: alternate tree in a non-adaptive tree", me)
		}
		for _, c := range n.children {
			if err := walk(c); err != nil {
				return err
			}
		}
		if n.alt != nil {
			return walk(n.alt)
		}
		return nil
	}
	if t.root == nil {
		return nil
	}
	return walk(t.root)
}

// validate checks a decoded adaptive tree: the tree itself, and the
// parameters of the detectors it creates for new nodes.
func (t *HoeffdingAdaptiveTreeClassifier) validate() error {
	switch {
	case !(t.adwin.Delta > 0 && t.adwin.Delta < 1):
		return fmt.Errorf("adwin delta %v out of range (0,1)", t.adwin.Delta)
	case !(t.driftWindow >= 0):
		return fmt.Errorf("drift window threshold %v must be >= 0", t.driftWindow)
	case !(t.switchSig > 0 && t.switchSig < 1):
		return fmt.Errorf("switch significance %v out of range (0,1)", t.switchSig)
	}
	return t.core.validate(true)
}
