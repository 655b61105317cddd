package forest

import "math/bits"

// blockList is a growable array of slots of width elements that never
// moves. It is a list of blocks of firstBlock, 2·firstBlock,
// 4·firstBlock, ... slots, so growing allocates the next block instead
// of copying (and clearing again) all the slots before it: a Mondrian
// tree adds a node or two on most samples, for as long as it learns, and
// keeps each node's header and payload record in one of these.
type blockList[E any] struct {
	width  int // elements per slot
	n      int // slots in use
	blocks [][]E
}

// records holds the nodes' payload records, stride floats each.
type records = blockList[float64]

// firstBlock is the number of slots in block 0, a power of two; block k
// holds firstBlock<<k slots, from index (2^k − 1)·firstBlock. One keeps
// a fresh tree to one node: a forest of many trees over many features
// must not pay for nodes it does not have.
const firstBlock = 1

// locate returns the block and the offset in it of slot i.
func locate(i int32) (block int, off uint32) {
	q := uint32(i)/firstBlock + 1
	k := bits.Len32(q) - 1
	return k, uint32(i) - (uint32(1)<<k-1)*firstBlock
}

// at is slot i, for 0 <= i < l.n.
func (l *blockList[E]) at(i int32) []E {
	k, off := locate(i)
	o := int(off) * l.width
	return l.blocks[k][o : o+l.width : o+l.width]
}

// elem is the element of slot i in a list of width 1.
func (l *blockList[E]) elem(i int32) *E {
	k, off := locate(i)
	return &l.blocks[k][off]
}

// add appends a slot, zero when its block is new, and returns its index.
func (l *blockList[E]) add() int32 {
	i := int32(l.n)
	if k, _ := locate(i); k == len(l.blocks) {
		l.blocks = append(l.blocks, make([]E, (firstBlock<<k)*l.width))
	}
	l.n++
	return i
}

// init makes l a list of n zero slots of the given width.
func (l *blockList[E]) init(width, n int) {
	*l = blockList[E]{width: width, n: n}
	for left := n; left > 0; {
		k := len(l.blocks)
		l.blocks = append(l.blocks, make([]E, (firstBlock<<k)*width))
		left -= firstBlock << k
	}
}

// clone is a deep copy of l.
func (l *blockList[E]) clone() blockList[E] {
	c := blockList[E]{width: l.width, n: l.n, blocks: make([][]E, len(l.blocks))}
	for k, b := range l.blocks {
		c.blocks[k] = append([]E(nil), b...)
	}
	return c
}
