package filelog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"golang.org/x/sys/unix"

	"github.com/spate-ml/spate/core/stream"
)

// Broker is the embedded, durable stream.Broker: one directory per topic
// under Options.Dir. A lock file keeps a second Broker, in this process or
// another, out of a directory in use.
type Broker struct {
	opts Options
	lock *os.File // holds an exclusive flock on Dir/.lock

	mu     sync.Mutex
	topics map[string]*topic
	closed bool
}

var _ stream.Broker = (*Broker)(nil)

// Open returns a Broker over opts.Dir, creating the directory when missing
// and removing topics left half-created or half-deleted by a crash. Topics
// are recovered when first opened.
func Open(opts Options) (*Broker, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("filelog: open %s: %w", o.Dir, err)
	}
	lock, err := lockDir(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("filelog: open %s: %w", o.Dir, err)
	}
	ents, err := os.ReadDir(o.Dir)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("filelog: open %s: %w", o.Dir, err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "~") {
			p := filepath.Join(o.Dir, e.Name())
			o.Logger.Info("removing unfinished topic directory", "dir", p)
			if err := os.RemoveAll(p); err != nil {
				lock.Close()
				return nil, fmt.Errorf("filelog: open %s: %w", o.Dir, err)
			}
		}
	}
	return &Broker{opts: o, lock: lock, topics: make(map[string]*topic)}, nil
}

// lockDir takes an exclusive lock on dir so that a second broker, in this
// process or another, cannot write the same files. The kernel drops the lock
// when the process dies.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errors.New("directory is in use by another broker")
		}
		return nil, fmt.Errorf("lock: %w", err)
	}
	return f, nil
}

// Dir returns the directory the broker keeps its topics in.
func (b *Broker) Dir() string { return b.opts.Dir }

// Open returns a handle on topic, creating the topic with schema when it does
// not exist and recovering it when it is not open yet.
func (b *Broker) Open(ctx context.Context, name string, schema *arrow.Schema) (stream.Log, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filelog: open %q: %w", name, err)
	}
	if err := stream.ValidateTopic(name); err != nil {
		return nil, fmt.Errorf("filelog: open: %w", err)
	}
	if schema == nil {
		return nil, fmt.Errorf("filelog: open %q: nil schema", name)
	}
	if hasDictionary(schema) {
		return nil, fmt.Errorf("filelog: open %q: dictionary-encoded columns are not supported", name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("filelog: open %q: %w", name, stream.ErrClosed)
	}
	t, ok := b.topics[name]
	if !ok {
		var err error
		if t, err = b.openTopic(name, schema); err != nil {
			return nil, fmt.Errorf("filelog: open %q: %w", name, err)
		}
		b.topics[name] = t
	}
	if !t.schema.Equal(schema) {
		return nil, fmt.Errorf("filelog: open %q: %w: have %s, asked for %s", name, stream.ErrSchemaMismatch, t.schema, schema)
	}
	return t.newHandle(b), nil
}

// openTopic opens the topic's directory, creating it when missing.
func (b *Broker) openTopic(name string, schema *arrow.Schema) (*topic, error) {
	dir := filepath.Join(b.opts.Dir, name)
	stored, err := readSchemaFile(dir)
	if errors.Is(err, os.ErrNotExist) {
		if _, statErr := os.Stat(dir); statErr == nil {
			return nil, fmt.Errorf("directory %s exists but holds no schema", dir)
		}
		if err := createTopicDir(b.opts.Dir, name, schema, b.opts.Allocator); err != nil {
			return nil, err
		}
		stored = schema
	} else if err != nil {
		return nil, err
	}
	if !stored.Equal(schema) {
		return nil, fmt.Errorf("%w: have %s, asked for %s", stream.ErrSchemaMismatch, stored, schema)
	}
	return openTopic(name, dir, stored, b.opts)
}

// Delete removes a topic's directory and closes its open handles. Deleting a
// topic that does not exist is not an error.
func (b *Broker) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("filelog: delete %q: %w", name, err)
	}
	if err := stream.ValidateTopic(name); err != nil {
		return fmt.Errorf("filelog: delete: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("filelog: delete %q: %w", name, stream.ErrClosed)
	}
	if t, ok := b.topics[name]; ok {
		delete(b.topics, name)
		if err := t.close(); err != nil {
			b.opts.Logger.Warn("closing deleted topic", "topic", name, "err", err)
		}
	}
	dir := filepath.Join(b.opts.Dir, name)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	grave := filepath.Join(b.opts.Dir, "~del-"+name+"-"+strconv.FormatInt(time.Now().UnixNano(), 10))
	if err := os.Rename(dir, grave); err != nil {
		return fmt.Errorf("filelog: delete %q: %w", name, err)
	}
	if err := syncDir(b.opts.Dir); err != nil {
		return fmt.Errorf("filelog: delete %q: %w", name, err)
	}
	if err := os.RemoveAll(grave); err != nil {
		return fmt.Errorf("filelog: delete %q: %w", name, err)
	}
	return nil
}

// Close closes every open topic after its queued appends are written.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	var errs []error
	for name, t := range b.topics {
		if err := t.close(); err != nil {
			errs = append(errs, fmt.Errorf("filelog: close %q: %w", name, err))
		}
	}
	b.topics = nil
	// Closing the file drops the flock.
	if err := b.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("filelog: unlock %s: %w", b.opts.Dir, err))
	}
	return errors.Join(errs...)
}

// release drops a handle; the last one closes the topic.
func (b *Broker) release(t *topic, h *handle) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	t.mu.Lock()
	h.closeLocked()
	delete(t.handles, h)
	last := len(t.handles) == 0 && !t.closed
	t.mu.Unlock()
	if !last || b.topics[t.name] != t {
		return nil
	}
	delete(b.topics, t.name)
	if err := t.close(); err != nil {
		return fmt.Errorf("filelog: close %q: %w", t.name, err)
	}
	return nil
}

func (t *topic) newHandle(b *Broker) *handle {
	h := &handle{t: t, b: b, done: make(chan struct{})}
	t.mu.Lock()
	t.handles[h] = struct{}{}
	t.mu.Unlock()
	return h
}

// handle is one opened stream.Log on a topic.
type handle struct {
	t      *topic
	b      *Broker
	done   chan struct{} // closed when the handle closes
	closed bool          // guarded by t.mu
}

var (
	_ stream.Log    = (*handle)(nil)
	_ AsyncAppender = (*handle)(nil)
)

// AsyncAppender is implemented by the logs this package opens: it lets one
// producer keep several appends in flight, in order. See AppendAsync.
type AsyncAppender = stream.AsyncAppender

func (h *handle) closeLocked() {
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

func (h *handle) isClosed() bool {
	h.t.mu.RLock()
	defer h.t.mu.RUnlock()
	return h.closed
}

// Append encodes rec, queues it and returns once it is synced. ctx is checked
// before the batch is queued; once queued, Append waits for the disk even
// if ctx ends, because the rows may already be durable.
func (h *handle) Append(ctx context.Context, rec arrow.RecordBatch) (int64, error) {
	first, err := h.t.append(ctx, h, rec)
	if err != nil {
		return 0, fmt.Errorf("filelog: append to %q: %w", h.t.name, err)
	}
	return first, nil
}

// AppendAsync queues rec behind every append queued before it and returns
// the offset of its first row without waiting for the disk. The rows count in
// End(), can be read and survive a crash only once wait has returned nil; if
// wait returns an error, the rows are not acknowledged (and every append
// queued after them fails too). Appends queued one after another by one
// goroutine keep their order, so a single stream can keep several batches in
// flight and still have them group-committed in order. The caller keeps
// ownership of rec.
func (h *handle) AppendAsync(ctx context.Context, rec arrow.RecordBatch) (first int64, wait func() error, err error) {
	first, g, err := h.t.enqueue(ctx, h, rec)
	if err != nil {
		return 0, nil, fmt.Errorf("filelog: append to %q: %w", h.t.name, err)
	}
	return first, func() error {
		if err := g.wait(); err != nil {
			return fmt.Errorf("filelog: append to %q: %w", h.t.name, err)
		}
		return nil
	}, nil
}

// Read returns rows from offset from on, at most maxRows of them; with
// maxRows <= 0 it returns the rest of the batch holding from.
func (h *handle) Read(ctx context.Context, from int64, maxRows int) ([]arrow.RecordBatch, int64, error) {
	recs, next, err := h.t.read(ctx, h, from, maxRows)
	if err != nil {
		return nil, from, fmt.Errorf("filelog: read %q: %w", h.t.name, err)
	}
	return recs, next, nil
}

func (h *handle) Wait(ctx context.Context, from int64) error {
	if err := h.t.wait(ctx, h, from); err != nil {
		return fmt.Errorf("filelog: wait on %q at %d: %w", h.t.name, from, err)
	}
	return nil
}

func (h *handle) End() int64 {
	h.t.mu.RLock()
	defer h.t.mu.RUnlock()
	return h.t.end
}

func (h *handle) Schema() *arrow.Schema { return h.t.schema }

// Close closes this handle; the last handle of a topic closes its files.
func (h *handle) Close() error {
	return h.b.release(h.t, h)
}

// hasDictionary reports whether any column, at any depth, is dictionary
// encoded.
func hasDictionary(s *arrow.Schema) bool {
	var walk func(dt arrow.DataType) bool
	walk = func(dt arrow.DataType) bool {
		if dt.ID() == arrow.DICTIONARY {
			return true
		}
		if n, ok := dt.(arrow.NestedType); ok {
			for _, f := range n.Fields() {
				if walk(f.Type) {
					return true
				}
			}
		}
		return false
	}
	for _, f := range s.Fields() {
		if walk(f.Type) {
			return true
		}
	}
	return false
}
