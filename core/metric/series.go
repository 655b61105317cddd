package metric

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"sync"
)

// Point is one value of a metric: Value after the labeled sample numbered
// Index. Value may be NaN (an empty or one-class window).
type Point struct {
	Index int64
	Value float64
}

// DefaultSeriesCapacity is the number of points a Series keeps when
// NewSeries is given none: TurboML's get_evaluation default limit.
const DefaultSeriesCapacity = 100_000

// Series is the bounded history of one metric, from which evaluations are
// read incrementally ("the points from index i on").
//
// It keeps at most Capacity points spread over the whole history: it keeps
// every point until it is full, then drops every other point and from then on
// keeps one point in two, then in four, and so on (the stride doubles each
// time it fills). The points kept are always the offered points whose ordinal
// (0 for the first point appended, 1 for the next…) is a multiple of the
// stride, so the history is evenly thinned and a chart of it keeps its shape.
// The latest point is always readable, kept or not.
//
// A Series is safe for concurrent use: one writer appends while readers call
// Since. Append is O(1) amortised (a thinning pass is O(Capacity) once per
// Capacity/2 kept points) and allocates nothing once the Series has been
// full.
type Series struct {
	mu       sync.RWMutex
	capacity int
	stride   int64   // keep the offered points whose ordinal is a multiple
	offered  int64   // points appended so far
	points   []Point // kept points, increasing Index; points[i] has ordinal i*stride
	last     Point   // the latest point appended
}

// NewSeries returns an empty Series that keeps at most capacity points
// (DefaultSeriesCapacity when capacity ≤ 0; at least 2).
func NewSeries(capacity int) *Series {
	switch {
	case capacity <= 0:
		capacity = DefaultSeriesCapacity
	case capacity < 2:
		capacity = 2
	}
	return &Series{capacity: capacity, stride: 1}
}

// Capacity returns the most points the Series keeps.
func (s *Series) Capacity() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.capacity
}

// Append records the value after sample index. Indexes must increase
// strictly from one call to the next.
func (s *Series) Append(index int64, value float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.offered > 0 && index <= s.last.Index {
		return fmt.Errorf("metric series: index %d after %d: indexes must increase", index, s.last.Index)
	}
	p := Point{Index: index, Value: value}
	k := s.offered
	s.offered++
	s.last = p
	if k%s.stride != 0 {
		return nil
	}
	if len(s.points) == s.capacity {
		s.thin()
		if k%s.stride != 0 {
			return nil
		}
	}
	s.points = append(s.points, p)
	return nil
}

// thin keeps every other point and doubles the stride.
func (s *Series) thin() {
	n := 0
	for i := 0; i < len(s.points); i += 2 {
		s.points[n] = s.points[i]
		n++
	}
	clear(s.points[n:])
	s.points = s.points[:n]
	s.stride *= 2
}

// Since appends to dst the kept points with Index ≥ from, oldest first, then
// the latest point if it is not kept and its Index ≥ from, and returns dst.
// When limit > 0, it stops after limit points, so a reader can page forward
// with from = the last Index it read + 1.
func (s *Series) Since(from int64, limit int, dst []Point) []Point {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := sort.Search(len(s.points), func(i int) bool { return s.points[i].Index >= from })
	start := len(dst)
	full := func() bool { return limit > 0 && len(dst)-start >= limit }
	for _, p := range s.points[i:] {
		if full() {
			return dst
		}
		dst = append(dst, p)
	}
	if s.lastApart() && s.last.Index >= from && !full() {
		dst = append(dst, s.last)
	}
	return dst
}

// lastApart reports whether the latest point exists and is not kept.
func (s *Series) lastApart() bool {
	n := len(s.points)
	return s.offered > 0 && (n == 0 || s.points[n-1].Index != s.last.Index)
}

// Last returns the latest point, and false when nothing was appended.
func (s *Series) Last() (Point, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.last, s.offered > 0
}

// Len returns the number of points Since(math.MinInt64, 0, nil) would
// return.
func (s *Series) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := len(s.points)
	if s.lastApart() {
		n++
	}
	return n
}

// Stride returns how many appended points there are per kept point.
func (s *Series) Stride() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.stride
}

// Reset forgets every point and keeps the capacity.
func (s *Series) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.points)
	s.points = s.points[:0]
	s.stride, s.offered, s.last = 1, 0, Point{}
}

const seriesMagic = "SPSR"

// MarshalBinary encodes the capacity, the thinning state, the kept points
// and the latest point.
func (s *Series) MarshalBinary() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := make([]byte, 0, 64+16*len(s.points))
	b = append(b, seriesMagic...)
	b = append(b, codecVersion)
	b = binary.AppendUvarint(b, uint64(s.capacity))
	b = binary.AppendUvarint(b, uint64(s.stride))
	b = binary.AppendUvarint(b, uint64(s.offered))
	b = binary.AppendUvarint(b, uint64(len(s.points)))
	for _, p := range s.points {
		b = appendPoint(b, p)
	}
	return appendPoint(b, s.last), nil
}

func appendPoint(b []byte, p Point) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(p.Index))
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Value))
}

// UnmarshalBinary restores a Series that MarshalBinary encoded, capacity
// included.
func (s *Series) UnmarshalBinary(data []byte) error {
	bad := func(what string) error { return fmt.Errorf("metric series: malformed encoding: %s", what) }
	if len(data) < len(seriesMagic)+1 || string(data[:len(seriesMagic)]) != seriesMagic {
		return bad("no magic")
	}
	if v := data[len(seriesMagic)]; v != codecVersion {
		return fmt.Errorf("metric series: encoding version %d not supported (want %d)", v, codecVersion)
	}
	rest := data[len(seriesMagic)+1:]
	var u [4]uint64
	for i := range u {
		v, k := binary.Uvarint(rest)
		if k <= 0 {
			return bad("header")
		}
		u[i], rest = v, rest[k:]
	}
	capacity, stride, offered, n := u[0], u[1], u[2], u[3]
	switch {
	case capacity < 2 || capacity > math.MaxInt32:
		return bad("capacity")
	case stride < 1 || stride&(stride-1) != 0 || stride > math.MaxInt64/2:
		return bad("stride")
	case offered > math.MaxInt64/2:
		return bad("offered count")
	case n > capacity || n != (offered+stride-1)/stride:
		return bad("point count")
	case uint64(len(rest)) != 16*(n+1):
		return bad("payload length")
	}
	pts := make([]Point, n+1)
	for i := range pts {
		pts[i] = Point{
			Index: int64(binary.LittleEndian.Uint64(rest[16*i:])),
			Value: math.Float64frombits(binary.LittleEndian.Uint64(rest[16*i+8:])),
		}
		if i > 0 && i < int(n) && pts[i].Index <= pts[i-1].Index {
			return bad("indexes do not increase")
		}
	}
	last := pts[n]
	if n > 0 && last.Index < pts[n-1].Index {
		return bad("latest point before a kept one")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.capacity, s.stride, s.offered = int(capacity), int64(stride), int64(offered)
	s.points, s.last = pts[:n:n], last
	return nil
}
