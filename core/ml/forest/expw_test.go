package forest

import (
	"math"
	"testing"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/internal/pyrand"
)

// logSum2Exp is River's log((exp(a) + exp(b))/2), the reference for the
// aggregation done with expw.
func logSum2Exp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	return a + math.Log((1+math.Exp(b-a))/2)
}

func TestExpwMatchesLogDomain(t *testing.T) {
	g := pyrand.New(11)
	// Log-weights from a few nats to far past float64's exp range.
	draw := func() float64 {
		switch g.RandBelow(4) {
		case 0:
			return -10 * g.Random()
		case 1:
			return -1000 * g.Random()
		case 2:
			return -1e6 * g.Random()
		}
		return -5e3 - g.Random()
	}
	for range 20000 {
		w, l1, l2 := draw(), draw(), draw()
		W, L1, L2 := fromLog(w), fromLog(l1), fromLog(l2)
		for _, v := range []expw{W, L1, L2} {
			if !(v.m >= 1 && v.m < 2) {
				t.Fatalf("fromLog gave unnormalized %+v", v)
			}
		}
		lw, half := aggregate(W, L1, L2)
		wantLW := logSum2Exp(w, l1+l2)
		wantHalf := 0.5 * math.Exp(w-wantLW)
		// The reference itself carries rounding of the order of its
		// magnitude's last place.
		tol := 1e-13 * math.Max(1, math.Abs(wantLW))
		if got := lw.log(); math.Abs(got-wantLW) > tol {
			t.Fatalf("log-weight of (%v, %v+%v) = %v, want %v", w, l1, l2, got, wantLW)
		}
		if math.Abs(half-wantHalf) > 1e-12*math.Max(1, math.Abs(wantLW)) {
			t.Fatalf("share of (%v, %v+%v) = %v, want %v", w, l1, l2, half, wantHalf)
		}
		if got, want := W.less(L1), w < l1; got != want && w != l1 {
			t.Fatalf("less(%v, %v) = %v", w, l1, got)
		}
	}
}

// TestMulExpMatchesMathExp checks the table-driven exp against
// math.Exp: within two units in the last place (each carries up to
// about one), with exponents kept exactly, on both sides of the fast
// path's limits.
func TestMulExpMatchesMathExp(t *testing.T) {
	if exp2Frac[0] != 1 || exp2Frac[32] != math.Sqrt2 || exp2Frac[16] != math.Sqrt(math.Sqrt2) {
		t.Fatalf("2^(j/64) table is off: %v %v %v", exp2Frac[0], exp2Frac[16], exp2Frac[32])
	}
	// ref is v·exp(x) by math.Exp, and its tolerance: beyond math.Exp's
	// range, powers of two are split off first, and the split's
	// rounding, of the order of x's last place, adds to the error.
	ref := func(v expw, x float64) (expw, float64) {
		if math.Abs(x) < 700 {
			return norm(v.m*math.Exp(x), v.e), 0x1p-51
		}
		k := math.Floor(x / math.Ln2)
		return norm(v.m*math.Exp(x-k*math.Ln2), v.e+int64(k)), 0x1p-51 + math.Abs(x)*0x1p-52
	}
	g := pyrand.New(5)
	xs := []float64{1e-300, -1e-300, 1e-17, 0.5, -0.5, math.Ln2 / 128, -math.Ln2 / 128, 1, -1, 700, -745, 1000,
		expFastLimit, -expFastLimit, math.Nextafter(expFastLimit, 0), math.Nextafter(-expFastLimit, 0)}
	for range 200000 {
		scale := []float64{1e-3, 1, 30, 1e3, 1e5}[g.RandBelow(5)]
		xs = append(xs, scale*(2*g.Random()-1))
	}
	for _, x := range xs {
		v := expw{m: 1 + g.Random(), e: int64(g.RandBelow(1000)) - 500}
		got := v.mulExp(x)
		want, tol := ref(v, x)
		if got.e != want.e && !(got.e == want.e+1 && got.m < 1+1e-15) && !(got.e == want.e-1 && want.m < 1+1e-15) {
			t.Fatalf("exponent of exp(%v): got %+v, want %+v", x, got, want)
		}
		g2, w2 := got.m*pow2(got.e-want.e), want.m
		if math.Abs(g2-w2) > tol*w2 {
			t.Fatalf("exp(%v): got %+v, want %+v (%.3g apart)", x, got, want, (g2-w2)/w2)
		}
		if !(got.m >= 1 && got.m < 2) {
			t.Fatalf("exp(%v) unnormalized: %+v", x, got)
		}
	}
}

func TestExpwScoresAndLimits(t *testing.T) {
	// Multiplying by probabilities keeps exp(sum of logs).
	v, sum := expw{m: 1}, 0.0
	g := pyrand.New(3)
	for range 100000 {
		s := 0.01 + 0.99*g.Random()
		v = v.mulScore(s)
		sum += math.Log(s)
	}
	if got := v.log(); math.Abs(got-sum) > 1e-9*math.Abs(sum) {
		t.Fatalf("product of scores has log %v, want %v", got, sum)
	}
	// exp(-Inf) is zero and behaves as one in sums.
	z := expw{m: 1}.mulExp(math.Inf(-1))
	if z.m != 0 || !math.IsInf(z.log(), -1) {
		t.Fatalf("exp(-Inf) = %+v", z)
	}
	one := expw{m: 1}
	if got := one.add(z); got != one {
		t.Fatalf("1 + 0 = %+v", got)
	}
	if got := z.add(one); got != one {
		t.Fatalf("0 + 1 = %+v", got)
	}
	if got := z.mul(one); got.m != 0 {
		t.Fatalf("0 * 1 = %+v", got)
	}
	if got := z.ratio(one); got != 0 {
		t.Fatalf("0 / 1 = %v", got)
	}
	// A subnormal product is brought back to [1, 2).
	if got := norm(math.SmallestNonzeroFloat64*3, 0); got.m < 1 || got.m >= 2 || got.log() > -740 {
		t.Fatalf("norm(subnormal) = %+v", got)
	}
}

// TestUpwardPassMatchesAggregate checks that the upward pass, which runs
// its chain on unnormalized mantissas, leaves every branch with exactly the
// share and tree weight aggregate computes from the branch's weight and its
// children's tree weights.
func TestUpwardPassMatchesAggregate(t *testing.T) {
	xs, ys := synthStream(3000, 4)
	c, _ := NewClassifier(ClassifierParams{NClasses: 3, NEstimators: 4, Step: 1, UseAggregation: true, Dirichlet: 0.5, Seed: 8}, 4)
	r, _ := NewRegressor(RegressorParams{NEstimators: 4, Step: 1, UseAggregation: true, Seed: 8}, 4)
	var p ml.Prediction
	for i, x := range xs {
		c.Predict(x, &p)
		c.Learn(x, ys[i])
		r.Learn(x, 40*ys[i]+x.Numeric[0]) // large losses: weights far past float64's range
	}
	for _, trees := range [][]*mondrianTree{c.trees, r.trees} {
		for ti, tr := range trees {
			for i := range int32(tr.nodes.n) {
				n := tr.nodes.elem(i)
				if n.left < 0 {
					continue
				}
				lw, half := aggregate(n.w, n.lw[0], n.lw[1])
				if half != n.half || lw != tr.ownLW(int32(i)) {
					t.Fatalf("tree %d node %d: share %v, tree weight %+v; aggregate gives %v, %+v", ti, i, n.half, tr.ownLW(int32(i)), half, lw)
				}
			}
		}
	}
}
