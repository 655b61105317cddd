// Package ipcmsg owns how the log back ends store a batch: one Arrow IPC
// record-batch message (continuation marker, metadata length, flatbuffer
// metadata, body), decoded against the topic's schema with one reused IPC
// reader. The embedded file log frames these messages in segment files and
// the Kafka log puts them in record values; both decode them here.
package ipcmsg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ErrNotMessage is wrapped by Split's rejections.
var ErrNotMessage = errors.New("not an Arrow IPC message")

// SchemaMeta returns the flatbuffer metadata of schema's IPC message, which
// a Decoder feeds its reader before any batch.
func SchemaMeta(schema *arrow.Schema, mem memory.Allocator) []byte {
	sp := ipc.GetSchemaPayload(schema, mem)
	defer sp.Release()
	meta := sp.Meta()
	defer meta.Release()
	return bytes.Clone(meta.Bytes())
}

// Split cuts an encoded message into its flatbuffer metadata and its body.
func Split(msg []byte) (meta, body []byte, err error) {
	if len(msg) < 8 || binary.LittleEndian.Uint32(msg[0:4]) != 0xFFFFFFFF {
		return nil, nil, fmt.Errorf("%w: no continuation marker", ErrNotMessage)
	}
	n := int64(int32(binary.LittleEndian.Uint32(msg[4:8])))
	if n <= 0 || 8+n > int64(len(msg)) {
		return nil, nil, fmt.Errorf("%w: metadata length %d in %d bytes", ErrNotMessage, n, len(msg))
	}
	return msg[8 : 8+n], msg[8+n:], nil
}

// Decoder turns record-batch messages of one schema into batches. It is not
// safe for concurrent use; Release it when done.
type Decoder struct {
	schemaMeta []byte
	mem        memory.Allocator
	feed       *feed
	r          *ipc.Reader
}

// NewDecoder returns a decoder for messages of the schema whose metadata is
// schemaMeta (see SchemaMeta).
func NewDecoder(schemaMeta []byte, mem memory.Allocator) *Decoder {
	return &Decoder{schemaMeta: schemaMeta, mem: mem}
}

// Decode returns the batch of one message (split by Split), which must
// hold rows rows. The caller Releases the batch.
func (d *Decoder) Decode(meta, body []byte, rows int64) (arrow.RecordBatch, error) {
	if d.r == nil {
		d.feed = &feed{schema: ipc.NewMessage(memory.NewBufferBytes(d.schemaMeta), memory.NewBufferBytes(nil))}
		r, err := ipc.NewReaderFromMessageReader(d.feed, ipc.WithAllocator(d.mem))
		if err != nil {
			return nil, fmt.Errorf("decode schema: %w", err)
		}
		d.r = r
	}
	d.feed.next = ipc.NewMessage(memory.NewBufferBytes(meta), memory.NewBufferBytes(body))
	if !d.r.Next() {
		err := d.r.Err()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		// The reader is unusable after a failure: start a fresh one next time.
		d.r.Release()
		d.r = nil
		return nil, fmt.Errorf("decode batch: %w", err)
	}
	rec := d.r.RecordBatch()
	rec.Retain()
	if rec.NumRows() != rows {
		rec.Release()
		return nil, fmt.Errorf("batch holds %d rows, its header says %d", rec.NumRows(), rows)
	}
	return rec, nil
}

// Release frees the decoder's reader.
func (d *Decoder) Release() {
	if d.r != nil {
		d.r.Release()
		d.r = nil
	}
}

// feed hands the IPC reader the schema message, then one message at a time.
type feed struct {
	schema *ipc.Message
	next   *ipc.Message
}

func (f *feed) Message() (*ipc.Message, error) {
	if m := f.schema; m != nil {
		f.schema = nil
		return m, nil
	}
	m := f.next
	f.next = nil
	if m == nil {
		return nil, io.EOF
	}
	return m, nil
}

func (f *feed) Retain()  {}
func (f *feed) Release() {}
