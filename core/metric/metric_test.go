package metric

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// pair is one Update's arguments.
type pair struct {
	score float64
	class int
	label float64
}

// streamKind names a way of drawing pairs, each stressing something.
type streamKind struct {
	name string
	draw func(r *rand.Rand, i int) pair
}

var streamKinds = []streamKind{
	{"continuous", func(r *rand.Rand, _ int) pair {
		y := float64(r.IntN(2))
		s := r.Float64()*0.6 + 0.3*y
		return pair{s, classAt(s), y}
	}},
	{"ties", func(r *rand.Rand, _ int) pair { // five distinct scores, -0 and +0 among them
		y := float64(r.IntN(2))
		s := []float64{math.Copysign(0, -1), 0, 0.25, 0.5, 1}[r.IntN(5)]
		if y == 1 && r.IntN(3) == 0 {
			s = 0.5
		}
		return pair{s, classAt(s), y}
	}},
	{"one-class-stretches", func(r *rand.Rand, i int) pair { // long runs of one class
		y := float64((i / 1300) % 2)
		if (i/400)%3 != 0 {
			y = float64(r.IntN(2))
		}
		s := math.Round(r.Float64()*100) / 100
		return pair{s, classAt(s), y}
	}},
	{"multiclass-nan-inf", func(r *rand.Rand, _ int) pair { // classes 0..2, NaN and ±Inf inputs
		p := pair{r.NormFloat64(), r.IntN(3), float64(r.IntN(3))}
		switch r.IntN(40) {
		case 0:
			p.score = math.NaN()
		case 1:
			p.label = math.NaN()
		case 2:
			p.score = math.Inf(1)
		case 3:
			p.score = math.Inf(-1)
		case 4:
			p.label = 1.0000001 // still class 1
		}
		return p
	}},
	{"increasing-scores", func(r *rand.Rand, i int) pair { // a sorted stream: no help from arrival order
		s := float64(i) / 4096
		y := float64(r.IntN(2))
		return pair{s, classAt(s), y}
	}},
	{"regression-magnitudes", func(r *rand.Rand, i int) pair { // errors from 1e-6 to 1e9
		y := r.NormFloat64() * math.Pow(10, float64(r.IntN(10)))
		return pair{y + r.NormFloat64()*math.Pow(10, float64(r.IntN(16)-6)), 0, y}
	}},
}

func classAt(s float64) int {
	if s >= 0.5 {
		return 1
	}
	return 0
}

func stream(kind streamKind, n int, seed uint64) []pair {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]pair, n)
	for i := range out {
		out[i] = kind.draw(r, i)
	}
	return out
}

// reference computes a metric by brute force over the pairs of a window
// (already stripped of the pairs the metric ignores).
type reference struct {
	ignores func(p pair) bool
	value   func(win []pair) float64
}

var references = map[string]reference{
	AUC: {
		ignores: func(p pair) bool { return math.IsNaN(p.score) || math.IsNaN(p.label) },
		value:   bruteAUC,
	},
	Accuracy:  {ignores: nanLabel, value: bruteConfusion(Accuracy)},
	Precision: {ignores: nanLabel, value: bruteConfusion(Precision)},
	Recall:    {ignores: nanLabel, value: bruteConfusion(Recall)},
	F1:        {ignores: nanLabel, value: bruteConfusion(F1)},
	MAE:       {ignores: nanError, value: bruteErrors(MAE)},
	MSE:       {ignores: nanError, value: bruteErrors(MSE)},
	RMSE:      {ignores: nanError, value: bruteErrors(RMSE)},
}

func nanLabel(p pair) bool { return math.IsNaN(p.label) }
func nanError(p pair) bool { return math.IsNaN(p.score - p.label) }

// bruteAUC compares every positive with every negative: O(W²).
func bruteAUC(win []pair) float64 {
	var twoU, pos, neg int64
	for _, a := range win {
		if math.Round(a.label) != 1 {
			neg++
			continue
		}
		pos++
		for _, b := range win {
			if math.Round(b.label) == 1 {
				continue
			}
			switch {
			case a.score > b.score:
				twoU += 2
			case a.score == b.score:
				twoU++
			}
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return float64(twoU) / (2 * float64(pos) * float64(neg))
}

func bruteConfusion(name string) func(win []pair) float64 {
	return func(win []pair) float64 {
		if len(win) == 0 {
			return math.NaN()
		}
		var tp, fp, fn, ok int64
		for _, p := range win {
			y := int(math.Round(p.label))
			if p.class == y {
				ok++
			}
			switch {
			case p.class == 1 && y == 1:
				tp++
			case p.class == 1:
				fp++
			case y == 1:
				fn++
			}
		}
		div := func(a, b int64) float64 {
			if b == 0 {
				return 0
			}
			return float64(a) / float64(b)
		}
		switch name {
		case Accuracy:
			return div(ok, int64(len(win)))
		case Precision:
			return div(tp, tp+fp)
		case Recall:
			return div(tp, tp+fn)
		default:
			return div(2*tp, 2*tp+fp+fn)
		}
	}
}

// bruteErrors sums the window's errors in sorted order of magnitude with a
// compensated sum: an accurate reference, computed independently of the
// metric's running sum.
func bruteErrors(name string) func(win []pair) float64 {
	return func(win []pair) float64 {
		if len(win) == 0 {
			return math.NaN()
		}
		errs := make([]float64, len(win))
		for i, p := range win {
			e := p.score - p.label
			if name == MAE {
				errs[i] = math.Abs(e)
			} else {
				errs[i] = e * e
			}
		}
		slices.Sort(errs)
		var s kahan
		for _, e := range errs {
			s.add(e)
		}
		v := s.value() / float64(len(win))
		if math.IsInf(errs[len(errs)-1], 1) {
			v = math.Inf(1)
		}
		if name == RMSE {
			return math.Sqrt(v)
		}
		return v
	}
}

// same compares a metric's value with its reference: bit for bit for the
// counting metrics (they compute the same integer ratio), to a relative
// 1e-12 for the float sums.
func same(name string, got, want float64) bool {
	if math.IsNaN(want) || math.IsInf(want, 0) {
		return math.IsNaN(got) == math.IsNaN(want) && (math.IsNaN(want) || got == want)
	}
	switch name {
	case MAE, MSE, RMSE:
		return math.Abs(got-want) <= 1e-12*math.Abs(want)+1e-300
	}
	return got == want
}

func TestAgainstBruteForce(t *testing.T) {
	windows := []int{1, 2, 3, 17, 1000}
	for _, name := range Names() {
		ref := references[name]
		for _, kind := range streamKinds {
			for _, w := range windows {
				t.Run(name+"/"+kind.name+"/W="+strconv.Itoa(w), func(t *testing.T) {
					n := 200
					if w >= 1000 {
						n = 3200 // past two one-class stretches and many evictions
					}
					pairs := stream(kind, n, uint64(w))
					m, err := New(name, w)
					if err != nil {
						t.Fatal(err)
					}
					var kept []pair
					checks := 0
					for i, p := range pairs {
						m.Update(p.score, p.class, p.label)
						if !ref.ignores(p) {
							kept = append(kept, p)
						}
						win := kept[max(0, len(kept)-w):]
						if m.Len() != len(win) {
							t.Fatalf("after pair %d: Len %d, want %d", i, m.Len(), len(win))
						}
						// Every pair for small windows; a sample of steps for
						// W = 1000, where the reference is O(W²).
						if w < 1000 || i%97 == 0 || i == n-1 {
							checks++
							if got, want := m.Value(), ref.value(win); !same(name, got, want) {
								t.Fatalf("after pair %d (%+v): %s = %v, brute force %v", i, p, name, got, want)
							}
						}
					}
					if checks < 30 {
						t.Fatalf("only %d checks", checks)
					}
				})
			}
		}
	}
}

func TestAUCKnownValues(t *testing.T) {
	tests := []struct {
		name  string
		w     int
		pairs [][2]float64 // score, label
		want  float64
	}{
		{"perfect", 10, [][2]float64{{0.1, 0}, {0.9, 1}, {0.2, 0}, {0.8, 1}}, 1},
		{"inverted", 10, [][2]float64{{0.9, 0}, {0.1, 1}}, 0},
		{"all tied", 10, [][2]float64{{0.5, 0}, {0.5, 1}, {0.5, 1}}, 0.5},
		// sklearn: roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.75.
		{"sklearn doc", 10, [][2]float64{{0.1, 0}, {0.4, 0}, {0.35, 1}, {0.8, 1}}, 0.75},
		{"one class", 10, [][2]float64{{0.1, 1}, {0.9, 1}}, math.NaN()},
		{"empty", 10, nil, math.NaN()},
		{"window of one", 1, [][2]float64{{0.1, 0}, {0.9, 1}}, math.NaN()},
		// The window keeps the last two: (0.2, 0) and (0.7, 1).
		{"window of two", 2, [][2]float64{{0.9, 0}, {0.2, 0}, {0.7, 1}}, 1},
		{"minus zero ties plus zero", 4, [][2]float64{{math.Copysign(0, -1), 0}, {0, 1}}, 0.5},
		{"infinite scores", 4, [][2]float64{{math.Inf(-1), 0}, {math.Inf(1), 1}, {math.Inf(1), 0}}, 0.75},
		{"label 2 is negative", 4, [][2]float64{{0.9, 1}, {0.1, 2}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(AUC, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.pairs {
				m.Update(p[0], 0, p[1])
			}
			if got := m.Value(); !same(AUC, got, tt.want) {
				t.Fatalf("AUC = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOtherKnownValues(t *testing.T) {
	type upd struct {
		score float64
		class int
		label float64
	}
	// Classification pairs (predicted class, label): TP, FP, FN, TN, and a
	// correct class-2 prediction.
	cls := []upd{{0, 1, 1}, {0, 1, 0}, {0, 0, 1}, {0, 0, 0}, {0, 2, 2}}
	reg := []upd{{3, 0, 1}, {-1, 0, 1}, {2, 0, 2}} // errors 2, -2, 0
	tests := []struct {
		name string
		w    int
		in   []upd
		want float64
	}{
		{Accuracy, 10, cls, 3.0 / 5},
		{Precision, 10, cls, 1.0 / 2},
		{Recall, 10, cls, 1.0 / 2},
		{F1, 10, cls, 2.0 / 4},
		{Accuracy, 2, cls, 2.0 / 2}, // window: TN, class 2
		{Precision, 2, cls, 0},      // no predicted positive
		{Recall, 2, cls, 0},         // no actual positive
		{F1, 2, cls, 0},
		{Accuracy, 10, nil, math.NaN()},
		{MAE, 10, reg, 4.0 / 3},
		{MSE, 10, reg, 8.0 / 3},
		{RMSE, 10, reg, math.Sqrt(8.0 / 3)},
		{MAE, 1, reg, 0},
		{MSE, 10, nil, math.NaN()},
		{MAE, 10, []upd{{math.Inf(1), 0, 0}, {1, 0, 0}}, math.Inf(1)},
		{MAE, 1, []upd{{math.Inf(1), 0, 0}, {1, 0, 0}}, 1}, // the Inf left the window
		{MAE, 10, []upd{{math.Inf(1), 0, math.Inf(1)}, {1, 0, 0}}, 1},
		{MSE, 10, []upd{{1e200, 0, 0}, {1, 0, 0}}, math.Inf(1)}, // the square overflows
	}
	for _, tt := range tests {
		t.Run(tt.name+"/W="+strconv.Itoa(tt.w), func(t *testing.T) {
			m, err := New(tt.name, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range tt.in {
				m.Update(u.score, u.class, u.label)
			}
			if got := m.Value(); !same(tt.name, got, tt.want) {
				t.Fatalf("%s = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestNewAndNames(t *testing.T) {
	want := []string{"WindowedAUC", "WindowedMAE", "WindowedMSE", "WindowedRMSE", "WindowedAccuracy",
		"WindowedPrecision", "WindowedRecall", "WindowedF1"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	Names()[0] = "changed"
	if Names()[0] != AUC {
		t.Fatal("Names returned shared state")
	}
	for _, name := range want {
		m, err := New(name, 5)
		if err != nil {
			t.Fatal(err)
		}
		if m.Name() != name || m.WindowSize() != 5 || m.Len() != 0 || !math.IsNaN(m.Value()) {
			t.Fatalf("New(%q, 5): name %q, window %d, len %d, value %v", name, m.Name(), m.WindowSize(), m.Len(), m.Value())
		}
	}
	errTests := []struct {
		name   string
		window int
		want   string
	}{
		{"WindowedAuc", 10, "known metrics: WindowedAUC, WindowedMAE"},
		{"", 10, `unknown metric ""`},
		{AUC, 0, "window_size must be in [1, 1048576], got 0"},
		{MAE, -3, "got -3"},
		{F1, MaxWindowSize + 1, "window_size must be in"},
	}
	for _, tt := range errTests {
		_, err := New(tt.name, tt.window)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("New(%q, %d) error %v, want one containing %q", tt.name, tt.window, err, tt.want)
		}
	}
	if _, err := New("nope", 10); !errors.Is(err, ErrUnknownMetric) {
		t.Fatalf("unknown name: %v is not ErrUnknownMetric", err)
	}
}

// TestMarshalRoundTrip snapshots each metric mid-stream, restores it, and
// feeds both the rest of the stream: values and encodings must stay equal
// bit for bit.
func TestMarshalRoundTrip(t *testing.T) {
	for _, name := range Names() {
		for _, kind := range streamKinds {
			for _, w := range []int{1, 5, 300} {
				t.Run(name+"/"+kind.name+"/W="+strconv.Itoa(w), func(t *testing.T) {
					pairs := stream(kind, 1500, 99)
					for _, cut := range []int{0, 1, w / 2, 1001} {
						a, _ := New(name, w)
						for _, p := range pairs[:cut] {
							a.Update(p.score, p.class, p.label)
						}
						data, err := a.MarshalBinary()
						if err != nil {
							t.Fatal(err)
						}
						b, err := Decode(data)
						if err != nil {
							t.Fatalf("cut %d: Decode: %v", cut, err)
						}
						if b.Name() != name || b.WindowSize() != w || b.Len() != a.Len() {
							t.Fatalf("cut %d: decoded %s/%d/%d", cut, b.Name(), b.WindowSize(), b.Len())
						}
						for i, p := range pairs[cut:] {
							if x, y := a.Value(), b.Value(); math.Float64bits(x) != math.Float64bits(y) && !(math.IsNaN(x) && math.IsNaN(y)) {
								t.Fatalf("cut %d, pair %d: value %v after restore, %v before", cut, i, y, x)
							}
							a.Update(p.score, p.class, p.label)
							b.Update(p.score, p.class, p.label)
						}
						da, _ := a.MarshalBinary()
						db, _ := b.MarshalBinary()
						if !slices.Equal(da, db) {
							t.Fatalf("cut %d: encodings differ at the end", cut)
						}
						// UnmarshalBinary into a used metric replaces its state.
						c, _ := New(name, w)
						for _, p := range pairs[:7] {
							c.Update(p.score, p.class, p.label)
						}
						if err := c.UnmarshalBinary(da); err != nil {
							t.Fatal(err)
						}
						if dc, _ := c.MarshalBinary(); !slices.Equal(dc, da) {
							t.Fatalf("cut %d: UnmarshalBinary over a used metric", cut)
						}
					}
				})
			}
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			m, _ := New(name, 8)
			for _, p := range stream(streamKinds[0], 5, 1) {
				m.Update(p.score+1, p.class, p.label)
			}
			good, _ := m.MarshalBinary()
			other := "WindowedMAE"
			if name == other {
				other = AUC
			}
			wrongName, _ := New(other, 8)
			wrongWindow, _ := New(name, 9)
			if err := wrongName.UnmarshalBinary(good); err == nil {
				t.Fatal("decoded into a metric of another name")
			}
			if err := wrongWindow.UnmarshalBinary(good); err == nil {
				t.Fatal("decoded into a metric of another window")
			}
			for cut := range len(good) {
				if _, err := Decode(good[:cut]); err == nil {
					t.Fatalf("decoded a truncation to %d of %d bytes", cut, len(good))
				}
			}
			if _, err := Decode(append(slices.Clone(good), 0)); err == nil {
				t.Fatal("decoded trailing bytes")
			}
			bad := slices.Clone(good)
			bad[4] = 2
			if _, err := Decode(bad); err == nil || !strings.Contains(err.Error(), "version 2") {
				t.Fatalf("version 2: %v", err)
			}
			// A payload value Update cannot produce.
			bad = slices.Clone(good)
			hdr := len(appendHeader(nil, name, 8, 5))
			switch name {
			case AUC, MAE, MSE, RMSE:
				copy(bad[hdr:], []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f}) // NaN
			default:
				bad[hdr] = 0xff
			}
			if _, err := Decode(bad); err == nil {
				t.Fatal("decoded an impossible pair")
			}
			if name == AUC {
				bad = slices.Clone(good)
				bad[len(bad)-1] |= 0x80 // a label bit past the fifth pair
				if _, err := Decode(bad); err == nil {
					t.Fatal("decoded label padding bits")
				}
			}
		})
	}
	if _, err := Decode(appendHeader(nil, "WindowedFoo", 8, 0)); !errors.Is(err, ErrUnknownMetric) {
		t.Fatalf("unknown name: %v", err)
	}
	if _, err := Decode(appendHeader(nil, AUC, 8, 9)); err == nil {
		t.Fatal("decoded more pairs than the window holds")
	}
}

func TestReset(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			pairs := stream(streamKinds[0], 50, 3)
			a, _ := New(name, 20)
			for _, p := range pairs {
				a.Update(p.score, p.class, p.label)
			}
			a.Reset()
			if a.Len() != 0 || !math.IsNaN(a.Value()) {
				t.Fatalf("after Reset: len %d value %v", a.Len(), a.Value())
			}
			b, _ := New(name, 20)
			for _, p := range pairs[:30] {
				a.Update(p.score, p.class, p.label)
				b.Update(p.score, p.class, p.label)
			}
			da, _ := a.MarshalBinary()
			db, _ := b.MarshalBinary()
			if !slices.Equal(da, db) || math.Float64bits(a.Value()) != math.Float64bits(b.Value()) {
				t.Fatal("a reset metric differs from a new one fed the same pairs")
			}
		})
	}
}

// TestRankTreeInvariants drives the tree through a window and checks, after
// every step, key order, heap order of priorities, subtree sums, and that
// the free list plus the live nodes account for every slot.
func TestRankTreeInvariants(t *testing.T) {
	for _, w := range []int{1, 2, 50, 500} {
		m := newAUC(w)
		r := rand.New(rand.NewPCG(uint64(w), 1))
		for i := range 3000 {
			s := float64(r.IntN(40)) // many ties
			if i%3 == 0 {
				s = r.Float64()
			}
			m.Update(s, 0, float64(r.IntN(2)))
			live := checkTree(t, &m.tree, m.tree.root, math.Inf(-1), math.Inf(1))
			free := 0
			for x := m.tree.free; x != 0; x = m.tree.nodes[x].left {
				free++
			}
			if live+free != len(m.tree.nodes)-1 {
				t.Fatalf("W=%d step %d: %d live + %d free nodes, %d slots", w, i, live, free, len(m.tree.nodes)-1)
			}
			if n := m.tree.size(); int(n[0]+n[1]) != m.Len() {
				t.Fatalf("W=%d step %d: tree holds %v, window %d", w, i, n, m.Len())
			}
		}
		if len(m.tree.nodes) > w+1 {
			t.Fatalf("W=%d: %d node slots for at most %d distinct scores", w, len(m.tree.nodes)-1, w)
		}
	}
}

func checkTree(t *testing.T, tr *rankTree, x int32, lo, hi float64) int {
	t.Helper()
	if x == 0 {
		return 0
	}
	n := tr.nodes[x]
	if !(n.key > lo && n.key < hi) {
		t.Fatalf("node %d key %v outside (%v, %v)", x, n.key, lo, hi)
	}
	if n.cnt[0]+n.cnt[1] <= 0 || n.cnt[0] < 0 || n.cnt[1] < 0 {
		t.Fatalf("node %d counts %v", x, n.cnt)
	}
	for _, c := range []int32{n.left, n.right} {
		if c != 0 && tr.prio(c) > tr.prio(x) {
			t.Fatalf("node %d: child %d has a higher priority", x, c)
		}
	}
	l, r := tr.nodes[n.left], tr.nodes[n.right]
	for c := range 2 {
		if n.sum[c] != n.cnt[c]+l.sum[c]+r.sum[c] {
			t.Fatalf("node %d: sum %v, counts %v, children %v %v", x, n.sum, n.cnt, l.sum, r.sum)
		}
	}
	return 1 + checkTree(t, tr, n.left, lo, n.key) + checkTree(t, tr, n.right, n.key, hi)
}

// TestErrorSumDrift runs a long regression stream whose errors span fifteen
// orders of magnitude and checks the windowed means against an exact
// recomputation of the window at the end and along the way.
func TestErrorSumDrift(t *testing.T) {
	for _, name := range []string{MAE, MSE, RMSE} {
		t.Run(name, func(t *testing.T) {
			const w = 64
			m, _ := New(name, w)
			r := rand.New(rand.NewPCG(5, 5))
			var hist []pair
			ref := bruteErrors(name)
			for i := range 200_000 {
				mag := 1e-6
				if (i/1000)%2 == 0 {
					mag = 1e9 // huge errors, then tiny ones: a running sum would keep garbage
				}
				p := pair{r.Float64() * mag, 0, 0}
				m.Update(p.score, p.class, p.label)
				hist = append(hist, p)
				if i%997 == 0 || i == 199_999 {
					want := ref(hist[len(hist)-min(w, len(hist)):])
					if got := m.Value(); !same(name, got, want) {
						t.Fatalf("pair %d: %s = %v, exact %v", i, name, got, want)
					}
				}
				if len(hist) > 4*w {
					hist = append(hist[:0], hist[len(hist)-w:]...)
				}
			}
		})
	}
}

// TestSteadyStateAllocs checks that a full window updates without
// allocating.
func TestSteadyStateAllocs(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			const w = 256
			m, _ := New(name, w)
			pairs := stream(streamKinds[2], 4096, 11)
			for _, p := range pairs[:2*w] {
				m.Update(p.score, p.class, p.label)
			}
			// Warm the tree's slots up to the most distinct scores a window
			// of this stream holds.
			for _, p := range pairs {
				m.Update(p.score, p.class, p.label)
			}
			i := 0
			allocs := testing.AllocsPerRun(2000, func() {
				p := pairs[i%len(pairs)]
				i++
				m.Update(p.score, p.class, p.label)
				_ = m.Value()
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per update", allocs)
			}
		})
	}
}
