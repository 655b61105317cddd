package tree

import (
	"math"
	"slices"
)

// halfLogTau is 0.5·ln(2π) as CPython computes it, so that Gaussian
// log-densities match River bit for bit.
const halfLogTau = 0.9189385332046727

// gaussClass is one class's estimator in a gaussSplitter.
type gaussClass struct {
	min, max, n, mean, s float64
	halfLogVar           float64 // cache of 0.5·ln(variance), valid when logOK
	in                   bool
	logOK                bool
}

// gaussSplitter watches one numeric feature in a classification leaf: per
// class, the minimum, maximum and a weighted Welford estimate of mean and
// variance (River's GaussianSplitter with a proba.Gaussian per class). The
// slices point into buffers shared by all the numeric splitters of a leaf.
type gaussSplitter struct {
	order []int32 // classes in first-seen order (capacity n_classes)
	cls   []gaussClass
}

// newGaussSplitters allocates the numeric splitters of a leaf in two
// contiguous buffers.
func newGaussSplitters(nNum, k int) []gaussSplitter {
	out := make([]gaussSplitter, nNum)
	cls := make([]gaussClass, nNum*k)
	ord := make([]int32, nNum*k)
	for f := range out {
		out[f] = gaussSplitter{order: ord[f*k : f*k : (f+1)*k], cls: cls[f*k : (f+1)*k : (f+1)*k]}
	}
	return out
}

func (g *gaussSplitter) reset() {
	for _, c := range g.order {
		g.cls[c] = gaussClass{}
	}
	g.order = g.order[:0]
}

// insert starts the estimator of class c at its first value x.
func (g *gaussSplitter) insert(c int, x float64) {
	g.cls[c] = gaussClass{in: true, min: x, max: x}
	g.order = append(g.order, int32(c))
}

// observe is the weighted Welford step (River's Gaussian.update), small
// enough to inline into the per-feature loop of a learn step; the first
// value of a class goes through gaussSplitter.insert before it.
func (e *gaussClass) observe(x, w float64) {
	if x < e.min {
		e.min = x
	}
	if x > e.max {
		e.max = x
	}
	old := e.mean
	e.logOK = false
	e.n += w
	e.mean += (w / e.n) * (x - e.mean)
	e.s += w * (x - old) * (x - e.mean)
}

// logPdf is River's Gaussian.log_pdf; -Inf when the class is unknown or
// the variance is not positive.
func (g *gaussSplitter) logPdf(x float64, c int) float64 {
	e := &g.cls[c]
	if !e.in || e.n <= 1 {
		return math.Inf(-1)
	}
	v := e.s / (e.n - 1)
	if v > 0 {
		if !e.logOK {
			// A cache only: the value is what the expression below would
			// compute, so predictions are unchanged.
			e.halfLogVar, e.logOK = 0.5*math.Log(v), true
		}
		d := x - e.mean
		return d*d/(-2.0*v) - halfLogTau - e.halfLogVar
	}
	return math.Inf(-1)
}

// sigma is the standard deviation of class c (River's Gaussian.sigma; 0
// with fewer than two samples).
func (g *gaussSplitter) sigma(c int) float64 {
	e := &g.cls[c]
	v := 0.0
	if e.n > 1 {
		v = e.s / (e.n - 1)
	}
	return math.Sqrt(v)
}

// binarySplit fills lhs and rhs with the estimated class weights on each
// side of threshold t; sigma holds each class's standard deviation. The
// left share of a class is River's Gaussian.cdf(t) (0 when sigma is 0).
func (g *gaussSplitter) binarySplit(t float64, sigma []float64, lhs, rhs *classDist) {
	lhs.reset()
	rhs.reset()
	for _, c32 := range g.order {
		c := int(c32)
		e := &g.cls[c]
		switch {
		case t < e.min:
			rhs.set(c, e.n)
		case t >= e.max:
			lhs.set(c, e.n)
		default:
			cdf := 0.0
			if s := sigma[c]; s != 0 {
				cdf = 0.5 * (1.0 + math.Erf(((t-e.mean)/s)/math.Sqrt2))
			}
			l := cdf * e.n
			lhs.set(c, l)
			rhs.set(c, e.n-l)
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
		if e := &g.cls[c]; e.min < lo {
			lo = e.min
		}
		if e := &g.cls[c]; e.max > hi {
			hi = e.max
		}
	}
	if !(lo < math.Inf(1)) {
		return
	}
	bin := (hi - lo) / (float64(t.cfg.nSplits) + 1.0)
	post := t.scratchPost(2)
	sigma := t.scratchSigma()
	for _, c := range g.order {
		sigma[c] = g.sigma(int(c))
	}
	for i := 0; i < t.cfg.nSplits; i++ {
		sv := lo + bin*float64(i+1)
		if !(lo < sv && sv < hi) {
			continue
		}
		g.binarySplit(sv, sigma, &post[0], &post[1])
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
