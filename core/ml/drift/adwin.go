package drift

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ADWINConfig holds ADWIN's parameters (River's defaults from
// DefaultADWINConfig).
type ADWINConfig struct {
	Delta           float64 // significance of the cut test
	Clock           int     // check for a cut every Clock updates
	MaxBuckets      int     // buckets of each size kept before two are merged
	MinWindowLength int     // minimum length of each sub-window in a cut
	GracePeriod     int     // no check before the window is longer than this
}

// DefaultADWINConfig is River's drift.ADWIN() (delta 0.002, clock 32, max
// buckets 5, min window length 5, grace period 10).
func DefaultADWINConfig() ADWINConfig {
	return ADWINConfig{Delta: 0.002, Clock: 32, MaxBuckets: 5, MinWindowLength: 5, GracePeriod: 10}
}

func (c ADWINConfig) validate() error {
	switch {
	case !(c.Delta > 0 && c.Delta < 1):
		return fmt.Errorf("adwin: delta must be in (0, 1), got %v", c.Delta)
	case c.Clock < 1:
		return fmt.Errorf("adwin: clock must be positive, got %d", c.Clock)
	case c.MaxBuckets < 1 || c.MaxBuckets > 1<<10:
		return fmt.Errorf("adwin: max_buckets must be in [1, 1024], got %d", c.MaxBuckets)
	case c.MinWindowLength < 1:
		return fmt.Errorf("adwin: min_window_length must be positive, got %d", c.MinWindowLength)
	case c.GracePeriod < 0:
		return fmt.Errorf("adwin: grace_period must not be negative, got %d", c.GracePeriod)
	}
	return nil
}

// row holds the buckets of one size (2^row elements each), oldest first.
type row struct {
	n        int
	total    []float64
	variance []float64
}

// ADWIN is the ADaptive WINdowing drift detector (Bifet & Gavaldà 2007) in
// its exponential-histogram form (ADWIN2), step for step as River's
// drift.ADWIN: the same bucket compression, the same cut scan (every bucket
// boundary, from the oldest bucket; after a cut the oldest bucket is dropped
// and the scan restarts), the same floating-point operation order. As in River, the update
// that follows a detected drift first resets the detector to empty.
//
// ADWIN is not safe for concurrent use. It allocates only when its window
// needs a new row of buckets (a logarithmic number of times).
type ADWIN struct {
	cfg ADWINConfig

	rows        []row // rows[0] holds single elements; the last row the oldest data
	total       float64
	variance    float64
	width       float64
	nBuckets    int
	maxNBuckets int
	tick        int
	totalWidth  float64
	nDetections int
	detected    bool
}

// NewADWIN returns an empty detector with River's defaults and the given
// delta.
func NewADWIN(delta float64) (*ADWIN, error) {
	c := DefaultADWINConfig()
	c.Delta = delta
	return NewADWINWith(c)
}

// NewADWINWith returns an empty detector.
func NewADWINWith(c ADWINConfig) (*ADWIN, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	a := &ADWIN{cfg: c}
	a.reset()
	return a, nil
}

// Config returns the detector's parameters.
func (a *ADWIN) Config() ADWINConfig { return a.cfg }

// Fresh returns an empty detector with the same parameters (River's
// clone()).
func (a *ADWIN) Fresh() *ADWIN {
	b := &ADWIN{cfg: a.cfg}
	b.reset()
	return b
}

// Copy returns a deep copy.
func (a *ADWIN) Copy() *ADWIN {
	b := *a
	b.rows = make([]row, len(a.rows))
	for i, r := range a.rows {
		b.rows[i] = row{n: r.n, total: append([]float64(nil), r.total...), variance: append([]float64(nil), r.variance...)}
	}
	return &b
}

func (a *ADWIN) newRow() row {
	buf := make([]float64, 2*(a.cfg.MaxBuckets+1))
	return row{total: buf[: a.cfg.MaxBuckets+1 : a.cfg.MaxBuckets+1], variance: buf[a.cfg.MaxBuckets+1:]}
}

func (a *ADWIN) reset() {
	if len(a.rows) == 0 {
		a.rows = append(a.rows[:0], a.newRow())
	} else {
		r := a.rows[0]
		r.n = 0
		clear(r.total)
		clear(r.variance)
		a.rows = a.rows[:1]
		a.rows[0] = r
	}
	a.total, a.variance, a.width = 0, 0, 0
	a.nBuckets, a.maxNBuckets, a.tick = 0, 0, 0
	a.totalWidth = 0
	a.nDetections = 0
	a.detected = false
}

// Update adds one value to the window and reports whether a drift was
// detected.
func (a *ADWIN) Update(x float64) bool {
	if a.detected {
		a.reset()
	}
	a.insert(x, 0)
	a.detected = a.detectChange()
	return a.detected
}

// DriftDetected reports whether the last Update detected a drift.
func (a *ADWIN) DriftDetected() bool { return a.detected }

// Estimation is the mean of the window (0 when empty).
func (a *ADWIN) Estimation() float64 {
	if a.width == 0 {
		return 0
	}
	return a.total / a.width
}

// Width is the number of values in the window.
func (a *ADWIN) Width() float64 { return a.width }

// Total is the sum of the values in the window.
func (a *ADWIN) Total() float64 { return a.total }

// Variance is the window's sum of squared deviations (River's variance).
func (a *ADWIN) Variance() float64 { return a.variance }

// NDetections counts drifts since the last reset.
func (a *ADWIN) NDetections() int { return a.nDetections }

// SizeBytes approximates the detector's memory footprint.
func (a *ADWIN) SizeBytes() int {
	return 128 + len(a.rows)*(40+16*(a.cfg.MaxBuckets+1))
}

func (r *row) insert(total, variance float64) {
	r.total[r.n] = total
	r.variance[r.n] = variance
	r.n++
}

// compress drops the k oldest buckets of the row.
func (r *row) compress(k int) {
	l := len(r.total)
	copy(r.total, r.total[k:])
	copy(r.variance, r.variance[k:])
	for i := l - k; i < l; i++ {
		r.total[i], r.variance[i] = 0, 0
	}
	r.n -= k
}

func (a *ADWIN) insert(x, v float64) {
	a.rows[0].insert(x, v)
	a.nBuckets++
	if a.nBuckets > a.maxNBuckets {
		a.maxNBuckets = a.nBuckets
	}
	a.width++
	inc := 0.0
	if a.width > 1.0 {
		inc = (a.width - 1.0) * (x - a.total/(a.width-1.0)) * (x - a.total/(a.width-1.0)) / a.width
	}
	a.variance += inc
	a.total += x
	a.compressBuckets()
}

func bucketSize(row int) float64 { return float64(uint64(1) << uint(row)) }

func (a *ADWIN) compressBuckets() {
	for idx := 0; idx < len(a.rows); idx++ {
		r := &a.rows[idx]
		if r.n != a.cfg.MaxBuckets+1 {
			return
		}
		if idx+1 == len(a.rows) {
			if cap(a.rows) > len(a.rows) && a.rows[:idx+2][idx+1].total != nil {
				a.rows = a.rows[:idx+2]
				nr := &a.rows[idx+1]
				nr.n = 0
				clear(nr.total)
				clear(nr.variance)
			} else {
				a.rows = append(a.rows, a.newRow())
			}
			r = &a.rows[idx]
		}
		next := &a.rows[idx+1]
		n1 := bucketSize(idx)
		n2 := bucketSize(idx)
		mu1 := r.total[0] / n1
		mu2 := r.total[1] / n2
		total12 := r.total[0] + r.total[1]
		temp := n1 * n2 * (mu1 - mu2) * (mu1 - mu2) / (n1 + n2)
		v12 := r.variance[0] + r.variance[1] + temp
		next.insert(total12, v12)
		a.nBuckets++
		r.compress(2)
		if next.n <= a.cfg.MaxBuckets {
			return
		}
	}
}

// deleteElement drops the oldest bucket and returns its length.
func (a *ADWIN) deleteElement() float64 {
	last := len(a.rows) - 1
	r := &a.rows[last]
	n := bucketSize(last)
	u := r.total[0]
	mu := u / n
	v := r.variance[0]
	a.width -= n
	a.total -= u
	muW := a.total / a.width
	inc := v + n*a.width*(mu-muW)*(mu-muW)/(n+a.width)
	a.variance -= inc
	r.compress(1)
	a.nBuckets--
	if r.n == 0 {
		a.rows = a.rows[:last]
	}
	return n
}

func (a *ADWIN) detectChange() bool {
	change := false
	a.tick++
	if a.tick%a.cfg.Clock == 0 && a.width > float64(a.cfg.GracePeriod) {
		reduce := true
		for reduce {
			reduce = false
			exit := false
			n0, n1 := 0.0, a.width
			u0, u1 := 0.0, a.total
			// The window is fixed during one scan: compute its terms once.
			deltaPrime := math.Log(2 * math.Log(a.width) / a.cfg.Delta)
			varW := a.variance / a.width
			for idx := len(a.rows) - 1; idx >= 0 && !exit; idx-- {
				r := &a.rows[idx]
				size := bucketSize(idx)
				for k := 0; k < r.n; k++ {
					n0 += size
					n1 -= size
					u0 += r.total[k]
					u1 -= r.total[k]
					if idx == 0 && k == r.n-1 {
						exit = true
						break
					}
					deltaMean := u0/n0 - u1/n1
					if n1 >= float64(a.cfg.MinWindowLength) && n0 >= float64(a.cfg.MinWindowLength) &&
						a.evaluateCut(n0, n1, deltaMean, deltaPrime, varW) {
						reduce = true
						change = true
						if a.width > 0 {
							a.deleteElement()
							exit = true
							break
						}
					}
				}
			}
		}
	}
	a.totalWidth += a.width
	if change {
		a.nDetections++
	}
	return change
}

func (a *ADWIN) evaluateCut(n0, n1, deltaMean, deltaPrime, varW float64) bool {
	mwl := float64(a.cfg.MinWindowLength)
	mRecip := 1.0/(n0-mwl+1) + 1.0/(n1-mwl+1)
	eps := math.Sqrt(2*mRecip*varW*deltaPrime) + 2.0/3.0*deltaPrime*mRecip
	return math.Abs(deltaMean) > eps
}

const adwinVersion = 1

// MarshalBinary encodes the full state deterministically.
func (a *ADWIN) MarshalBinary() ([]byte, error) {
	return a.AppendBinary(nil)
}

// AppendBinary appends the encoding of MarshalBinary to dst.
func (a *ADWIN) AppendBinary(dst []byte) ([]byte, error) {
	b := binary.AppendUvarint(dst, adwinVersion)
	f := func(v float64) { b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v)) }
	u := func(v int) { b = binary.AppendUvarint(b, uint64(v)) }
	f(a.cfg.Delta)
	u(a.cfg.Clock)
	u(a.cfg.MaxBuckets)
	u(a.cfg.MinWindowLength)
	u(a.cfg.GracePeriod)
	f(a.total)
	f(a.variance)
	f(a.width)
	u(a.nBuckets)
	u(a.maxNBuckets)
	u(a.tick)
	f(a.totalWidth)
	u(a.nDetections)
	if a.detected {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	u(len(a.rows))
	for _, r := range a.rows {
		u(r.n)
		for i := 0; i < r.n; i++ {
			f(r.total[i])
			f(r.variance[i])
		}
	}
	return b, nil
}

var errADWINTruncated = errors.New("adwin: truncated encoding")

// UnmarshalADWIN restores a detector encoded by MarshalBinary.
func UnmarshalADWIN(data []byte) (*ADWIN, error) {
	var err error
	u := func() int {
		if err != nil {
			return 0
		}
		v, n := binary.Uvarint(data)
		if n <= 0 || v > math.MaxInt32 {
			err = errADWINTruncated
			return 0
		}
		data = data[n:]
		return int(v)
	}
	f := func() float64 {
		if err != nil || len(data) < 8 {
			err = errADWINTruncated
			return 0
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(data))
		data = data[8:]
		return v
	}
	if v := u(); err == nil && v != adwinVersion {
		return nil, fmt.Errorf("adwin: unknown encoding version %d", v)
	}
	var c ADWINConfig
	c.Delta = f()
	c.Clock = u()
	c.MaxBuckets = u()
	c.MinWindowLength = u()
	c.GracePeriod = u()
	if err != nil {
		return nil, err
	}
	if verr := c.validate(); verr != nil {
		return nil, verr
	}
	a := &ADWIN{cfg: c}
	a.total = f()
	a.variance = f()
	a.width = f()
	a.nBuckets = u()
	a.maxNBuckets = u()
	a.tick = u()
	a.totalWidth = f()
	a.nDetections = u()
	if err == nil && len(data) < 1 {
		err = errADWINTruncated
	}
	if err != nil {
		return nil, err
	}
	a.detected = data[0] != 0
	data = data[1:]
	nr := u()
	if err == nil && (nr < 1 || nr > 64) {
		return nil, errors.New("adwin: bad bucket row count")
	}
	for range nr {
		r := a.newRow()
		r.n = u()
		if err == nil && r.n > c.MaxBuckets+1 {
			return nil, errors.New("adwin: bad bucket count")
		}
		for i := 0; i < r.n && err == nil; i++ {
			r.total[i] = f()
			r.variance[i] = f()
		}
		a.rows = append(a.rows, r)
	}
	if err != nil {
		return nil, err
	}
	if len(data) != 0 {
		return nil, errors.New("adwin: trailing bytes")
	}
	if err := a.validate(); err != nil {
		return nil, err
	}
	return a, nil
}
