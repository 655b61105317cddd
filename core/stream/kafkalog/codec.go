package kafkalog

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/spate-ml/spate/core/stream/internal/ipcmsg"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Record headers.
const (
	hdrKind  = "spate-kind"
	hdrFirst = "spate-first"
	hdrRows  = "spate-rows"

	kindSchema = "schema"
	kindRows   = "rows"
)

// recordMeta is what the headers of a record say.
type recordMeta struct {
	kind  string
	first int64
	rows  int64
}

func parseHeaders(r *kgo.Record) (recordMeta, error) {
	var m recordMeta
	var first, rows string
	for _, h := range r.Headers {
		switch h.Key {
		case hdrKind:
			m.kind = string(h.Value)
		case hdrFirst:
			first = string(h.Value)
		case hdrRows:
			rows = string(h.Value)
		}
	}
	switch m.kind {
	case kindSchema:
		return m, nil
	case kindRows:
	default:
		return m, fmt.Errorf("record at offset %d: unknown %s header %q", r.Offset, hdrKind, m.kind)
	}
	var err error
	if m.first, err = strconv.ParseInt(first, 10, 64); err != nil || m.first < 0 {
		return m, fmt.Errorf("record at offset %d: bad %s header %q", r.Offset, hdrFirst, first)
	}
	if m.rows, err = strconv.ParseInt(rows, 10, 64); err != nil || m.rows <= 0 {
		return m, fmt.Errorf("record at offset %d: bad %s header %q", r.Offset, hdrRows, rows)
	}
	return m, nil
}

func rowsHeaders(first, rows int64) []kgo.RecordHeader {
	return []kgo.RecordHeader{
		{Key: hdrKind, Value: []byte(kindRows)},
		{Key: hdrFirst, Value: strconv.AppendInt(nil, first, 10)},
		{Key: hdrRows, Value: strconv.AppendInt(nil, rows, 10)},
	}
}

// encodeSchema returns schema as an Arrow IPC stream without batches.
func encodeSchema(schema *arrow.Schema, mem memory.Allocator) ([]byte, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	return buf.Bytes(), nil
}

func decodeSchema(b []byte) (*arrow.Schema, error) {
	r, err := ipc.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode schema record: %w", err)
	}
	defer r.Release()
	return r.Schema(), nil
}

// schemaMessage returns the flatbuffer metadata of schema's IPC message,
// which the decoder feeds its reader before any batch.
func schemaMessage(schema *arrow.Schema, mem memory.Allocator) []byte {
	return ipcmsg.SchemaMeta(schema, mem)
}

// chunk is one record's worth of an Append.
type chunk struct {
	value []byte
	rows  int64
}

// encodeBatch encodes rec as one IPC record-batch message.
func encodeBatch(rec arrow.RecordBatch, mem memory.Allocator) ([]byte, error) {
	p, err := ipc.GetRecordBatchPayload(rec, ipc.WithAllocator(mem))
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	defer p.Release()
	var buf bytes.Buffer
	if _, err := p.WritePayload(&buf); err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	return buf.Bytes(), nil
}

// encodeChunks encodes rec as records of at most about maxBytes each,
// cutting it into row ranges when it is larger. A single row larger than
// maxBytes goes alone in its record.
func encodeChunks(rec arrow.RecordBatch, maxBytes int, mem memory.Allocator) ([]chunk, error) {
	b, err := encodeBatch(rec, mem)
	if err != nil {
		return nil, err
	}
	n := rec.NumRows()
	if len(b) <= maxBytes || n == 1 {
		return []chunk{{value: b, rows: n}}, nil
	}
	// Cut by the mean row size, then recurse on any part still too big.
	parts := int64((len(b) + maxBytes - 1) / maxBytes)
	per := max((n+parts-1)/parts, 1)
	var out []chunk
	for lo := int64(0); lo < n; lo += per {
		part := rec.NewSlice(lo, min(lo+per, n))
		cs, err := encodeChunks(part, maxBytes, mem)
		part.Release()
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// decodeValue returns the batch of one record value, which must hold rows
// rows.
func decodeValue(d *ipcmsg.Decoder, value []byte, rows int64) (arrow.RecordBatch, error) {
	meta, body, err := ipcmsg.Split(value)
	if err != nil {
		return nil, fmt.Errorf("record value: %w", err)
	}
	return d.Decode(meta, body, rows)
}
