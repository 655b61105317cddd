package metric

import "math"

// rankTree is an order-statistic treap over the distinct scores of a window.
// Each node holds one distinct score, how many negatives and positives carry
// that score, and the totals of its subtree, so that "how many negatives
// (positives) score below s, and how many score exactly s" is one walk from
// the root: O(log d) for d distinct scores.
//
// Nodes live in one slice addressed by int32 index; index 0 is the nil
// sentinel (all counts zero). Removed nodes go to a free list, so once the
// slice has grown to the largest number of distinct scores seen at once, the
// tree allocates nothing. Priorities are a hash of the score's bits, so the
// expected depth is logarithmic whatever the order in which scores arrive
// (sorted streams included).
type rankTree struct {
	nodes []rankNode
	root  int32
	free  int32   // head of the free list, linked through left; 0 = empty
	path  []int32 // scratch: the nodes above the one an update reaches
}

// rankNode is 32 bytes, two to a cache line; its priority is recomputed
// from the key when needed rather than stored.
type rankNode struct {
	key         float64
	left, right int32
	cnt         [2]int32 // [negatives, positives] with this exact score
	sum         [2]int32 // [negatives, positives] in the subtree
}

// rankCounts says how a score compares with the window.
type rankCounts struct {
	less [2]int64 // [negatives, positives] scoring strictly less
	eq   [2]int64 // [negatives, positives] scoring exactly the same
}

func newRankTree() rankTree {
	return rankTree{nodes: make([]rankNode, 1, 16), path: make([]int32, 0, 64)}
}

// reset empties the tree and keeps its memory.
func (t *rankTree) reset() {
	t.nodes = t.nodes[:1]
	t.root, t.free = 0, 0
}

// priority mixes the bits of a score (the SplitMix64 finalizer).
func priority(bits uint64) uint32 {
	bits ^= bits >> 30
	bits *= 0xbf58476d1ce4e5b9
	bits ^= bits >> 27
	bits *= 0x94d049bb133111eb
	bits ^= bits >> 31
	return uint32(bits >> 32)
}

func (t *rankTree) prio(x int32) uint32 { return priority(math.Float64bits(t.nodes[x].key)) }

func (t *rankTree) alloc(key float64, c int) int32 {
	var x int32
	if t.free != 0 {
		x = t.free
		t.free = t.nodes[x].left
	} else {
		t.nodes = append(t.nodes, rankNode{})
		x = int32(len(t.nodes) - 1)
	}
	n := &t.nodes[x]
	*n = rankNode{key: key}
	n.cnt[c], n.sum[c] = 1, 1
	return x
}

func (t *rankTree) pull(x int32) {
	n := &t.nodes[x]
	l, r := &t.nodes[n.left], &t.nodes[n.right]
	n.sum[0] = n.cnt[0] + l.sum[0] + r.sum[0]
	n.sum[1] = n.cnt[1] + l.sum[1] + r.sum[1]
}

func (t *rankTree) rotateRight(x int32) int32 {
	l := t.nodes[x].left
	t.nodes[x].left = t.nodes[l].right
	t.nodes[l].right = x
	t.pull(x)
	t.pull(l)
	return l
}

func (t *rankTree) rotateLeft(x int32) int32 {
	r := t.nodes[x].right
	t.nodes[x].right = t.nodes[r].left
	t.nodes[r].left = x
	t.pull(x)
	t.pull(r)
	return r
}

// insert adds one score of class c (0 negative, 1 positive) and returns how
// the score compares with the scores of the other class, as they were
// (counts of class c itself are not meaningful). key must not be NaN and
// must not be -0 (callers normalise it to +0).
//
// It walks down once, counting as it goes: when the walk turns right at a
// node, every score of that node's subtree except its right subtree's is
// less than key; the right child is the next node read anyway. A new node
// then rises along the recorded path while its priority beats its parent's.
func (t *rankTree) insert(key float64, c int) rankCounts {
	var rc rankCounts
	path := t.path[:0]
	for x := t.root; x != 0; {
		n := &t.nodes[x]
		switch {
		case key < n.key:
			path = append(path, x)
			x = n.left
		case key > n.key:
			r := &t.nodes[n.right]
			rc.less[0] += int64(n.sum[0] - r.sum[0])
			rc.less[1] += int64(n.sum[1] - r.sum[1])
			path = append(path, x)
			x = n.right
		default:
			rc.count(n, &t.nodes[n.right])
			n.cnt[c]++
			n.sum[c]++
			for _, p := range path {
				t.nodes[p].sum[c]++
			}
			t.path = path
			return rc
		}
	}
	for _, p := range path {
		t.nodes[p].sum[c]++
	}
	child := t.alloc(key, c)
	t.path = path
	prio := priority(math.Float64bits(key))
	for i := len(path) - 1; i >= 0; i-- {
		p := path[i]
		left := key < t.nodes[p].key
		if left {
			t.nodes[p].left = child
		} else {
			t.nodes[p].right = child
		}
		if prio <= t.prio(p) {
			return rc
		}
		if left {
			child = t.rotateRight(p)
		} else {
			child = t.rotateLeft(p)
		}
	}
	t.root = child
	return rc
}

// count records, at the node holding the key, the scores below it (its
// subtree but its own and its right subtree's) and at it.
func (rc *rankCounts) count(n, right *rankNode) {
	for c := range 2 {
		rc.less[c] += int64(n.sum[c] - n.cnt[c] - right.sum[c])
		rc.eq[c] = int64(n.cnt[c])
	}
}

// remove takes away one score of class c and returns how the score compares
// with the scores of the other class, as insert does. The score must be in
// the tree with that class; the window guarantees it.
func (t *rankTree) remove(key float64, c int) rankCounts {
	var rc rankCounts
	path := t.path[:0]
	x := t.root
	for {
		if x == 0 {
			panic("metric: rank tree lost a score of its window")
		}
		n := &t.nodes[x]
		if key < n.key {
			path = append(path, x)
			x = n.left
			continue
		}
		r := &t.nodes[n.right]
		if key > n.key {
			rc.less[0] += int64(n.sum[0] - r.sum[0])
			rc.less[1] += int64(n.sum[1] - r.sum[1])
			path = append(path, x)
			x = n.right
			continue
		}
		rc.count(n, r)
		break
	}
	t.path = path
	for _, p := range path {
		t.nodes[p].sum[c]--
	}
	n := &t.nodes[x]
	n.cnt[c]--
	n.sum[c]--
	if n.cnt[0] != 0 || n.cnt[1] != 0 {
		return rc
	}
	m := t.merge(n.left, n.right)
	n.left, n.right = t.free, 0
	t.free = x
	switch {
	case len(path) == 0:
		t.root = m
	case key < t.nodes[path[len(path)-1]].key:
		t.nodes[path[len(path)-1]].left = m
	default:
		t.nodes[path[len(path)-1]].right = m
	}
	return rc
}

// merge joins two treaps whose keys are all less in a than in b.
func (t *rankTree) merge(a, b int32) int32 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	case t.prio(a) > t.prio(b):
		t.nodes[a].right = t.merge(t.nodes[a].right, b)
		t.pull(a)
		return a
	default:
		t.nodes[b].left = t.merge(a, t.nodes[b].left)
		t.pull(b)
		return b
	}
}

// size returns the number of scores of each class in the tree.
func (t *rankTree) size() [2]int32 { return t.nodes[t.root].sum }
