package forest

// pagedList is a growable array of slots of width elements, in pages of
// pageSlots slots: slot i is in page i/pageSlots, so finding it takes a
// shift and a mask, which matters on a walk, where each node's address
// waits on the last. A full page never moves: a Mondrian tree adds a node
// or two on most samples for as long as it learns, and growing one array
// by doubling would copy (and clear again) every slot before, page
// faults included. Only the first page grows by doubling, so that a small
// tree does not pay for a page of nodes it does not have.
type pagedList[E any] struct {
	width int // elements per slot
	n     int // slots in use
	pages [][]E
}

// records holds the nodes' payload records, stride floats each.
type records = pagedList[float64]

const (
	pageShift = 10
	pageSlots = 1 << pageShift
	pageMask  = pageSlots - 1
)

// at is slot i, for 0 <= i < l.n.
func (l *pagedList[E]) at(i int32) []E {
	o := int(i&pageMask) * l.width
	return l.pages[i>>pageShift][o : o+l.width : o+l.width]
}

// elem is the element of slot i in a list of width 1.
func (l *pagedList[E]) elem(i int32) *E {
	return &l.pages[i>>pageShift][i&pageMask]
}

// add appends a zero slot and returns its index.
func (l *pagedList[E]) add() int32 {
	i := l.n
	switch p := i >> pageShift; {
	case p == len(l.pages):
		// A new page: the first starts with one slot.
		size := pageSlots
		if p == 0 {
			size = 1
		}
		l.pages = append(l.pages, make([]E, size*l.width))
	case p == 0 && (i+1)*l.width > len(l.pages[0]):
		// The first page doubles up to its full size.
		grown := make([]E, min(2*i, pageSlots)*l.width)
		copy(grown, l.pages[0])
		l.pages[0] = grown
	}
	l.n++
	return int32(i)
}

// init makes l a list of n zero slots of the given width.
func (l *pagedList[E]) init(width, n int) {
	*l = pagedList[E]{width: width, n: n}
	for left := n; left > 0; left -= pageSlots {
		size := pageSlots
		if n < pageSlots { // a lone first page may be short
			size = n
		}
		l.pages = append(l.pages, make([]E, size*width))
	}
}

// clone is a deep copy of l.
func (l *pagedList[E]) clone() pagedList[E] {
	c := pagedList[E]{width: l.width, n: l.n, pages: make([][]E, len(l.pages))}
	for k, p := range l.pages {
		c.pages[k] = append([]E(nil), p...)
	}
	return c
}
