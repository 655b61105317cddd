package forest

import (
	"math"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml/internal/pyrand"
)

// forest is what AMFClassifier and AMFRegressor share: the trees, the
// generator that seeds them, and the paths a Predict leaves for the Learn
// after it.
type forest struct {
	rng    *pyrand.Rand
	trees  []*mondrianTree // nil until the first Learn
	memo   pathMemo
	active []*mondrianTree // scratch for findPaths
}

// plant creates the n trees on the first Learn, each from a seed drawn
// as River draws it, built by mk.
func (f *forest) plant(n int, mk func(seed int64) *mondrianTree) {
	if f.trees != nil {
		return
	}
	f.trees = make([]*mondrianTree, n)
	for i := range f.trees {
		f.trees[i] = mk(f.rng.Randint(0, 9999999))
	}
}

// walk leaves x's path in every tree, for a prediction and for the Learn
// that may follow on the same x.
func (f *forest) walk(x []float64) {
	f.active = findPaths(f.trees, x, f.active)
	f.memo.predicted(x)
}

// learn runs every tree's learn on x, walking x down the trees first
// unless the Predict just before, on the same x, did.
func (f *forest) learn(x []float64, yi int, y float64, nSeen int) {
	if !f.memo.matches(x) {
		f.active = findPaths(f.trees, x, f.active)
	}
	for _, t := range f.trees {
		t.learn(x, yi, y, nSeen)
	}
}

// clone is a deep copy of the generator and the trees.
func (f *forest) clone() forest {
	r := *f.rng
	c := forest{rng: &r}
	if f.trees != nil {
		c.trees = make([]*mondrianTree, len(f.trees))
		for i, t := range f.trees {
			c.trees[i] = t.clone()
		}
	}
	return c
}

// encodeTrees writes whether the trees exist, then each tree.
func (f *forest) encodeTrees(e *wire.Encoder, version uint64) {
	e.Boolean(f.trees != nil)
	for _, t := range f.trees {
		t.encode(e, version)
	}
}

// decodeTrees reads what encodeTrees wrote: n trees shaped like proto.
func (f *forest) decodeTrees(d *wire.Decoder, version uint64, n int, proto mondrianTree) {
	if !d.Boolean() {
		return
	}
	f.trees = make([]*mondrianTree, n)
	// Stop at the first fault: a corrupt count must not cost a
	// generator's allocation per tree it claims.
	for i := 0; i < n && d.Err() == nil; i++ {
		t := proto
		t.decodeInto(d, version)
		f.trees[i] = &t
	}
}

// findPaths walks x down all trees at once, one level of each tree in
// turn, choosing the side without a jump. A walk is a chain of dependent
// loads and the side x takes would mispredict half the time; stepping the
// trees in turn keeps their loads in flight together instead.
//
// active is scratch space, returned for reuse.
func findPaths(trees []*mondrianTree, x []float64, active []*mondrianTree) []*mondrianTree {
	active = active[:0]
	for _, t := range trees {
		t.path = append(t.path[:0], t.root)
		active = append(active, t)
	}
	for len(active) > 0 {
		k := 0
		for _, t := range active {
			i := t.path[len(t.path)-1]
			n := &t.nodes[i]
			if n.left < 0 {
				continue
			}
			if v := x[n.feature]; v != v {
				i = t.next(i, x)
			} else {
				b := int32(0)
				if v > n.threshold {
					b = 1
				}
				i = n.left + b*(n.right-n.left)
			}
			t.path = append(t.path, i)
			active[k] = t
			k++
		}
		active = active[:k]
	}
	return active
}

// pathMemo lets a Learn reuse the paths its forest's trees walked for the
// Predict just before it on the same sample (the prequential pattern).
type pathMemo struct {
	x  []float64 // the predicted sample's bits
	ok bool
}

// predicted records that the trees' paths now belong to x.
func (m *pathMemo) predicted(x []float64) {
	m.x = append(m.x[:0], x...)
	m.ok = true
}

// matches reports whether the trees' paths belong to x, the sample about
// to be learned, and forgets them: learning changes the trees.
func (m *pathMemo) matches(x []float64) bool {
	same := m.ok && len(m.x) == len(x)
	for i := 0; same && i < len(x); i++ {
		same = math.Float64bits(m.x[i]) == math.Float64bits(x[i])
	}
	m.ok = false
	return same
}
