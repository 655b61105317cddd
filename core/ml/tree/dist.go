package tree

import "math"

// classDist is a class → weight map that remembers the order in which
// classes were first inserted. River keeps class statistics in Python dicts,
// whose iteration order (insertion order) decides tie-breaking and the order
// of floating-point sums; classDist reproduces both without a Go map.
type classDist struct {
	order []int32   // classes in first-insertion order
	w     []float64 // weight per class; meaningful only where in[c]
	in    []bool    // whether the class is a key of the map
}

func newClassDist(k int) classDist {
	return classDist{order: make([]int32, 0, k), w: make([]float64, k), in: make([]bool, k)}
}

// add adds w to class c, inserting the key if needed.
func (d *classDist) add(c int, w float64) {
	if !d.in[c] {
		d.in[c] = true
		d.order = append(d.order, int32(c))
		d.w[c] = w
		return
	}
	d.w[c] += w
}

// set inserts or overwrites class c.
func (d *classDist) set(c int, w float64) {
	if !d.in[c] {
		d.in[c] = true
		d.order = append(d.order, int32(c))
	}
	d.w[c] = w
}

// size is the number of keys (Python len(dict)).
func (d *classDist) size() int { return len(d.order) }

// total sums the weights in insertion order, as Python's sum(d.values()).
func (d *classDist) total() float64 {
	s := 0.0
	for _, c := range d.order {
		s += d.w[c]
	}
	return s
}

// maxWeight is max(d.values()); 0 for an empty map.
func (d *classDist) maxWeight() float64 {
	m := math.Inf(-1)
	for _, c := range d.order {
		if d.w[c] > m {
			m = d.w[c]
		}
	}
	if len(d.order) == 0 {
		return 0
	}
	return m
}

// argmaxFirst returns the first key holding the maximum value (Python's
// max(d, key=d.get)), or -1 for an empty map.
func argmaxFirst(order []int32, v []float64) int {
	best := -1
	for _, c := range order {
		if best < 0 || v[c] > v[best] {
			best = int(c)
		}
	}
	return best
}

func (d *classDist) reset() {
	for _, c := range d.order {
		d.in[c] = false
		d.w[c] = 0
	}
	d.order = d.order[:0]
}

func (d *classDist) copyFrom(o *classDist) {
	d.reset()
	for _, c := range o.order {
		d.set(int(c), o.w[c])
	}
}

func (d *classDist) clone() classDist {
	n := newClassDist(len(d.w))
	n.copyFrom(d)
	return n
}

// nonZeroAtLeast2 reports whether at least two classes have non-zero weight
// (the negation of River's observed_class_distribution_is_pure).
func (d *classDist) nonZeroAtLeast2() bool {
	n := 0
	for _, c := range d.order {
		if d.w[c] != 0 {
			n++
			if n == 2 {
				return true
			}
		}
	}
	return false
}

// normalizeInto writes the normalised values (value * (1/sum), as River's
// normalize_values_in_dict) into out for the keys of d; when the sum is 0
// or NaN the raw values are written.
func (d *classDist) normalizeInto(out []float64) {
	f := d.total()
	if f == 0 || math.IsNaN(f) {
		for _, c := range d.order {
			out[c] = d.w[c]
		}
		return
	}
	m := 1 / f
	for _, c := range d.order {
		out[c] = d.w[c] * m
	}
}
