package filelog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"github.com/spate-ml/spate/core/stream/internal/ipcmsg"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sys/unix"

	"github.com/spate-ml/spate/core/stream"
)

const schemaFile = "schema.arrow"

// frameBuf is one encoded frame: header and payload, ready to write.
type frameBuf struct {
	b     []byte
	first int64
	rows  int64
}

// group is the frames one flush writes and syncs together.
type group struct {
	frames []*frameBuf
	done   chan struct{}
	err    error
}

// topic is the shared state of one open topic.
type topic struct {
	name          string
	dir           string
	schema        *arrow.Schema
	schemaMeta    []byte // flatbuffer of the schema message, for decoding
	log           *slog.Logger
	mem           memory.Allocator
	sync          SyncMode
	segmentSize   int64
	indexInterval int64
	bufs          sync.Pool // *frameBuf

	// Write side.
	wmu      sync.Mutex
	wake     *sync.Cond // signals writeLoop
	reserved int64      // offset the next Append gets
	cur      *group     // frames waiting for writeLoop
	queued   int        // groups handed to writeLoop and not yet published
	closing  bool
	werr     error // sticky: after a failed write or sync the topic refuses appends

	// Owned by writeLoop.
	active  *segment
	written int64 // offset after the last written row

	syncq   chan written  // writeLoop to syncLoop
	flushed chan struct{} // closed when syncLoop is done

	// Read side.
	mu      sync.RWMutex
	segs    []*segment
	end     int64 // offset after the last durable row
	notify  chan struct{}
	closed  bool
	handles map[*handle]struct{}
	// trimMu is held for reading by every read and for writing by a trim
	// while it closes the files of removed segments.
	trimMu sync.RWMutex
}

// readSchemaFile reads a topic's schema.
func readSchemaFile(dir string) (*arrow.Schema, error) {
	b, err := os.ReadFile(filepath.Join(dir, schemaFile))
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	r, err := ipc.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode schema %s: %w", filepath.Join(dir, schemaFile), err)
	}
	defer r.Release()
	return r.Schema(), nil
}

// createTopicDir creates a topic directory atomically: it is built under a
// temporary name, synced, and renamed into place.
func createTopicDir(root, name string, schema *arrow.Schema, mem memory.Allocator) error {
	tmp := filepath.Join(root, "~new-"+name)
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err := w.Close(); err != nil {
		return fmt.Errorf("encode schema: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(tmp, schemaFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("write schema: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync schema: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close schema: %w", err)
	}
	s, err := createSegment(tmp, 0, true)
	if err != nil {
		return err
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("close segment: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(root, name)); err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	return syncDir(root)
}

// openTopic opens an existing topic directory and recovers its last segment.
func openTopic(name, dir string, schema *arrow.Schema, o Options) (*topic, error) {
	segBases, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	if len(segBases) == 0 {
		return nil, fmt.Errorf("topic directory %s has no segment", dir)
	}
	schemaMeta := ipcmsg.SchemaMeta(schema, o.Allocator)
	t := &topic{
		name:          name,
		dir:           dir,
		schema:        schema,
		schemaMeta:    schemaMeta,
		log:           o.Logger.With("topic", name),
		mem:           o.Allocator,
		sync:          o.Sync,
		segmentSize:   o.SegmentSize,
		indexInterval: o.IndexInterval,
		notify:        make(chan struct{}),
		flushed:       make(chan struct{}),
		syncq:         make(chan written, 64),
		handles:       make(map[*handle]struct{}),
	}
	t.wake = sync.NewCond(&t.wmu)
	for _, base := range segBases[:len(segBases)-1] {
		t.segs = append(t.segs, &segment{base: base, path: filepath.Join(dir, segName(base))})
	}
	last := segBases[len(segBases)-1]
	active, end, err := recoverSegment(t, filepath.Join(dir, segName(last)), last)
	if err != nil {
		return nil, err
	}
	t.segs = append(t.segs, active)
	t.active = active
	t.end = end
	t.reserved = end
	t.written = end
	active.widx = slices.Clone(active.index)
	go t.writeLoop()
	go t.syncLoop()
	return t, nil
}

// encode turns rec into a frame, all but the header's offset fields.
func (t *topic) encode(rec arrow.RecordBatch) (*frameBuf, error) {
	p, err := ipc.GetRecordBatchPayload(rec, ipc.WithAllocator(t.mem))
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	defer p.Release()
	fb, _ := t.bufs.Get().(*frameBuf)
	if fb == nil {
		fb = &frameBuf{}
	}
	var zero [frameHeaderSize]byte
	fb.b = append(fb.b[:0], zero[:]...)
	w := appendWriter{fb}
	if _, err := p.WritePayload(w); err != nil {
		t.bufs.Put(fb)
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	if len(fb.b)-frameHeaderSize > maxPayload {
		t.bufs.Put(fb)
		return nil, fmt.Errorf("encode batch: %d bytes is more than a frame holds", len(fb.b)-frameHeaderSize)
	}
	fb.rows = rec.NumRows()
	return fb, nil
}

type appendWriter struct{ fb *frameBuf }

func (w appendWriter) Write(p []byte) (int, error) {
	w.fb.b = append(w.fb.b, p...)
	return len(p), nil
}

func (t *topic) append(ctx context.Context, h *handle, rec arrow.RecordBatch) (int64, error) {
	fb, crc, err := t.prepare(ctx, rec)
	if err != nil {
		return 0, err
	}
	t.wmu.Lock()
	if t.sync == SyncNone && t.queued == 0 {
		// Nothing to sync and nothing queued before it: write and publish
		// on the caller's goroutine, without the two handoffs to the
		// writer and the syncer (they cost more than the write itself).
		first, err := t.writeDirectLocked(h, fb, crc)
		t.wmu.Unlock()
		return first, err
	}
	first, g, err := t.enqueueLocked(h, fb, crc)
	t.wmu.Unlock()
	if err != nil {
		return 0, err
	}
	if err := g.wait(); err != nil {
		return 0, err
	}
	return first, nil
}

// writeDirectLocked writes one frame to the segment files and publishes it
// at once. The caller holds wmu and has checked that no group is queued,
// so writeLoop is idle and the frame's offsets follow everything written.
func (t *topic) writeDirectLocked(h *handle, fb *frameBuf, crc uint32) (int64, error) {
	first, err := t.reserveLocked(h, fb, crc)
	if err != nil || fb == nil {
		return first, err
	}
	w, err := t.writeGroup(&group{frames: []*frameBuf{fb}})
	t.bufs.Put(fb)
	if err != nil {
		t.failLocked(err)
		return 0, err
	}
	t.publish([]written{w})
	return first, nil
}

// wait blocks until the group is written and synced. A nil group (an empty
// batch) has nothing to wait for.
func (g *group) wait() error {
	if g == nil {
		return nil
	}
	<-g.done
	return g.err
}

// enqueue encodes rec, gives it the next offsets and queues it for
// writeLoop. It does not wait for the disk.
func (t *topic) enqueue(ctx context.Context, h *handle, rec arrow.RecordBatch) (int64, *group, error) {
	fb, crc, err := t.prepare(ctx, rec)
	if err != nil {
		return 0, nil, err
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	return t.enqueueLocked(h, fb, crc)
}

// prepare checks rec and encodes it into a frame (nil for an empty batch)
// with its payload checksum.
func (t *topic) prepare(ctx context.Context, rec arrow.RecordBatch) (*frameBuf, uint32, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if rec == nil {
		return nil, 0, errors.New("nil batch")
	}
	if !rec.Schema().Equal(t.schema) {
		return nil, 0, fmt.Errorf("%w: batch has %s", stream.ErrSchemaMismatch, rec.Schema())
	}
	if rec.NumRows() > maxFrameRows {
		return nil, 0, fmt.Errorf("batch of %d rows is more than a frame holds", rec.NumRows())
	}
	if rec.NumRows() == 0 {
		return nil, 0, nil
	}
	fb, err := t.encode(rec)
	if err != nil {
		return nil, 0, err
	}
	return fb, crcOf(fb.b[frameHeaderSize:]), nil
}

// reserveLocked gives a prepared frame (nil for an empty batch) the next
// offsets and completes its header, or says why the topic takes no
// appends; on refusal the frame's buffer goes back to the pool. The caller
// holds wmu.
func (t *topic) reserveLocked(h *handle, fb *frameBuf, crc uint32) (int64, error) {
	var err error
	switch {
	case t.closing || h.isClosed():
		err = stream.ErrClosed
	case t.werr != nil:
		err = fmt.Errorf("log failed earlier: %w", t.werr)
	}
	if err != nil {
		if fb != nil {
			t.bufs.Put(fb)
		}
		return 0, err
	}
	first := t.reserved
	if fb != nil {
		t.reserved += fb.rows
		fb.first = first
		putFrameHeader(fb.b, frameHeader{length: uint32(len(fb.b) - frameHeaderSize), first: first, rows: uint32(fb.rows), payloadCRC: crc})
	}
	return first, nil
}

// enqueueLocked gives a prepared frame the next offsets and queues it for
// writeLoop. The caller holds wmu.
func (t *topic) enqueueLocked(h *handle, fb *frameBuf, crc uint32) (int64, *group, error) {
	first, err := t.reserveLocked(h, fb, crc)
	if err != nil || fb == nil {
		return first, nil, err
	}
	if t.cur == nil {
		t.cur = &group{done: make(chan struct{})}
		t.queued++
		t.wake.Signal()
	}
	g := t.cur
	g.frames = append(g.frames, fb)
	return first, g, nil
}

// written is a group the writer has put into the segment files, waiting
// for the syncer.
type written struct {
	g     *group
	parts []part // one per segment the group went into, in order
	end   int64  // offset after the group's last row
}

// part is the frames of a group in one segment.
type part struct {
	s   *segment
	idx []indexEntry // index entries for those frames
}

// writeLoop writes queued groups into the segment files and hands them to
// syncLoop, so that the next group is copied while the disk syncs the last.
func (t *topic) writeLoop() {
	defer close(t.syncq)
	for {
		t.wmu.Lock()
		for t.cur == nil && !t.closing {
			t.wake.Wait()
		}
		g := t.cur
		t.cur = nil
		failed := t.werr
		t.wmu.Unlock()
		if g == nil {
			return
		}
		var w written
		var err error
		if failed != nil {
			err = fmt.Errorf("log failed earlier: %w", failed)
		} else if w, err = t.writeGroup(g); err != nil && !t.undoFullDisk(w, err) {
			t.fail(err)
		}
		for _, fb := range g.frames {
			t.bufs.Put(fb)
		}
		g.frames = nil
		if err != nil {
			g.err = err
			close(g.done)
			t.wmu.Lock()
			t.queued--
			t.wmu.Unlock()
			continue
		}
		t.syncq <- w
	}
}

// syncLoop makes written groups durable, publishes them and acknowledges
// their appends. One sync covers every group written before it.
func (t *topic) syncLoop() {
	defer close(t.flushed)
	var failed error
	var ready []written
	for w := range t.syncq {
		ready = append(ready[:0], w)
	drain:
		for {
			select {
			case w, ok := <-t.syncq:
				if !ok {
					break drain
				}
				ready = append(ready, w)
			default:
				break drain
			}
		}
		if failed == nil {
			if err := t.syncSegments(ready); err != nil {
				failed = err
				t.fail(err)
			}
		}
		if failed == nil {
			t.publish(ready)
		}
		for _, w := range ready {
			if failed != nil {
				w.g.err = failed
			}
			close(w.g.done)
		}
		t.wmu.Lock()
		t.queued -= len(ready)
		t.wmu.Unlock()
		clear(ready)
	}
}

// publish makes written groups visible to readers and wakes the waiters.
func (t *topic) publish(ready []written) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range ready {
		for _, p := range w.parts {
			p.s.index = append(p.s.index, p.idx...)
		}
	}
	t.end = ready[len(ready)-1].end
	close(t.notify)
	t.notify = make(chan struct{})
}

// syncSegments syncs every segment the groups went into.
func (t *topic) syncSegments(ws []written) error {
	if t.sync == SyncNone {
		return nil
	}
	var done []*segment
	for _, w := range ws {
		for _, p := range w.parts {
			if slices.Contains(done, p.s) {
				continue
			}
			done = append(done, p.s)
			if err := syncFile(p.s, t.sync); err != nil {
				return err
			}
		}
	}
	return nil
}

func syncFile(s *segment, mode SyncMode) error {
	switch mode {
	case SyncData:
		if err := unix.Fdatasync(int(s.f.Fd())); err != nil {
			return fmt.Errorf("fdatasync segment %s: %w", s.path, err)
		}
	case SyncFull:
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("fsync segment %s: %w", s.path, err)
		}
	}
	return nil
}

// undoFullDisk recovers from a write that failed for lack of space before
// any of its group reached the disk in full: it cuts the partial write off
// the active segment, fails the appends queued behind the group (their
// offsets followed it) and gives their offsets out again, so that appends
// succeed once space returns, without a reopen. It reports whether it did;
// any other failure leaves the topic failed.
func (t *topic) undoFullDisk(w written, err error) bool {
	if !errors.Is(err, unix.ENOSPC) || len(w.parts) > 0 {
		return false
	}
	s := t.active
	if s.f.Truncate(s.size) != nil {
		return false
	}
	if _, serr := s.f.Seek(s.size, io.SeekStart); serr != nil {
		return false
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if next := t.cur; next != nil {
		t.cur = nil
		for _, fb := range next.frames {
			t.bufs.Put(fb)
		}
		next.frames = nil
		next.err = fmt.Errorf("an earlier append failed: %w", err)
		close(next.done)
		t.queued--
	}
	t.reserved = t.written
	t.log.Warn("disk full: the failed appends are refused; appends resume when space returns", "topic", t.dir, "err", err)
	return true
}

// fail makes the topic refuse appends after a write or sync error: after a
// failed sync the kernel may have dropped the dirty pages, so nothing
// written since the last good sync can be acknowledged.
func (t *topic) fail(err error) {
	t.wmu.Lock()
	t.failLocked(err)
	t.wmu.Unlock()
}

// failLocked is fail for a caller that holds wmu.
func (t *topic) failLocked(err error) {
	t.log.Error("write failed; the topic refuses appends until reopened", "err", err)
	if t.werr == nil {
		t.werr = err
	}
}

// writeGroup writes a group's frames (in offset order) to the active
// segment, rolling segments when full.
func (t *topic) writeGroup(g *group) (written, error) {
	w := written{g: g}
	frames := g.frames
	for len(frames) > 0 {
		s := t.active
		n, size := 0, s.size
		for n < len(frames) && (size == segHeaderSize || size+int64(len(frames[n].b)) <= t.segmentSize) {
			size += int64(len(frames[n].b))
			n++
		}
		if n == 0 {
			if err := t.roll(); err != nil {
				return w, err
			}
			continue
		}
		idx, err := t.writeFrames(s, frames[:n])
		if err != nil {
			return w, err
		}
		w.parts = append(w.parts, part{s: s, idx: idx})
		frames = frames[n:]
	}
	w.end = t.written
	return w, nil
}

// writeFrames appends frames to s with writev and returns their index
// entries.
func (t *topic) writeFrames(s *segment, frames []*frameBuf) ([]indexEntry, error) {
	iov := make([][]byte, 0, min(len(frames), 1024))
	for i := 0; i < len(frames); {
		iov = iov[:0]
		for ; i < len(frames) && len(iov) < 1024; i++ {
			iov = append(iov, frames[i].b)
		}
		if err := writevAll(s.f, iov); err != nil {
			return nil, fmt.Errorf("write segment %s: %w", s.path, err)
		}
	}
	var idx []indexEntry
	for _, fb := range frames {
		if s.lastIndexed < 0 || s.size-s.lastIndexed >= t.indexInterval {
			idx = append(idx, indexEntry{off: fb.first, pos: s.size})
			s.lastIndexed = s.size
		}
		s.size += int64(len(fb.b))
		t.written = fb.first + fb.rows
	}
	s.widx = append(s.widx, idx...)
	return idx, nil
}

// writevAll writes every byte of iov at the file's position.
func writevAll(f *os.File, iov [][]byte) error {
	fd := int(f.Fd())
	for len(iov) > 0 {
		n, err := unix.Writev(fd, iov)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return err
		}
		for n > 0 && len(iov) > 0 {
			if n >= len(iov[0]) {
				n -= len(iov[0])
				iov = iov[1:]
			} else {
				iov[0] = iov[0][n:]
				n = 0
			}
		}
		for len(iov) > 0 && len(iov[0]) == 0 {
			iov = iov[1:]
		}
	}
	return nil
}

// roll seals the active segment and starts a new one at the written end.
// The sealed segment is synced first, so a segment that is not the last
// never has an unsynced tail and recovery only needs to scan the last one.
func (t *topic) roll() error {
	old := t.active
	if err := syncFile(old, t.sync); err != nil {
		return err
	}
	if len(old.widx) > 0 {
		if err := writeIndexFile(idxPath(old.path), old.widx); err != nil {
			t.log.Warn("could not write segment index; it will be rebuilt", "segment", old.path, "err", err)
		}
	}
	old.widx = nil
	s, err := createSegment(t.dir, t.written, t.sync != SyncNone)
	if err != nil {
		return err
	}
	t.active = s
	t.mu.Lock()
	t.segs = append(t.segs, s)
	t.mu.Unlock()
	return nil
}

// close stops writeLoop and syncLoop after every queued frame is durable,
// then closes the files and every handle.
func (t *topic) close() error {
	t.wmu.Lock()
	t.closing = true
	t.wake.Broadcast()
	t.wmu.Unlock()
	<-t.flushed
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.notify)
	for h := range t.handles {
		h.closeLocked()
	}
	t.handles = nil
	segs := t.segs
	t.mu.Unlock()
	var errs []error
	for _, s := range segs {
		s.load.Lock()
		s.closed = true
		if s.f != nil {
			if err := s.f.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close segment %s: %w", s.path, err))
			}
		}
		s.load.Unlock()
	}
	return errors.Join(errs...)
}

// read implements stream.Log.Read.
func (t *topic) read(ctx context.Context, h *handle, from int64, maxRows int) ([]arrow.RecordBatch, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, from, err
	}
	t.trimMu.RLock()
	defer t.trimMu.RUnlock()
	t.mu.RLock()
	if h.closed || t.closed {
		t.mu.RUnlock()
		return nil, from, stream.ErrClosed
	}
	end := t.end
	segs := t.segs
	start := t.startLocked()
	t.mu.RUnlock()
	if from < 0 || from > end {
		return nil, from, fmt.Errorf("read at %d (end %d): %w", from, end, stream.ErrOutOfRange)
	}
	if from < start {
		return nil, from, fmt.Errorf("read at %d (start %d): %w", from, start, stream.ErrTrimmed)
	}
	if from == end {
		return nil, from, nil
	}
	stop := end
	if maxRows > 0 && from+int64(maxRows) < stop {
		stop = from + int64(maxRows)
	}
	oneBatch := maxRows <= 0
	d := &decoder{t: t}
	defer d.release()
	var out []arrow.RecordBatch
	fail := func(err error) ([]arrow.RecordBatch, int64, error) {
		for _, r := range out {
			r.Release()
		}
		if errors.Is(err, os.ErrClosed) {
			err = stream.ErrClosed
		}
		return nil, from, err
	}
	k := sort.Search(len(segs), func(i int) bool { return segs[i].base > from }) - 1
	next := from
	for k < len(segs) && next < stop {
		s := segs[k]
		segEnd := end
		if k+1 < len(segs) {
			segEnd = segs[k+1].base
			if err := s.ensureLoaded(t, segEnd); err != nil {
				return fail(err)
			}
		}
		t.mu.RLock()
		idx := s.index
		t.mu.RUnlock()
		i := sort.Search(len(idx), func(i int) bool { return idx[i].off > next }) - 1
		if i < 0 {
			return fail(fmt.Errorf("segment %s has no index entry for offset %d", s.path, next))
		}
		pos, off := idx[i].pos, idx[i].off
		for off < segEnd && next < stop {
			fh, err := readHeaderAt(s.f, pos)
			if err != nil {
				return fail(fmt.Errorf("segment %s: %w", s.path, err))
			}
			if fh.first != off {
				return fail(fmt.Errorf("segment %s: frame at %d starts at offset %d, want %d", s.path, pos, fh.first, off))
			}
			fend := off + int64(fh.rows)
			if fend > next {
				rec, err := d.decode(s, pos, fh)
				if err != nil {
					return fail(err)
				}
				lo, hi := next-off, min(fend, stop)-off
				if lo == 0 && hi == int64(fh.rows) {
					out = append(out, rec)
				} else {
					out = append(out, rec.NewSlice(lo, hi))
					rec.Release()
				}
				next = off + hi
				if oneBatch {
					stop = next
				}
			}
			pos += frameHeaderSize + int64(fh.length)
			off = fend
		}
		k++
	}
	return out, next, nil
}

// decoder turns frame payloads into record batches with one IPC reader.
type decoder struct {
	t   *topic
	dec *ipcmsg.Decoder
}

func (d *decoder) decode(s *segment, pos int64, fh frameHeader) (arrow.RecordBatch, error) {
	payload := make([]byte, fh.length)
	if _, err := s.f.ReadAt(payload, pos+frameHeaderSize); err != nil {
		return nil, fmt.Errorf("segment %s: read frame at %d: %w", s.path, pos, err)
	}
	if err := checkPayload(fh, payload); err != nil {
		return nil, fmt.Errorf("segment %s: frame at %d: %w", s.path, pos, err)
	}
	meta, body, err := splitMessage(payload)
	if err != nil {
		return nil, fmt.Errorf("segment %s: frame at %d: %w", s.path, pos, err)
	}
	if d.dec == nil {
		d.dec = ipcmsg.NewDecoder(d.t.schemaMeta, d.t.mem)
	}
	rec, err := d.dec.Decode(meta, body, int64(fh.rows))
	if err != nil {
		return nil, fmt.Errorf("segment %s: frame at %d: %w", s.path, pos, err)
	}
	return rec, nil
}

func (d *decoder) release() {
	if d.dec != nil {
		d.dec.Release()
	}
}

// wait implements stream.Log.Wait.
func (t *topic) wait(ctx context.Context, h *handle, from int64) error {
	for {
		t.mu.RLock()
		closed, end, ch := h.closed || t.closed, t.end, t.notify
		t.mu.RUnlock()
		if closed {
			return stream.ErrClosed
		}
		if end > from {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.done:
		case <-ch:
		}
	}
}
