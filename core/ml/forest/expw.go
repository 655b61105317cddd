package forest

import (
	"math"
	"math/big"
)

// expw is exp(w) for an aggregation log-weight w, held as m·2^e with m in
// [1, 2), or m = 0 for exp(−Inf).
//
// River keeps AMF's weights as logs and combines them with
// log((exp(a) + exp(b))/2), which costs an exp and a log1p per node on the
// way up the tree, one after the other on the critical path. Held as a
// mantissa and a 64-bit binary exponent, the same weights multiply and add
// with plain float arithmetic and cannot underflow: a node's log-weight
// falls by about one nat per sample it sees, far past float64's range.
// Rounding falls on the products instead of River's sums of logs; both
// carry errors of the same order, and the forests' probabilities agree
// with River's to about 1e-14 in the parity tests.
type expw struct {
	m float64
	e int64
}

const (
	expBias  = 1023
	oneBits  = expBias << 52
	mantBits = 52
)

// pow2 is 2^k for -1022 <= k <= 1023.
func pow2(k int64) float64 { return math.Float64frombits(uint64(k+expBias) << mantBits) }

// norm brings m·2^e to m in [1, 2). m must be >= 0 and finite.
func norm(m float64, e int64) expw {
	b := math.Float64bits(m)
	if b < 1<<mantBits { // zero or subnormal
		if m == 0 {
			return expw{}
		}
		b = math.Float64bits(m * 0x1p64)
		e -= 64
	}
	return expw{m: math.Float64frombits(b&(1<<mantBits-1) | oneBits), e: e + int64(b>>mantBits) - expBias}
}

// fromLog is exp(w).
func fromLog(w float64) expw { return expw{m: 1}.mulExp(w) }

// log is the log-weight w with exp(w) = v.
func (v expw) log() float64 {
	if v.m == 0 {
		return math.Inf(-1)
	}
	return math.Log(v.m) + float64(v.e)*math.Ln2
}

// mulExp is v·exp(x).
//
// A regressor multiplies every weight on a sample's path by exp of the
// node's loss, so this is on its hot path. Since the result keeps its own
// binary exponent, exp(x) is computed as 2^k · 2^(j/64) · exp(r), with
// x = (64k + j)·ln2/64 + r and |r| <= ln2/128: k goes to the exponent, a
// table gives 2^(j/64) and a short polynomial exp(r). The result is
// within about one unit in the last place of v·math.Exp(x).
func (v expw) mulExp(x float64) expw {
	if v.m == 0 || x == 0 {
		return v
	}
	if !(x > -expFastLimit && x < expFastLimit) { // also NaN
		return v.mulExpFar(x)
	}
	const round = 0x1.8p52 // adding it rounds |y| < 2^51 to an integer
	nf := (x*(64/math.Ln2) + round) - round
	n := int64(nf)
	r := (x - nf*ln2By64Hi) - nf*ln2By64Lo
	// exp(r) − 1 by Taylor to r⁵/120: the next term is below 2^−54.
	s := r + r*r*(0.5+r*(1.0/6+r*(1.0/24+r*(1.0/120))))
	t := exp2Frac[n&63]
	return norm(v.m*(t+t*s), v.e+n>>6)
}

const (
	// expFastLimit bounds the x mulExp reduces with ln2By64Hi exactly:
	// |n| < 2^23 there.
	expFastLimit = 0x1p16
	// ln2By64Hi is ln2/64 to 29 bits, so that n·ln2By64Hi is exact for
	// |n| < 2^24; ln2By64Lo is the rest.
	ln2By64Hi = 0x1.62e42fep-7
	ln2By64Lo = math.Ln2/64 - ln2By64Hi
)

// exp2Frac[j] is 2^(j/64), correctly rounded (a read-only table).
var exp2Frac = func() (t [64]float64) {
	const prec = 128
	// roots[b] is 2^(2^b/64), by repeated square roots of √2.
	var roots [6]*big.Float
	roots[5] = new(big.Float).SetPrec(prec).SetInt64(2)
	roots[5].Sqrt(roots[5])
	for b := 4; b >= 0; b-- {
		roots[b] = new(big.Float).SetPrec(prec).Sqrt(roots[b+1])
	}
	for j := range t {
		p := new(big.Float).SetPrec(prec).SetInt64(1)
		for b, r := range roots {
			if j>>b&1 == 1 {
				p.Mul(p, r)
			}
		}
		t[j], _ = p.Float64()
	}
	return t
}()

// mulExpFar is mulExp for |x| >= expFastLimit, infinities and NaN.
func (v expw) mulExpFar(x float64) expw {
	if x != x || math.IsInf(x, 0) {
		if x < 0 {
			return expw{}
		}
		return expw{m: math.Inf(1)}
	}
	// Split off whole powers of two; the remainder's rounding is of the
	// order of x's own last place.
	k := math.Floor(x / math.Ln2)
	return norm(v.m*math.Exp(x-k*math.Ln2), v.e+int64(k))
}

// mulScore is v·s for 0 < s < 2^1023 (a class probability).
func (v expw) mulScore(s float64) expw { return norm(v.m*s, v.e) }

// renorm is m·2^e for m in [1, 4), brought to [1, 2) without a branch
// (the side a sum or product falls on is data-dependent).
func renorm(m float64, e int64) expw {
	b := math.Float64bits(m)
	c := int64(b>>mantBits) - expBias // 0 or 1
	return expw{m: math.Float64frombits(b - uint64(c)<<mantBits), e: e + c}
}

// mul is v·u.
func (v expw) mul(u expw) expw {
	m := v.m * u.m // in [1, 4)
	if m == 0 {
		return expw{}
	}
	return renorm(m, v.e+u.e)
}

// add is v + u.
func (v expw) add(u expw) expw {
	switch {
	case u.m == 0:
		return v
	case v.m == 0:
		return u
	}
	return renorm(sumAligned(v.m, v.e, u.m, u.e)) // in [1, 4)·2^e
}

// sumAligned is a·2^ae + b·2^be as m·2^e, e the larger exponent, the
// terms ordered and aligned without a jump (which one leads is the
// data's). a and b lie within 2^±64 of 1: a term shifted by 1,000 places
// or more is then far below half a unit in the last place of the other
// and would not change it, so the clamp (which keeps pow2 in range)
// changes no result.
func sumAligned(a float64, ae int64, b float64, be int64) (m float64, e int64) {
	d := ae - be
	sel := d >> 63 // all ones when b leads
	ad := min((d^sel)-sel, 1000)
	return a*pow2(-(ad&sel)) + b*pow2(-ad&^sel), ae ^ (ae^be)&sel
}

// half is v/2.
func (v expw) half() expw {
	if v.m == 0 {
		return v
	}
	return expw{m: v.m, e: v.e - 1}
}

// ratio is v/u as a float64, for v <= u (an aggregation share), flushing
// to zero below float64's normal range.
func (v expw) ratio(u expw) float64 {
	d := v.e - u.e
	if v.m == 0 || d < -1021 {
		return 0
	}
	if d > 1022 {
		return math.Inf(1)
	}
	return v.m / u.m * pow2(d)
}

// less reports v < u.
func (v expw) less(u expw) bool {
	switch {
	case v.m == 0 || u.m == 0:
		return v.m < u.m
	case v.e != u.e:
		return v.e < u.e
	}
	return v.m < u.m
}
