package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

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
	progress progress // published after every tick, read by Lag (backpressure)
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

	// The tick's readers and scratch, and the sink that writes its results.
	inCur, labCur     batchCursor
	labVals, evtVals  []float64
	sink              *sink
	outNext, evalNext int64 // the next output and evaluation row to write
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

// ends returns how far the inputs and labels can be read now.
func (r *runner) ends() tick {
	t := tick{In: r.in.Frontier()}
	if r.labels != nil {
		t.Lab = r.labels.End()
	}
	return t
}

// run is the model's loop: tick while there is work, snapshot versions, wait
// otherwise. A sink writes each tick's outputs, evaluation rows and metric
// updates while the next tick is computed. It returns when ctx ends.
func (r *runner) run(ctx context.Context) {
	defer close(r.done)
	r.sink.start(ctx)
	defer r.sink.close()
	defer r.inCur.release()
	defer r.labCur.release()
	r.outNext, r.evalNext = r.out.End(), r.evals.End()
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
		buf := r.sink.buffer()
		r.mu.Lock()
		buf.version = r.st.Version
		r.mu.Unlock()
		err := r.step(ctx, t, buf)
		buf.at = figures{in: r.st.InCursor, lab: r.st.LabCursor, predicted: r.st.Predicted, learned: r.st.Learned}
		// Even after an error, what the tick processed is in the state:
		// its outputs must be written.
		r.sink.submit(buf)
		if err != nil {
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
