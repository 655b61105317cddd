package filelog

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// SyncMode says how an Append is made durable before it returns.
type SyncMode int

const (
	// SyncData calls fdatasync after each group commit (the default).
	SyncData SyncMode = iota
	// SyncFull calls fsync after each group commit.
	SyncFull
	// SyncNone never syncs: an acknowledged Append survives a crash of the
	// process but not of the machine. For tests, benchmarks and logs whose
	// contents can be rebuilt from other, durable logs.
	SyncNone
)

func (m SyncMode) String() string {
	switch m {
	case SyncData:
		return "fdatasync"
	case SyncFull:
		return "fsync"
	case SyncNone:
		return "none"
	}
	return fmt.Sprintf("SyncMode(%d)", int(m))
}

// Default sizes.
const (
	DefaultSegmentSize   = 256 << 20
	DefaultIndexInterval = 64 << 10
)

// Options configure a Broker. Only Dir is required.
type Options struct {
	// Dir holds one directory per topic. It is created when missing.
	Dir string
	// SegmentSize is the size in bytes at which a segment is sealed and a
	// new one started (default DefaultSegmentSize).
	SegmentSize int64
	// IndexInterval is about how many bytes of frames lie between two
	// entries of the sparse offset index (default DefaultIndexInterval).
	IndexInterval int64
	// Sync is how Appends are made durable (default SyncData).
	Sync SyncMode
	// Logger receives recovery messages (default slog.Default()).
	Logger *slog.Logger
	// Allocator is used to encode batches (default memory.DefaultAllocator).
	Allocator memory.Allocator
}

func (o Options) withDefaults() (Options, error) {
	if o.Dir == "" {
		return o, errors.New("filelog: Options.Dir is empty")
	}
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.SegmentSize < segHeaderSize+frameHeaderSize {
		return o, fmt.Errorf("filelog: Options.SegmentSize %d is too small", o.SegmentSize)
	}
	if o.IndexInterval <= 0 {
		o.IndexInterval = DefaultIndexInterval
	}
	if o.Sync < SyncData || o.Sync > SyncNone {
		return o, fmt.Errorf("filelog: unknown Options.Sync %d", int(o.Sync))
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Allocator == nil {
		o.Allocator = memory.DefaultAllocator
	}
	return o, nil
}
