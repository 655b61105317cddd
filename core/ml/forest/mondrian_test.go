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
		sum, in, _ := extension(b, x)
		wantSum, wantIn := extensionByCase(b, x)
		if math.Float64bits(sum) != math.Float64bits(wantSum) && !(sum != sum && wantSum != wantSum) || in != wantIn {
			t.Fatalf("extension(%v, %v) = %v, %v; by case %v, %v", b, x, sum, in, wantSum, wantIn)
		}
	}
}

// TestWidenFiniteMatchesByCase checks that widening a box with min and
// max, which updateDownwards does when the box measure saw no NaN or
// infinity, leaves the box the case-by-case widening leaves.
func TestWidenFiniteMatchesByCase(t *testing.T) {
	g := pyrand.New(4)
	values := []float64{0, math.Copysign(0, -1), 0.5, 1, -1, 1e-310, math.MaxFloat64, -math.MaxFloat64}
	draw := func() float64 {
		if g.RandBelow(3) == 0 {
			return values[g.RandBelow(uint32(len(values)))]
		}
		return g.Random()
	}
	const nFeat = 4
	widened := 0
	for range 50000 {
		tr := newMondrianTree(false, nFeat, 0, 1, true, 0, false, 1)
		x := make([]float64, nFeat)
		for f := range x {
			x[f] = draw()
		}
		i := tr.newNode(0, 0)
		j := tr.newNode(0, 0)
		for _, k := range []int32{i, j} {
			p := tr.rec(k)
			p[slotN] = 1
			for f := range nFeat {
				lo, hi := draw(), draw()
				p[tr.boxOff+2*f], p[tr.boxOff+2*f+1] = min(lo, hi), max(lo, hi)
			}
		}
		copy(tr.box(j), tr.box(i))
		if _, _, finite := extension(tr.box(i), x); !finite {
			continue // an extension overflowed: the box is widened by case
		}
		widened++
		before := append([]float64(nil), tr.box(i)...)
		tr.updateDownwards(i, x, 0, 0.5, 0, true, boxWidenFinite)
		tr.updateDownwards(j, x, 0, 0.5, 0, true, boxWiden)
		for k, v := range tr.box(i) {
			if w := tr.box(j)[k]; v != w {
				t.Fatalf("widening %v by %v: min/max give %v, by case %v", before, x, tr.box(i), tr.box(j))
			}
		}
	}
	if widened < 10000 {
		t.Fatalf("only %d of 50000 boxes widened with min and max", widened)
	}
}

// TestPickFeatureFiniteMatchesByCase checks that the branch-free feature
// draw, used on boxes the measure found finite, draws the feature the
// case-by-case draw does from the same generator state.
func TestPickFeatureFiniteMatchesByCase(t *testing.T) {
	g := pyrand.New(6)
	const nFeat = 6
	drawn := make(map[int]int)
	for trial := range 50000 {
		tr := newMondrianTree(false, nFeat, 0, 1, true, 0, false, int64(trial))
		x := make([]float64, nFeat)
		b := tr.box(tr.root)
		for f := range x {
			lo, hi := g.Random(), g.Random()
			b[2*f], b[2*f+1] = min(lo, hi), max(lo, hi)
			switch g.RandBelow(3) {
			case 0: // inside, or on an edge
				x[f] = []float64{b[2*f], b[2*f+1], (b[2*f] + b[2*f+1]) / 2}[g.RandBelow(3)]
			default:
				x[f] = 2*g.Random() - 0.5
			}
		}
		sum, _, finite := extension(b, x)
		if !finite || sum == 0 {
			continue
		}
		by := *tr.rng
		got := tr.pickFeature(tr.root, x, true)
		after := *tr.rng
		*tr.rng = by
		want := tr.pickFeature(tr.root, x, false)
		if got != want || after != *tr.rng {
			t.Fatalf("box %v, x %v: branch-free draw %d, by case %d", b, x, got, want)
		}
		drawn[got]++
	}
	if len(drawn) != nFeat {
		t.Fatalf("drew only features %v", drawn)
	}
}
