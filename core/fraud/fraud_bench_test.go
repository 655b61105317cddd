package fraud

import (
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// BenchmarkNext generates the default data set row by row.
func BenchmarkNext(b *testing.B) {
	b.ReportAllocs()
	cfg := DefaultConfig()
	for b.Loop() {
		g, err := NewGenerator(cfg)
		if err != nil {
			b.Fatal(err)
		}
		var tx Transaction
		for g.Next(&tx) {
		}
	}
	b.ReportMetric(float64(cfg.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkGenerate generates the default data set as Arrow batches of
// 8192 rows.
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	cfg := DefaultConfig()
	for b.Loop() {
		rows := 0
		err := Generate(cfg, 8192, func(tx, _ arrow.RecordBatch) error {
			rows += int(tx.NumRows())
			return nil
		})
		if err != nil || rows != cfg.Rows {
			b.Fatalf("Generate: %v, %d rows", err, rows)
		}
	}
	b.ReportMetric(float64(cfg.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkWriteCSV writes the default data set as CSV.
func BenchmarkWriteCSV(b *testing.B) {
	b.ReportAllocs()
	cfg := DefaultConfig()
	for b.Loop() {
		if err := WriteCSV(cfg, io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cfg.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
