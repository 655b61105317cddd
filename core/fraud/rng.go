package fraud

import (
	"math"
	"math/rand/v2"
)

// The generator must produce identical bytes on every machine. Go's float64
// +, -, *, / and sqrt are correctly rounded everywhere, but the math
// package's Exp and Log use assembly on some architectures, and the compiler
// may fuse x*y+z into one FMA instruction on others. So this file computes
// the few transcendental functions the model needs itself, and every
// product that feeds an addition is wrapped in an explicit float64()
// conversion, which the language spec defines as a rounding point that
// prevents fusion. Keep that rule in code that computes output values.

const ln2 = 0.6931471805599453

// detLog returns the natural logarithm of x > 0, bit-identically on every
// platform.
func detLog(x float64) float64 {
	frac, exp := math.Frexp(x) // exact: x = frac * 2^exp, frac in [0.5, 1)
	if frac < math.Sqrt2/2 {
		frac *= 2
		exp--
	}
	// ln(f) = 2 atanh(s) with s = (f-1)/(f+1), |s| < 0.1716.
	s := (frac - 1) / (frac + 1)
	s2 := float64(s * s)
	term := s
	sum := s
	for k := 3; k <= 23; k += 2 {
		term = float64(term * s2)
		sum += float64(term / float64(k))
	}
	return float64(2*sum) + float64(float64(exp)*ln2)
}

// detExp returns e^x, bit-identically on every platform. Arguments are
// bounded by the model (|x| < 40).
func detExp(x float64) float64 {
	k := math.Round(x / ln2)
	r := x - float64(k*ln2) // |r| <= ln2/2
	// Taylor series of e^r, evaluated by Horner's rule with rounded steps.
	sum := 1.0
	for n := 14; n >= 1; n-- {
		sum = 1 + float64(float64(r*sum)/float64(n))
	}
	return math.Ldexp(sum, int(k))
}

// rng draws the model's random variates from one seeded PCG stream, using
// only integer-exact and correctly rounded operations.
type rng struct {
	r *rand.Rand
}

func newRNG(seed, stream uint64) *rng {
	return &rng{r: rand.New(rand.NewPCG(seed, stream))}
}

// float returns a uniform value in [0, 1).
func (g *rng) float() float64 { return g.r.Float64() }

// openFloat returns a uniform value in (0, 1).
func (g *rng) openFloat() float64 {
	return (float64(g.r.Uint64()>>12) + 0.5) / (1 << 52) // exact: 53 significant bits
}

// intn returns a uniform integer in [0, n).
func (g *rng) intn(n int) int { return g.r.IntN(n) }

// between returns a uniform integer in [lo, hi].
func (g *rng) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

// chance reports true with probability p.
func (g *rng) chance(p float64) bool { return g.r.Float64() < p }

// exp returns an exponential variate with the given mean.
func (g *rng) exp(mean float64) float64 { return float64(-detLog(g.openFloat()) * mean) }

// signedFloat returns a uniform value in [-1, 1), exactly.
func (g *rng) signedFloat() float64 {
	return float64(int64(g.r.Uint64()>>11)-(1<<52)) / (1 << 52)
}

// normal returns a standard normal variate (Marsaglia's polar method).
func (g *rng) normal() float64 {
	for {
		u := g.signedFloat()
		v := g.signedFloat()
		s := float64(u*u) + float64(v*v)
		if s > 0 && s < 1 {
			return float64(u * math.Sqrt(float64(-2*detLog(s))/s))
		}
	}
}

// lognormal returns median * e^(sigma*Z) with Z standard normal.
func (g *rng) lognormal(median, sigma float64) float64 {
	return float64(median * detExp(float64(sigma*g.normal())))
}

// poisson returns a Poisson variate with a small mean (Knuth's method).
func (g *rng) poisson(mean float64) int {
	limit := detExp(-mean)
	n := 0
	p := g.openFloat()
	for p > limit {
		n++
		p = float64(p * g.openFloat())
	}
	return n
}

// pick returns an index drawn with the given cumulative weights (the last
// element is the total).
func (g *rng) pick(cum []float64) int {
	u := float64(g.float() * cum[len(cum)-1])
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	return len(cum) - 1
}

// cumulative turns weights into cumulative sums.
func cumulative(w []float64) []float64 {
	c := make([]float64, len(w))
	var s float64
	for i, x := range w {
		s += x
		c[i] = s
	}
	return c
}
