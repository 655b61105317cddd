package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spate-ml/spate/core/fraud"
	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server"
)

// benchBatches returns fraud transactions as batches of batchRows rows and
// the size of each batch encoded as Arrow IPC (what travels and is stored).
func benchBatches(b *testing.B, rows, batchRows int) ([]arrow.RecordBatch, []int) {
	b.Helper()
	cfg := fraud.DefaultConfig()
	cfg.Rows = rows
	var recs []arrow.RecordBatch
	var sizes []int
	err := fraud.Generate(cfg, batchRows, func(tx, _ arrow.RecordBatch) error {
		tx.Retain()
		recs = append(recs, tx)
		var buf bytes.Buffer
		w := ipc.NewWriter(&buf, ipc.WithSchema(tx.Schema()))
		if err := w.Write(tx); err != nil {
			return err
		}
		w.Close()
		sizes = append(sizes, buf.Len())
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return recs, sizes
}

func benchServer(b *testing.B) (*server.Server, string) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Options{DataDir: b.TempDir(), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler), Announce: io.Discard, MaxUploadBytes: 256 << 20})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = srv.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	key := srv.DevKey()
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	sch := fraud.TransactionsSchema()
	var fields []*spatev1.Field
	types := map[string]spatev1.FieldType{"int32": 1, "int64": 2, "float": 3, "double": 4, "string": 5, "bool": 6, "bytes": 7}
	for _, f := range sch.Fields {
		fields = append(fields, &spatev1.Field{Name: f.Name, Type: types[f.Type.String()]})
	}
	for _, id := range []string{"tx1", "tx4", "rest"} {
		if _, err := spatev1.NewDatasetServiceClient(conn).CreateDataset(withKey(key),
			&spatev1.CreateDatasetRequest{DatasetId: id, Fields: fields, KeyField: sch.Key}); err != nil {
			b.Fatal(err)
		}
	}
	return srv, key
}

// BenchmarkIngest measures durable ingest of the fraud schema: Flight DoPut
// with one and four concurrent streams, REST JSON upload, and, as the
// physical limit, sequential write + fdatasync of the same IPC bytes in the
// same batch sizes to the same disk. Each op is one batch.
func BenchmarkIngest(b *testing.B) {
	const batchRows = 16384
	recs, sizes := benchBatches(b, 8*batchRows, batchRows)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	avgBytes := 0
	for _, s := range sizes {
		avgBytes += s
	}
	avgBytes /= len(sizes)

	report := func(b *testing.B, rows int64) {
		sec := b.Elapsed().Seconds()
		b.ReportMetric(float64(rows)/sec, "rows/s")
		b.ReportMetric(float64(rows)*float64(avgBytes)/batchRows/sec/1e6, "MB/s")
	}

	b.Run("raw-write-fdatasync", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "raw"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		bufs := make([][]byte, len(sizes))
		for i, s := range sizes {
			bufs[i] = bytes.Repeat([]byte{byte(i)}, s)
		}
		b.SetBytes(int64(avgBytes))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := f.Write(bufs[i%len(bufs)]); err != nil {
				b.Fatal(err)
			}
			if err := unix.Fdatasync(int(f.Fd())); err != nil {
				b.Fatal(err)
			}
		}
		report(b, int64(b.N)*batchRows)
	})

	for _, streams := range []int{1, 4} {
		b.Run(fmt.Sprintf("flight-doput-%dstream", streams), func(b *testing.B) {
			srv, key := benchServer(b)
			id := fmt.Sprintf("tx%d", streams)
			fc, err := flight.NewClientWithMiddleware(srv.GRPCAddr(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer fc.Close()
			b.SetBytes(int64(avgBytes))
			b.ResetTimer()
			var wg sync.WaitGroup
			per := (b.N + streams - 1) / streams
			for s := 0; s < streams; s++ {
				wg.Add(1)
				go func(s int) {
					defer wg.Done()
					ctx := withKey(key)
					stream, err := fc.DoPut(ctx)
					if err != nil {
						b.Error(err)
						return
					}
					w := flight.NewRecordWriter(stream, ipc.WithSchema(recs[0].Schema()))
					w.SetFlightDescriptor(&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd(map[string]string{"dataset_id": id})})
					acked := make(chan int, 1)
					go func() {
						n := 0
						for {
							if _, err := stream.Recv(); err != nil {
								acked <- n
								return
							}
							n++
						}
					}()
					for i := 0; i < per; i++ {
						if err := w.Write(recs[(i+s)%len(recs)]); err != nil {
							b.Error(err)
							return
						}
					}
					w.Close()
					_ = stream.CloseSend()
					if n := <-acked; n != per {
						b.Errorf("stream %d: %d acks for %d batches", s, n, per)
					}
				}(s)
			}
			wg.Wait()
			report(b, int64(per*streams)*batchRows)
		})
	}

	b.Run("rest-json-upload", func(b *testing.B) {
		srv, key := benchServer(b)
		// One REST body of 1,000 rows, as the TurboML client sends them.
		rows := recordToJSON(b, recs[0], 1000)
		b.SetBytes(int64(len(rows)))
		b.ResetTimer()
		client := &http.Client{}
		for i := 0; i < b.N; i++ {
			req, _ := http.NewRequest(http.MethodPost, "http://"+srv.HTTPAddr()+"/api/dataset/rest/upload", bytes.NewReader(rows))
			req.Header.Set("Authorization", "apiKey "+key)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
		b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "rows/s")
	})
}

// recordToJSON renders the first n rows of rec as a JSON list of objects.
func recordToJSON(b *testing.B, rec arrow.RecordBatch, n int) []byte {
	b.Helper()
	slice := rec.NewSlice(0, int64(n))
	defer slice.Release()
	out, err := slice.MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	// arrow renders a list of row objects already.
	var rows []map[string]any
	if err := json.Unmarshal(out, &rows); err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(rows)
	return body
}
