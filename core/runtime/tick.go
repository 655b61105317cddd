package runtime

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/spate-ml/spate/core/ml"
)

// maxTickRows bounds the rows of each log one tick consumes: history is
// consumed in slices of both logs, interleaved, rather than all rows then
// all labels.
const maxTickRows = 16384

// lockRows is how many rows a tick processes per hold of the learner's
// lock: synchronous predictions wait at most that long.
const lockRows = 256

// cursorReadRows is how many rows a batchCursor asks its log for at once.
const cursorReadRows = 65536

// batchCursor reads a log forward in large spans and keeps the decoded
// batches, so that ticks ending inside a stored batch do not decode it
// again. Rows below a log's end never change, so a kept batch stays right.
type batchCursor struct {
	read readFunc
	recs []arrow.RecordBatch
	base int64 // offset of the first row of recs[0]
	end  int64 // offset after the last row of recs
}

// at returns the batch holding row `from`, the index of that row in it,
// and how many rows from there on (at most upto-from) the batch holds. The
// batch stays valid until the next call or release.
func (c *batchCursor) at(ctx context.Context, from, upto int64) (arrow.RecordBatch, int, int, error) {
	if from < c.base || from >= c.end {
		c.release()
		recs, err := c.read(ctx, from, int(max(cursorReadRows, min(upto-from, math.MaxInt32))))
		if err != nil {
			return nil, 0, 0, err
		}
		if len(recs) == 0 {
			return nil, 0, 0, fmt.Errorf("rows at %d are not readable", from)
		}
		c.recs, c.base, c.end = recs, from, from
		for _, r := range recs {
			c.end += r.NumRows()
		}
	}
	off := c.base
	for _, r := range c.recs {
		if from < off+r.NumRows() {
			lo := from - off
			return r, int(lo), int(min(r.NumRows()-lo, upto-from)), nil
		}
		off += r.NumRows()
	}
	return nil, 0, 0, fmt.Errorf("rows at %d are not readable", from) // unreachable: from < c.end
}

func (c *batchCursor) release() {
	releaseAll(c.recs)
	c.recs, c.base, c.end = nil, 0, 0
}

// fillF64 writes rows lo..lo+len(dst) of col as float64 to dst (NULL and
// non-numeric values as NaN), with one type switch per column.
func fillF64(col arrow.Array, lo int, dst []float64) {
	n := len(dst)
	switch c := col.(type) {
	case *array.Float64:
		copy(dst, c.Float64Values()[lo:lo+n])
	case *array.Float32:
		for i, v := range c.Float32Values()[lo : lo+n] {
			dst[i] = float64(v)
		}
	case *array.Int64:
		for i, v := range c.Int64Values()[lo : lo+n] {
			dst[i] = float64(v)
		}
	case *array.Int32:
		for i, v := range c.Int32Values()[lo : lo+n] {
			dst[i] = float64(v)
		}
	default:
		for i := range dst {
			dst[i] = numAt(col, lo+i)
		}
		return
	}
	if col.NullN() > 0 {
		for i := range dst {
			if col.IsNull(lo + i) {
				dst[i] = math.NaN()
			}
		}
	}
}

// rowInputs are the learner inputs of a span of rows, row-major: row i's
// numeric inputs are num[i*nNum:(i+1)*nNum]. A fresh span is allocated per
// batch, so a learner may keep the slices it is given.
type rowInputs struct {
	nNum, nCat int
	num        []float64
	cat        []int64
	col        []float64 // scratch: one column
}

func (ri *rowInputs) row(i int) ml.Instance {
	return ml.Instance{Numeric: ri.num[i*ri.nNum : (i+1)*ri.nNum : (i+1)*ri.nNum], Categ: ri.cat[i*ri.nCat : (i+1)*ri.nCat : (i+1)*ri.nCat]}
}

// extract builds the inputs of rows lo..lo+n of rec, the same values
// instance gives row by row (string categories get codes in order of first
// appearance). The caller holds r.mu.
func (r *runner) extract(rec arrow.RecordBatch, lo, n int, ri *rowInputs) {
	ri.nNum, ri.nCat = len(r.plan.num), len(r.plan.cat)
	ri.num = make([]float64, n*ri.nNum)
	ri.cat = make([]int64, n*ri.nCat)
	if cap(ri.col) < n {
		ri.col = make([]float64, n)
	}
	col := ri.col[:n]
	for j, c := range r.plan.num {
		fillF64(rec.Column(c), lo, col)
		for i, v := range col {
			ri.num[i*ri.nNum+j] = v
		}
	}
	for j, c := range r.plan.cat {
		a := rec.Column(c)
		if r.plan.catStr[j] {
			for i := range n {
				if a.IsNull(lo + i) {
					ri.cat[i*ri.nCat+j] = 0
					continue
				}
				s := keyAt(a, lo+i)
				d := r.st.Dicts[j]
				if d == nil {
					d = map[string]int64{}
					r.st.Dicts[j] = d
				}
				code, ok := d[s]
				if !ok {
					code = int64(len(d))
					d[strings.Clone(s)] = code
				}
				ri.cat[i*ri.nCat+j] = code
			}
			continue
		}
		fillF64(a, lo, col)
		for i, v := range col {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				ri.cat[i*ri.nCat+j] = 0
			} else {
				ri.cat[i*ri.nCat+j] = int64(v)
			}
		}
	}
}

// learn teaches the learner one example; the metrics get the prediction
// made before (prequential), through buf when there is one. The caller
// holds r.mu.
func (r *runner) learn(in ml.Instance, y, score float64, class int, inOff, labOff int64, buf *tickBuffers) {
	r.learner.Learn(in, y)
	idx := r.st.Learned
	r.st.Learned++
	if buf == nil {
		for _, m := range r.live {
			m.Update(score, class, y)
		}
		return
	}
	buf.learned(score, class, y)
	if idx >= r.evalNext {
		buf.eval(inOff, labOff, score, class, y)
		r.evalNext = idx + 1
	}
}

// step processes label rows up to t.Lab, then input rows up to t.In. Labels
// go first so that a row whose label is already there is predicted and then
// learned at once (prequential order over history); a label whose row has
// not arrived waits for it. With buf, it collects the outputs and
// evaluation rows not yet in their logs, and the metric updates.
func (r *runner) step(ctx context.Context, t tick, buf *tickBuffers) (err error) {
	defer func() {
		// A tick cut short still moved the state: record how far it went,
		// so that replaying the ticks stays exact.
		if err != nil {
			r.st.Ticks = append(r.st.Ticks, tick{In: r.st.InCursor, Lab: r.st.LabCursor})
		}
	}()
	var rows, labels int64
	for r.labels != nil && r.st.LabCursor < t.Lab {
		rec, lo, n, err := r.labCur.at(ctx, r.st.LabCursor, t.Lab)
		if err != nil {
			return fmt.Errorf("read labels at %d: %w", r.st.LabCursor, err)
		}
		keys := rec.Column(r.plan.labKey)
		vals := slices.Grow(r.labVals[:0], n)[:n]
		r.labVals = vals
		fillF64(rec.Column(r.plan.label), lo, vals)
		for c := 0; c < n; c += lockRows {
			r.mu.Lock()
			for i := c; i < min(n, c+lockRows); i++ {
				off := r.st.LabCursor
				r.st.LabCursor++
				labels++
				y, ok := r.validLabel(vals[i])
				if !ok {
					r.stats.mu.Lock()
					r.stats.badLabels++
					r.stats.mu.Unlock()
					continue
				}
				key := keyAt(keys, lo+i)
				if p, ok := r.st.Pending[key]; ok {
					delete(r.st.Pending, key)
					r.learn(ml.Instance{Numeric: p.Num, Categ: p.Cat}, y, p.Score, p.Class, p.Offset, off, buf)
				} else {
					key = strings.Clone(key)
					r.st.Parked[key] = parkedLabel{Offset: off, Label: y}
					r.parkQ = append(r.parkQ, queued{key, off})
					r.evictParked()
				}
			}
			r.mu.Unlock()
		}
	}
	var in rowInputs
	for r.st.InCursor < t.In {
		rec, lo, n, err := r.inCur.at(ctx, r.st.InCursor, t.In)
		if err != nil {
			return fmt.Errorf("read inputs at %d: %w", r.st.InCursor, err)
		}
		keys := rec.Column(r.plan.key)
		var evt []float64
		var evtCol arrow.Array
		if r.plan.time >= 0 {
			evtCol = rec.Column(r.plan.time)
			evt = slices.Grow(r.evtVals[:0], n)[:n]
			r.evtVals = evt
			fillF64(evtCol, lo, evt)
		}
		first := r.st.InCursor
		r.mu.Lock() // guards the category dictionaries
		r.extract(rec, lo, n, &in)
		r.mu.Unlock()
		if buf != nil && first+int64(n) > r.outNext {
			buf.hold(rec)
		}
		for c := 0; c < n; c += lockRows {
			r.mu.Lock()
			for i := c; i < min(n, c+lockRows); i++ {
				off := first + int64(i)
				key := keyAt(keys, lo+i)
				x := in.row(i)
				r.learner.Predict(x, &r.scratch)
				score, class := r.scratch.Score, r.scratch.Class
				r.st.Predicted++
				rows++
				if buf != nil && off >= r.outNext {
					ok := evtCol != nil && !evtCol.IsNull(lo+i)
					var ev float64
					if ok {
						ev = evt[i]
					}
					buf.output(key, score, class, r.scratch.Proba, off, ev, ok)
					r.outNext = off + 1
				}
				if !r.spec.PredictOnly {
					if pl, ok := r.st.Parked[key]; ok {
						delete(r.st.Parked, key)
						r.learn(x, pl.Label, score, class, off, pl.Offset, buf)
					} else {
						key = strings.Clone(key)
						r.st.Pending[key] = &pendingRow{Offset: off, Num: slices.Clone(x.Numeric), Cat: slices.Clone(x.Categ), Score: score, Class: class}
						r.pendQ = append(r.pendQ, queued{key, off})
						r.evictPending()
					}
				}
				r.st.InCursor++
			}
			r.mu.Unlock()
		}
	}
	r.st.Ticks = append(r.st.Ticks, t)
	if buf != nil {
		buf.rows += rows
		buf.labels += labels
	}
	return nil
}

func (r *runner) evictPending() {
	for len(r.st.Pending) > r.spec.MaxPending && len(r.pendQ) > 0 {
		q := r.pendQ[0]
		r.pendQ = r.pendQ[1:]
		if p, ok := r.st.Pending[q.key]; ok && p.Offset == q.off {
			delete(r.st.Pending, q.key)
			r.st.DroppedRows++
		}
	}
	if len(r.pendQ) > 2*len(r.st.Pending)+1024 {
		r.pendQ = rebuildQueue(r.pendQ, func(q queued) bool { p, ok := r.st.Pending[q.key]; return ok && p.Offset == q.off })
	}
}

func (r *runner) evictParked() {
	for len(r.st.Parked) > r.spec.MaxPending && len(r.parkQ) > 0 {
		q := r.parkQ[0]
		r.parkQ = r.parkQ[1:]
		if p, ok := r.st.Parked[q.key]; ok && p.Offset == q.off {
			delete(r.st.Parked, q.key)
			r.st.DroppedLabels++
		}
	}
	if len(r.parkQ) > 2*len(r.st.Parked)+1024 {
		r.parkQ = rebuildQueue(r.parkQ, func(q queued) bool { p, ok := r.st.Parked[q.key]; return ok && p.Offset == q.off })
	}
}

func rebuildQueue(q []queued, live func(queued) bool) []queued {
	out := make([]queued, 0, len(q)/2)
	for _, e := range q {
		if live(e) {
			out = append(out, e)
		}
	}
	return out
}

// restoreQueues rebuilds the eviction queues after a state was loaded.
func (r *runner) restoreQueues() {
	r.pendQ = r.pendQ[:0]
	for k, p := range r.st.Pending {
		r.pendQ = append(r.pendQ, queued{k, p.Offset})
	}
	sort.Slice(r.pendQ, func(a, b int) bool { return r.pendQ[a].off < r.pendQ[b].off })
	r.parkQ = r.parkQ[:0]
	for k, p := range r.st.Parked {
		r.parkQ = append(r.parkQ, queued{k, p.Offset})
	}
	sort.Slice(r.parkQ, func(a, b int) bool { return r.parkQ[a].off < r.parkQ[b].off })
}
