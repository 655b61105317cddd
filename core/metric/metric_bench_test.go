package metric

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// benchPairs returns a stream of binary-classification pairs with distinct
// continuous scores: the costliest case for AUC (one tree node per pair).
func benchPairs(n int) []pair {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]pair, n)
	for i := range out {
		y := float64(r.IntN(2))
		s := r.Float64()*0.7 + 0.3*y
		out[i] = pair{s, classAt(s), y}
	}
	return out
}

// BenchmarkUpdate measures one Update plus one Value (what the runtime does
// per labeled sample) on a full window.
func BenchmarkUpdate(b *testing.B) {
	pairs := benchPairs(1 << 18)
	for _, name := range Names() {
		for _, w := range []int{1000, 100_000} {
			b.Run(name+"/W="+strconv.Itoa(w), func(b *testing.B) {
				m, err := New(name, w)
				if err != nil {
					b.Fatal(err)
				}
				for _, p := range pairs[:2*w] {
					m.Update(p.score, p.class, p.label)
				}
				b.ReportAllocs()
				b.ResetTimer()
				i := 2 * w
				for b.Loop() {
					p := pairs[i&(len(pairs)-1)]
					i++
					m.Update(p.score, p.class, p.label)
					m.Value() // b.Loop keeps the result alive
				}
			})
		}
	}
}

// BenchmarkRestore measures a snapshot round trip of a full window.
func BenchmarkRestore(b *testing.B) {
	pairs := benchPairs(1 << 17)
	for _, name := range []string{AUC, MAE, Accuracy} {
		b.Run(name+"/W=100000", func(b *testing.B) {
			m, _ := New(name, 100_000)
			for _, p := range pairs {
				m.Update(p.score, p.class, p.label)
			}
			b.ReportAllocs()
			for b.Loop() {
				data, err := m.MarshalBinary()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSeriesAppend(b *testing.B) {
	s := NewSeries(DefaultSeriesCapacity)
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		if err := s.Append(i, float64(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
