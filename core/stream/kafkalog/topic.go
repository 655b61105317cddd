package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/spate-ml/spate/core/stream/internal/ipcmsg"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/spate-ml/spate/core/stream"
)

// entry locates one record of the log: its Kafka offset and the offset of
// its first row. The rows of entry i are [first_i, first_{i+1}).
type entry struct {
	k     int64
	first int64
}

// topic is the state one Broker keeps about one open Kafka topic; its
// handles share it.
type topic struct {
	b           *Broker
	name, kname string
	log         *slog.Logger
	schema      *arrow.Schema
	schemaMeta  []byte

	wmu sync.Mutex // serializes the reservation and queueing of appends

	mu     sync.Mutex
	idle   *sync.Cond // signalled when inflight drops to 0
	leader int32
	id     [16]byte
	index  []entry
	end    int64 // rows in the log
	kNext  int64 // Kafka offset after the last record looked at
	// Reservation state of this process's appends: the next first row, the
	// records in flight and the error that poisoned them.
	resEnd   int64
	inflight int
	failed   error
	notify   chan struct{} // closed and replaced when the index moves
	closed   bool
	handles  map[*handle]struct{}
	cache    []*kgo.Record // the records of Read's last fetch
}

func newTopic(b *Broker, name, kname string) *topic {
	t := &topic{
		b: b, name: name, kname: kname, log: b.o.Logger.With("topic", kname),
		leader: -1, notify: make(chan struct{}), handles: map[*handle]struct{}{},
	}
	t.idle = sync.NewCond(&t.mu)
	return t
}

func (t *topic) setSchema(s *arrow.Schema) {
	t.schema = s
	t.schemaMeta = schemaMessage(s, t.b.o.Allocator)
}

// refreshLeader asks the cluster for the partition's leader and topic id,
// retrying while the topic has no leader yet.
func (t *topic) refreshLeader(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var last error
	for {
		md, err := t.b.adm.Metadata(ctx, t.kname)
		if err == nil {
			td, ok := md.Topics[t.kname]
			switch {
			case !ok:
				err = kerr.UnknownTopicOrPartition
			case td.Err != nil:
				err = td.Err
			case len(td.Partitions) != 1:
				return fmt.Errorf("topic %s has %d partitions, want 1", t.kname, len(td.Partitions))
			default:
				p := td.Partitions[0]
				if p.Err == nil && p.Leader >= 0 {
					t.mu.Lock()
					t.leader, t.id = p.Leader, td.ID
					t.mu.Unlock()
					return nil
				}
				err = p.Err
				if err == nil {
					err = kerr.LeaderNotAvailable
				}
			}
		}
		last = err
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return fmt.Errorf("find the leader of %s: %w (last: %v)", t.kname, err, last)
		}
	}
}

// fetch reads records from Kafka offset k on, straight from the leader,
// refreshing the leader and retrying on the errors a leader change gives.
func (t *topic) fetch(ctx context.Context, k int64, maxBytes int32) (kgo.FetchPartition, error) {
	backoff := 50 * time.Millisecond
	var last error
	for attempt := 0; attempt < 12; attempt++ {
		if attempt > 0 {
			if err := sleepCtx(ctx, backoff); err != nil {
				return kgo.FetchPartition{}, fmt.Errorf("fetch %s at %d: %w (last: %v)", t.kname, k, err, last)
			}
			backoff = min(2*backoff, time.Second)
			if err := t.refreshLeader(ctx); err != nil {
				return kgo.FetchPartition{}, fmt.Errorf("fetch %s at %d: %w", t.kname, k, err)
			}
		}
		t.mu.Lock()
		leader, id := t.leader, t.id
		t.mu.Unlock()
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID = -1
		req.MaxWaitMillis = 0
		req.MinBytes = 1
		req.MaxBytes = maxBytes
		req.IsolationLevel = 1
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = t.kname, id
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = 0, k, maxBytes
		rp.CurrentLeaderEpoch, rp.LogStartOffset = -1, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		kresp, err := t.b.cl.Broker(int(leader)).Request(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return kgo.FetchPartition{}, fmt.Errorf("fetch %s at %d: %w", t.kname, k, err)
			}
			last = err
			continue
		}
		resp := kresp.(*kmsg.FetchResponse)
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			last = err
			continue
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return kgo.FetchPartition{}, fmt.Errorf("fetch %s at %d: response names %d topics", t.kname, k, len(resp.Topics))
		}
		fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{
			Offset: k, IsolationLevel: kgo.ReadCommitted(), Topic: t.kname, Partition: 0,
		}, &resp.Topics[0].Partitions[0], kgo.DefaultDecompressor(), nil)
		if fp.Err != nil {
			if errors.Is(fp.Err, kerr.OffsetOutOfRange) {
				return fp, fmt.Errorf("fetch %s at %d: %w (the log starts at %d: were records deleted?)", t.kname, k, fp.Err, fp.LogStartOffset)
			}
			last = fp.Err
			if kerr.IsRetriable(fp.Err) || errors.Is(fp.Err, kerr.UnknownTopicID) {
				continue
			}
			return fp, fmt.Errorf("fetch %s at %d: %w", t.kname, k, fp.Err)
		}
		return fp, nil
	}
	return kgo.FetchPartition{}, fmt.Errorf("fetch %s at %d: %w", t.kname, k, last)
}

// load reads the whole partition: the schema record, then every record,
// building the index. It returns the stored schema, or nil when the topic
// is empty.
func (t *topic) load(ctx context.Context) (*arrow.Schema, error) {
	var schema *arrow.Schema
	var k int64
	for {
		fp, err := t.fetch(ctx, k, 16<<20)
		if err != nil {
			return nil, err
		}
		if fp.LogStartOffset > 0 {
			return nil, fmt.Errorf("topic %s starts at offset %d: its first records were deleted (retention?)", t.kname, fp.LogStartOffset)
		}
		for _, r := range fp.Records {
			if schema == nil {
				m, err := parseHeaders(r)
				if err != nil || m.kind != kindSchema {
					return nil, fmt.Errorf("topic %s: the record at offset %d is not a schema record: is it a Spate topic?", t.kname, r.Offset)
				}
				if schema, err = decodeSchema(r.Value); err != nil {
					return nil, fmt.Errorf("topic %s: %w", t.kname, err)
				}
				t.mu.Lock()
				t.kNext = r.Offset + 1
				t.mu.Unlock()
				continue
			}
			t.indexRecords([]*kgo.Record{r})
		}
		if len(fp.Records) > 0 {
			k = fp.Records[len(fp.Records)-1].Offset + 1
		}
		if k >= fp.LastStableOffset {
			break
		}
		if len(fp.Records) == 0 {
			// Only control batches or aborted records before the stable
			// end: step over them.
			k++
		}
	}
	t.mu.Lock()
	t.kNext = max(t.kNext, k)
	t.resEnd = t.end
	t.mu.Unlock()
	return schema, nil
}

// indexRecords looks at records in Kafka offset order and adds the ones
// that continue the log to the index.
func (t *topic) indexRecords(recs []*kgo.Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range recs {
		m, err := parseHeaders(r)
		if err != nil {
			t.log.Warn("ignoring a record", "offset", r.Offset, "err", err)
			t.kNext = max(t.kNext, r.Offset+1)
			continue
		}
		if m.kind == kindSchema {
			if r.Offset >= t.kNext {
				t.kNext = r.Offset + 1
				t.wakeLocked()
			}
			continue
		}
		t.acceptLocked(r.Offset, m.first, m.rows)
	}
}

// acceptLocked looks at the record at Kafka offset k and reports whether it
// is part of the log.
func (t *topic) acceptLocked(k, first, rows int64) bool {
	if k < t.kNext {
		i := sort.Search(len(t.index), func(i int) bool { return t.index[i].k >= k })
		return i < len(t.index) && t.index[i].k == k && t.index[i].first == first
	}
	t.kNext = k + 1
	defer t.wakeLocked()
	if first != t.end {
		t.log.Warn("ignoring a record that does not continue the log (written by a writer that lost a race)",
			"offset", k, "first_row", first, "log_end", t.end)
		return false
	}
	t.index = append(t.index, entry{k: k, first: first})
	t.end += rows
	return true
}

// wakeLocked wakes everything waiting for the index to move.
func (t *topic) wakeLocked() {
	close(t.notify)
	t.notify = make(chan struct{})
}

// append implements stream.Log.Append.
func (t *topic) append(ctx context.Context, h *handle, rec arrow.RecordBatch) (int64, error) {
	if !rec.Schema().Equal(t.schema) {
		return 0, fmt.Errorf("%w: batch has %s, log has %s", stream.ErrSchemaMismatch, rec.Schema(), t.schema)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if h.isClosed() {
		return 0, stream.ErrClosed
	}
	if rec.NumRows() == 0 {
		return h.End(), nil
	}
	chunks, err := encodeChunks(rec, t.b.o.MaxRecordBytes, t.b.o.Allocator)
	if err != nil {
		return 0, err
	}
	t.wmu.Lock()
	if err := t.recover(ctx); err != nil {
		t.wmu.Unlock()
		return 0, err
	}
	t.mu.Lock()
	if t.closed || h.closed {
		t.mu.Unlock()
		t.wmu.Unlock()
		return 0, stream.ErrClosed
	}
	if t.inflight == 0 {
		t.resEnd = t.end
	}
	first := t.resEnd
	f := first
	t.resEnd += rec.NumRows()
	t.inflight += len(chunks)
	t.mu.Unlock()
	results := make(chan ackResult, len(chunks))
	for _, c := range chunks {
		r := &kgo.Record{Topic: t.kname, Partition: 0, Value: c.value, Headers: rowsHeaders(f, c.rows)}
		cf, rows := f, c.rows
		// The record is produced whatever happens to ctx: once queued, the
		// rows may become durable, and the delivery timeout bounds the wait.
		t.b.cl.Produce(context.Background(), r, func(r *kgo.Record, err error) {
			results <- t.acked(r, err, cf, rows)
		})
		f += c.rows
	}
	t.wmu.Unlock()
	var errs []error
	for range chunks {
		res := <-results
		err := res.err
		if err == nil && res.pending {
			err = t.resolve(res.k, res.first, res.rows)
		}
		t.mu.Lock()
		if err != nil && t.failed == nil {
			t.failed = err
		}
		t.inflight--
		if t.inflight == 0 {
			t.idle.Broadcast()
		}
		t.mu.Unlock()
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return 0, errors.Join(errs...)
	}
	return first, nil
}

// ackResult is Kafka's answer for one record of an append: an error, or
// the record's offset, and whether the index has yet to reach it.
type ackResult struct {
	err            error
	pending        bool
	k, first, rows int64
}

// acked handles Kafka's answer for one record of an append. A record is
// part of the log when its first row equals the log's end after every
// record before it; when those are not all indexed yet, the answer is
// pending and resolve finishes it.
func (t *topic) acked(r *kgo.Record, err error, first, rows int64) ackResult {
	if err != nil {
		return ackResult{err: fmt.Errorf("produce rows [%d,%d): %w", first, first+rows, err)}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	res := ackResult{k: r.Offset, first: first, rows: rows}
	switch {
	case r.Offset == t.kNext && first == t.end:
		t.acceptLocked(r.Offset, first, rows)
	case r.Offset < t.kNext:
		if !t.acceptLocked(r.Offset, first, rows) {
			res.err = conflict(first, rows, r.Offset)
		}
	default:
		res.pending = true
	}
	return res
}

func conflict(first, rows, k int64) error {
	return fmt.Errorf("%w: rows [%d,%d) at Kafka offset %d do not continue the log", ErrConflict, first, first+rows, k)
}

// resolve waits until the index has looked at Kafka offset k (the follower
// gets there, or resolve fetches itself) and reports whether the record
// there is part of the log.
func (t *topic) resolve(k, first, rows int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), t.b.o.DeliveryTimeout)
	defer cancel()
	for {
		t.mu.Lock()
		if t.kNext > k {
			ok := t.acceptLocked(k, first, rows)
			t.mu.Unlock()
			if !ok {
				return conflict(first, rows, k)
			}
			return nil
		}
		closed, ch := t.closed, t.notify
		t.mu.Unlock()
		if closed {
			return stream.ErrClosed
		}
		select {
		case <-ch:
		case <-time.After(200 * time.Millisecond):
			if err := t.catchUp(ctx); err != nil {
				return fmt.Errorf("rows [%d,%d) at Kafka offset %d: %w", first, first+rows, k, err)
			}
		}
	}
}

// recover, after a failed append, waits for the appends still in flight and
// catches the index up with the partition, so that the next append starts
// from the log's true end. It holds wmu.
func (t *topic) recover(ctx context.Context) error {
	t.mu.Lock()
	if t.failed == nil {
		t.mu.Unlock()
		return nil
	}
	for t.inflight > 0 {
		t.idle.Wait()
	}
	t.mu.Unlock()
	if err := t.catchUp(ctx); err != nil {
		return fmt.Errorf("catch up after a failed append: %w", err)
	}
	t.mu.Lock()
	t.failed = nil
	t.mu.Unlock()
	return nil
}

// catchUp indexes the partition from where the index ends to the stable
// end Kafka reports.
func (t *topic) catchUp(ctx context.Context) error {
	t.mu.Lock()
	k := t.kNext
	t.mu.Unlock()
	for {
		fp, err := t.fetch(ctx, k, 16<<20)
		if err != nil {
			return err
		}
		t.indexRecords(fp.Records)
		if len(fp.Records) > 0 {
			k = fp.Records[len(fp.Records)-1].Offset + 1
		} else if k < fp.LastStableOffset {
			k++
		}
		if k >= fp.LastStableOffset {
			break
		}
	}
	t.mu.Lock()
	if k > t.kNext {
		t.kNext = k
		t.wakeLocked()
	}
	t.mu.Unlock()
	return nil
}

// read implements stream.Log.Read.
func (t *topic) read(ctx context.Context, h *handle, from int64, maxRows int) ([]arrow.RecordBatch, int64, error) {
	t.mu.Lock()
	if h.closed || t.closed {
		t.mu.Unlock()
		return nil, from, stream.ErrClosed
	}
	end := t.end
	if from < 0 || from > end {
		t.mu.Unlock()
		return nil, from, fmt.Errorf("%w: %d, end is %d", stream.ErrOutOfRange, from, end)
	}
	if from == end {
		t.mu.Unlock()
		return nil, from, nil
	}
	want := end - from
	if maxRows > 0 {
		want = min(want, int64(maxRows))
	}
	i := sort.Search(len(t.index), func(i int) bool { return t.index[i].first > from }) - 1
	// The records that hold rows [from, from+want), and where the last ends.
	j := i
	for j < len(t.index) && t.index[j].first < from+want {
		j++
	}
	ents := make([]entry, j-i, j-i+1)
	copy(ents, t.index[i:j])
	if j < len(t.index) {
		ents = append(ents, t.index[j])
	} else {
		ents = append(ents, entry{k: -1, first: end})
	}
	schemaMeta := t.schemaMeta
	t.mu.Unlock()

	d := ipcmsg.NewDecoder(schemaMeta, t.b.o.Allocator)
	defer d.Release()
	var out []arrow.RecordBatch
	fail := func(err error) ([]arrow.RecordBatch, int64, error) {
		for _, r := range out {
			r.Release()
		}
		return nil, from, err
	}
	pos := from
	p := 0 // next entry to decode
	k := ents[0].k
	for p < len(ents)-1 && pos < from+want {
		recs, err := t.records(ctx, k)
		if err != nil {
			return fail(err)
		}
		for _, r := range recs {
			if p >= len(ents)-1 || pos >= from+want {
				break
			}
			e := ents[p]
			if r.Offset < e.k {
				continue // a record the log ignores
			}
			if r.Offset > e.k {
				return fail(fmt.Errorf("topic %s: the record at Kafka offset %d is gone", t.kname, e.k))
			}
			rows := ents[p+1].first - e.first
			m, err := parseHeaders(r)
			if err != nil || m.kind != kindRows || m.first != e.first || m.rows != rows {
				return fail(fmt.Errorf("topic %s: the record at Kafka offset %d changed (%+v, %v)", t.kname, e.k, m, err))
			}
			rec, err := decodeValue(d, r.Value, rows)
			if err != nil {
				return fail(fmt.Errorf("topic %s: record at Kafka offset %d: %w", t.kname, e.k, err))
			}
			lo := pos - e.first
			hi := min(rows, from+want-e.first)
			if lo != 0 || hi != rows {
				s := rec.NewSlice(lo, hi)
				rec.Release()
				rec = s
			}
			out = append(out, rec)
			pos = e.first + hi
			p++
			if maxRows <= 0 {
				return out, pos, nil
			}
		}
		k = recs[len(recs)-1].Offset + 1
	}
	return out, pos, nil
}

// readFetchBytes bounds one fetch of Read; it is also about the size of the
// per-topic cache of the last fetch.
const readFetchBytes = 1 << 20

// records returns records from Kafka offset k on: from the cache of the
// last fetch when it holds k (readers that go forward in small steps fetch
// each record once), else fetched, replacing the cache.
func (t *topic) records(ctx context.Context, k int64) ([]*kgo.Record, error) {
	t.mu.Lock()
	c := t.cache
	t.mu.Unlock()
	if len(c) > 0 && c[0].Offset <= k && k <= c[len(c)-1].Offset {
		i := sort.Search(len(c), func(i int) bool { return c[i].Offset >= k })
		return c[i:], nil
	}
	fp, err := t.fetch(ctx, k, readFetchBytes)
	if err != nil {
		return nil, err
	}
	if len(fp.Records) == 0 {
		return nil, fmt.Errorf("topic %s: no record at Kafka offset %d below the end %d", t.kname, k, fp.LastStableOffset)
	}
	t.mu.Lock()
	t.cache = fp.Records
	t.mu.Unlock()
	return fp.Records, nil
}

// wait implements stream.Log.Wait.
func (t *topic) wait(ctx context.Context, h *handle, from int64) error {
	for {
		t.mu.Lock()
		closed, end, ch := h.closed || t.closed, t.end, t.notify
		t.mu.Unlock()
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

// close closes the topic and every handle of it.
func (t *topic) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	for h := range t.handles {
		h.closeLocked()
	}
	close(t.notify)
	t.notify = make(chan struct{})
}

func (t *topic) newHandle() *handle {
	h := &handle{t: t, done: make(chan struct{})}
	t.mu.Lock()
	t.handles[h] = struct{}{}
	t.mu.Unlock()
	return h
}

// handle is one opened stream.Log on a topic.
type handle struct {
	t      *topic
	done   chan struct{} // closed when the handle closes
	closed bool          // guarded by t.mu
}

var _ stream.Log = (*handle)(nil)

func (h *handle) closeLocked() {
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

func (h *handle) isClosed() bool {
	h.t.mu.Lock()
	defer h.t.mu.Unlock()
	return h.closed || h.t.closed
}

// Append produces rec (one or more records, acks=all) and returns once Kafka
// has acknowledged it. ctx is checked before the records are queued; once
// queued, Append waits for Kafka's answer (at most Options.DeliveryTimeout).
func (h *handle) Append(ctx context.Context, rec arrow.RecordBatch) (int64, error) {
	first, err := h.t.append(ctx, h, rec)
	if err != nil {
		return 0, fmt.Errorf("kafkalog: append to %q: %w", h.t.name, err)
	}
	return first, nil
}

// Read fetches rows from offset from on, at most maxRows of them; with
// maxRows <= 0 it returns the rest of the record holding from.
func (h *handle) Read(ctx context.Context, from int64, maxRows int) ([]arrow.RecordBatch, int64, error) {
	recs, next, err := h.t.read(ctx, h, from, maxRows)
	if err != nil {
		return nil, from, fmt.Errorf("kafkalog: read %q: %w", h.t.name, err)
	}
	return recs, next, nil
}

// Wait blocks until the log holds a row at offset from, whoever appends it.
func (h *handle) Wait(ctx context.Context, from int64) error {
	if err := h.t.wait(ctx, h, from); err != nil {
		return fmt.Errorf("kafkalog: wait on %q at %d: %w", h.t.name, from, err)
	}
	return nil
}

// End returns the row count as this process knows it: rows appended
// through this Broker count once acknowledged, rows appended by others once
// the follower has fetched them.
func (h *handle) End() int64 {
	h.t.mu.Lock()
	defer h.t.mu.Unlock()
	return h.t.end
}

func (h *handle) Schema() *arrow.Schema { return h.t.schema }

// Close closes this handle; the last handle of a topic stops following it.
func (h *handle) Close() error {
	h.t.b.release(h.t, h)
	return nil
}
