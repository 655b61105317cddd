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
	// ErrOutOfRange is when a read starts beyond End().
	ErrOutOfRange = errors.New("stream: offset out of range")
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
