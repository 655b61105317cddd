package forest

import (
	"math"
	"testing"

	"github.com/spate-ml/spate/core/ml/internal/pyrand"
)

// TestExtensionMatchesByCase checks the branch-free box measure against
// the case-by-case one, bit for bit, on boxes and samples drawn to hit
// every case: inside, on an edge, outside on either side, missing inputs,
// features a box has not seen, infinities and sums that overflow.
func TestExtensionMatchesByCase(t *testing.T) {
	g := pyrand.New(9)
	values := []float64{0, math.Copysign(0, -1), 0.25, 0.5, 0.75, 1, -1, 1e-310, math.MaxFloat64, -math.MaxFloat64, math.Inf(1), math.Inf(-1), math.NaN()}
	draw := func() float64 {
		if g.RandBelow(4) == 0 {
			return values[g.RandBelow(uint32(len(values)))]
		}
		return g.Random()
	}
	for range 200000 {
		n := 1 + int(g.RandBelow(6))
		x, b := make([]float64, n), make([]float64, 2*n)
		for f := range x {
			x[f] = draw()
			lo, hi := draw(), draw()
			if hi < lo {
				lo, hi = hi, lo
			}
			if lo != lo || hi != hi { // a box marks an unseen feature on both sides
				lo, hi = math.NaN(), math.NaN()
			}
			b[2*f], b[2*f+1] = lo, hi
		}
		sum, in := extension(b, x)
		wantSum, wantIn := extensionByCase(b, x)
		if math.Float64bits(sum) != math.Float64bits(wantSum) && !(sum != sum && wantSum != wantSum) || in != wantIn {
			t.Fatalf("extension(%v, %v) = %v, %v; by case %v, %v", b, x, sum, in, wantSum, wantIn)
		}
	}
}
