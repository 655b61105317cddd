package metric

import (
	"encoding/binary"
	"fmt"
	"math"
)

// aucPair is one pair of the AUC window.
type aucPair struct {
	score float64
	pos   bool
}

// aucMetric is WindowedAUC: the area under the ROC curve of the last W
// (score, label) pairs, exactly as scikit-learn's roc_auc_score computes it
// on them (ties between a positive and a negative count one half).
//
// AUC equals U / (P·N), where P and N count the window's positives and
// negatives and U counts the (positive, negative) pairs in which the positive
// scores higher, plus one half for each tie: the Mann–Whitney statistic.
// twoU = 2·U is kept as an exact integer. Adding a positive with score s adds
// 2·(negatives below s) + (negatives at s); evicting one subtracts the same;
// negatives mirror this with the positives above s. The rank tree answers
// those counts in O(log W).
type aucMetric struct {
	win  ring[aucPair]
	tree rankTree
	twoU int64
}

func newAUC(w int) *aucMetric {
	return &aucMetric{win: newRing[aucPair](w), tree: newRankTree()}
}

func (m *aucMetric) Name() string    { return AUC }
func (m *aucMetric) WindowSize() int { return m.win.w }
func (m *aucMetric) Len() int        { return m.win.len() }

func (m *aucMetric) Update(score float64, _ int, label float64) {
	if math.IsNaN(score) || math.IsNaN(label) {
		return
	}
	if score == 0 {
		score = 0 // one key for -0 and +0
	}
	p := aucPair{score: score, pos: isClass(label, 1)}
	if old, evicted := m.win.push(p); evicted {
		m.remove(old)
	}
	m.add(p)
}

// delta returns the change of twoU that pair p brings, from how its score
// compares with the other class's scores in the window.
func (m *aucMetric) delta(p aucPair, rc rankCounts) int64 {
	if p.pos {
		return 2*rc.less[0] + rc.eq[0]
	}
	nPos := int64(m.tree.size()[1])
	return 2*(nPos-rc.less[1]-rc.eq[1]) + rc.eq[1]
}

// add and remove update the tree and twoU in one walk: a pair's delta
// depends only on the other class, which its own insertion or removal
// leaves unchanged.
func (m *aucMetric) add(p aucPair) {
	rc := m.tree.insert(p.score, classOf(p.pos))
	m.twoU += m.delta(p, rc)
}

func (m *aucMetric) remove(p aucPair) {
	rc := m.tree.remove(p.score, classOf(p.pos))
	m.twoU -= m.delta(p, rc)
}

func classOf(pos bool) int {
	if pos {
		return 1
	}
	return 0
}

func (m *aucMetric) Value() float64 {
	n := m.tree.size()
	if n[0] == 0 || n[1] == 0 {
		return math.NaN()
	}
	return float64(m.twoU) / (2 * float64(n[0]) * float64(n[1]))
}

func (m *aucMetric) Reset() {
	m.win.reset()
	m.tree.reset()
	m.twoU = 0
}

// MarshalBinary encodes the window: the scores oldest first, then the labels
// as a bit set (bit i set when pair i is positive).
func (m *aucMetric) MarshalBinary() ([]byte, error) {
	n := m.win.len()
	b := make([]byte, 0, 32+8*n+(n+7)/8)
	b = appendHeader(b, m.Name(), m.win.w, n)
	for i := range n {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.win.at(i).score))
	}
	var bits byte
	for i := range n {
		if m.win.at(i).pos {
			bits |= 1 << (i % 8)
		}
		if i%8 == 7 || i == n-1 {
			b = append(b, bits)
			bits = 0
		}
	}
	return b, nil
}

// UnmarshalBinary rebuilds the rank tree and U from the window's pairs, in
// O(W log W).
func (m *aucMetric) UnmarshalBinary(data []byte) error {
	n, payload, err := checkHeader(m, data)
	if err != nil {
		return err
	}
	if len(payload) != 8*n+(n+7)/8 {
		return fmt.Errorf("metric: malformed %s encoding: %d payload bytes for %d pairs", AUC, len(payload), n)
	}
	if n%8 != 0 && payload[len(payload)-1]>>(n%8) != 0 {
		return fmt.Errorf("metric: malformed %s encoding: label padding bits set", AUC)
	}
	pairs := make([]aucPair, n)
	for i := range pairs {
		s := math.Float64frombits(binary.LittleEndian.Uint64(payload[8*i:]))
		if math.IsNaN(s) || (s == 0 && math.Signbit(s)) {
			return fmt.Errorf("metric: malformed %s encoding: score %d is %v", AUC, i, s)
		}
		pairs[i] = aucPair{score: s, pos: payload[8*n+i/8]&(1<<(i%8)) != 0}
	}
	m.Reset()
	m.win.reserve(n)
	for _, p := range pairs {
		m.win.push(p)
		m.add(p)
	}
	return nil
}
