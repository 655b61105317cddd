package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/joho/godotenv"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spate-ml/spate/core/feature"
	"github.com/spate-ml/spate/core/fraud"
	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/catalog"
	"github.com/spate-ml/spate/core/schema"
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

// pipelineRows is the history size of BenchmarkPipeline: SPATE_BENCH_ROWS,
// default 200,000 (bench/pipeline.sh runs 10,000,000).
func pipelineRows(tb testing.TB) int {
	n := 200_000
	if v := os.Getenv("SPATE_BENCH_ROWS"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil || n <= 0 {
			tb.Fatalf("SPATE_BENCH_ROWS=%q is not a positive row count", v)
		}
	}
	return n
}

// pipelineModels is the model counts BenchmarkPipeline deploys, one
// end-to-end run each: SPATE_BENCH_MODELS, e.g. "1,2,4" (default "1").
func pipelineModels(tb testing.TB) []int {
	v := os.Getenv("SPATE_BENCH_MODELS")
	if v == "" {
		return []int{1}
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n <= 0 || n > 16 {
			tb.Fatalf("SPATE_BENCH_MODELS=%q: want model counts from 1 to 16, comma-separated", v)
		}
		out = append(out, n)
	}
	return out
}

// historyCache writes the first rows of the fraud data set as two Arrow IPC
// stream files (transactions, labels) of 16,384-row batches in dir, once:
// a later run with the same dir and row count reuses them, so generating
// the data (about 1 M rows/s) is outside every measurement.
func historyCache(tb testing.TB, dir string, rows int) (txPath, labPath string) {
	tb.Helper()
	txPath = filepath.Join(dir, fmt.Sprintf("fraud-tx-%d.arrows", rows))
	labPath = filepath.Join(dir, fmt.Sprintf("fraud-labels-%d.arrows", rows))
	if _, err := os.Stat(labPath); err == nil {
		return txPath, labPath
	}
	create := func(p string) (*os.File, *bufio.Writer) {
		f, err := os.Create(p + ".tmp")
		if err != nil {
			tb.Fatal(err)
		}
		return f, bufio.NewWriterSize(f, 1<<20)
	}
	tf, tbw := create(txPath)
	lf, lbw := create(labPath)
	tw := ipc.NewWriter(tbw, ipc.WithSchema(fraud.TransactionsSchema().Arrow()))
	lw := ipc.NewWriter(lbw, ipc.WithSchema(fraud.LabelsSchema().Arrow()))
	cfg := fraud.DefaultConfig()
	cfg.Rows = rows
	err := fraud.Generate(cfg, 16384, func(tx, lb arrow.RecordBatch) error {
		if err := tw.Write(tx); err != nil {
			return err
		}
		return lw.Write(lb)
	})
	for _, c := range []func() error{tw.Close, lw.Close, tbw.Flush, lbw.Flush, tf.Close, lf.Close} {
		if cerr := c(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.Rename(txPath+".tmp", txPath)
	}
	if err == nil {
		err = os.Rename(labPath+".tmp", labPath)
	}
	if err != nil {
		tb.Fatalf("write the history cache: %v", err)
	}
	return txPath, labPath
}

// eachBatch calls f with every batch of an IPC stream file.
func eachBatch(tb testing.TB, path string, f func(arrow.RecordBatch)) {
	tb.Helper()
	if err := eachBatchErr(path, func(rec arrow.RecordBatch) error { f(rec); return nil }); err != nil {
		tb.Fatal(err)
	}
}

// eachBatchErr calls f with every batch of an IPC stream file, until f
// fails.
func eachBatchErr(path string, f func(arrow.RecordBatch) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	r, err := ipc.NewReader(bufio.NewReaderSize(fh, 1<<20))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer r.Release()
	for r.Next() {
		if err := f(r.RecordBatch()); err != nil {
			return err
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// putFile uploads an IPC stream file to a dataset over one Flight DoPut
// stream and returns the seconds it took, acknowledgements included.
func putFile(tb testing.TB, fc flight.Client, key, id, path string) float64 {
	tb.Helper()
	sec, err := putFileErr(fc, key, id, path)
	if err != nil {
		tb.Fatal(err)
	}
	return sec
}

// putFileErr is putFile for any goroutine: it returns the error.
func putFileErr(fc flight.Client, key, id, path string) (float64, error) {
	start := time.Now()
	stream, err := fc.DoPut(withKey(key))
	if err != nil {
		return 0, err
	}
	acks := make(chan error, 1)
	go func() {
		for {
			if _, err := stream.Recv(); err != nil {
				if err == io.EOF {
					err = nil
				}
				acks <- err
				return
			}
		}
	}()
	var w *flight.Writer
	err = eachBatchErr(path, func(rec arrow.RecordBatch) error {
		if w == nil {
			w = flight.NewRecordWriter(stream, ipc.WithSchema(rec.Schema()))
			w.SetFlightDescriptor(&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd(map[string]string{"dataset_id": id})})
		}
		if err := w.Write(rec); err != nil {
			return fmt.Errorf("upload %s: %w", id, err)
		}
		return nil
	})
	if w != nil {
		w.Close()
	}
	if err != nil {
		return 0, err
	}
	if err := stream.CloseSend(); err != nil {
		return 0, err
	}
	if err := <-acks; err != nil {
		return 0, fmt.Errorf("upload %s: %w", id, err)
	}
	return time.Since(start).Seconds(), nil
}

// learnerAlone times the demo's Hoeffding tree alone, prequential
// (predict, then learn) over the history's inputs, the 24-hour SUM
// computed here by a feature pipeline of its own. It returns the samples/s
// of the learner and the rows/s of the in-process feature pipeline (both
// timed around their own calls only).
func learnerAlone(tb testing.TB, txPath, labPath string) (learnPerSec, featPerSec float64) {
	tb.Helper()
	p, err := feature.Compile(fraud.TransactionsSchema(), []feature.Timestamp{{Column: "timestamp", Format: "epoch_seconds"}},
		[]feature.Def{{Name: "my_sum_feat", Kind: feature.KindAggregate, Column: "transactionAmount", Op: feature.OpSum,
			GroupBy: "accountID", Timestamp: "timestamp", Window: "24 hours"}})
	if err != nil {
		tb.Fatal(err)
	}
	var labels []int64
	eachBatch(tb, labPath, func(rec arrow.RecordBatch) {
		labels = append(labels, rec.Column(1).(*array.Int64).Int64Values()...)
	})
	l, err := catalog.Build(catalog.New(), []json.RawMessage{json.RawMessage(`{"algorithm":"HoeffdingTreeClassifier","n_classes":2}`)},
		ml.Spec{NumNumeric: 3, NumCateg: 3, NClasses: 2})
	if err != nil {
		tb.Fatal(err)
	}
	sch := fraud.TransactionsSchema()
	col := func(rec arrow.RecordBatch, name string) arrow.Array { return rec.Column(sch.Index(name)) }
	var featSec, learnSec float64
	var n int
	num, cat := make([]float64, 3), make([]int64, 3)
	var pred ml.Prediction
	eachBatch(tb, txPath, func(rec arrow.RecordBatch) {
		t0 := time.Now()
		feats, err := p.Process(rec)
		if err != nil {
			tb.Fatal(err)
		}
		featSec += time.Since(t0).Seconds()
		amount := col(rec, "transactionAmount").(*array.Float64).Float64Values()
		hour := col(rec, "localHour").(*array.Int64).Int64Values()
		digital := col(rec, "digitalItemCount").(*array.Int64).Int64Values()
		physical := col(rec, "physicalItemCount").(*array.Int64).Int64Values()
		proxy := col(rec, "isProxyIP").(*array.Int64).Int64Values()
		sum := feats.Column(0).(*array.Float64)
		t0 = time.Now()
		for i := range int(rec.NumRows()) {
			num[0], num[1], num[2] = amount[i], float64(hour[i]), sum.Value(i)
			cat[0], cat[1], cat[2] = digital[i], physical[i], proxy[i]
			in := ml.Instance{Numeric: num, Categ: cat}
			l.Predict(in, &pred)
			l.Learn(in, float64(labels[n]))
			n++
		}
		learnSec += time.Since(t0).Seconds()
		feats.Release()
	})
	return float64(n) / learnSec, float64(n) / featSec
}

// vmHWM returns a process's peak resident set size in bytes (VmHWM).
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb); err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmHWM line")
}

// pipelineServer is a server for BenchmarkPipeline: a child process (so
// that its peak RSS is its own), or in this process with
// SPATE_BENCH_INPROC=1 (so that -cpuprofile covers it).
type pipelineServer struct {
	key  string
	pid  int
	conn *grpc.ClientConn
	fc   flight.Client
}

func startPipelineServer(tb testing.TB) *pipelineServer {
	tb.Helper()
	dir := tb.TempDir()
	s := &pipelineServer{}
	var grpcAddr string
	if os.Getenv("SPATE_BENCH_INPROC") == "1" {
		ctx, cancel := context.WithCancel(context.Background())
		srv, err := server.New(ctx, server.Options{DataDir: dir, GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			Logger: quietLogger(), Announce: io.Discard})
		if err != nil {
			tb.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = srv.Run(ctx); close(done) }()
		tb.Cleanup(func() { cancel(); <-done })
		s.key, grpcAddr, s.pid = srv.DevKey(), srv.GRPCAddr(), os.Getpid()
	} else {
		c := startChild(tb, dir)
		tb.Cleanup(func() { c.cmd.Process.Signal(syscall.SIGTERM); c.cmd.Wait() })
		env, err := godotenv.Read(dir + "/.env")
		if err != nil || env["SPATE_API_KEY"] == "" {
			tb.Fatalf("no key in the child's env file: %v", err)
		}
		s.key, grpcAddr, s.pid = env["SPATE_API_KEY"], c.grpc, c.cmd.Process.Pid
	}
	var err error
	if s.conn, err = grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.conn.Close() })
	if s.fc, err = flight.NewClientWithMiddleware(grpcAddr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.fc.Close() })
	return s
}

// createFraud creates the transactions and labels datasets under the given
// ids.
func (s *pipelineServer) createFraud(tb testing.TB, txID, labID string) {
	tb.Helper()
	types := map[string]spatev1.FieldType{"int32": 1, "int64": 2, "float": 3, "double": 4, "string": 5, "bool": 6, "bytes": 7}
	for id, sch := range map[string]*schema.Schema{txID: fraud.TransactionsSchema(), labID: fraud.LabelsSchema()} {
		var fields []*spatev1.Field
		for _, f := range sch.Fields {
			fields = append(fields, &spatev1.Field{Name: f.Name, Type: types[f.Type.String()]})
		}
		if _, err := spatev1.NewDatasetServiceClient(s.conn).CreateDataset(withKey(s.key),
			&spatev1.CreateDatasetRequest{DatasetId: id, Fields: fields, KeyField: sch.Key}); err != nil {
			tb.Fatal(err)
		}
	}
}

// materialize registers the timestamp and materializes the demo's 24-hour
// SUM on a transactions dataset.
func (s *pipelineServer) materialize(tb testing.TB, txID string) {
	tb.Helper()
	fs := spatev1.NewFeatureServiceClient(s.conn)
	ctx := withKey(s.key)
	if _, err := fs.RegisterTimestamp(ctx, &spatev1.RegisterTimestampRequest{DatasetId: txID, ColumnName: "timestamp", Format: "epoch_seconds"}); err != nil {
		tb.Fatal(err)
	}
	if _, err := fs.MaterializeFeatures(ctx, &spatev1.MaterializeFeaturesRequest{DatasetId: txID, Features: []*spatev1.FeatureDef{{
		Name: "my_sum_feat", Kind: "aggregate", Column: "transactionAmount", Operation: "SUM", GroupBy: "accountID", TimestampColumn: "timestamp", Window: "24 hours",
	}}}); err != nil {
		tb.Fatal(err)
	}
}

// waitFeatures waits until the features of n rows are computed.
func (s *pipelineServer) waitFeatures(tb testing.TB, txID string, n int64, limit time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	fs := spatev1.NewFeatureServiceClient(s.conn)
	for {
		res, err := fs.ListFeatures(withKey(s.key), &spatev1.ListFeaturesRequest{DatasetId: txID})
		if err != nil {
			tb.Fatal(err)
		}
		if res.ComputedRows >= n {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("features of %q reached %d of %d rows in %v", txID, res.ComputedRows, n, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// deploy deploys the demo model on a transactions/labels pair.
func (s *pipelineServer) deploy(tb testing.TB, name, txID, labID string) {
	tb.Helper()
	if _, err := spatev1.NewModelServiceClient(s.conn).Deploy(withKey(s.key), &spatev1.DeployRequest{
		Name: name, DatasetId: txID, ModelConfigsJson: `[{"algorithm":"HoeffdingTreeClassifier","n_classes":2}]`,
		NumericalFields: []string{"transactionAmount", "localHour", "my_sum_feat"}, CategoricalFields: []string{"digitalItemCount", "physicalItemCount", "isProxyIP"},
		Label: &spatev1.LabelSpec{DatasetId: labID, Field: "is_fraud"}, Metrics: []string{"WindowedAUC"},
	}); err != nil {
		tb.Fatal(err)
	}
}

// waitModel waits until a model has predicted and learned n rows.
func (s *pipelineServer) waitModel(tb testing.TB, name string, n int64, limit time.Duration) *spatev1.ModelInfo {
	tb.Helper()
	deadline := time.Now().Add(limit)
	ms := spatev1.NewModelServiceClient(s.conn)
	for {
		info, err := ms.GetModel(withKey(s.key), &spatev1.GetModelRequest{Name: name})
		if err != nil {
			tb.Fatal(err)
		}
		if st := info.Stats; st.Learned >= n && st.Predicted >= n {
			return info
		}
		if time.Now().After(deadline) {
			tb.Fatalf("model %q did not reach %d rows in %v: %+v", name, n, limit, info.Stats)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// profileE2E starts a CPU profile of the end-to-end phase with m models
// when SPATE_BENCH_E2E_PROFILE names a file (its name gets "-<m>"); with
// SPATE_BENCH_INPROC=1 it covers the server. It returns the stop function.
func profileE2E(tb testing.TB, m int) func() {
	path := os.Getenv("SPATE_BENCH_E2E_PROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(fmt.Sprintf("%s-%d", path, m))
	if err != nil {
		tb.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		tb.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// BenchmarkPipeline measures the demo pipeline's stages and the whole in
// one run, on the first SPATE_BENCH_ROWS rows of the fraud data (default
// 200,000) with labels:
//   - ingest: Flight DoPut of the transactions, one stream, 16,384-row
//     batches, durable;
//   - features: the 24-hour SUM per accountID materialized over the stored
//     history, alone (from MaterializeFeatures until every row has its
//     value);
//   - learner: the Hoeffding tree alone, prequential over the same inputs
//     in this process;
//   - e2e: a second copy of the history (transactions and labels stored),
//     then the feature materialized and SPATE_BENCH_MODELS models deployed
//     at once (default 1): from then until every model has predicted and
//     learned every row (outputs and evaluations written).
//
// It reports each figure, the end-to-end figure as a fraction of the
// slowest stage, and the server's peak RSS.
func BenchmarkPipeline(b *testing.B) {
	rows := pipelineRows(b)
	counts := pipelineModels(b)
	cache := os.Getenv("SPATE_BENCH_CACHE")
	if cache == "" {
		cache = b.TempDir()
	}
	txPath, labPath := historyCache(b, cache, rows)
	for range b.N {
		s := startPipelineServer(b)
		s.createFraud(b, "transactions", "labels")
		ingest := float64(rows) / putFile(b, s.fc, s.key, "transactions", txPath)
		putFile(b, s.fc, s.key, "labels", labPath)
		start := time.Now()
		s.materialize(b, "transactions")
		s.waitFeatures(b, "transactions", int64(rows), time.Hour)
		features := float64(rows) / time.Since(start).Seconds()
		learner, featLocal := learnerAlone(b, txPath, labPath)
		slowest := min(ingest, features, learner)
		b.ReportMetric(ingest, "ingest_rows/s")
		b.ReportMetric(features, "features_rows/s")
		b.ReportMetric(featLocal, "features_inproc_rows/s")
		b.ReportMetric(learner, "learner_samples/s")
		for _, m := range counts {
			tx, lab := fmt.Sprintf("tx_e2e_%d", m), fmt.Sprintf("labels_e2e_%d", m)
			s.createFraud(b, tx, lab)
			putFile(b, s.fc, s.key, tx, txPath)
			putFile(b, s.fc, s.key, lab, labPath)
			stopProfile := profileE2E(b, m)
			start := time.Now()
			s.materialize(b, tx)
			for j := range m {
				s.deploy(b, fmt.Sprintf("model_%d_%d", m, j), tx, lab)
			}
			for j := range m {
				s.waitModel(b, fmt.Sprintf("model_%d_%d", m, j), int64(rows), time.Hour)
			}
			e2e := float64(rows) / time.Since(start).Seconds()
			stopProfile()
			b.ReportMetric(e2e, fmt.Sprintf("e2e_%dmodels_rows/s", m))
			b.ReportMetric(e2e/slowest, fmt.Sprintf("e2e_%dmodels_vs_slowest", m))
		}
		if rss, err := vmHWM(s.pid); err == nil {
			b.ReportMetric(float64(rss)/(1<<20), "server_peak_rss_MiB")
		}
	}
}

// cpuSeconds returns the user+system CPU time a process has used.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command (which may hold spaces) start after ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat line")
	}
	var ut, st float64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return (ut + st) / 100, nil // clock ticks; 100 per second on Linux
}

// BenchmarkLiveThroughput streams SPATE_BENCH_ROWS fraud rows (default
// 200,000) and their labels into the deployed demo pipeline (24-hour SUM,
// Hoeffding tree; model deployed on empty datasets, so every row arrives
// live) over two concurrent Flight DoPut streams of 4,096-row batches, as
// fast as the server acknowledges them, and reports the sustained rate
// (first row sent → last row predicted and learned) and the rows per CPU
// second of the server process (a child, so its CPU time is its own).
func BenchmarkLiveThroughput(b *testing.B) {
	rows := pipelineRows(b)
	cache := os.Getenv("SPATE_BENCH_CACHE")
	if cache == "" {
		cache = b.TempDir()
	}
	txPath, labPath := historyCache(b, cache, rows)
	for range b.N {
		s := startPipelineServer(b)
		s.createFraud(b, "transactions", "labels")
		s.materialize(b, "transactions")
		s.deploy(b, "live", "transactions", "labels")
		cpu0, cpuErr := cpuSeconds(s.pid)
		start := time.Now()
		errs := make(chan error, 2)
		for id, path := range map[string]string{"transactions": txPath, "labels": labPath} {
			go func() {
				_, err := putFileErr(s.fc, s.key, id, path)
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		s.waitModel(b, "live", int64(rows), time.Hour)
		sec := time.Since(start).Seconds()
		cpu1, err := cpuSeconds(s.pid)
		b.ReportMetric(float64(rows)/sec, "live_rows/s")
		if cpuErr == nil && err == nil && cpu1 > cpu0 {
			b.ReportMetric(float64(rows)/(cpu1-cpu0), "rows_per_server_cpu_s")
		}
	}
}
