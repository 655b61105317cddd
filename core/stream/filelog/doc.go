// Package filelog owns the embedded, durable back end of the stream log:
// each topic is a directory of segment files holding Arrow IPC record-batch
// messages in checksummed frames. An Append returns only after its bytes
// are on disk (fdatasync); concurrent Appends share one write and one sync
// (group commit). Opening a topic scans its last segment, cuts off a torn or
// corrupt tail and rebuilds the sparse offset index; older segments are
// indexed lazily from their index files.
//
// # Layout
//
//	<dir>/.lock                         flock held by the open Broker
//	<dir>/<topic>/schema.arrow          the topic's schema as an Arrow IPC stream
//	<dir>/<topic>/<base>.seg            segments; <base> is the offset of the
//	                                    segment's first row, 20 decimal digits
//	<dir>/<topic>/<base>.idx            sparse index of a sealed segment
//	<dir>/~new-<topic>, ~del-<topic>-N  a topic being created or deleted
//
// A topic is created in a "~new-" directory and renamed into place, and
// deleted by renaming it to a "~del-" name first, so a crash leaves either
// the whole topic or none of it; Open removes leftover "~" directories.
//
// # Segment file
//
// A segment starts with a 16-byte header: the magic "SPATESEG" and the base
// offset (int64, little-endian). Frames follow back to back. Every integer
// is little-endian. A frame is a 32-byte header and a payload:
//
//	0   magic      4 bytes "SPF1"
//	4   length     uint32   payload bytes
//	8   first      int64    offset of the frame's first row
//	16  rows       uint32   rows in the frame (> 0)
//	20  flags      uint32   0
//	24  payloadCRC uint32   CRC-32C (Castagnoli) of the payload
//	28  headerCRC  uint32   CRC-32C of header bytes 0..27
//	32  payload    one encapsulated Arrow IPC message of type RecordBatch:
//	               0xFFFFFFFF, int32 metadata length, flatbuffer metadata
//	               padded to 8 bytes, then the body buffers, each padded to
//	               8 bytes. Dictionary-encoded columns are not supported.
//
// The frames of a segment are contiguous in offsets: each frame's first is
// the previous frame's first plus its rows, and the first frame's first is
// the segment's base. A segment is sealed when the next frame would make it
// longer than Options.SegmentSize (a larger single frame gets a segment of
// its own); the next segment's base is then the sealed one's end.
//
// # Index file
//
// When a segment is sealed its sparse index is written beside it: entries of
// (offset int64, position int64) naming a frame's first row and the frame's
// byte position, about one per Options.IndexInterval bytes and always one
// for the first frame, followed by the entry count (uint32) and a CRC-32C of
// everything before it (uint32). A missing or damaged index file is rebuilt
// by walking the frame headers.
//
// # Durability and recovery
//
// Appends are encoded (and checksummed) by their callers, outside any lock,
// then given offsets and queued in offset order. Per topic, a writer
// goroutine takes everything queued, writes it with one writev and hands it
// to a syncer goroutine, which calls fdatasync (fsync with SyncFull) once for
// everything written so far, publishes the new end and wakes the Appends
// and Waits it covers; the writer copies the next group while the disk
// syncs the last. A sealed segment is synced before the next one is
// created, and a new segment file and its directory entry are synced before
// frames go into it, so only the last segment can have an unsynced tail. On
// open, the last segment is read frame by frame; the first frame that is
// short, has a bad magic or checksum, or breaks offset contiguity marks the
// end of the log, and the file is truncated there. Acknowledged frames were synced, so only unacknowledged
// bytes can be cut.
package filelog
