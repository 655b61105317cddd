package metric

// ring is the window of a metric: the last w values pushed, oldest first.
// Its buffer grows with the values actually pushed, up to w, and is then
// reused in place.
type ring[T any] struct {
	buf  []T
	head int // index of the oldest value once the buffer is full
	w    int
}

func newRing[T any](w int) ring[T] { return ring[T]{w: w} }

// push appends v and, when the window was full, returns the value it
// evicted.
func (r *ring[T]) push(v T) (old T, evicted bool) {
	if len(r.buf) < r.w {
		r.buf = append(r.buf, v)
		return old, false
	}
	old = r.buf[r.head]
	r.buf[r.head] = v
	if r.head++; r.head == r.w {
		r.head = 0
	}
	return old, true
}

func (r *ring[T]) len() int { return len(r.buf) }

// at returns the i-th oldest value, 0 ≤ i < len.
func (r *ring[T]) at(i int) T {
	i += r.head
	if i >= len(r.buf) {
		i -= len(r.buf)
	}
	return r.buf[i]
}

// reserve makes room for n values in an empty window.
func (r *ring[T]) reserve(n int) {
	if len(r.buf) == 0 && cap(r.buf) < n {
		r.buf = make([]T, 0, n)
	}
}

// reset empties the window and keeps its memory.
func (r *ring[T]) reset() {
	clear(r.buf)
	r.buf = r.buf[:0]
	r.head = 0
}
