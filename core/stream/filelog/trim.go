package filelog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"

	"github.com/spate-ml/spate/core/stream"
)

var _ stream.Trimmer = (*handle)(nil)

// Start implements stream.Trimmer: the base of the oldest segment.
func (h *handle) Start() int64 {
	h.t.mu.RLock()
	defer h.t.mu.RUnlock()
	return h.t.startLocked()
}

func (t *topic) startLocked() int64 {
	if len(t.segs) == 0 {
		return t.end
	}
	return t.segs[0].base
}

// Segments implements stream.Trimmer. Sizes and times come from the segment
// files (their length and modification time).
func (h *handle) Segments() []stream.Segment {
	t := h.t
	t.mu.RLock()
	segs := t.segs
	end := t.end
	t.mu.RUnlock()
	out := make([]stream.Segment, 0, len(segs))
	for i, s := range segs {
		fi, err := os.Stat(s.path)
		if err != nil {
			continue // trimmed meanwhile
		}
		segEnd := end
		if i+1 < len(segs) {
			segEnd = segs[i+1].base
		}
		out = append(out, stream.Segment{Base: s.base, End: segEnd, Bytes: fi.Size(), LastWrite: fi.ModTime()})
	}
	return out
}

// TrimBefore implements stream.Trimmer: it unlinks the segment files (and
// their index files) whose rows all lie before off, oldest first, so that a
// crash in the middle leaves a contiguous suffix of the log. The segments
// leave the topic's list under its lock, so new reads never see them; reads
// already running finish first (trimMu), then the files are closed.
func (h *handle) TrimBefore(ctx context.Context, off int64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("filelog: trim %q: %w", h.t.name, err)
	}
	t := h.t
	t.mu.Lock()
	if h.closed || t.closed {
		t.mu.Unlock()
		return 0, fmt.Errorf("filelog: trim %q: %w", t.name, stream.ErrClosed)
	}
	// Segment k may go when the next one starts at or before off; the
	// last segment (the active one) always stays.
	k := sort.Search(len(t.segs)-1, func(i int) bool { return t.segs[i+1].base > off })
	gone := slices.Clone(t.segs[:k])
	t.segs = slices.Clone(t.segs[k:])
	start := t.startLocked()
	t.mu.Unlock()
	if len(gone) == 0 {
		return start, nil
	}
	t.trimMu.Lock() // wait for reads that still hold the old list
	for _, s := range gone {
		s.load.Lock()
		s.closed = true
		if s.f != nil {
			s.f.Close()
			s.f = nil
		}
		s.load.Unlock()
	}
	t.trimMu.Unlock()
	var errs []error
	for _, s := range gone {
		if err := os.Remove(idxPath(s.path)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if t.sync != SyncNone {
		if err := syncDir(t.dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return start, fmt.Errorf("filelog: trim %q: %w", t.name, err)
	}
	t.log.Debug("trimmed", "segments", len(gone), "start", start)
	return start, nil
}
