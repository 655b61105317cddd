package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/schema"
	"github.com/spate-ml/spate/core/stream"
)

// Metric is a windowed model metric over (prediction, label) pairs.
type Metric interface {
	Update(score float64, class int, label float64)
	Value() float64
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

// MetricFactory builds a metric by TurboML name with a window size.
type MetricFactory func(name string, window int) (Metric, error)

// Learners builds learners from TurboML configs and restores them from
// bytes written by ml.Marshal.
type Learners interface {
	Build(configs []json.RawMessage, spec ml.Spec) (ml.Learner, error)
	Unmarshal(b []byte) (ml.Learner, error)
}

// OutputSchema is the schema of a model's output log: one row per input row,
// at the same offset.
var OutputSchema = arrow.NewSchema([]arrow.Field{
	{Name: "key", Type: arrow.BinaryTypes.String},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64},
	{Name: "predicted_class", Type: arrow.PrimitiveTypes.Int64},
	{Name: "class_probabilities", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64)},
	{Name: "model_version", Type: arrow.PrimitiveTypes.Int64},
	{Name: "input_offset", Type: arrow.PrimitiveTypes.Int64},
	{Name: "event_time", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "processing_time_us", Type: arrow.PrimitiveTypes.Int64},
}, nil)

// EvalSchema is the schema of a model's evaluation log: one row per learned
// sample, the prediction that was made for it and its label.
var EvalSchema = arrow.NewSchema([]arrow.Field{
	{Name: "input_offset", Type: arrow.PrimitiveTypes.Int64},
	{Name: "label_offset", Type: arrow.PrimitiveTypes.Int64},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64},
	{Name: "predicted_class", Type: arrow.PrimitiveTypes.Int64},
	{Name: "label", Type: arrow.PrimitiveTypes.Float64},
	{Name: "processing_time_us", Type: arrow.PrimitiveTypes.Int64},
}, nil)

// inputSource is where a model reads its input rows: the raw columns of a
// dataset followed by its materialized features, aligned by offset.
type inputSource interface {
	// Frontier is the offset before which rows (and their features) can
	// be read.
	Frontier() int64
	// Read returns batches holding rows from `from` on, below Frontier.
	Read(ctx context.Context, from int64, maxRows int) ([]arrow.RecordBatch, error)
	// Wait blocks until Frontier() > from or ctx ends.
	Wait(ctx context.Context, from int64) error
}

// runner is one deployed model: it predicts every input row on arrival,
// learns from each label joined by key, and snapshots versions. One
// goroutine (run) owns the state; mu guards the learner for synchronous
// predictions from other goroutines.
type runner struct {
	e        *Engine
	ns, name string
	spec     ModelSpec
	plan     *inputPlan
	nClasses int
	kind     ml.Kind

	mu      sync.Mutex
	learner ml.Learner
	st      *runnerState
	live    map[string]Metric // continuously updated, window DefaultMetricWindow

	in       inputSource
	inFields []schema.Field // the columns of in's batches
	inKey    string
	labels   stream.Log // nil when predict-only
	out      stream.Log
	evals    stream.Log

	pendQ []queued // FIFO of pending keys (lazy deletion)
	parkQ []queued

	paused  atomic.Bool
	wake    chan struct{}
	reqs    chan func()
	cancel  context.CancelFunc
	done    chan struct{}
	lastErr atomic.Value // string

	versionedLearned int64
	versionedAt      time.Time
	historyEnd       tick
	historyDone      bool

	stats   runnerStats
	logs    logRing
	scratch ml.Prediction
}

type queued struct {
	key string
	off int64
}

// runnerStats are the live figures of a model.
type runnerStats struct {
	mu             sync.Mutex
	rowsPerSec     float64
	labelsPerSec   float64
	lastRate       time.Time
	rowsSince      int64
	labelsSince    int64
	labelsSeen     int64
	badLabels      int64
	latencySamples []latencySample // ingest ack → output written (ring)
	latencyNext    int
}

// latencySample is one ingest-to-output latency and when it was measured.
type latencySample struct {
	at  time.Time
	sec float64
}

// latencyWindow is how far back the reported latency percentiles look.
const latencyWindow = 5 * time.Second

func (s *runnerStats) observe(rows, labels int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.lastRate.IsZero() {
		s.lastRate = now
	}
	s.rowsSince += rows
	s.labelsSince += labels
	if dt := now.Sub(s.lastRate).Seconds(); dt >= 1 {
		s.rowsPerSec = float64(s.rowsSince) / dt
		s.labelsPerSec = float64(s.labelsSince) / dt
		s.rowsSince, s.labelsSince, s.lastRate = 0, 0, now
	}
}

func (s *runnerStats) latency(sec float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	smp := latencySample{at: time.Now(), sec: sec}
	if len(s.latencySamples) < 4096 {
		s.latencySamples = append(s.latencySamples, smp)
		return
	}
	s.latencySamples[s.latencyNext] = smp
	s.latencyNext = (s.latencyNext + 1) % len(s.latencySamples)
}

// recentLatencies returns the latencies measured in the last
// latencyWindow, in seconds. The caller holds s.mu.
func (s *runnerStats) recentLatencies() []float64 {
	cut := time.Now().Add(-latencyWindow)
	out := make([]float64, 0, len(s.latencySamples))
	for _, l := range s.latencySamples {
		if l.at.After(cut) {
			out = append(out, l.sec)
		}
	}
	return out
}

// logRing keeps the last lines a model logged, for get_logs.
type logRing struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRing) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := time.Now().UTC().Format("2006-01-02T15:04:05.000Z") + " " + fmt.Sprintf(format, args...)
	l.lines = append(l.lines, line)
	if len(l.lines) > 500 {
		l.lines = append(l.lines[:0:0], l.lines[len(l.lines)-400:]...)
	}
}

func (l *logRing) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// instance builds the learner inputs of row i of rec into num/cat. String
// categories get codes in order of first appearance; with insert false an
// unseen string gets a code no category has. The caller holds r.mu.
func (r *runner) instance(rec arrow.RecordBatch, i int, num []float64, cat []int64, insert bool) {
	for j, c := range r.plan.num {
		num[j] = numAt(rec.Column(c), i)
	}
	for j, c := range r.plan.cat {
		col := rec.Column(c)
		switch {
		case col.IsNull(i):
			cat[j] = 0
		case r.plan.catStr[j]:
			s := keyAt(col, i)
			d := r.st.Dicts[j]
			if d == nil && insert {
				d = map[string]int64{}
				r.st.Dicts[j] = d
			}
			code, ok := d[s]
			if !ok {
				code = int64(len(d))
				if insert {
					d[s] = code
				}
			}
			cat[j] = code
		default:
			v := numAt(col, i)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				cat[j] = 0
			} else {
				cat[j] = int64(v)
			}
		}
	}
}

// validLabel turns a label value into the learner's target, or false when
// the value cannot be learned (null, NaN, or a class out of range).
func (r *runner) validLabel(v float64) (float64, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	if r.kind == ml.Classifier {
		if v != math.Trunc(v) || v < 0 || (r.nClasses > 0 && int(v) >= r.nClasses) {
			return 0, false
		}
	}
	return v, true
}

// tickBuffers accumulates what one tick appends to the output and
// evaluation logs.
type tickBuffers struct {
	outKeys  []string
	outScore []float64
	outClass []int64
	outProba [][]float64
	outOff   []int64
	outEvt   []float64
	outEvtOK []bool
	evIn     []int64
	evLab    []int64
	evScore  []float64
	evClass  []int64
	evLabel  []float64
}

func (b *tickBuffers) reset() {
	b.outKeys, b.outScore, b.outClass, b.outProba = b.outKeys[:0], b.outScore[:0], b.outClass[:0], b.outProba[:0]
	b.outOff, b.outEvt, b.outEvtOK = b.outOff[:0], b.outEvt[:0], b.outEvtOK[:0]
	b.evIn, b.evLab, b.evScore, b.evClass, b.evLabel = b.evIn[:0], b.evLab[:0], b.evScore[:0], b.evClass[:0], b.evLabel[:0]
}

// learnOne teaches the learner one example and updates the metrics.
func (r *runner) learnOne(num []float64, cat []int64, y, score float64, class int, inOff, labOff int64, buf *tickBuffers, emit bool) {
	r.mu.Lock()
	r.learner.Learn(ml.Instance{Numeric: num, Categ: cat}, y)
	r.mu.Unlock()
	idx := r.st.Learned
	r.st.Learned++
	for _, m := range r.live {
		m.Update(score, class, y)
	}
	if emit && buf != nil && idx >= r.evals.End() {
		buf.evIn = append(buf.evIn, inOff)
		buf.evLab = append(buf.evLab, labOff)
		buf.evScore = append(buf.evScore, score)
		buf.evClass = append(buf.evClass, int64(class))
		buf.evLabel = append(buf.evLabel, y)
	}
}

// step processes label rows up to t.Lab, then input rows up to t.In. Labels
// go first so that a row whose label is already there is predicted and then
// learned at once (prequential order over history); a label whose row has
// not arrived waits for it. With emit, it appends outputs and evaluation
// rows not yet in their logs.
func (r *runner) step(ctx context.Context, t tick, emit bool, buf *tickBuffers) error {
	nNum, nCat := len(r.plan.num), len(r.plan.cat)
	outEnd := int64(math.MaxInt64)
	if emit {
		outEnd = r.out.End()
	}
	var rows, labels int64
	for r.labels != nil && r.st.LabCursor < t.Lab {
		recs, _, err := r.labels.Read(ctx, r.st.LabCursor, int(min(t.Lab-r.st.LabCursor, 65536)))
		if err != nil {
			return fmt.Errorf("read labels at %d: %w", r.st.LabCursor, err)
		}
		if len(recs) == 0 {
			return fmt.Errorf("labels at %d are not readable", r.st.LabCursor)
		}
		for _, rec := range recs {
			n := int(min(rec.NumRows(), t.Lab-r.st.LabCursor))
			keys, vals := rec.Column(r.plan.labKey), rec.Column(r.plan.label)
			for i := 0; i < n; i++ {
				off := r.st.LabCursor
				r.st.LabCursor++
				labels++
				y, ok := r.validLabel(numAt(vals, i))
				if !ok {
					r.stats.mu.Lock()
					r.stats.badLabels++
					r.stats.mu.Unlock()
					continue
				}
				key := keyAt(keys, i)
				if p, ok := r.st.Pending[key]; ok {
					delete(r.st.Pending, key)
					r.learnOne(p.Num, p.Cat, y, p.Score, p.Class, p.Offset, off, buf, emit)
				} else {
					r.st.Parked[key] = parkedLabel{Offset: off, Label: y}
					r.parkQ = append(r.parkQ, queued{key, off})
					r.evictParked()
				}
			}
		}
		for _, rec := range recs {
			rec.Release()
		}
	}
	for r.st.InCursor < t.In {
		recs, err := r.in.Read(ctx, r.st.InCursor, int(min(t.In-r.st.InCursor, 65536)))
		if err != nil {
			return fmt.Errorf("read inputs at %d: %w", r.st.InCursor, err)
		}
		if len(recs) == 0 {
			return fmt.Errorf("inputs at %d are not readable", r.st.InCursor)
		}
		for _, rec := range recs {
			n := int(min(rec.NumRows(), t.In-r.st.InCursor))
			keys := rec.Column(r.plan.key)
			for i := 0; i < n; i++ {
				off := r.st.InCursor
				key := keyAt(keys, i)
				num := make([]float64, nNum)
				cat := make([]int64, nCat)
				r.mu.Lock() // guards the learner and the category dictionaries
				r.instance(rec, i, num, cat, true)
				r.learner.Predict(ml.Instance{Numeric: num, Categ: cat}, &r.scratch)
				score, class := r.scratch.Score, r.scratch.Class
				var proba []float64
				if emit && off >= outEnd {
					proba = append([]float64(nil), r.scratch.Proba...)
				}
				r.mu.Unlock()
				r.st.Predicted++
				rows++
				if emit && off >= outEnd {
					buf.outKeys = append(buf.outKeys, key)
					buf.outScore = append(buf.outScore, score)
					buf.outClass = append(buf.outClass, int64(class))
					buf.outProba = append(buf.outProba, proba)
					buf.outOff = append(buf.outOff, off)
					if r.plan.time >= 0 && !rec.Column(r.plan.time).IsNull(i) {
						buf.outEvt = append(buf.outEvt, numAt(rec.Column(r.plan.time), i))
						buf.outEvtOK = append(buf.outEvtOK, true)
					} else {
						buf.outEvt = append(buf.outEvt, 0)
						buf.outEvtOK = append(buf.outEvtOK, false)
					}
				}
				if !r.spec.PredictOnly {
					if pl, ok := r.st.Parked[key]; ok {
						delete(r.st.Parked, key)
						r.learnOne(num, cat, pl.Label, score, class, off, pl.Offset, buf, emit)
					} else {
						r.st.Pending[key] = &pendingRow{Offset: off, Num: num, Cat: cat, Score: score, Class: class}
						r.pendQ = append(r.pendQ, queued{key, off})
						r.evictPending()
					}
				}
				r.st.InCursor++
			}
		}
		for _, rec := range recs {
			rec.Release()
		}
	}
	r.st.Ticks = append(r.st.Ticks, t)
	if emit {
		r.stats.observe(rows, labels)
		r.stats.mu.Lock()
		r.stats.labelsSeen += labels
		r.stats.mu.Unlock()
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

// flush appends a tick's outputs and evaluation rows durably.
func (r *runner) flush(ctx context.Context, buf *tickBuffers) error {
	mem := memory.DefaultAllocator
	now := time.Now().UnixMicro()
	if n := len(buf.outKeys); n > 0 {
		b := array.NewRecordBuilder(mem, OutputSchema)
		b.Field(0).(*array.StringBuilder).AppendValues(buf.outKeys, nil)
		b.Field(1).(*array.Float64Builder).AppendValues(buf.outScore, nil)
		b.Field(2).(*array.Int64Builder).AppendValues(buf.outClass, nil)
		lb := b.Field(3).(*array.ListBuilder)
		vb := lb.ValueBuilder().(*array.Float64Builder)
		for _, p := range buf.outProba {
			lb.Append(true)
			vb.AppendValues(p, nil)
		}
		vb2 := b.Field(4).(*array.Int64Builder)
		for i := 0; i < n; i++ {
			vb2.Append(r.st.Version)
		}
		b.Field(5).(*array.Int64Builder).AppendValues(buf.outOff, nil)
		b.Field(6).(*array.Float64Builder).AppendValues(buf.outEvt, buf.outEvtOK)
		tb := b.Field(7).(*array.Int64Builder)
		for i := 0; i < n; i++ {
			tb.Append(now)
		}
		rec := b.NewRecordBatch()
		b.Release()
		first, err := r.out.Append(ctx, rec)
		rec.Release()
		if err != nil {
			return fmt.Errorf("append outputs: %w", err)
		}
		if first != buf.outOff[0] {
			return fmt.Errorf("output log out of step: appended at %d for input %d", first, buf.outOff[0])
		}
		if at, ok := r.e.ackTime(r.ns, r.spec.DatasetID, buf.outOff[n-1]); ok {
			r.stats.latency(time.Since(at).Seconds())
		}
	}
	if n := len(buf.evIn); n > 0 {
		b := array.NewRecordBuilder(mem, EvalSchema)
		b.Field(0).(*array.Int64Builder).AppendValues(buf.evIn, nil)
		b.Field(1).(*array.Int64Builder).AppendValues(buf.evLab, nil)
		b.Field(2).(*array.Float64Builder).AppendValues(buf.evScore, nil)
		b.Field(3).(*array.Int64Builder).AppendValues(buf.evClass, nil)
		b.Field(4).(*array.Float64Builder).AppendValues(buf.evLabel, nil)
		tb := b.Field(5).(*array.Int64Builder)
		for i := 0; i < n; i++ {
			tb.Append(now)
		}
		rec := b.NewRecordBatch()
		b.Release()
		_, err := r.evals.Append(ctx, rec)
		rec.Release()
		if err != nil {
			return fmt.Errorf("append evaluations: %w", err)
		}
	}
	buf.reset()
	return nil
}

// ends returns how far the inputs and labels can be read now.
func (r *runner) ends() tick {
	t := tick{In: r.in.Frontier()}
	if r.labels != nil {
		t.Lab = r.labels.End()
	}
	return t
}

// maxTickRows bounds the rows of each log one tick consumes.
const maxTickRows = 4096

// run is the model's loop: tick while there is work, snapshot versions, wait
// otherwise. It returns when ctx ends.
func (r *runner) run(ctx context.Context) {
	defer close(r.done)
	buf := &tickBuffers{}
	r.versionedAt = time.Now()
	r.versionedLearned = r.st.Learned
	for ctx.Err() == nil {
		// Control requests run between ticks, on this goroutine.
		select {
		case f := <-r.reqs:
			f()
			continue
		default:
		}
		if r.paused.Load() {
			select {
			case <-ctx.Done():
			case <-r.wake:
			case f := <-r.reqs:
				f()
			}
			continue
		}
		t := r.ends()
		// Bound a tick so that history is consumed in slices of both logs,
		// interleaved, rather than all rows then all labels.
		t.In = min(t.In, r.st.InCursor+maxTickRows)
		t.Lab = min(t.Lab, r.st.LabCursor+maxTickRows)
		if t.In == r.st.InCursor && t.Lab == r.st.LabCursor {
			if !r.historyDone {
				r.historyDone = true
				r.snapshot(ctx, "history")
			}
			r.maybeSnapshot(ctx)
			r.waitForWork(ctx)
			continue
		}
		if err := r.step(ctx, t, true, buf); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.fail(err)
			buf.reset()
			sleepCtx(ctx, time.Second)
			continue
		}
		if err := r.flush(ctx, buf); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.fail(err)
			sleepCtx(ctx, time.Second)
			continue
		}
		if !r.historyDone && r.st.InCursor >= r.historyEnd.In && r.st.LabCursor >= r.historyEnd.Lab {
			r.historyDone = true
			r.snapshot(ctx, "history")
		}
		r.maybeSnapshot(ctx)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (r *runner) fail(err error) {
	r.lastErr.Store(err.Error())
	r.logs.add("error: %v", err)
	r.e.log.Error("model step failed", "namespace", r.ns, "model", r.name, "err", err)
}

// waitForWork blocks until inputs or labels grow, a control request comes,
// or a version is due.
func (r *runner) waitForWork(ctx context.Context) {
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	woke := make(chan struct{}, 3)
	go func(from int64) { _ = r.in.Wait(wctx, from); woke <- struct{}{} }(r.st.InCursor)
	if r.labels != nil {
		go func(from int64) { _ = r.labels.Wait(wctx, from); woke <- struct{}{} }(r.st.LabCursor)
	}
	select {
	case <-woke:
	case <-wctx.Done():
	case <-r.wake:
	case f := <-r.reqs:
		f()
	}
}

// do runs f on the runner's goroutine between ticks and waits for it.
func (r *runner) do(ctx context.Context, f func()) error {
	done := make(chan struct{})
	select {
	case r.reqs <- func() { f(); close(done) }:
	case <-r.done:
		return errors.New("model is stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// predictRow runs the live learner on row i of rec (raw columns followed by
// features) without learning: synchronous inference.
func (r *runner) predictRow(rec arrow.RecordBatch, i int) (ml.Prediction, int64) {
	num := make([]float64, len(r.plan.num))
	cat := make([]int64, len(r.plan.cat))
	var p ml.Prediction
	r.mu.Lock()
	r.instance(rec, i, num, cat, false)
	r.learner.Predict(ml.Instance{Numeric: num, Categ: cat}, &p)
	version := r.st.Version
	r.mu.Unlock()
	return p, version
}
