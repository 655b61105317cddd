// Package memlog owns the in-memory implementation of the stream.Broker and
// stream.Log interfaces. It keeps every appended batch in memory (retained,
// never copied) and loses everything when the process ends, so it serves
// tests and single-process experiments, not durable storage.
package memlog

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/spate-ml/spate/core/stream"
)

// Broker is an in-memory stream.Broker. The zero value is not usable; call
// New.
type Broker struct {
	mu     sync.Mutex
	topics map[string]*topic
	closed bool
}

var _ stream.Broker = (*Broker)(nil)

// New returns an empty in-memory broker.
func New() *Broker {
	return &Broker{topics: make(map[string]*topic)}
}

// Open returns a handle on topic, creating the topic with schema when it does
// not exist. Every handle of a topic sees the same rows.
func (b *Broker) Open(ctx context.Context, name string, schema *arrow.Schema) (stream.Log, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memlog: open %q: %w", name, err)
	}
	if err := stream.ValidateTopic(name); err != nil {
		return nil, fmt.Errorf("memlog: open: %w", err)
	}
	if schema == nil {
		return nil, fmt.Errorf("memlog: open %q: nil schema", name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("memlog: open %q: %w", name, stream.ErrClosed)
	}
	t, ok := b.topics[name]
	if !ok {
		t = &topic{name: name, schema: schema, notify: make(chan struct{})}
		b.topics[name] = t
	} else if !t.schema.Equal(schema) {
		return nil, fmt.Errorf("memlog: open %q: %w: have %s, asked for %s", name, stream.ErrSchemaMismatch, t.schema, schema)
	}
	return t.newHandle(), nil
}

// Delete removes topic and its rows and closes its open handles. Deleting a
// topic that does not exist is not an error.
func (b *Broker) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memlog: delete %q: %w", name, err)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return fmt.Errorf("memlog: delete %q: %w", name, stream.ErrClosed)
	}
	t := b.topics[name]
	delete(b.topics, name)
	b.mu.Unlock()
	if t != nil {
		t.shut()
	}
	return nil
}

// Close closes every handle and drops every topic.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	topics := b.topics
	b.topics = nil
	b.mu.Unlock()
	for _, t := range topics {
		t.shut()
	}
	return nil
}

// entry is one appended batch and the offset of its first row.
type entry struct {
	first int64
	rec   arrow.RecordBatch
	at    time.Time // when it was appended
}

// topic holds the rows of one topic, shared by its handles.
type topic struct {
	name   string
	schema *arrow.Schema

	mu      sync.RWMutex
	entries []entry
	start   int64 // offset of the oldest row kept (retention)
	end     int64
	notify  chan struct{} // closed and replaced on every append and on shut
	dead    bool
	handles map[*handle]struct{}
}

func (t *topic) newHandle() *handle {
	h := &handle{t: t, done: make(chan struct{})}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.handles == nil {
		t.handles = make(map[*handle]struct{})
	}
	t.handles[h] = struct{}{}
	return h
}

// shut closes every handle and releases the retained batches.
func (t *topic) shut() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dead {
		return
	}
	t.dead = true
	for h := range t.handles {
		h.closeLocked()
	}
	t.handles = nil
	for _, e := range t.entries {
		e.rec.Release()
	}
	t.entries = nil
	close(t.notify)
}

// handle is one opened stream.Log on a topic.
type handle struct {
	t      *topic
	done   chan struct{} // closed by Close or when the topic goes away
	closed bool          // guarded by t.mu
}

var (
	_ stream.Log     = (*handle)(nil)
	_ stream.Trimmer = (*handle)(nil)
)

// closeLocked marks h closed; t.mu must be held for writing.
func (h *handle) closeLocked() {
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

func (h *handle) Append(ctx context.Context, rec arrow.RecordBatch) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memlog: append to %q: %w", h.t.name, err)
	}
	if rec == nil {
		return 0, fmt.Errorf("memlog: append to %q: nil batch", h.t.name)
	}
	if !rec.Schema().Equal(h.t.schema) {
		return 0, fmt.Errorf("memlog: append to %q: %w: batch has %s", h.t.name, stream.ErrSchemaMismatch, rec.Schema())
	}
	t := h.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if h.closed || t.dead {
		return 0, fmt.Errorf("memlog: append to %q: %w", t.name, stream.ErrClosed)
	}
	first := t.end
	n := rec.NumRows()
	if n == 0 {
		return first, nil
	}
	rec.Retain()
	t.entries = append(t.entries, entry{first: first, rec: rec, at: time.Now()})
	t.end += n
	close(t.notify)
	t.notify = make(chan struct{})
	return first, nil
}

// AppendAsync is Append with the same signature as the durable back end's
// pipelined append. In memory there is nothing to wait for: the rows are
// visible when it returns and wait always returns nil.
func (h *handle) AppendAsync(ctx context.Context, rec arrow.RecordBatch) (first int64, wait func() error, err error) {
	first, err = h.Append(ctx, rec)
	if err != nil {
		return 0, nil, err
	}
	return first, func() error { return nil }, nil
}

// Read returns rows from offset from on, at most maxRows of them; with
// maxRows <= 0 it returns the rest of the batch holding from.
func (h *handle) Read(ctx context.Context, from int64, maxRows int) ([]arrow.RecordBatch, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, from, fmt.Errorf("memlog: read %q: %w", h.t.name, err)
	}
	t := h.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	if h.closed || t.dead {
		return nil, from, fmt.Errorf("memlog: read %q: %w", t.name, stream.ErrClosed)
	}
	if from < 0 || from > t.end {
		return nil, from, fmt.Errorf("memlog: read %q at %d (end %d): %w", t.name, from, t.end, stream.ErrOutOfRange)
	}
	if from < t.start {
		return nil, from, fmt.Errorf("memlog: read %q at %d (start %d): %w", t.name, from, t.start, stream.ErrTrimmed)
	}
	if from == t.end {
		return nil, from, nil
	}
	// The last entry whose first row is at or before from.
	i := sort.Search(len(t.entries), func(i int) bool { return t.entries[i].first > from }) - 1
	budget := int64(maxRows)
	var out []arrow.RecordBatch
	next := from
	for ; i < len(t.entries); i++ {
		e := t.entries[i]
		lo := next - e.first
		hi := e.rec.NumRows()
		if maxRows > 0 && hi-lo > budget {
			hi = lo + budget
		}
		if lo == 0 && hi == e.rec.NumRows() {
			e.rec.Retain()
			out = append(out, e.rec)
		} else {
			out = append(out, e.rec.NewSlice(lo, hi))
		}
		next += hi - lo
		if maxRows <= 0 {
			break
		}
		budget -= hi - lo
		if budget <= 0 {
			break
		}
	}
	return out, next, nil
}

func (h *handle) Wait(ctx context.Context, from int64) error {
	t := h.t
	for {
		t.mu.RLock()
		closed, dead, end, ch := h.closed, t.dead, t.end, t.notify
		t.mu.RUnlock()
		if closed || dead {
			return fmt.Errorf("memlog: wait on %q: %w", t.name, stream.ErrClosed)
		}
		if end > from {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("memlog: wait on %q at %d: %w", t.name, from, ctx.Err())
		case <-h.done:
		case <-ch:
		}
	}
}

func (h *handle) End() int64 {
	h.t.mu.RLock()
	defer h.t.mu.RUnlock()
	return h.t.end
}

func (h *handle) Schema() *arrow.Schema { return h.t.schema }

// Close closes this handle; the topic's rows stay for other handles and
// later Opens.
func (h *handle) Close() error {
	t := h.t
	t.mu.Lock()
	defer t.mu.Unlock()
	h.closeLocked()
	delete(t.handles, h)
	return nil
}

// Start implements stream.Trimmer.
func (h *handle) Start() int64 {
	h.t.mu.RLock()
	defer h.t.mu.RUnlock()
	return h.t.start
}

// Segments implements stream.Trimmer: each appended batch is a segment, its
// size the bytes of its buffers.
func (h *handle) Segments() []stream.Segment {
	t := h.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]stream.Segment, 0, len(t.entries))
	for _, e := range t.entries {
		var n int64
		for _, c := range e.rec.Columns() {
			n += int64(c.Data().SizeInBytes())
		}
		out = append(out, stream.Segment{Base: e.first, End: e.first + e.rec.NumRows(), Bytes: n, LastWrite: e.at})
	}
	return out
}

// TrimBefore implements stream.Trimmer: it drops (and releases) the batches
// whose rows all lie before off, except the newest one.
func (h *handle) TrimBefore(ctx context.Context, off int64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memlog: trim %q: %w", h.t.name, err)
	}
	t := h.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if h.closed || t.dead {
		return 0, fmt.Errorf("memlog: trim %q: %w", t.name, stream.ErrClosed)
	}
	k := 0
	for k < len(t.entries)-1 && t.entries[k].first+t.entries[k].rec.NumRows() <= off {
		t.entries[k].rec.Release()
		k++
	}
	if k > 0 {
		t.entries = slices.Clone(t.entries[k:])
		t.start = t.entries[0].first
	}
	return t.start, nil
}
