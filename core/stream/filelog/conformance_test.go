package filelog

import (
	"testing"

	"github.com/spate-ml/spate/core/stream"
	"github.com/spate-ml/spate/core/stream/streamtest"
)

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"Defaults", Options{}},
		// Tiny segments and index intervals make reads cross segments and
		// walk frames between index entries.
		{"SmallSegments", Options{SegmentSize: 4 << 10, IndexInterval: 1 << 10}},
		{"NoSync", Options{Sync: SyncNone, SegmentSize: 64 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := func(t *testing.T) stream.Broker {
				o := tc.opts
				o.Dir = t.TempDir()
				b, err := Open(o)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			reopen := func(t *testing.T, old stream.Broker) stream.Broker {
				if err := old.Close(); err != nil {
					t.Fatalf("close: %v", err)
				}
				o := tc.opts
				o.Dir = old.(*Broker).Dir()
				b, err := Open(o)
				if err != nil {
					t.Fatalf("reopen: %v", err)
				}
				return b
			}
			streamtest.Run(t, open, streamtest.WithReopen(reopen))
		})
	}
}
