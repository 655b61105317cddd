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
	warmed uint64          // what warm loaded, kept so that its loads stay
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
	if f.memo.predicted(x) {
		f.warm()
	}
}

// warmDepth is how many nodes at the bottom of each path warm loads: a
// sample lies outside the boxes of about four to six of them on the
// benchmark streams, and the scan for the first box it lies inside reads
// one more.
const warmDepth = 6

// warm loads the payload records (counts, times, bounding boxes) of the
// deepest nodes on every tree's path, for the Learn that is expected to
// follow the Predict. They are the forest's coldest memory: the walk
// reads only node headers, and the top of a tree is shared by every
// sample. Learning reads these records one tree after another, each box
// scan waiting on its loads; warming issues them for all trees at once,
// with no decision between them, so that they are in flight together
// while Predict mixes the trees' predictions.
func (f *forest) warm() {
	var acc uint64
	for _, t := range f.trees {
		acc |= t.warm(warmDepth)
	}
	f.warmed = acc // keeps the loads
}

// warm loads the payload records of the last k nodes on t.path, one load
// per cache line, and returns their bits ORed together.
func (t *mondrianTree) warm(k int) uint64 {
	var acc uint64
	path := t.path
	for _, i := range path[max(len(path)-k, 0):] {
		r := t.rec(i)
		for j := 0; j < len(r); j += 8 {
			acc |= math.Float64bits(r[j])
		}
		acc |= math.Float64bits(r[len(r)-1])
	}
	return acc
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
			n := t.nodes.elem(i)
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
	// learned is whether the last Predict's paths went to a Learn: while
	// they do, the next Predict expects a Learn too.
	learned bool
}

// predicted records that the trees' paths now belong to x, and reports
// whether a Learn on x is expected: the last Predict was followed by its
// Learn.
func (m *pathMemo) predicted(x []float64) (learnExpected bool) {
	if m.ok { // the last Predict had no Learn
		m.learned = false
	}
	m.x = append(m.x[:0], x...)
	m.ok = true
	return m.learned
}

// matches reports whether the trees' paths belong to x, the sample about
// to be learned, and forgets them: learning changes the trees.
func (m *pathMemo) matches(x []float64) bool {
	same := m.ok && len(m.x) == len(x)
	for i := 0; same && i < len(x); i++ {
		same = math.Float64bits(m.x[i]) == math.Float64bits(x[i])
	}
	m.ok = false
	m.learned = same
	return same
}
