// Command featurebench times the feature engine over a whole history of
// fraud rows (the 24-hour SUM, COUNT, AVG and MAX of transactionAmount per
// accountID) and writes the same rows to Parquet so that bench/features.sh
// can time DuckDB's batch window query over them.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/spate-ml/spate/core/feature"
	"github.com/spate-ml/spate/core/feature/internal/benchdata"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func writeParquet(path string, recs []arrow.RecordBatch) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := pqarrow.NewFileWriter(recs[0].Schema(), f, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		f.Close()
		return err
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

func run(ctx context.Context, rows, accounts, batch int, parquet, profile string) error {
	t0 := time.Now()
	recs, err := benchdata.Generate(rows, accounts, batch)
	if err != nil {
		return err
	}
	slog.Info("generated", "rows", rows, "accounts", accounts, "took", time.Since(t0).Round(time.Millisecond))
	if parquet != "" {
		if err := writeParquet(parquet, recs); err != nil {
			return fmt.Errorf("write %s: %w", parquet, err)
		}
	}
	ts, defs := benchdata.Defs()
	p, err := feature.Compile(benchdata.Schema(), ts, defs)
	if err != nil {
		return err
	}
	runtime.GC()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start, cpu0 := time.Now(), cpuTime()
	for _, r := range recs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		out, err := p.Process(r)
		if err != nil {
			return err
		}
		out.Release()
	}
	wall, cpu := time.Since(start), cpuTime()-cpu0
	st := p.StateSize()
	fmt.Printf("spate\trows=%d\taccounts=%d\tkeys=%d\twall_s=%.3f\tcpu_s=%.3f\tevents_per_s=%.0f\tevents_per_cpu_s=%.0f\tgroup_B_per_key=%.1f\tindex_B_per_key=%.1f\trows_B_per_key=%.1f\tlive_rows_B_per_key=%.1f\n",
		rows, accounts, st.Keys, wall.Seconds(), cpu.Seconds(), float64(rows)/wall.Seconds(), float64(rows)/cpu.Seconds(),
		float64(st.GroupBytes)/float64(st.Keys), float64(st.IndexBytes)/float64(st.Keys), float64(st.RowBytes)/float64(st.Keys), float64(st.LiveRowBytes)/float64(st.Keys))
	return nil
}

func main() {
	rows := flag.Int("rows", 1_000_000, "transactions to generate")
	accounts := flag.Int("accounts", 100_000, "distinct accounts (group keys)")
	batch := flag.Int("batch", 8192, "rows per batch")
	parquet := flag.String("parquet", "", "also write the rows to this Parquet file")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the processing to this file")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, *rows, *accounts, *batch, *parquet, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "featurebench:", err)
		os.Exit(1)
	}
}
