package feature_test

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/spate-ml/spate/core/feature"
	"github.com/spate-ml/spate/core/feature/internal/benchdata"
)

// cpuTime returns the CPU time the process has used (all threads, GC
// included): events per CPU second is a per-core rate even on a busy
// machine, where wall-clock rates depend on the neighbours.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapBytes() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkSliding24h measures the streaming path: the 24-hour SUM, COUNT,
// AVG and MAX of transactionAmount per accountID, one batch of 8192 fraud
// rows per iteration, after a warm-up pass that fills every window. The
// row pool is replayed with timestamps shifted past its span, so rows stay
// in order. Metrics: events/s on one goroutine, and state per key: the
// fixed per-group state (group_B/key), the key index (index_B/key), the
// rows inside the windows (rows_B/key) and the Go heap growth (heap_B/key).
func BenchmarkSliding24h(b *testing.B) {
	for _, tc := range []struct{ keys, rows int }{{100_000, 1_000_000}, {1_000_000, 2_000_000}} {
		b.Run(fmt.Sprintf("keys=%d", tc.keys), func(b *testing.B) {
			recs, err := benchdata.Generate(tc.rows, tc.keys, 8192)
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				for _, r := range recs {
					r.Release()
				}
			}()
			tsCols := make([][]int64, len(recs))
			for i, r := range recs {
				tsCols[i] = r.Column(2).(*array.Int64).Int64Values()
			}
			first, last := tsCols[0][0], tsCols[len(tsCols)-1][len(tsCols[len(tsCols)-1])-1]
			span := last - first + 86400*2
			ts, defs := benchdata.Defs()
			heap0 := heapBytes()
			p, err := feature.Compile(benchdata.Schema(), ts, defs)
			if err != nil {
				b.Fatal(err)
			}
			process := func(r arrow.RecordBatch) {
				out, err := p.Process(r)
				if err != nil {
					b.Fatal(err)
				}
				out.Release()
			}
			for _, r := range recs { // warm-up: every key seen, windows full
				process(r)
			}
			heap1 := heapBytes()
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			var events int64
			for i := 0; i < b.N; i++ {
				k := i % len(recs)
				if k == 0 {
					b.StopTimer()
					for _, c := range tsCols {
						for j := range c {
							c[j] += span
						}
					}
					b.StartTimer()
				}
				process(recs[k])
				events += recs[k].NumRows()
			}
			b.StopTimer()
			el, cpu := time.Since(start), cpuTime()-cpu0
			st := p.StateSize()
			b.ReportMetric(float64(events)/el.Seconds(), "events/s")
			b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
			b.ReportMetric(float64(st.GroupBytes)/float64(st.Keys), "group_B/key")
			b.ReportMetric(float64(st.IndexBytes)/float64(st.Keys), "index_B/key")
			b.ReportMetric(float64(st.RowBytes)/float64(st.Keys), "rows_B/key")
			b.ReportMetric(float64(st.LiveRowBytes)/float64(st.Keys), "live_rows_B/key")
			b.ReportMetric(float64(heap1-heap0)/float64(st.Keys), "heap_B/key")
		})
	}
}

// BenchmarkOutOfOrder measures rows arriving up to 10 minutes late within a
// 30-minute allowed lateness.
func BenchmarkOutOfOrder(b *testing.B) {
	recs, err := benchdata.Generate(500_000, 50_000, 8192)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range recs {
		c := r.Column(2).(*array.Int64).Int64Values()
		for j := range c {
			c[j] -= int64((j * 7919) % 600)
		}
	}
	ts, defs := benchdata.Defs()
	for i := range defs {
		defs[i].AllowedLateness = "30 minutes"
	}
	p, err := feature.Compile(benchdata.Schema(), ts, defs)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var events int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if i%len(recs) == 0 && i > 0 {
			b.StopTimer()
			p, _ = feature.Compile(benchdata.Schema(), ts, defs)
			b.StartTimer()
		}
		out, err := p.Process(recs[i%len(recs)])
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
		events += recs[i%len(recs)].NumRows()
	}
	b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkSQLFeature measures a CASE WHEN feature over the same rows.
func BenchmarkSQLFeature(b *testing.B) {
	recs, err := benchdata.Generate(100_000, 10_000, 8192)
	if err != nil {
		b.Fatal(err)
	}
	p, err := feature.Compile(benchdata.Schema(), nil, []feature.Def{{Name: "big", Kind: feature.KindSQL,
		SQL: `CASE WHEN "transactionAmount" > 100 THEN 1 ELSE 0 END + ROUND("transactionAmount" / 3, 2)`}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var events int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		out, err := p.Process(recs[i%len(recs)])
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
		events += recs[i%len(recs)].NumRows()
	}
	b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
}
