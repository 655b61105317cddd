package metric

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
	free  int32 // head of the free list, linked through left; 0 = empty
}

type rankNode struct {
	key         float64
	prio        uint32
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
	return rankTree{nodes: make([]rankNode, 1, 16)}
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

func (t *rankTree) alloc(key float64, bits uint64, c int) int32 {
	var x int32
	if t.free != 0 {
		x = t.free
		t.free = t.nodes[x].left
	} else {
		t.nodes = append(t.nodes, rankNode{})
		x = int32(len(t.nodes) - 1)
	}
	n := &t.nodes[x]
	*n = rankNode{key: key, prio: priority(bits)}
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

// rank counts the window's scores below and equal to key. key must not be
// NaN.
func (t *rankTree) rank(key float64) rankCounts {
	var rc rankCounts
	x := t.root
	for x != 0 {
		n := &t.nodes[x]
		switch {
		case key < n.key:
			x = n.left
		case key > n.key:
			l := &t.nodes[n.left]
			rc.less[0] += int64(l.sum[0] + n.cnt[0])
			rc.less[1] += int64(l.sum[1] + n.cnt[1])
			x = n.right
		default:
			l := &t.nodes[n.left]
			rc.less[0] += int64(l.sum[0])
			rc.less[1] += int64(l.sum[1])
			rc.eq[0], rc.eq[1] = int64(n.cnt[0]), int64(n.cnt[1])
			return rc
		}
	}
	return rc
}

// insert adds one score of class c (0 negative, 1 positive). key must not be
// NaN and must not be -0 (callers normalise it to +0).
func (t *rankTree) insert(key float64, bits uint64, c int) {
	t.root = t.insertAt(t.root, key, bits, c)
}

func (t *rankTree) insertAt(x int32, key float64, bits uint64, c int) int32 {
	if x == 0 {
		return t.alloc(key, bits, c)
	}
	t.nodes[x].sum[c]++
	switch k := t.nodes[x].key; {
	case key < k:
		l := t.insertAt(t.nodes[x].left, key, bits, c)
		t.nodes[x].left = l
		if t.nodes[l].prio > t.nodes[x].prio {
			x = t.rotateRight(x)
		}
	case key > k:
		r := t.insertAt(t.nodes[x].right, key, bits, c)
		t.nodes[x].right = r
		if t.nodes[r].prio > t.nodes[x].prio {
			x = t.rotateLeft(x)
		}
	default:
		t.nodes[x].cnt[c]++
	}
	return x
}

// remove takes away one score of class c. The score must be in the tree
// with that class; the window guarantees it.
func (t *rankTree) remove(key float64, c int) {
	t.root = t.removeAt(t.root, key, c)
}

func (t *rankTree) removeAt(x int32, key float64, c int) int32 {
	if x == 0 {
		panic("metric: rank tree lost a score of its window")
	}
	t.nodes[x].sum[c]--
	switch k := t.nodes[x].key; {
	case key < k:
		t.nodes[x].left = t.removeAt(t.nodes[x].left, key, c)
	case key > k:
		t.nodes[x].right = t.removeAt(t.nodes[x].right, key, c)
	default:
		n := &t.nodes[x]
		n.cnt[c]--
		if n.cnt[0] == 0 && n.cnt[1] == 0 {
			m := t.merge(n.left, n.right)
			n.left, n.right = t.free, 0
			t.free = x
			return m
		}
	}
	return x
}

// merge joins two treaps whose keys are all less in a than in b.
func (t *rankTree) merge(a, b int32) int32 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	case t.nodes[a].prio > t.nodes[b].prio:
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
