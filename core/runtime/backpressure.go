package runtime

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// Backpressure.
//
// A dataset's lag is the number of its rows appended but not yet consumed
// by its slowest running consumer: a model reading it as input (rows
// predicted), a model reading it as labels (labels joined), or its feature
// materializer (rows whose features are computed; counted only while a
// running model reads the dataset, since the features are what the model
// waits for). Paused models do not count. A dataset nobody consumes has no
// lag, so history loaded before a model is deployed is never slowed down.
//
// When the lag exceeds BackpressureOptions.MaxLagRows, Admit refuses new
// rows with a *LagError naming the lagging consumer and a retry delay; the
// server turns it into HTTP 429 with Retry-After, and Flight DoPut waits
// before reading the producer's next batch. Rows are never dropped: a row
// is either refused before it is read or appended durably.

// DefaultMaxLagRows is the default lag bound of a dataset.
const DefaultMaxLagRows = 1_000_000

// BackpressureOptions configure when appends are refused.
type BackpressureOptions struct {
	// MaxLagRows is the lag beyond which appends are refused (default
	// DefaultMaxLagRows; negative: never).
	MaxLagRows int64
}

// ErrBackpressure is wrapped by every *LagError.
var ErrBackpressure = errors.New("backpressure")

// LagError says that a dataset's consumers are too far behind to take more
// rows now.
type LagError struct {
	Dataset    string
	Consumer   string // "model fraud_model", "labels of model m", "features of dataset d"
	Lag, Max   int64
	RetryAfter time.Duration
}

func (e *LagError) Error() string {
	return fmt.Sprintf("dataset %q is %d rows ahead of its slowest consumer, %s (the bound is %d rows): slow down and retry after %s",
		e.Dataset, e.Lag, e.Consumer, e.Max, e.RetryAfter.Round(time.Millisecond))
}

func (e *LagError) Unwrap() error { return ErrBackpressure }

// backpressure holds the lag bound; each runner publishes its own progress
// (runner.progress) after every tick.
type backpressure struct {
	max int64
}

// progress is a runner's consumed offsets and its input rate.
type progress struct {
	published atomic.Bool // set after the runner's first tick
	in, lab   atomic.Int64
	rate      atomic.Uint64 // float64 bits: rows consumed per second (EWMA)
	// Owned by the runner's goroutine.
	lastAt       time.Time
	lastIn, last int64
}

func newBackpressure(o BackpressureOptions) *backpressure {
	if o.MaxLagRows == 0 {
		o.MaxLagRows = DefaultMaxLagRows
	}
	return &backpressure{max: o.MaxLagRows}
}

// publishProgress records how far r has consumed its logs. It runs on the
// runner's goroutine after every tick.
func (r *runner) publishProgress() {
	p := &r.progress
	in, lab := r.st.InCursor, r.st.LabCursor
	p.in.Store(in)
	p.lab.Store(lab)
	p.published.Store(true)
	now := time.Now()
	if p.lastAt.IsZero() {
		p.lastAt, p.lastIn, p.last = now, in, lab
		return
	}
	if dt := now.Sub(p.lastAt).Seconds(); dt >= 0.1 {
		inst := float64(in-p.lastIn+lab-p.last) / dt
		old := math.Float64frombits(p.rate.Load())
		p.rate.Store(math.Float64bits(0.7*old + 0.3*inst))
		p.lastAt, p.lastIn, p.last = now, in, lab
	}
}

// Lag returns dataset id's lag and its slowest consumer ("" when nothing
// consumes it), and that consumer's rate in rows per second (0: unknown).
// It runs before every append, so it allocates nothing but the name of
// the slowest consumer.
func (e *Engine) Lag(ns, id string) (lag int64, consumer string, rate float64) {
	e.mu.Lock()
	h := e.datasets[dsKey{ns, id}]
	if h == nil {
		e.mu.Unlock()
		return 0, "", 0
	}
	end := h.log.End()
	var slowest *runner
	labels := false
	readers := 0
	for _, r := range e.models {
		if r.ns != ns || r.paused.Load() {
			continue
		}
		isIn := r.spec.DatasetID == id
		isLab := r.spec.Label != nil && r.spec.Label.DatasetID == id && r.labels != nil
		if !isIn && !isLab {
			continue
		}
		readers++
		p := &r.progress
		if isIn {
			if l := end - r.out.End(); l > lag {
				lag, slowest, labels = l, r, false
			}
		}
		if isLab && p.published.Load() {
			if l := end - p.lab.Load(); l > lag {
				lag, slowest, labels = l, r, true
			}
		}
	}
	e.mu.Unlock()
	if slowest != nil {
		rate = math.Float64frombits(slowest.progress.rate.Load())
		consumer = fmt.Sprintf("model %q", slowest.name)
		if labels {
			consumer += " (labels)"
		}
	}
	if readers > 0 {
		e.feat.mu.Lock()
		run := e.feat.runs[dsKey{ns, id}]
		e.feat.mu.Unlock()
		if run != nil {
			if l := end - run.out.End(); l > lag {
				lag, consumer, rate = l, fmt.Sprintf("the feature materializer of %q", id), 0
			}
		}
	}
	return lag, consumer, rate
}

// Admit says whether dataset id takes more rows now: nil, or a *LagError
// (wrapping ErrBackpressure) when its lag exceeds the bound.
func (e *Engine) Admit(ns, id string) error {
	if e.bp.max < 0 {
		return nil
	}
	lag, who, rate := e.Lag(ns, id)
	if lag <= e.bp.max {
		return nil
	}
	// Come back when the consumer should be half way below the bound.
	retry := time.Second
	if rate > 0 {
		retry = time.Duration(float64(lag-e.bp.max/2) / rate * float64(time.Second))
	}
	retry = min(max(retry, 100*time.Millisecond), 30*time.Second)
	return &LagError{Dataset: id, Consumer: who, Lag: lag, Max: e.bp.max, RetryAfter: retry}
}

// MaxLagRows is the lag bound in force (negative: none).
func (e *Engine) MaxLagRows() int64 { return e.bp.max }
