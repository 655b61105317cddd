package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/joho/godotenv"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spate-ml/spate/core/fraud"
	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server"
)

// demoPipeline builds the demo: fraud datasets, the 24-hour SUM feature and
// a Hoeffding tree on it, with history rows uploaded before the model.
type demoPipeline struct {
	httpAddr string
	key      string
	conn     *grpc.ClientConn
	fc       flight.Client
	models   spatev1.ModelServiceClient
	txs      []arrow.RecordBatch
	labs     []arrow.RecordBatch
	history  int
}

func newDemo(tb testing.TB, rows, batchRows, historyBatches int, withFeature bool) *demoPipeline {
	return newDemoOn(tb, rows, batchRows, historyBatches, withFeature, false)
}

// newDemoOn builds the demo on an in-process server, or, with separate, on
// a server in a child process (so that the load generator does not share
// the server's Go runtime).
func newDemoOn(tb testing.TB, rows, batchRows, historyBatches int, withFeature, separate bool) *demoPipeline {
	tb.Helper()
	dir := tb.TempDir()
	d := &demoPipeline{}
	var grpcAddr string
	var err error
	if separate {
		c := startChild(tb, dir)
		tb.Cleanup(func() { c.cmd.Process.Signal(syscall.SIGTERM); c.cmd.Wait() })
		env, err := godotenv.Read(dir + "/.env")
		if err != nil || env["SPATE_API_KEY"] == "" {
			tb.Fatalf("no key in the child's env file: %v", err)
		}
		d.key, grpcAddr, d.httpAddr = env["SPATE_API_KEY"], c.grpc, c.http
	} else {
		ctx, cancel := context.WithCancel(context.Background())
		srv, err := server.New(ctx, server.Options{DataDir: dir, GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			Logger: quietLogger(), Announce: io.Discard})
		if err != nil {
			tb.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = srv.Run(ctx); close(done) }()
		tb.Cleanup(func() { cancel(); <-done })
		d.key, grpcAddr, d.httpAddr = srv.DevKey(), srv.GRPCAddr(), srv.HTTPAddr()
	}
	d.conn, err = grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.conn.Close() })
	d.fc, err = flight.NewClientWithMiddleware(grpcAddr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.fc.Close() })
	d.models = spatev1.NewModelServiceClient(d.conn)
	kctx := withKey(d.key)
	types := map[string]spatev1.FieldType{"int32": 1, "int64": 2, "float": 3, "double": 4, "string": 5, "bool": 6, "bytes": 7}
	for _, ds := range []struct {
		id     string
		fields []*spatev1.Field
	}{{"transactions", nil}, {"labels", nil}} {
		sch := fraud.TransactionsSchema()
		if ds.id == "labels" {
			sch = fraud.LabelsSchema()
		}
		for _, f := range sch.Fields {
			ds.fields = append(ds.fields, &spatev1.Field{Name: f.Name, Type: types[f.Type.String()]})
		}
		if _, err := spatev1.NewDatasetServiceClient(d.conn).CreateDataset(kctx, &spatev1.CreateDatasetRequest{DatasetId: ds.id, Fields: ds.fields, KeyField: sch.Key}); err != nil {
			tb.Fatal(err)
		}
	}
	cfg := fraud.DefaultConfig()
	cfg.Rows = rows
	if err := fraud.Generate(cfg, batchRows, func(tx, lb arrow.RecordBatch) error {
		tx.Retain()
		lb.Retain()
		d.txs, d.labs = append(d.txs, tx), append(d.labs, lb)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	d.history = historyBatches
	if historyBatches > 0 {
		d.put(tb, "transactions", d.txs[:historyBatches]...)
		d.put(tb, "labels", d.labs[:historyBatches]...)
	}
	numerical := []string{"transactionAmount", "localHour"}
	if withFeature {
		fs := spatev1.NewFeatureServiceClient(d.conn)
		if _, err := fs.RegisterTimestamp(kctx, &spatev1.RegisterTimestampRequest{DatasetId: "transactions", ColumnName: "timestamp", Format: "epoch_seconds"}); err != nil {
			tb.Fatal(err)
		}
		if _, err := fs.MaterializeFeatures(kctx, &spatev1.MaterializeFeaturesRequest{DatasetId: "transactions", Features: []*spatev1.FeatureDef{{
			Name: "my_sum_feat", Kind: "aggregate", Column: "transactionAmount", Operation: "SUM", GroupBy: "accountID", TimestampColumn: "timestamp", Window: "24 hours",
		}}}); err != nil {
			tb.Fatal(err)
		}
		numerical = append(numerical, "my_sum_feat")
	}
	modelCfg := `[{"algorithm":"HoeffdingTreeClassifier","n_classes":2}]`
	if v := os.Getenv("SPATE_BENCH_MODEL"); v != "" {
		modelCfg = v
	}
	if _, err := d.models.Deploy(kctx, &spatev1.DeployRequest{
		Name: "fraud_model", DatasetId: "transactions", ModelConfigsJson: modelCfg,
		NumericalFields: numerical, CategoricalFields: []string{"digitalItemCount", "physicalItemCount", "isProxyIP"},
		Label: &spatev1.LabelSpec{DatasetId: "labels", Field: "is_fraud"}, Metrics: []string{"WindowedAUC"},
	}); err != nil {
		tb.Fatal(err)
	}
	return d
}

func (d *demoPipeline) put(tb testing.TB, id string, recs ...arrow.RecordBatch) {
	tb.Helper()
	h := &harness{t: nil, flight: d.fc}
	if _, err := h.put(withKey(d.key), id, recs...); err != nil {
		tb.Fatal(err)
	}
}

func (d *demoPipeline) info(tb testing.TB) *spatev1.ModelInfo {
	tb.Helper()
	info, err := d.models.GetModel(withKey(d.key), &spatev1.GetModelRequest{Name: "fraud_model"})
	if err != nil {
		tb.Fatal(err)
	}
	return info
}

func (d *demoPipeline) waitLearned(tb testing.TB, n int64, limit time.Duration) *spatev1.ModelInfo {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		info := d.info(tb)
		if info.Stats.Learned >= n && info.Stats.Predicted >= n {
			return info
		}
		if time.Now().After(deadline) {
			tb.Fatalf("model did not reach %d learned samples in %v: %+v", n, limit, info.Stats)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// BenchmarkLearnThroughput measures how fast the demo model consumes labeled
// history: 200,000 fraud rows with labels, the 24-hour SUM feature, a
// Hoeffding tree; rows/s from deploy until every row is predicted and
// learned (feature backfill included).
func BenchmarkLearnThroughput(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d := newDemo(b, 200000, 20000, 0, true)
		d.put(b, "transactions", d.txs...)
		d.put(b, "labels", d.labs...)
		start := time.Now()
		b.StartTimer()
		d.waitLearned(b, 200000, 5*time.Minute)
		b.ReportMetric(200000/time.Since(start).Seconds(), "labeled_rows/s")
	}
}

// BenchmarkStreamLatency streams the fraud data into the demo pipeline (a
// server in its own process) at a fixed rate (100-row batches; transactions
// then their labels) and reports the server-measured
// ingest-acknowledgement → output latency.
func BenchmarkStreamLatency(b *testing.B) {
	const rate = 20000 // rows per second
	const batch = 100
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// 20,000 history rows, then 180,000 streamed over 9 s; the
		// latency figures cover the last 5 s (warm-up excluded).
		d := newDemoOn(b, 200000, batch, 200, true, true)
		d.waitLearned(b, 20000, 2*time.Minute)
		b.StartTimer()
		ctx := withKey(d.key)
		txStream, err := d.fc.DoPut(ctx)
		if err != nil {
			b.Fatal(err)
		}
		labStream, err := d.fc.DoPut(ctx)
		if err != nil {
			b.Fatal(err)
		}
		tw := flight.NewRecordWriter(txStream, ipc.WithSchema(d.txs[0].Schema()))
		tw.SetFlightDescriptor(&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd(map[string]string{"dataset_id": "transactions"})})
		lw := flight.NewRecordWriter(labStream, ipc.WithSchema(d.labs[0].Schema()))
		lw.SetFlightDescriptor(&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd(map[string]string{"dataset_id": "labels"})})
		go func() {
			for {
				if _, err := txStream.Recv(); err != nil {
					return
				}
			}
		}()
		go func() {
			for {
				if _, err := labStream.Recv(); err != nil {
					return
				}
			}
		}()
		interval := time.Second * batch / rate
		next := time.Now()
		sent := 0
		for j := d.history; j < len(d.txs); j++ { // bounded: the data set's batches
			if err := tw.Write(d.txs[j]); err != nil {
				b.Fatal(err)
			}
			if err := lw.Write(d.labs[j]); err != nil {
				b.Fatal(err)
			}
			sent += batch
			next = next.Add(interval)
			if s := time.Until(next); s > 0 {
				time.Sleep(s)
			}
		}
		tw.Close()
		lw.Close()
		txStream.CloseSend()
		labStream.CloseSend()
		info := d.waitLearned(b, int64(len(d.txs)*batch), 2*time.Minute)
		b.StopTimer()
		b.ReportMetric(info.Stats.LatencyP50Seconds*1000, "p50_ms")
		b.ReportMetric(info.Stats.LatencyP99Seconds*1000, "p99_ms")
		b.ReportMetric(float64(sent), "rows_streamed")
	}
}

// BenchmarkPredictEndpoint sends POST /model/{name}/predict at 1,000
// requests/s for a bounded number of requests and reports latency
// percentiles (client-measured, loopback, features computed per request).
func BenchmarkPredictEndpoint(b *testing.B) {
	d := newDemo(b, 20000, 1000, 20, true)
	d.waitLearned(b, 20000, time.Minute)
	row := map[string]any{"transactionID": "q", "accountID": "acct", "transactionAmount": 120.5, "localHour": 3,
		"timestamp": 1e6, "isProxyIP": 1, "digitalItemCount": 1, "physicalItemCount": 0}
	body, _ := json.Marshal(row)
	url := "http://" + d.httpAddr + "/model/fraud_model/predict"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	const n = 3000
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lat := make([]float64, 0, n)
		next := time.Now()
		for j := 0; j < n; j++ {
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Authorization", "apiKey "+d.key)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			lat = append(lat, time.Since(t0).Seconds()*1000)
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
			next = next.Add(time.Millisecond)
			if s := time.Until(next); s > 0 {
				time.Sleep(s)
			}
		}
		sort.Float64s(lat)
		b.ReportMetric(lat[len(lat)/2], "p50_ms")
		b.ReportMetric(lat[len(lat)*99/100], "p99_ms")
		b.ReportMetric(lat[len(lat)-1], "max_ms")
	}
}

// TestFeatureImprovesAUC deploys the demo model with and without the
// 24-hour per-account SUM on the same 200,000 bundled rows and checks that
// the feature raises the final WindowedAUC (window 1000) and the mean over
// the stream. The figures go in the README.
func TestFeatureImprovesAUC(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 200,000 rows twice")
	}
	auc := func(withFeature bool) (last, mean float64) {
		d := newDemo(t, 200000, 20000, 10, withFeature)
		d.waitLearned(t, 200000, 5*time.Minute)
		ev, err := d.models.GetEvaluation(withKey(d.key), &spatev1.GetEvaluationRequest{Name: "fraud_model", Metric: "WindowedAUC", WindowSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		var n int
		for _, v := range ev.Values[1000:] {
			if v == v { // skip NaN (one-class windows)
				s += v
				n++
			}
		}
		return ev.Values[len(ev.Values)-1], s / float64(n)
	}
	withLast, withMean := auc(true)
	withoutLast, withoutMean := auc(false)
	t.Logf("WindowedAUC with my_sum_feat: mean %.4f, last %.4f; without: mean %.4f, last %.4f", withMean, withLast, withoutMean, withoutLast)
	if !(withMean > withoutMean) {
		t.Fatalf("my_sum_feat did not help: mean AUC %.4f with, %.4f without", withMean, withoutMean)
	}
	fmt.Printf("AUC with my_sum_feat: mean %.4f last %.4f | without: mean %.4f last %.4f\n", withMean, withLast, withoutMean, withoutLast)
}
