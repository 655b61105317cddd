package runtime

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// tickBuffers accumulates what one tick writes: outputs, evaluation rows
// and metric updates, in columns, so that each log gets one batch per tick.
type tickBuffers struct {
	version int64   // the version outputs name
	at      figures // the runner's figures after the tick

	outKeys   []string
	outScore  []float64
	outClass  []int64
	outProba  []float64 // every output's probabilities, concatenated
	outPOffs  []int32   // output i's are outProba[outPOffs[i]:outPOffs[i+1]]
	outOff    []int64
	outEvt    []float64
	outEvtOK  []bool
	held      []arrow.RecordBatch // the input batches outKeys point into
	evIn      []int64
	evLab     []int64
	evScore   []float64
	evClass   []int64
	evLabel   []float64
	mScore    []float64 // every learned sample, for the live metrics
	mClass    []int
	mLabel    []float64
	rows      int64 // input rows the tick predicted
	labels    int64 // label rows the tick read
	lastInput int64 // offset of the last input row written, for latency
}

func (b *tickBuffers) reset() {
	b.outKeys, b.outScore, b.outClass, b.outProba = b.outKeys[:0], b.outScore[:0], b.outClass[:0], b.outProba[:0]
	b.outPOffs, b.outOff, b.outEvt, b.outEvtOK = b.outPOffs[:0], b.outOff[:0], b.outEvt[:0], b.outEvtOK[:0]
	releaseAll(b.held)
	clear(b.held)
	b.held = b.held[:0]
	b.evIn, b.evLab, b.evScore, b.evClass, b.evLabel = b.evIn[:0], b.evLab[:0], b.evScore[:0], b.evClass[:0], b.evLabel[:0]
	b.mScore, b.mClass, b.mLabel = b.mScore[:0], b.mClass[:0], b.mLabel[:0]
	b.rows, b.labels = 0, 0
}

func (b *tickBuffers) empty() bool {
	return len(b.outKeys) == 0 && len(b.evIn) == 0 && len(b.mScore) == 0 && b.rows == 0 && b.labels == 0
}

// hold keeps rec alive until the buffers are written (output keys are
// views of its key column).
func (b *tickBuffers) hold(rec arrow.RecordBatch) {
	if n := len(b.held); n > 0 && b.held[n-1] == rec {
		return
	}
	rec.Retain()
	b.held = append(b.held, rec)
}

func (b *tickBuffers) output(key string, score float64, class int, proba []float64, off int64, evt float64, evtOK bool) {
	if len(b.outPOffs) == 0 {
		b.outPOffs = append(b.outPOffs, 0)
	}
	b.outKeys = append(b.outKeys, key)
	b.outScore = append(b.outScore, score)
	b.outClass = append(b.outClass, int64(class))
	b.outProba = append(b.outProba, proba...)
	b.outPOffs = append(b.outPOffs, int32(len(b.outProba)))
	b.outOff = append(b.outOff, off)
	b.outEvt = append(b.outEvt, evt)
	b.outEvtOK = append(b.outEvtOK, evtOK)
}

func (b *tickBuffers) eval(inOff, labOff int64, score float64, class int, y float64) {
	b.evIn = append(b.evIn, inOff)
	b.evLab = append(b.evLab, labOff)
	b.evScore = append(b.evScore, score)
	b.evClass = append(b.evClass, int64(class))
	b.evLabel = append(b.evLabel, y)
}

func (b *tickBuffers) learned(score float64, class int, y float64) {
	b.mScore = append(b.mScore, score)
	b.mClass = append(b.mClass, class)
	b.mLabel = append(b.mLabel, y)
}

// figures are a runner's counts after a tick: once the sink has written
// the tick, they are what the logs and metrics show.
type figures struct {
	in, lab, predicted, learned int64
	metrics                     map[string]float64
}

// writeProgress records which parts of a tickBuffers are written.
type writeProgress struct{ metrics, outputs, evals bool }

// sink writes the runner's tick buffers on a goroutine of its own, so
// that the next tick is computed while the last one is written; the
// runner's goroutine keeps the learner. Buffers are written in order.
type sink struct {
	r    *runner
	work chan *tickBuffers
	free chan *tickBuffers
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	cond    *sync.Cond
	pending int     // buffers submitted and not yet written
	written figures // as of the last buffer written
}

// sinkDepth is how many tick buffers may wait to be written.
const sinkDepth = 2

func newSink(r *runner) *sink {
	s := &sink{r: r, work: make(chan *tickBuffers, sinkDepth), free: make(chan *tickBuffers, sinkDepth+1)}
	s.cond = sync.NewCond(&s.mu)
	for range sinkDepth + 1 {
		s.free <- &tickBuffers{}
	}
	return s
}

// start runs the writer until ctx ends and every submitted buffer is
// written (or given up, when ctx ends while an append keeps failing).
func (s *sink) start(ctx context.Context) {
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		for b := range s.work {
			s.r.writeRetrying(ctx, b)
			at := b.at
			at.metrics = make(map[string]float64, len(s.r.live))
			for name, m := range s.r.live {
				at.metrics[name] = m.(*sinkMetric).m.Value()
			}
			b.reset()
			s.mu.Lock()
			s.written = at
			s.pending--
			s.cond.Broadcast()
			s.mu.Unlock()
			s.free <- b
		}
	}()
}

// buffer returns an empty buffer to fill, waiting while the writer is
// sinkDepth buffers behind.
func (s *sink) buffer() *tickBuffers { return <-s.free }

// submit queues b to be written, or gives it back when it holds nothing.
func (s *sink) submit(b *tickBuffers) {
	if b.empty() {
		s.free <- b
		return
	}
	s.mu.Lock()
	s.pending++
	s.mu.Unlock()
	s.work <- b
}

// drain waits until every submitted buffer is written: the live metrics
// are then current.
func (s *sink) drain() {
	s.mu.Lock()
	for s.pending > 0 {
		s.cond.Wait()
	}
	s.mu.Unlock()
}

// figures returns the figures as of the last buffer written and whether
// buffers are still waiting to be written (when not, the runner's own
// figures are current and may be read on its goroutine).
func (s *sink) figures() (figures, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written, s.pending > 0
}

// close stops the writer after it has written what was submitted.
func (s *sink) close() {
	close(s.work)
	if s.done != nil {
		<-s.done
	}
}

// sinkMetric is a live metric that the sink updates; reading it from the
// runner's goroutine first waits for the sink, so that a version or a
// stats read sees every sample learned so far.
type sinkMetric struct {
	m Metric
	s *sink
}

func (m *sinkMetric) Update(score float64, class int, label float64) { m.m.Update(score, class, label) }
func (m *sinkMetric) Value() float64                                 { m.s.drain(); return m.m.Value() }
func (m *sinkMetric) MarshalBinary() ([]byte, error)                 { m.s.drain(); return m.m.MarshalBinary() }
func (m *sinkMetric) UnmarshalBinary(b []byte) error                 { m.s.drain(); return m.m.UnmarshalBinary(b) }

// writeRetrying writes b, retrying every second while an append fails
// (the model's state has moved past these rows, so they must not be
// dropped), until ctx ends.
func (r *runner) writeRetrying(ctx context.Context, b *tickBuffers) {
	var done writeProgress
	for {
		err := r.writeBuffers(context.WithoutCancel(ctx), b, &done)
		if err == nil {
			return
		}
		r.fail(err)
		if ctx.Err() != nil {
			return
		}
		sleepCtx(ctx, time.Second)
	}
}

// writeBuffers updates the live metrics with b's learned samples and
// appends b's outputs and evaluation rows, one batch per log. done records
// what is through, so that a retry does nothing twice.
func (r *runner) writeBuffers(ctx context.Context, b *tickBuffers, done *writeProgress) error {
	if !done.metrics {
		for _, m := range r.live {
			inner := m
			if sm, ok := m.(*sinkMetric); ok {
				inner = sm.m
			}
			for i := range b.mScore {
				inner.Update(b.mScore[i], b.mClass[i], b.mLabel[i])
			}
		}
		if b.rows > 0 || b.labels > 0 {
			r.stats.observe(b.rows, b.labels)
			r.stats.mu.Lock()
			r.stats.labelsSeen += b.labels
			r.stats.mu.Unlock()
		}
		done.metrics = true
	}
	mem := memory.DefaultAllocator
	now := time.Now().UnixMicro()
	if n := len(b.outKeys); n > 0 && !done.outputs {
		rb := array.NewRecordBuilder(mem, OutputSchema)
		rb.Reserve(n)
		rb.Field(0).(*array.StringBuilder).AppendValues(b.outKeys, nil)
		rb.Field(1).(*array.Float64Builder).AppendValues(b.outScore, nil)
		rb.Field(2).(*array.Int64Builder).AppendValues(b.outClass, nil)
		lb := rb.Field(3).(*array.ListBuilder)
		pb := lb.ValueBuilder().(*array.Float64Builder)
		pb.Reserve(len(b.outProba))
		for i := range n {
			lb.Append(true)
			pb.AppendValues(b.outProba[b.outPOffs[i]:b.outPOffs[i+1]], nil)
		}
		vb := rb.Field(4).(*array.Int64Builder)
		tb := rb.Field(7).(*array.Int64Builder)
		for range n {
			vb.UnsafeAppend(b.version)
			tb.UnsafeAppend(now)
		}
		rb.Field(5).(*array.Int64Builder).AppendValues(b.outOff, nil)
		rb.Field(6).(*array.Float64Builder).AppendValues(b.outEvt, b.outEvtOK)
		rec := rb.NewRecordBatch()
		rb.Release()
		first, err := r.out.Append(ctx, rec)
		rec.Release()
		if err != nil {
			return fmt.Errorf("append outputs: %w", err)
		}
		if first != b.outOff[0] {
			return fmt.Errorf("output log out of step: appended at %d for input %d", first, b.outOff[0])
		}
		done.outputs = true
		if at, ok := r.e.ackTime(r.ns, r.spec.DatasetID, b.outOff[n-1]); ok {
			r.stats.latency(time.Since(at).Seconds())
		}
	}
	if n := len(b.evIn); n > 0 && !done.evals {
		rb := array.NewRecordBuilder(mem, EvalSchema)
		rb.Reserve(n)
		rb.Field(0).(*array.Int64Builder).AppendValues(b.evIn, nil)
		rb.Field(1).(*array.Int64Builder).AppendValues(b.evLab, nil)
		rb.Field(2).(*array.Float64Builder).AppendValues(b.evScore, nil)
		rb.Field(3).(*array.Int64Builder).AppendValues(b.evClass, nil)
		rb.Field(4).(*array.Float64Builder).AppendValues(b.evLabel, nil)
		tb := rb.Field(5).(*array.Int64Builder)
		for range n {
			tb.UnsafeAppend(now)
		}
		rec := rb.NewRecordBatch()
		rb.Release()
		_, err := r.evals.Append(ctx, rec)
		rec.Release()
		if err != nil {
			return fmt.Errorf("append evaluations: %w", err)
		}
		done.evals = true
	}
	return nil
}
