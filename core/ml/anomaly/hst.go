// Package anomaly owns the unsupervised anomaly detectors: HST, Half-Space
// Trees (Tan, Ting & Liu, IJCAI 2011), a port of River 0.26.1's
// anomaly.HalfSpaceTrees.
//
// HST reads the Instance's numeric features by position and ignores
// categorical codes. Like River, it assumes every feature lies in [0, 1]:
// the random splits are drawn inside [0, 1] (padded by 15%), so put a
// MinMaxPreProcessor in front of features on other scales. A NaN is a
// missing feature: the sample follows the child with the larger mass, as a
// key absent from River's x. The trees are drawn when the first sample is
// learnt, over the features present in it, with CPython's random.Random, so
// for the same seed and stream the scores are River's.
package anomaly

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/internal/params"
	"github.com/spate-ml/spate/core/ml/internal/pyrand"
)

// Register adds HST to r.
func Register(r *ml.Registry) {
	r.Add("HST", ml.Entry{Kind: ml.AnomalyDetector, New: newHST, Decode: decodeHST})
}

// HSTParams are HST's parameters with TurboML's names and defaults.
type HSTParams struct {
	NTrees     int   `json:"n_trees"`
	Height     int   `json:"height"`
	WindowSize int   `json:"window_size"`
	Seed       int64 `json:"seed"`
}

// DefaultHSTParams returns TurboML's defaults (River's are 10, 8 and 250).
func DefaultHSTParams() HSTParams { return HSTParams{NTrees: 20, Height: 12, WindowSize: 50} }

// HST is a Half-Space Trees anomaly detector. Score is in [0, 1], higher
// meaning more anomalous; it is 0 during the first window.
//
// The trees are complete binary trees stored in heap order (children of
// node i at 2i+1 and 2i+2). The window pivot (reference mass := latest
// mass, latest mass := 0 at every node) is applied lazily: each node
// remembers the window it was last touched in, which makes a pivot O(1)
// instead of O(nodes) with the same results.
type HST struct {
	p            HSTParams
	nFeat        int
	rng          *pyrand.Rand
	built        bool
	nodes        int // per tree
	feature      []int32
	threshold    []float64
	lmass, rmass []uint32
	epoch        []uint32 // window of the last update of each node
	window       uint32   // number of pivots so far
	counter      int
	firstWindow  bool
}

// NewHST builds an HST over nFeat numeric features.
func NewHST(p HSTParams, nFeat int) (*HST, error) {
	switch {
	case p.NTrees < 1:
		return nil, fmt.Errorf("HST: n_trees must be >= 1, got %d", p.NTrees)
	case p.Height < 1 || p.Height > 20:
		return nil, fmt.Errorf("HST: height must be in [1, 20], got %d", p.Height)
	case p.WindowSize < 1:
		return nil, fmt.Errorf("HST: window_size must be >= 1, got %d", p.WindowSize)
	case nFeat < 1:
		return nil, fmt.Errorf("HST: needs at least one numeric input")
	}
	return &HST{p: p, nFeat: nFeat, rng: pyrand.New(p.Seed), nodes: 1<<(p.Height+1) - 1, firstWindow: true}, nil
}

func newHST(raw json.RawMessage, spec ml.Spec, _ []ml.Learner) (ml.Learner, error) {
	p := DefaultHSTParams()
	if err := params.Decode("HST", raw, &p); err != nil {
		return nil, err
	}
	return NewHST(p, spec.NumNumeric)
}

// Algorithm implements ml.Learner.
func (h *HST) Algorithm() string { return "HST" }

func (h *HST) build(x []float64) {
	var feats []int
	for f, v := range x {
		if v == v {
			feats = append(feats, f)
		}
	}
	if len(feats) == 0 {
		return
	}
	total := h.p.NTrees * h.nodes
	h.feature = make([]int32, total)
	h.threshold = make([]float64, total)
	h.lmass = make([]uint32, total)
	h.rmass = make([]uint32, total)
	h.epoch = make([]uint32, total)
	lo := make([]float64, len(feats))
	hi := make([]float64, len(feats))
	cum := make([]float64, len(feats))
	for i := range hi {
		hi[i] = 1
	}
	for t := 0; t < h.p.NTrees; t++ {
		h.grow(t*h.nodes, 0, h.p.Height, feats, lo, hi, cum)
	}
	h.built = true
}

// grow draws the subtree rooted at heap index i of the tree starting at
// base, in River's order: the node's split, then its left subtree, then its
// right subtree.
func (h *HST) grow(base, i, height int, feats []int, lo, hi, cum []float64) {
	if height == 0 {
		h.feature[base+i] = -1
		return
	}
	acc := 0.0
	for k := range feats {
		acc += hi[k] - lo[k]
		cum[k] = acc
	}
	k := h.rng.ChoiceCum(cum)
	a, b := lo[k], hi[k]
	at := h.rng.Uniform(a+0.15*(b-a), b-0.15*(b-a))
	h.feature[base+i] = int32(feats[k])
	h.threshold[base+i] = at
	hi[k] = at
	h.grow(base, 2*i+1, height-1, feats, lo, hi, cum)
	hi[k] = b
	lo[k] = at
	h.grow(base, 2*i+2, height-1, feats, lo, hi, cum)
	lo[k] = a
}

// masses returns node n's logical (latest, reference) masses.
func (h *HST) masses(n int) (l, r uint32) {
	switch h.window - h.epoch[n] {
	case 0:
		return h.lmass[n], h.rmass[n]
	case 1:
		return 0, h.lmass[n]
	default:
		return 0, 0
	}
}

func (h *HST) touch(n int) {
	l, r := h.masses(n)
	h.lmass[n], h.rmass[n], h.epoch[n] = l+1, r, h.window
}

func (h *HST) child(base, i int, x []float64) int {
	n := base + i
	v := x[h.feature[n]]
	if v != v {
		l0, _ := h.masses(base + 2*i + 1)
		l1, _ := h.masses(base + 2*i + 2)
		if l0 < l1 {
			return 2*i + 2
		}
		return 2*i + 1
	}
	if v < h.threshold[n] {
		return 2*i + 1
	}
	return 2*i + 2
}

// Learn implements ml.Learner; y is ignored.
func (h *HST) Learn(x ml.Instance, _ float64) {
	if !h.built {
		h.build(x.Numeric)
		if !h.built {
			return
		}
	}
	for t := 0; t < h.p.NTrees; t++ {
		base, i := t*h.nodes, 0
		for d := 0; d < h.p.Height; d++ {
			h.touch(base + i)
			i = h.child(base, i, x.Numeric)
		}
		h.touch(base + i)
	}
	h.counter++
	if h.counter == h.p.WindowSize {
		h.window++
		h.firstWindow = false
		h.counter = 0
	}
}

// Predict implements ml.Learner: Score is the anomaly score.
func (h *HST) Predict(x ml.Instance, dst *ml.Prediction) {
	dst.Class = 0
	dst.Proba = dst.Proba[:0]
	dst.Score = 0
	if h.firstWindow || !h.built {
		return
	}
	limit := 0.1 * float64(h.p.WindowSize)
	score := 0.0
	for t := 0; t < h.p.NTrees; t++ {
		score += h.walkScore(t*h.nodes, x.Numeric, limit)
	}
	maxScore := float64(h.p.NTrees * h.p.WindowSize * h.nodes)
	dst.Score = 1 - score/maxScore
}

func (h *HST) walkScore(base int, x []float64, limit float64) float64 {
	i, pow, score := 0, 1.0, 0.0
	for d := 0; d < h.p.Height; d++ {
		_, r := h.masses(base + i)
		score += float64(r) * pow
		if float64(r) < limit {
			return score
		}
		i = h.child(base, i, x)
		pow *= 2
	}
	_, r := h.masses(base + i)
	return score + float64(r)*pow
}

// Clone implements ml.Learner.
func (h *HST) Clone() ml.Learner {
	c := *h
	g := *h.rng
	c.rng = &g
	c.feature = append([]int32(nil), h.feature...)
	c.threshold = append([]float64(nil), h.threshold...)
	c.lmass = append([]uint32(nil), h.lmass...)
	c.rmass = append([]uint32(nil), h.rmass...)
	c.epoch = append([]uint32(nil), h.epoch...)
	return &c
}

const stateVersion = 1

// MarshalBinary implements ml.Learner. Masses are written in their logical
// (pivoted) form, so the encoding does not depend on the lazy bookkeeping.
func (h *HST) MarshalBinary() ([]byte, error) {
	e := &wire.Encoder{}
	e.Uvarint(stateVersion)
	e.Uvarint(uint64(h.p.NTrees))
	e.Uvarint(uint64(h.p.Height))
	e.Uvarint(uint64(h.p.WindowSize))
	e.Varint(h.p.Seed)
	e.Uvarint(uint64(h.nFeat))
	h.rng.Encode(e)
	e.Uvarint(uint64(h.counter))
	e.Boolean(h.firstWindow)
	e.Boolean(h.built)
	if h.built {
		for n := range h.feature {
			e.Varint(int64(h.feature[n]))
			e.F64(h.threshold[n])
			l, r := h.masses(n)
			e.Uvarint(uint64(l))
			e.Uvarint(uint64(r))
		}
	}
	return e.Data(), nil
}

func decodeHST(data []byte) (ml.Learner, error) {
	d := wire.NewDecoder(data)
	if v := d.Uvarint(); v != stateVersion && d.Err() == nil {
		return nil, fmt.Errorf("HST: unknown state version %d", v)
	}
	var p HSTParams
	p.NTrees = int(d.Uvarint())
	p.Height = int(d.Uvarint())
	p.WindowSize = int(d.Uvarint())
	p.Seed = d.Varint()
	nFeat := d.Uvarint()
	if err := checkHeader(d, p, nFeat); err != nil {
		return nil, fmt.Errorf("HST: bad state header: %w", err)
	}
	h, err := NewHST(p, int(nFeat))
	if err != nil {
		return nil, fmt.Errorf("HST: %w", err)
	}
	h.rng = pyrand.Decode(d)
	h.counter = int(d.Uvarint())
	h.firstWindow = d.Boolean()
	h.built = d.Boolean()
	if h.built {
		total := p.NTrees * h.nodes
		if total*11 > d.Len() {
			return nil, fmt.Errorf("HST: %w", wire.ErrTruncated)
		}
		h.feature = make([]int32, total)
		h.threshold = make([]float64, total)
		h.lmass = make([]uint32, total)
		h.rmass = make([]uint32, total)
		h.epoch = make([]uint32, total)
		for n := 0; n < total; n++ {
			f := d.Varint()
			internal := n%h.nodes < h.nodes/2
			if internal && (f < 0 || f >= int64(nFeat)) {
				return nil, fmt.Errorf("HST: node %d: feature %d out of range [0,%d)", n, f, nFeat)
			}
			if !internal && f != -1 {
				return nil, fmt.Errorf("HST: node %d: leaf with feature %d", n, f)
			}
			h.feature[n] = int32(f)
			h.threshold[n] = d.F64()
			l, r := d.Uvarint(), d.Uvarint()
			if l > math.MaxUint32 || r > math.MaxUint32 {
				return nil, fmt.Errorf("HST: node %d: masses %d, %d out of range", n, l, r)
			}
			h.lmass[n] = uint32(l)
			h.rmass[n] = uint32(r)
		}
	}
	if h.counter < 0 || h.counter >= p.WindowSize {
		return nil, fmt.Errorf("HST: window counter %d out of range [0,%d)", h.counter, p.WindowSize)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("HST: %w", err)
	}
	return h, nil
}
