package filelog

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"golang.org/x/sys/unix"

	"github.com/spate-ml/spate/core/fraud"
)

const benchBatchRows = 4096

// fraudBatches returns n batches of benchBatchRows rows of the fraud
// transactions data set (22 columns: strings, int64s, doubles).
func fraudBatches(tb testing.TB, n int) []arrow.RecordBatch {
	tb.Helper()
	cfg := fraud.DefaultConfig()
	cfg.Rows = n * benchBatchRows
	var out []arrow.RecordBatch
	err := fraud.Generate(cfg, benchBatchRows, func(tx, _ arrow.RecordBatch) error {
		tx.Retain()
		out = append(out, tx)
		return nil
	})
	if err != nil {
		tb.Fatalf("generate fraud rows: %v", err)
	}
	if len(out) != n {
		tb.Fatalf("generated %d batches, want %d", len(out), n)
	}
	tb.Cleanup(func() {
		for _, r := range out {
			r.Release()
		}
	})
	return out
}

// frameBytes returns what an append of rec writes: the IPC message behind
// a header-sized gap.
func frameBytes(tb testing.TB, rec arrow.RecordBatch) []byte {
	p, err := ipc.GetRecordBatchPayload(rec)
	if err != nil {
		tb.Fatal(err)
	}
	defer p.Release()
	var buf bytes.Buffer
	buf.Write(make([]byte, frameHeaderSize))
	if _, err := p.WritePayload(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func frameSize(tb testing.TB, rec arrow.RecordBatch) int64 {
	return int64(len(frameBytes(tb, rec)))
}

func BenchmarkAppend(b *testing.B) {
	recs := fraudBatches(b, 8)
	var frameBytes int64
	for _, r := range recs {
		frameBytes += frameSize(b, r)
	}
	frameBytes /= int64(len(recs))
	for _, mode := range []SyncMode{SyncData, SyncNone} {
		for _, writers := range []int{1, 4} {
			b.Run(fmt.Sprintf("sync=%s/writers=%d", mode, writers), func(b *testing.B) {
				benchAppend(b, recs, frameBytes, mode, writers)
			})
		}
	}
}

func benchAppend(b *testing.B, recs []arrow.RecordBatch, frameBytes int64, mode SyncMode, writers int) {
	ctx := context.Background()
	br, err := Open(Options{Dir: b.TempDir(), Sync: mode})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	l, err := br.Open(ctx, "bench.transactions", recs[0].Schema())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(frameBytes)
	b.ReportAllocs()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	start := time.Now()
	b.ResetTimer()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if _, err := l.Append(ctx, recs[i%int64(len(recs))]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if got, want := l.End(), int64(b.N)*benchBatchRows; got != want {
		b.Fatalf("End() = %d after %d appends, want %d", got, b.N, want)
	}
	b.ReportMetric(float64(b.N)*benchBatchRows/elapsed.Seconds(), "rows/s")
}

// BenchmarkAppendPipelined is one producer keeping depth appends in flight
// with AppendAsync, the way one ingest stream can use group commit.
func BenchmarkAppendPipelined(b *testing.B) {
	ctx := context.Background()
	recs := fraudBatches(b, 8)
	var frameBytes int64
	for _, r := range recs {
		frameBytes += frameSize(b, r)
	}
	frameBytes /= int64(len(recs))
	for _, depth := range []int{4, 16} {
		b.Run(fmt.Sprintf("sync=%s/depth=%d", SyncData, depth), func(b *testing.B) {
			br, err := Open(Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer br.Close()
			l, err := br.Open(ctx, "bench.transactions", recs[0].Schema())
			if err != nil {
				b.Fatal(err)
			}
			aa := l.(AsyncAppender)
			b.SetBytes(frameBytes)
			b.ReportAllocs()
			pending := make([]func() error, 0, depth)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, wait, err := aa.AppendAsync(ctx, recs[i%len(recs)])
				if err != nil {
					b.Fatal(err)
				}
				pending = append(pending, wait)
				if len(pending) == depth {
					if err := pending[0](); err != nil {
						b.Fatal(err)
					}
					pending = append(pending[:0], pending[1:]...)
				}
			}
			for _, wait := range pending {
				if err := wait(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)*benchBatchRows/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkRawWriteSync is the disk's limit for the same work: write the
// encoded bytes of the same batches to a plain os.File and fdatasync after
// each, strictly one after the other. "plain" does both on one goroutine;
// "handoff" hands each fdatasync to a second goroutine and waits for it,
// which is the same work but, on some virtual machines, much faster (the
// sync's completion wakes a thread that is already scheduled).
func BenchmarkRawWriteSync(b *testing.B) {
	recs := fraudBatches(b, 8)
	frames := make([][]byte, len(recs))
	var total int64
	for i, r := range recs {
		frames[i] = frameBytes(b, r)
		total += int64(len(frames[i]))
	}
	for _, loop := range []string{"plain", "handoff"} {
		b.Run("loop="+loop, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "raw"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			fd := int(f.Fd())
			syncNow := func() error { return unix.Fdatasync(fd) }
			if loop == "handoff" {
				req, resp := make(chan struct{}), make(chan error)
				defer close(req)
				go func() {
					for range req {
						resp <- unix.Fdatasync(fd)
					}
				}()
				syncNow = func() error {
					req <- struct{}{}
					return <-resp
				}
			}
			b.SetBytes(total / int64(len(frames)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := f.Write(frames[i%len(frames)]); err != nil {
					b.Fatal(err)
				}
				if err := syncNow(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)*benchBatchRows/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	recs := fraudBatches(b, 8)
	br, err := Open(Options{Dir: b.TempDir(), Sync: SyncNone})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	l, err := br.Open(ctx, "bench.transactions", recs[0].Schema())
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 64; i++ {
		if _, err := l.Append(ctx, recs[i%len(recs)]); err != nil {
			b.Fatal(err)
		}
	}
	end := l.End()
	b.SetBytes(frameSize(b, recs[0]))
	b.ReportAllocs()
	b.ResetTimer()
	var from int64
	for i := 0; i < b.N; i++ {
		got, next, err := l.Read(ctx, from, benchBatchRows)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range got {
			r.Release()
		}
		from = next
		if from == end {
			from = 0
		}
	}
	b.ReportMetric(float64(b.N)*benchBatchRows/b.Elapsed().Seconds(), "rows/s")
}
