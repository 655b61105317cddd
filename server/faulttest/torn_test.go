package faulttest

import (
	"encoding/binary"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"

	"github.com/spate-ml/spate/core/fraud"
)

// frame is one frame of a segment file: its byte range and row count.
type frame struct {
	start, end int64
	rows       int64
}

// segmentFrames walks the frame headers of a segment file (layout in
// core/stream/filelog/doc.go: a 16-byte segment header, then frames of a
// 32-byte header — length at byte 4, rows at byte 16 — and a payload).
func segmentFrames(t *testing.T, b []byte) []frame {
	t.Helper()
	const segHeader, frameHeader = 16, 32
	var out []frame
	for pos := int64(segHeader); pos < int64(len(b)); {
		if string(b[pos:pos+4]) != "SPF1" {
			t.Fatalf("no frame magic at %d", pos)
		}
		n := int64(binary.LittleEndian.Uint32(b[pos+4:]))
		rows := int64(binary.LittleEndian.Uint32(b[pos+16:]))
		out = append(out, frame{start: pos, end: pos + frameHeader + n, rows: rows})
		pos += frameHeader + n
	}
	return out
}

// TestTornAndCorruptSegmentTail damages the last segment of a dataset's log
// the way a crash or a bad disk does — cut at a random byte, or a random
// byte changed — and restarts the server on it. The server must start,
// say in its log that it cut the log and where, keep every row before the
// damage, serve them, and take new rows after them.
func TestTornAndCorruptSegmentTail(t *testing.T) {
	s := seed(t)
	rng := newRand(s, 3)
	trials := envInt(t, "SPATE_FAULT_TRIALS", 10)
	txs, labs := fraudBatches(t, s, 40*30+40, 40)

	// The intact data dir: 30 acknowledged batches, a materialized feature
	// and a model that has consumed them all.
	golden := t.TempDir()
	c := startChild(t, golden, "")
	cl := dial(t, c)
	cl.setupFraudPipeline(liveModel, 300)
	var rows int64
	for i := 0; i < 30; i++ {
		if err := appendOne(cl, "labels", labs[i], rows, true); err != nil {
			t.Fatal(err)
		}
		if err := appendOne(cl, "transactions", txs[i], rows, true); err != nil {
			t.Fatal(err)
		}
		rows += txs[i].NumRows()
	}
	cl.waitModel(liveModel, rows, rows)
	keys := cl.strings(map[string]any{"dataset_id": "transactions"}, fraud.ColTransactionID)
	c.kill()
	segRel := filepath.Join("data", "logs", "default.inputs.transactions", strings.Repeat("0", 20)+".seg")
	seg, err := os.ReadFile(filepath.Join(golden, segRel))
	if err != nil {
		t.Fatal(err)
	}
	frames := segmentFrames(t, seg)
	if len(frames) != 30 {
		t.Fatalf("%d frames in the segment, want one per acknowledged batch (30)", len(frames))
	}

	lost := 0
	for trial := 0; trial < trials; trial++ {
		dir := t.TempDir()
		copyDir(t, golden, dir)
		path := filepath.Join(dir, segRel)
		damaged := append([]byte(nil), seg...)
		truncate := trial%2 == 0
		// Half the positions anywhere in the file, half in its last quarter
		// (where a torn write is).
		pos := rng.Int64N(int64(len(seg)))
		if rng.IntN(2) == 0 {
			pos = int64(len(seg)) - 1 - rng.Int64N(int64(len(seg))/4)
		}
		what := "truncated"
		if truncate {
			damaged = damaged[:pos]
		} else {
			what = "byte flipped"
			damaged[pos] ^= byte(1 + rng.IntN(255))
		}
		if err := os.WriteFile(path, damaged, 0o644); err != nil {
			t.Fatal(err)
		}
		// Rows that survive: every frame that ends at or before the damage.
		var keep int64
		boundary := pos == 16
		for _, f := range frames {
			if f.end <= pos {
				keep += f.rows
			}
			boundary = boundary || f.end == pos
		}
		if pos < 16 {
			keep = 0
		}

		c := startChild(t, dir, "")
		cl := dial(t, c)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("trial %d (%s at byte %d of %d): "+format+"\nserver log:\n%s",
				append(append([]any{trial, what, pos, len(seg)}, args...), c.logTail())...)
		}
		log := c.log.String()
		switch {
		case truncate && boundary:
			if strings.Contains(log, "truncating torn") || strings.Contains(log, "damaged segment header") {
				fail("a log cut at a frame boundary is intact, yet the server reports damage")
			}
		case pos < 16:
			if !strings.Contains(log, "rewriting damaged segment header") || !strings.Contains(log, "default.inputs.transactions") {
				fail("no log line reports the damaged segment header")
			}
		default:
			if !strings.Contains(log, `msg="truncating torn or corrupt segment tail"`) || !strings.Contains(log, "default.inputs.transactions") ||
				!strings.Contains(log, "end_offset="+itoa(keep)) {
				fail("no log line reports the cut at offset %d", keep)
			}
		}
		got := cl.strings(map[string]any{"dataset_id": "transactions"}, fraud.ColTransactionID)
		if int64(len(got)) != keep {
			fail("%d rows served, want the %d before the damage", len(got), keep)
		}
		for i := range got {
			if got[i] != keys[i] {
				fail("offset %d holds %s, want %s", i, got[i], keys[i])
			}
		}
		// New rows go after the surviving ones and are served.
		if err := appendOne(cl, "transactions", txs[30], keep, true); err != nil {
			fail("append after recovery: %v", err)
		}
		got = cl.strings(map[string]any{"dataset_id": "transactions", "from": keep}, fraud.ColTransactionID)
		if want := keysOf(txs[30], fraud.ColTransactionID); strings.Join(got, ",") != strings.Join(want, ",") {
			fail("rows after recovery: %v, want %v", got, want)
		}
		// The model resumed from its last version: when that version had
		// consumed rows the damage cut off, it must say so, not skip the
		// new rows silently.
		vs := checkVersionsMonotonic(t, cl, liveModel)
		if consumed := vs[len(vs)-1].InputOffset; consumed > keep {
			ctx, cancel := cl.ctx(10 * time.Second)
			info, err := cl.ms.GetModel(ctx, &spatev1.GetModelRequest{Name: liveModel})
			cancel()
			if err != nil || !strings.Contains(info.GetStats().GetLastError(), "acknowledged rows were lost") {
				fail("the model's version consumed %d rows, the log keeps %d, yet the model reports %q (%v)", consumed, keep, info.GetStats().GetLastError(), err)
			}
			lost++
		} else {
			checkModelHealthy(t, cl, liveModel, c)
		}
		c.kill()
	}
	t.Logf("%d trials, %d cut rows the model had consumed", trials, lost)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// copyDir copies a stopped server's directory tree.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatalf("copy %s: %v", from, err)
	}
}
