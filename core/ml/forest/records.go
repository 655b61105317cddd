package forest

import "math/bits"

// records is a growable array of fixed-width float64 records that never
// moves. It is a list of blocks of firstBlock, 2·firstBlock,
// 4·firstBlock, ... records, so growing allocates the next block instead
// of copying (and clearing again) all the records before it: a Mondrian
// tree adds a node or two on most samples, for as long as it learns.
type records struct {
	width  int // floats per record
	n      int // records in use
	blocks [][]float64
}

// firstBlock is the number of records in block 0, a power of two; block k
// holds firstBlock<<k records, from index (2^k − 1)·firstBlock. One keeps
// a fresh tree to one record: a forest of many trees over many features
// must not pay for records it has no nodes for.
const firstBlock = 1

// locate returns the block and the offset in it of record i.
func locate(i int32) (block int, off uint32) {
	q := uint32(i)/firstBlock + 1
	k := bits.Len32(q) - 1
	return k, uint32(i) - (uint32(1)<<k-1)*firstBlock
}

// at is record i, for 0 <= i < r.n.
func (r *records) at(i int32) []float64 {
	k, off := locate(i)
	o := int(off) * r.width
	return r.blocks[k][o : o+r.width : o+r.width]
}

// add appends a record, all zero when its block is new, and returns its
// index.
func (r *records) add() int32 {
	i := int32(r.n)
	if k, _ := locate(i); k == len(r.blocks) {
		r.blocks = append(r.blocks, make([]float64, (firstBlock<<k)*r.width))
	}
	r.n++
	return i
}

// init empties r for records of the given width, with room for n.
func (r *records) init(width, n int) {
	*r = records{width: width}
	for n > 0 {
		k := len(r.blocks)
		r.blocks = append(r.blocks, make([]float64, (firstBlock<<k)*width))
		n -= firstBlock << k
	}
}

// clone is a deep copy of r.
func (r *records) clone() records {
	c := records{width: r.width, n: r.n, blocks: make([][]float64, len(r.blocks))}
	for k, b := range r.blocks {
		c.blocks[k] = append([]float64(nil), b...)
	}
	return c
}
