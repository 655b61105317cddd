package filelog

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spate-ml/spate/core/stream"
	"github.com/spate-ml/spate/core/stream/streamtest"
)

const recTopic = "recover.rows"

// buildLog writes batches of the given sizes into a fresh log and returns
// its directory, the rows and the byte position of the last frame in the
// last segment.
func buildLog(t *testing.T, o Options, sizes []int64) (dir string, rows int64, lastPos int64) {
	t.Helper()
	ctx := context.Background()
	o.Dir = t.TempDir()
	b, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	l, err := b.Open(ctx, recTopic, streamtest.Schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range sizes {
		st := lastSegmentSize(t, o.Dir)
		rec := streamtest.Batch(rows, rows+n, 0)
		if _, err := l.Append(ctx, rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		rows += n
		if lastSegmentSize(t, o.Dir) > st {
			lastPos = st
		} else {
			lastPos = segHeaderSize
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return o.Dir, rows, lastPos
}

func lastSegmentPath(t *testing.T, dir string) string {
	t.Helper()
	bases, err := listSegments(filepath.Join(dir, recTopic))
	if err != nil || len(bases) == 0 {
		t.Fatalf("list segments: %v (%d)", err, len(bases))
	}
	return filepath.Join(dir, recTopic, segName(bases[len(bases)-1]))
}

func lastSegmentSize(t *testing.T, dir string) int64 {
	t.Helper()
	st, err := os.Stat(lastSegmentPath(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// reopenAndCheck opens the log and checks it holds exactly rows rows of
// writer 0, takes an append at rows, and keeps it across another reopen.
func reopenAndCheck(t *testing.T, o Options, rows int64) string {
	t.Helper()
	ctx := context.Background()
	var logged bytes.Buffer
	o.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	for pass := 0; pass < 2; pass++ {
		b, err := Open(o)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		l, err := b.Open(ctx, recTopic, streamtest.Schema)
		if err != nil {
			t.Fatalf("reopen topic: %v", err)
		}
		want := rows + int64(pass)*3
		if l.End() != want {
			t.Fatalf("pass %d: End() = %d, want %d", pass, l.End(), want)
		}
		got := readRows(t, l, 0, want)
		for i, r := range got {
			if e := streamtest.Expected(int64(i), 0); r != e {
				t.Fatalf("pass %d: offset %d: got %+v, want %+v", pass, i, r, e)
			}
		}
		if pass == 0 {
			rec := streamtest.Batch(rows, rows+3, 0)
			first, err := l.Append(ctx, rec)
			rec.Release()
			if err != nil || first != rows {
				t.Fatalf("append after recovery: first %d, err %v; want %d", first, err, rows)
			}
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return logged.String()
}

func TestRecoverDamagedTail(t *testing.T) {
	sizes := []int64{10, 200, 33, 1, 400, 17}
	var all int64
	for _, n := range sizes {
		all += n
	}
	beforeLast := all - sizes[len(sizes)-1]
	tests := []struct {
		name     string
		damage   func(t *testing.T, path string, lastPos, size int64)
		wantRows int64
		wantLog  string
	}{
		{"Intact", func(*testing.T, string, int64, int64) {}, all, ""},
		{"LastByteCut", truncateTo(func(_, size int64) int64 { return size - 1 }), beforeLast, "truncating"},
		{"HalfFrameCut", truncateTo(func(last, size int64) int64 { return (last + size) / 2 }), beforeLast, "truncating"},
		{"HeaderCut", truncateTo(func(last, _ int64) int64 { return last + 5 }), beforeLast, "truncating"},
		{"OnlyHeader", truncateTo(func(last, _ int64) int64 { return last + frameHeaderSize }), beforeLast, "truncating"},
		{"WholeFrameCut", truncateTo(func(last, _ int64) int64 { return last }), beforeLast, ""},
		{"PayloadBitFlip", flipAt(func(last, size int64) int64 { return size - 40 }), beforeLast, "payload checksum"},
		{"HeaderBitFlip", flipAt(func(last, _ int64) int64 { return last + 9 }), beforeLast, "header checksum"},
		{"ZerosAppended", appendBytes(make([]byte, 4096)), all, "bad magic"},
		{"GarbageAppended", appendBytes([]byte("SPF1 this is not a frame header at all")), all, "truncating"},
		{"FrameRepeated", repeatLastFrame, all, "want"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{SegmentSize: 1 << 20}
			dir, rows, lastPos := buildLog(t, o, sizes)
			if rows != all {
				t.Fatalf("built %d rows", rows)
			}
			path := lastSegmentPath(t, dir)
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			tc.damage(t, path, lastPos, st.Size())
			o.Dir = dir
			logged := reopenAndCheck(t, o, tc.wantRows)
			if tc.wantLog == "" && strings.Contains(logged, "truncating") {
				t.Fatalf("intact log was truncated: %s", logged)
			}
			if tc.wantLog != "" && !strings.Contains(logged, tc.wantLog) {
				t.Fatalf("recovery log does not mention %q:\n%s", tc.wantLog, logged)
			}
		})
	}
}

func truncateTo(at func(lastPos, size int64) int64) func(*testing.T, string, int64, int64) {
	return func(t *testing.T, path string, lastPos, size int64) {
		if err := os.Truncate(path, at(lastPos, size)); err != nil {
			t.Fatal(err)
		}
	}
}

func flipAt(at func(lastPos, size int64) int64) func(*testing.T, string, int64, int64) {
	return func(t *testing.T, path string, lastPos, size int64) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b[at(lastPos, size)] ^= 0x10
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func appendBytes(extra []byte) func(*testing.T, string, int64, int64) {
	return func(t *testing.T, path string, _, _ int64) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Write(extra); err != nil {
			t.Fatal(err)
		}
	}
}

// repeatLastFrame writes the last frame a second time: it is intact but
// breaks offset contiguity.
func repeatLastFrame(t *testing.T, path string, lastPos, size int64) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	appendBytes(bytes.Clone(b[lastPos:size]))(t, path, lastPos, size)
}

func TestRecoverSegments(t *testing.T) {
	// Batches of 300 rows are about 12 KiB: several per 32 KiB segment.
	sizes := make([]int64, 40)
	for i := range sizes {
		sizes[i] = 300
	}
	tests := []struct {
		name    string
		damage  func(t *testing.T, dir string)
		wantLog string
	}{
		{"IndexFilesRemoved", func(t *testing.T, dir string) {
			idx, _ := filepath.Glob(filepath.Join(dir, recTopic, "*.idx"))
			if len(idx) < 3 {
				t.Fatalf("only %d index files", len(idx))
			}
			for _, p := range idx {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
		}, ""},
		{"IndexFileCorrupt", func(t *testing.T, dir string) {
			idx, _ := filepath.Glob(filepath.Join(dir, recTopic, "*.idx"))
			if len(idx) == 0 {
				t.Fatal("no index files")
			}
			if err := os.WriteFile(idx[0], []byte("0123456789abcdef01234567"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "rebuilding segment index"},
		{"EmptyNewSegment", func(t *testing.T, dir string) {
			// A crash right after a roll created the next segment file.
			s, err := createSegment(filepath.Join(dir, recTopic), 40*300, false)
			if err != nil {
				t.Fatal(err)
			}
			s.f.Close()
		}, ""},
		{"TornNewSegmentHeader", func(t *testing.T, dir string) {
			p := filepath.Join(dir, recTopic, segName(40*300))
			if err := os.WriteFile(p, []byte("SPAT"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "rewriting damaged segment header"},
		{"UnfinishedTopicDirs", func(t *testing.T, dir string) {
			for _, d := range []string{"~new-" + recTopic, "~del-other-1"} {
				if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}, "removing unfinished topic directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{SegmentSize: 32 << 10, IndexInterval: 4 << 10}
			dir, rows, _ := buildLog(t, o, sizes)
			tc.damage(t, dir)
			o.Dir = dir
			logged := reopenAndCheck(t, o, rows)
			if tc.wantLog != "" && !strings.Contains(logged, tc.wantLog) {
				t.Fatalf("recovery log does not mention %q:\n%s", tc.wantLog, logged)
			}
			if strings.Contains(logged, "truncating") {
				t.Fatalf("recovery truncated an intact log:\n%s", logged)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "~*")); len(left) != 0 {
				t.Fatalf("unfinished directories left: %v", left)
			}
		})
	}
}

func TestCorruptSealedSegmentFailsRead(t *testing.T) {
	ctx := context.Background()
	sizes := make([]int64, 20)
	for i := range sizes {
		sizes[i] = 300
	}
	o := Options{SegmentSize: 32 << 10}
	dir, _, _ := buildLog(t, o, sizes)
	first := filepath.Join(dir, recTopic, segName(0))
	b, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-100] ^= 1
	if err := os.WriteFile(first, b, 0o644); err != nil {
		t.Fatal(err)
	}
	o.Dir = dir
	br, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	l, err := br.Open(ctx, recTopic, streamtest.Schema)
	if err != nil {
		t.Fatal(err)
	}
	var sawErr error
	for from := int64(0); from < l.End(); from += 300 {
		recs, _, err := l.Read(ctx, from, 300)
		for _, r := range recs {
			r.Release()
		}
		if err != nil {
			sawErr = err
			break
		}
	}
	if sawErr == nil || !strings.Contains(sawErr.Error(), "checksum") {
		t.Fatalf("reading a corrupt sealed segment: %v, want a checksum error", sawErr)
	}
	if errors.Is(sawErr, stream.ErrOutOfRange) {
		t.Fatalf("corruption reported as out of range: %v", sawErr)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"NoDir", Options{}, false},
		{"Defaults", Options{Dir: "x"}, true},
		{"TinySegment", Options{Dir: "x", SegmentSize: 10}, false},
		{"BadSync", Options{Dir: "x", Sync: SyncMode(9)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.o.withDefaults()
			if (err == nil) != tc.ok {
				t.Fatalf("withDefaults: %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (o.SegmentSize != DefaultSegmentSize || o.Sync != SyncData || o.Logger == nil || o.Allocator == nil) {
				t.Fatalf("defaults not applied: %+v", o)
			}
		})
	}
}

func TestDirectoryLock(t *testing.T) {
	dir := t.TempDir()
	b1, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if b2, err := Open(Options{Dir: dir}); err == nil {
		b2.Close()
		t.Fatal("a second broker opened a directory in use")
	} else if !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v", err)
	}
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	b3, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	b3.Close()
}
