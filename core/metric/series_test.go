package metric

import (
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestSeriesThinning appends n points to a Series and checks what it keeps:
// at most Capacity points, exactly the ordinals that are multiples of the
// stride, the stride the smallest power of two that fits them, and the latest
// point always readable.
func TestSeriesThinning(t *testing.T) {
	tests := []struct {
		capacity, n int
		wantStride  int64
	}{
		{4, 3, 1},
		{4, 4, 1},
		{4, 5, 2},
		{4, 8, 2},
		{4, 9, 4},
		{5, 100, 32}, // 100 points, one in 32: ordinals 0, 32, 64, 96
		{2, 1000, 512},
		{1000, 10_000, 16},
		{7, 7, 1},
		{7, 8, 2},
	}
	for _, tt := range tests {
		s := NewSeries(tt.capacity)
		for i := range tt.n {
			// Indexes with gaps: sample numbers of labeled samples.
			if err := s.Append(int64(3*i+10), float64(i)); err != nil {
				t.Fatal(err)
			}
		}
		if s.Stride() != tt.wantStride {
			t.Fatalf("cap %d, %d points: stride %d, want %d", tt.capacity, tt.n, s.Stride(), tt.wantStride)
		}
		var want []Point
		for i := 0; i < tt.n; i += int(tt.wantStride) {
			want = append(want, Point{int64(3*i + 10), float64(i)})
		}
		if len(want) > tt.capacity {
			t.Fatalf("cap %d, %d points: the expectation keeps %d points", tt.capacity, tt.n, len(want))
		}
		if last := (Point{int64(3*(tt.n-1) + 10), float64(tt.n - 1)}); want[len(want)-1] != last {
			want = append(want, last)
		}
		got := s.Since(math.MinInt64, 0, nil)
		if !slices.Equal(got, want) {
			t.Fatalf("cap %d, %d points: kept %v, want %v", tt.capacity, tt.n, got, want)
		}
		if s.Len() != len(want) {
			t.Fatalf("Len %d, want %d", s.Len(), len(want))
		}
		if p, ok := s.Last(); !ok || p != want[len(want)-1] {
			t.Fatalf("Last = %v %v", p, ok)
		}
	}
}

func TestSeriesSince(t *testing.T) {
	s := NewSeries(8)
	for i := range 11 { // indexes 1..11; stride 2 keeps 1,3,5,7,9,11
		if err := s.Append(int64(i+1), float64(i+1)/10); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Append(12, 1.2); err != nil { // not kept: ordinal 11
		t.Fatal(err)
	}
	idx := func(ps []Point) []int64 {
		var out []int64
		for _, p := range ps {
			out = append(out, p.Index)
		}
		return out
	}
	tests := []struct {
		from  int64
		limit int
		want  []int64
	}{
		{0, 0, []int64{1, 3, 5, 7, 9, 11, 12}},
		{4, 0, []int64{5, 7, 9, 11, 12}},
		{5, 0, []int64{5, 7, 9, 11, 12}},
		{12, 0, []int64{12}},
		{13, 0, nil},
		{0, 2, []int64{1, 3}},
		{9, 2, []int64{9, 11}},
		{10, 2, []int64{11, 12}},
		{11, 1, []int64{11}},
		{12, 1, []int64{12}},
	}
	for _, tt := range tests {
		if got := idx(s.Since(tt.from, tt.limit, nil)); !slices.Equal(got, tt.want) {
			t.Fatalf("Since(%d, %d) = %v, want %v", tt.from, tt.limit, got, tt.want)
		}
	}
	// Paging with a limit reads everything once, in order.
	var paged []int64
	for from := int64(0); ; {
		page := s.Since(from, 3, nil)
		if len(page) == 0 {
			break
		}
		paged = append(paged, idx(page)...)
		from = page[len(page)-1].Index + 1
	}
	if want := []int64{1, 3, 5, 7, 9, 11, 12}; !slices.Equal(paged, want) {
		t.Fatalf("paged %v, want %v", paged, want)
	}
	// Since appends to dst.
	dst := []Point{{-1, 0}}
	if got := s.Since(11, 0, dst); len(got) != 3 || got[0].Index != -1 {
		t.Fatalf("Since into dst: %v", got)
	}
	if err := s.Append(12, 0); err == nil || !strings.Contains(err.Error(), "indexes must increase") {
		t.Fatalf("repeated index: %v", err)
	}
	if err := s.Append(3, 0); err == nil {
		t.Fatal("decreasing index accepted")
	}
	// NaN values (one-class AUC windows) are points like any other.
	if err := s.Append(13, math.NaN()); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Last(); p.Index != 13 || !math.IsNaN(p.Value) {
		t.Fatalf("Last = %v", p)
	}
	s.Reset()
	if s.Len() != 0 || s.Stride() != 1 || len(s.Since(0, 0, nil)) != 0 {
		t.Fatal("Reset kept points")
	}
	if _, ok := s.Last(); ok {
		t.Fatal("Reset kept the latest point")
	}
	if err := s.Append(1, 0); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
}

func TestSeriesCapacity(t *testing.T) {
	for _, tt := range []struct{ in, want int }{{0, DefaultSeriesCapacity}, {-1, DefaultSeriesCapacity}, {1, 2}, {2, 2}, {77, 77}} {
		if got := NewSeries(tt.in).Capacity(); got != tt.want {
			t.Fatalf("NewSeries(%d).Capacity() = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestSeriesMarshal(t *testing.T) {
	for _, n := range []int{0, 1, 6, 7, 500} {
		a := NewSeries(6)
		for i := range n {
			if err := a.Append(int64(i*2), math.Sin(float64(i))); err != nil {
				t.Fatal(err)
			}
		}
		data, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b := NewSeries(0)
		if err := b.UnmarshalBinary(data); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if b.Capacity() != 6 || b.Stride() != a.Stride() || !slices.Equal(a.Since(0, 0, nil), b.Since(0, 0, nil)) {
			t.Fatalf("n=%d: restored %v stride %d, want %v stride %d", n, b.Since(0, 0, nil), b.Stride(), a.Since(0, 0, nil), a.Stride())
		}
		// Both continue alike.
		for i := n; i < n+40; i++ {
			_ = a.Append(int64(i*2), float64(i))
			if err := b.Append(int64(i*2), float64(i)); err != nil {
				t.Fatal(err)
			}
		}
		da, _ := a.MarshalBinary()
		db, _ := b.MarshalBinary()
		if !slices.Equal(da, db) {
			t.Fatalf("n=%d: encodings differ after continuing", n)
		}
		for cut := range len(data) {
			if err := NewSeries(0).UnmarshalBinary(data[:cut]); err == nil {
				t.Fatalf("n=%d: decoded a truncation to %d bytes", n, cut)
			}
		}
	}
	// A stride that is not a power of two cannot come from Append.
	bad, _ := NewSeries(4).MarshalBinary()
	bad[6] = 3
	if err := NewSeries(0).UnmarshalBinary(bad); err == nil {
		t.Fatal("decoded stride 3")
	}
}

// TestSeriesConcurrent appends from one goroutine while others read; run
// under -race, it checks the locking, and it checks that every read is
// increasing and ends at a point that was appended.
func TestSeriesConcurrent(t *testing.T) {
	s := NewSeries(64)
	const n = 20_000
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			var buf []Point
			for {
				select {
				case <-done:
					return
				default:
				}
				buf = s.Since(0, 0, buf[:0])
				for i := 1; i < len(buf); i++ {
					if buf[i].Index <= buf[i-1].Index {
						t.Errorf("read %v: indexes not increasing", buf)
						return
					}
				}
				if len(buf) > 0 && buf[len(buf)-1].Value != float64(buf[len(buf)-1].Index) {
					t.Errorf("read point %v that was never appended", buf[len(buf)-1])
					return
				}
			}
		})
	}
	for i := range n {
		if err := s.Append(int64(i), float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if p, _ := s.Last(); p.Index != n-1 {
		t.Fatalf("Last = %v", p)
	}
}
