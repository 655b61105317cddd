// Package stream owns the log: an append-only, offset-addressed sequence of
// Arrow record batches per topic (a dataset's rows, its feature rows, a
// model's outputs). Offsets count rows, start at 0 and never go back. The
// embedded back end keeps each topic as segment files in a directory; a
// Kafka-protocol back end can implement the same interfaces.
package stream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// Log is one topic. All methods are safe for concurrent use.
type Log interface {
	// Append writes rec durably and returns the offset of its first row.
	// When Append returns nil, the rows survive a crash of the process or
	// the machine. Rows of one Append are contiguous; concurrent Appends
	// are ordered by the log. The batch's schema must equal Schema(). The
	// caller keeps ownership of rec.
	Append(ctx context.Context, rec arrow.RecordBatch) (first int64, err error)

	// Read returns batches holding rows from offset `from` on, at most
	// about maxRows rows (at least one batch when rows exist), and the
	// offset after the last returned row. It never blocks: with no rows at
	// `from` it returns no batches and next == from. The caller Releases
	// the batches.
	Read(ctx context.Context, from int64, maxRows int) (recs []arrow.RecordBatch, next int64, err error)

	// Wait blocks until the log holds a row at offset `from` (that is,
	// End() > from), the context ends or the log closes.
	Wait(ctx context.Context, from int64) error

	// End returns the offset the next appended row will get (the row
	// count).
	End() int64

	// Schema returns the Arrow schema of every batch in the log.
	Schema() *arrow.Schema

	// Close releases the log's resources. It does not delete data.
	Close() error
}

// AsyncAppender is an optional interface of a Log: AppendAsync queues a batch
// and returns its first offset at once, plus wait, which returns when the
// batch is durable (or failed). Batches appended by one producer keep their
// order; several in flight share group commits. The caller keeps ownership
// of rec, which it may release as soon as AppendAsync returns.
type AsyncAppender interface {
	AppendAsync(ctx context.Context, rec arrow.RecordBatch) (first int64, wait func() error, err error)
}

// Segment is one unit of a log that retention removes at once: the rows
// [Base, End), the bytes they take and when the last of them was appended.
type Segment struct {
	Base, End int64
	Bytes     int64
	LastWrite time.Time
}

// Trimmer is an optional interface of a Log whose oldest rows can be
// removed (retention). Rows are removed a whole segment at a time, oldest
// first; the segment being appended to is never removed, so a log keeps its
// newest rows whatever is asked. Offsets never change: after a trim, End()
// is unchanged and a Read before Start() fails with ErrTrimmed. A trim
// survives a restart of a durable back end.
type Trimmer interface {
	// Start returns the offset of the oldest row the log holds (0 until
	// something was trimmed).
	Start() int64
	// Segments lists the log's segments, oldest first; they are contiguous
	// and cover [Start(), End()). The last one is being appended to.
	Segments() []Segment
	// TrimBefore removes every segment whose rows all lie before off
	// (except the last segment) and returns the new Start(), which is at
	// most off. Readers of the remaining rows are not disturbed.
	TrimBefore(ctx context.Context, off int64) (start int64, err error)
}

// Retention bounds how much of a log is kept. A zero field sets no bound.
type Retention struct {
	// MaxAge removes a segment whose last row was appended longer ago.
	MaxAge time.Duration
	// MaxBytes removes the oldest segments while the log takes more.
	MaxBytes int64
}

// IsZero reports whether r bounds nothing.
func (r Retention) IsZero() bool { return r.MaxAge <= 0 && r.MaxBytes <= 0 }

// TrimPoint returns the offset before which r allows removing rows of a log
// made of segs at time now, never beyond floor (the oldest row some reader
// still needs). The result is a segment boundary, or segs[0].Base when
// nothing may go; the last segment always stays.
func (r Retention) TrimPoint(segs []Segment, now time.Time, floor int64) int64 {
	if len(segs) == 0 {
		return 0
	}
	var total int64
	for _, s := range segs {
		total += s.Bytes
	}
	point := segs[0].Base
	for _, s := range segs[:len(segs)-1] {
		old := r.MaxAge > 0 && now.Sub(s.LastWrite) > r.MaxAge
		big := r.MaxBytes > 0 && total > r.MaxBytes
		if (!old && !big) || s.End > floor {
			break
		}
		point = s.End
		total -= s.Bytes
	}
	return point
}

// Broker opens and deletes logs by topic name. Topic names are
// dot-separated identifiers, e.g. "ns.inputs.transactions".
type Broker interface {
	// Open returns the log of a topic, creating it with schema when it
	// does not exist. Opening an existing topic with a different schema
	// fails with ErrSchemaMismatch.
	Open(ctx context.Context, topic string, schema *arrow.Schema) (Log, error)
	// Delete removes a topic and its data. Open logs of it are closed.
	Delete(ctx context.Context, topic string) error
	// Close closes every open log.
	Close() error
}

var (
	// ErrSchemaMismatch is when a batch or an Open names another schema.
	ErrSchemaMismatch = errors.New("stream: schema mismatch")
	// ErrClosed is when the log or broker was closed.
	ErrClosed = errors.New("stream: closed")
	// ErrOutOfRange is when a read starts beyond End() or before the
	// log's start.
	ErrOutOfRange = errors.New("stream: offset out of range")
	// ErrTrimmed is when a read starts before the oldest row a Trimmer
	// still holds: retention removed the rows there. It wraps
	// ErrOutOfRange, so errors.Is(err, ErrOutOfRange) holds as well.
	ErrTrimmed = fmt.Errorf("%w: trimmed by retention", ErrOutOfRange)
)

// ErrBadTopic is wrapped by every rejection of a topic name.
var ErrBadTopic = errors.New("invalid topic name")

// ValidateTopic checks that name is a dot-separated list of identifiers made
// of ASCII letters, digits, '_' and '-', such as "ns.inputs.transactions"
// (at most 249 characters, as Kafka allows). Every Broker checks names with
// it.
func ValidateTopic(name string) error {
	if name == "" || len(name) > 249 {
		return fmt.Errorf("%w %q: want 1 to 249 characters", ErrBadTopic, name)
	}
	partLen := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			if partLen == 0 {
				return fmt.Errorf("%w %q: empty part", ErrBadTopic, name)
			}
			partLen = 0
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return fmt.Errorf("%w %q: character %q not allowed", ErrBadTopic, name, c)
		}
		partLen++
	}
	if partLen == 0 {
		return fmt.Errorf("%w %q: empty part", ErrBadTopic, name)
	}
	return nil
}
