package tree

import "math"

// Split criteria.
const (
	critGini = iota
	critInfoGain
	critHellinger
)

// merit scores a candidate split of pre into post with the tree's criterion.
func (t *core) merit(pre *classDist, post []classDist) float64 {
	switch t.cfg.criterion {
	case critGini:
		if subsetsAboveFrac(post, t.cfg.minBranchFrac, true) < 2 {
			return math.Inf(-1)
		}
		total := 0.0
		ws := t.scratchW(len(post))
		for i := range post {
			ws[i] = post[i].total()
			total += ws[i]
		}
		g := 0.0
		for i := range post {
			g += (ws[i] / total) * gini(&post[i], ws[i])
		}
		return 1.0 - g
	case critHellinger:
		if subsetsAboveFrac(post, t.cfg.minBranchFrac, false) < 2 {
			return math.Inf(-1)
		}
		return hellinger(post)
	default:
		if subsetsAboveFrac(post, t.cfg.minBranchFrac, true) < 2 {
			return math.Inf(-1)
		}
		return entropy(pre) - t.entropyList(post)
	}
}

// rangeOfMerit is R in the Hoeffding bound.
func (t *core) rangeOfMerit(pre *classDist) float64 {
	if t.cfg.criterion == critGini {
		return 1.0
	}
	n := pre.size()
	if n < 2 {
		n = 2
	}
	return math.Log2(float64(n))
}

func subsetsAboveFrac(post []classDist, frac float64, guard bool) int {
	total := 0.0
	for i := range post {
		total += post[i].total()
	}
	if guard && !(total > 0) {
		return 0
	}
	n := 0
	for i := range post {
		if post[i].total()/total > frac {
			n++
		}
	}
	return n
}

func gini(d *classDist, sum float64) float64 {
	g := 1.0
	if sum != 0 {
		for _, c := range d.order {
			r := d.w[c] / sum
			g -= r * r
		}
	}
	return g
}

func entropy(d *classDist) float64 {
	e, s := 0.0, 0.0
	for _, c := range d.order {
		if x := d.w[c]; x > 0 {
			e -= x * math.Log2(x)
			s += x
		}
	}
	if s > 0 {
		return (e + s*math.Log2(s)) / s
	}
	return 0
}

func (t *core) entropyList(post []classDist) float64 {
	total := 0.0
	ws := t.scratchW(len(post))
	for i := range post {
		ws[i] = post[i].total()
		total += ws[i]
	}
	e := 0.0
	for i := range post {
		e += ws[i] * entropy(&post[i])
	}
	return e / total
}

// hellinger is River's Hellinger distance between the first two branches
// over classes 0 (negative) and 1 (positive); 0 when one of those keys is
// missing. Where River divides by a zero class total (and raises), 0 is
// returned.
func hellinger(post []classDist) float64 {
	if len(post) < 2 || len(post[0].w) < 2 {
		return 0
	}
	l, r := &post[0], &post[1]
	if !l.in[1] || !l.in[0] || !r.in[1] || !r.in[0] {
		return 0
	}
	tn := l.w[0] + r.w[0]
	tp := l.w[1] + r.w[1]
	if tn == 0 || tp == 0 {
		return 0
	}
	a := math.Sqrt(l.w[0]/tn) - math.Sqrt(l.w[1]/tp)
	b := math.Sqrt(r.w[0]/tn) - math.Sqrt(r.w[1]/tp)
	return math.Sqrt(a*a + b*b)
}
