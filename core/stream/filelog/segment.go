package filelog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// indexEntry names the byte position of the frame whose first row is off.
type indexEntry struct {
	off int64
	pos int64
}

// segment is one segment file of a topic.
type segment struct {
	base int64
	path string

	// Guarded by topic.mu. index is only appended to, so a reader may keep
	// a snapshot of it after unlocking.
	index []indexEntry

	// load guards the lazy opening and indexing of a sealed segment.
	load   sync.Mutex
	loaded bool
	closed bool // the topic closed; do not open the file again
	f      *os.File
	// Owned by writeLoop while the segment is active: its size in bytes, the
	// position of its last index entry, and every index entry written so
	// far (published ones and those waiting for a sync), for the index file.
	size        int64
	lastIndexed int64
	widx        []indexEntry
}

func segName(base int64) string { return fmt.Sprintf("%020d.seg", base) }

func idxPath(segPath string) string { return strings.TrimSuffix(segPath, ".seg") + ".idx" }

// listSegments returns the bases of the segment files in dir, ascending.
func listSegments(dir string) ([]int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	var bases []int64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".seg") {
			continue
		}
		base, err := strconv.ParseInt(strings.TrimSuffix(name, ".seg"), 10, 64)
		if err != nil || base < 0 {
			return nil, fmt.Errorf("list segments: unexpected file %q", filepath.Join(dir, name))
		}
		bases = append(bases, base)
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases, nil
}

// createSegment creates an empty segment file with its header and syncs it
// and the directory.
func createSegment(dir string, base int64, sync bool) (*segment, error) {
	path := filepath.Join(dir, segName(base))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	var hdr [segHeaderSize]byte
	putSegHeader(hdr[:], base)
	if _, err := f.Write(hdr[:]); err != nil {
		f.Close()
		return nil, fmt.Errorf("write segment header %s: %w", path, err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("sync segment %s: %w", path, err)
		}
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, err
		}
	}
	return &segment{base: base, path: path, f: f, size: segHeaderSize, loaded: true, lastIndexed: -1}, nil
}

// syncDir makes the directory entries of dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// readHeaderAt reads and checks the frame header at pos.
func readHeaderAt(f *os.File, pos int64) (frameHeader, error) {
	var b [frameHeaderSize]byte
	if _, err := f.ReadAt(b[:], pos); err != nil {
		return frameHeader{}, fmt.Errorf("read frame header at %d: %w", pos, err)
	}
	h, err := parseFrameHeader(b[:])
	if err != nil {
		return frameHeader{}, fmt.Errorf("frame at %d: %w", pos, err)
	}
	return h, nil
}

// ensureLoaded opens a sealed segment and loads or rebuilds its index. end is
// the offset after its last row (the next segment's base).
func (s *segment) ensureLoaded(t *topic, end int64) error {
	s.load.Lock()
	defer s.load.Unlock()
	if s.closed {
		return os.ErrClosed
	}
	if s.loaded {
		return nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	idx, err := readIndexFile(idxPath(s.path), s.base)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			t.log.Warn("rebuilding segment index", "segment", s.path, "err", err)
		}
		idx, err = scanIndex(f, s.base, end, t.indexInterval)
		if err != nil {
			f.Close()
			return fmt.Errorf("index segment %s: %w", s.path, err)
		}
	}
	t.mu.Lock()
	s.index = idx
	t.mu.Unlock()
	s.f = f
	s.loaded = true
	return nil
}

// scanIndex walks the frame headers of a sealed segment and builds its
// sparse index.
func scanIndex(f *os.File, base, end, interval int64) ([]indexEntry, error) {
	var hdr [segHeaderSize]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("read segment header: %w", err)
	}
	if err := checkSegHeader(hdr[:], base); err != nil {
		return nil, err
	}
	var idx []indexEntry
	pos, off, last := int64(segHeaderSize), base, int64(-1)
	for off < end {
		h, err := readHeaderAt(f, pos)
		if err != nil {
			return nil, err
		}
		if h.first != off {
			return nil, fmt.Errorf("frame at %d starts at offset %d, want %d", pos, h.first, off)
		}
		if last < 0 || pos-last >= interval {
			idx = append(idx, indexEntry{off: off, pos: pos})
			last = pos
		}
		pos += frameHeaderSize + int64(h.length)
		off += int64(h.rows)
	}
	if off != end {
		return nil, fmt.Errorf("frames end at offset %d, next segment starts at %d", off, end)
	}
	return idx, nil
}

// writeIndexFile stores a sealed segment's index beside it. It is a cache:
// it is not synced, and a damaged one is rebuilt.
func writeIndexFile(path string, idx []indexEntry) error {
	b := make([]byte, 0, len(idx)*16+8)
	for _, e := range idx {
		b = binary.LittleEndian.AppendUint64(b, uint64(e.off))
		b = binary.LittleEndian.AppendUint64(b, uint64(e.pos))
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(idx)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	return nil
}

func readIndexFile(path string, base int64) ([]indexEntry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	if len(b) < 8 || (len(b)-8)%16 != 0 {
		return nil, fmt.Errorf("index %s has %d bytes", path, len(b))
	}
	n := len(b) - 8
	if got, want := crc32.Checksum(b[:n+4], castagnoli), binary.LittleEndian.Uint32(b[n+4:]); got != want {
		return nil, fmt.Errorf("index %s checksum %08x, stored %08x", path, got, want)
	}
	if cnt := int(binary.LittleEndian.Uint32(b[n:])); cnt != n/16 || cnt == 0 {
		return nil, fmt.Errorf("index %s counts %d entries in %d bytes", path, cnt, n)
	}
	idx := make([]indexEntry, n/16)
	for i := range idx {
		idx[i].off = int64(binary.LittleEndian.Uint64(b[i*16:]))
		idx[i].pos = int64(binary.LittleEndian.Uint64(b[i*16+8:]))
	}
	if idx[0].off != base || idx[0].pos != segHeaderSize {
		return nil, fmt.Errorf("index %s starts at offset %d position %d", path, idx[0].off, idx[0].pos)
	}
	return idx, nil
}

// recoverSegment reads the last segment of a topic frame by frame, checks
// every checksum, truncates the file after the last good frame and returns
// the segment, opened for writing, and the offset after its last row.
func recoverSegment(t *topic, path string, base int64) (*segment, int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("open segment: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("stat segment: %w", err)
	}
	fileSize := st.Size()
	s := &segment{base: base, path: path, f: f, loaded: true}
	var hdr [segHeaderSize]byte
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, segHeaderSize), hdr[:]); err != nil || checkSegHeader(hdr[:], base) != nil {
		// A segment is created and synced before any frame goes into it,
		// so a damaged header means nothing was acknowledged in it.
		t.log.Warn("rewriting damaged segment header", "segment", path, "bytes", fileSize)
		putSegHeader(hdr[:], base)
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("truncate segment %s: %w", path, err)
		}
		if _, err := f.WriteAt(hdr[:], 0); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("rewrite segment header %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("sync segment %s: %w", path, err)
		}
		fileSize = segHeaderSize
	}

	r := io.NewSectionReader(f, 0, fileSize)
	pos, off, last := int64(segHeaderSize), base, int64(-1)
	var fh [frameHeaderSize]byte
	var payload []byte
	var cause error
	for {
		if pos == fileSize {
			break
		}
		if fileSize-pos < frameHeaderSize {
			cause = fmt.Errorf("%d trailing bytes", fileSize-pos)
			break
		}
		if _, err := r.ReadAt(fh[:], pos); err != nil {
			cause = err
			break
		}
		h, err := parseFrameHeader(fh[:])
		if err != nil {
			cause = err
			break
		}
		if h.first != off {
			cause = fmt.Errorf("frame starts at offset %d, want %d", h.first, off)
			break
		}
		if int64(h.length) > fileSize-pos-frameHeaderSize {
			cause = fmt.Errorf("frame of %d bytes runs past the end of the file", h.length)
			break
		}
		if cap(payload) < int(h.length) {
			payload = make([]byte, h.length)
		}
		payload = payload[:h.length]
		if _, err := r.ReadAt(payload, pos+frameHeaderSize); err != nil {
			cause = err
			break
		}
		if err := checkPayload(h, payload); err != nil {
			cause = err
			break
		}
		if last < 0 || pos-last >= t.indexInterval {
			s.index = append(s.index, indexEntry{off: off, pos: pos})
			last = pos
		}
		pos += frameHeaderSize + int64(h.length)
		off += int64(h.rows)
	}
	if cause != nil {
		t.log.Warn("truncating torn or corrupt segment tail",
			"segment", path, "position", pos, "dropped_bytes", fileSize-pos, "end_offset", off, "cause", cause)
		if err := f.Truncate(pos); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("truncate segment %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("sync segment %s: %w", path, err)
		}
	}
	if _, err := f.Seek(pos, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("seek segment %s: %w", path, err)
	}
	s.size = pos
	s.lastIndexed = last
	return s, off, nil
}
