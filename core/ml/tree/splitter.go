package tree

import (
	"math"
	"slices"
)

// halfLogTau is 0.5·ln(2π) as CPython computes it, so that Gaussian
// log-densities match River bit for bit.
const halfLogTau = 0.9189385332046727

// gaussSplitter watches one numeric feature in a classification leaf: per
// class, the minimum, maximum and a weighted Welford estimate of mean and
// variance (River's GaussianSplitter with a proba.Gaussian per class).
type gaussSplitter struct {
	order []int32 // classes in first-seen order
	in    []bool
	min   []float64
	max   []float64
	n     []float64
	mean  []float64
	s     []float64
}

func newGaussSplitter(k int) gaussSplitter {
	buf := make([]float64, 5*k)
	return gaussSplitter{
		order: make([]int32, 0, k),
		in:    make([]bool, k),
		min:   buf[0:k:k],
		max:   buf[k : 2*k : 2*k],
		n:     buf[2*k : 3*k : 3*k],
		mean:  buf[3*k : 4*k : 4*k],
		s:     buf[4*k : 5*k : 5*k],
	}
}

func (g *gaussSplitter) reset() {
	for _, c := range g.order {
		g.in[c] = false
		g.n[c], g.mean[c], g.s[c] = 0, 0, 0
	}
	g.order = g.order[:0]
}

func (g *gaussSplitter) update(x float64, c int, w float64) {
	if !g.in[c] {
		g.in[c] = true
		g.order = append(g.order, int32(c))
		g.min[c], g.max[c] = x, x
		g.n[c], g.mean[c], g.s[c] = 0, 0, 0
	} else {
		if x < g.min[c] {
			g.min[c] = x
		}
		if x > g.max[c] {
			g.max[c] = x
		}
	}
	old := g.mean[c]
	g.n[c] += w
	g.mean[c] += (w / g.n[c]) * (x - g.mean[c])
	g.s[c] += w * (x - old) * (x - g.mean[c])
}

// logPdf is River's Gaussian.log_pdf; -Inf when the class is unknown or
// the variance is not positive.
func (g *gaussSplitter) logPdf(x float64, c int) float64 {
	if !g.in[c] || g.n[c] <= 1 {
		return math.Inf(-1)
	}
	v := g.s[c] / (g.n[c] - 1)
	if v > 0 {
		d := x - g.mean[c]
		return d*d/(-2.0*v) - halfLogTau - 0.5*math.Log(v)
	}
	return math.Inf(-1)
}

// cdf is River's Gaussian.cdf (0 when sigma is 0).
func (g *gaussSplitter) cdf(x float64, c int) float64 {
	v := 0.0
	if g.n[c] > 1 {
		v = g.s[c] / (g.n[c] - 1)
	}
	sigma := math.Sqrt(v)
	if sigma == 0 {
		return 0
	}
	return 0.5 * (1.0 + math.Erf(((x-g.mean[c])/sigma)/math.Sqrt2))
}

// binarySplit fills lhs and rhs with the estimated class weights on each
// side of threshold t.
func (g *gaussSplitter) binarySplit(t float64, lhs, rhs *classDist) {
	lhs.reset()
	rhs.reset()
	for _, c32 := range g.order {
		c := int(c32)
		switch {
		case t < g.min[c]:
			rhs.set(c, g.n[c])
		case t >= g.max[c]:
			lhs.set(c, g.n[c])
		default:
			l := g.cdf(t, c) * g.n[c]
			lhs.set(c, l)
			rhs.set(c, g.n[c]-l)
		}
	}
}

// best evaluates the n equally spaced thresholds between the smallest and
// largest value seen and stores the best one in cand (a candidate replaces
// the current best only when strictly better, so the lowest threshold wins
// ties). When no threshold has a finite merit cand keeps feature -1.
func (g *gaussSplitter) best(t *core, pre *classDist, feature int, cand *candidate) {
	cand.reset()
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range g.order {
		if g.min[c] < lo {
			lo = g.min[c]
		}
		if g.max[c] > hi {
			hi = g.max[c]
		}
	}
	if !(lo < math.Inf(1)) {
		return
	}
	bin := (hi - lo) / (float64(t.cfg.nSplits) + 1.0)
	post := t.scratchPost(2)
	for i := 0; i < t.cfg.nSplits; i++ {
		sv := lo + bin*float64(i+1)
		if !(lo < sv && sv < hi) {
			continue
		}
		g.binarySplit(sv, &post[0], &post[1])
		m := t.merit(pre, post)
		if m > cand.merit {
			cand.merit = m
			cand.feature = int32(feature)
			cand.kind = numBranch
			cand.threshold = sv
			cand.setChildren(post)
		}
	}
}

// nominalSplitter watches one categorical feature in a classification leaf:
// the weight of every (class, value) pair (River's NominalSplitterClassif).
type nominalSplitter struct {
	k          int
	classOrder []int32
	classIn    []bool
	vals       []int64         // values in first-seen order
	idx        map[int64]int32 // value → position in vals
	sorted     []int32         // positions in vals, by ascending value
	cnt        []float64       // cnt[pos*k+class]
	classTotal []float64
	total      float64
}

func newNominalSplitter(k int) nominalSplitter {
	return nominalSplitter{k: k, classIn: make([]bool, k), classTotal: make([]float64, k), idx: map[int64]int32{}}
}

func (s *nominalSplitter) reset() {
	for _, c := range s.classOrder {
		s.classIn[c] = false
		s.classTotal[c] = 0
	}
	s.classOrder = s.classOrder[:0]
	s.vals = s.vals[:0]
	s.sorted = s.sorted[:0]
	s.cnt = s.cnt[:0]
	clear(s.idx)
	s.total = 0
}

func (s *nominalSplitter) update(v int64, c int, w float64) {
	p, ok := s.idx[v]
	if !ok {
		p = int32(len(s.vals))
		s.idx[v] = p
		s.vals = append(s.vals, v)
		for range s.k {
			s.cnt = append(s.cnt, 0)
		}
		at, _ := slices.BinarySearchFunc(s.sorted, v, func(q int32, v int64) int {
			switch {
			case s.vals[q] < v:
				return -1
			case s.vals[q] > v:
				return 1
			}
			return 0
		})
		s.sorted = slices.Insert(s.sorted, at, p)
	}
	if !s.classIn[c] {
		s.classIn[c] = true
		s.classOrder = append(s.classOrder, int32(c))
	}
	s.cnt[int(p)*s.k+c] += w
	s.classTotal[c] += w
	s.total += w
}

// condProba is P(value | class); 0 for an unseen pair.
func (s *nominalSplitter) condProba(v int64, c int) float64 {
	p, ok := s.idx[v]
	if !ok || !s.classIn[c] {
		return 0
	}
	x := s.cnt[int(p)*s.k+c]
	if x == 0 || s.classTotal[c] == 0 {
		return 0
	}
	return x / s.classTotal[c]
}

// best evaluates the multiway split (one branch per value, ascending) and,
// unless it is strictly beaten, keeps it; then every one-vs-rest binary split
// in ascending value order (River iterates a Python set here; see the
// package notes).
func (s *nominalSplitter) best(t *core, pre *classDist, feature int, cand *candidate) {
	cand.reset()
	k := s.k
	if !t.cfg.binarySplit {
		post := t.scratchPost(len(s.vals))
		for i, p := range s.sorted {
			d := &post[i]
			d.reset()
			for c := 0; c < k; c++ {
				if x := s.cnt[int(p)*k+c]; x != 0 {
					d.set(c, x)
				}
			}
		}
		cand.merit = t.merit(pre, post)
		cand.feature = int32(feature)
		cand.kind = nomMultiBranch
		cand.values = cand.values[:0]
		for _, p := range s.sorted {
			cand.values = append(cand.values, s.vals[p])
		}
		cand.setChildren(post)
	}
	post := t.scratchPost(2)
	for _, p := range s.sorted {
		eq, ne := &post[0], &post[1]
		eq.reset()
		ne.reset()
		for _, c32 := range s.classOrder {
			c := int(c32)
			x := s.cnt[int(p)*k+c]
			if x != 0 {
				eq.set(c, x)
			}
			if rest := s.classTotal[c] - x; rest != 0 {
				ne.set(c, rest)
			}
		}
		m := t.merit(pre, post)
		if m > cand.merit {
			cand.merit = m
			cand.feature = int32(feature)
			cand.kind = nomBinBranch
			cand.value = s.vals[p]
			cand.setChildren(post)
		}
	}
}

// sortByValue orders positions by their value.
func sortByValue(pos []int32, vals []int64) {
	slices.SortFunc(pos, func(a, b int32) int {
		switch {
		case vals[a] < vals[b]:
			return -1
		case vals[a] > vals[b]:
			return 1
		}
		return 0
	})
}
