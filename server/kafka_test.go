package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spate-ml/spate/core/fraud"
	"github.com/spate-ml/spate/core/stream/kafkalog"
	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server"
)

// kafkaBrokers returns SPATE_TEST_KAFKA_BROKERS, skipping the test without
// it (failing when SPATE_TEST_KAFKA_REQUIRED=1, as make test sets).
func kafkaBrokers(t *testing.T) []string {
	t.Helper()
	s := os.Getenv("SPATE_TEST_KAFKA_BROKERS")
	if s == "" {
		if os.Getenv("SPATE_TEST_KAFKA_REQUIRED") == "1" {
			t.Fatal("SPATE_TEST_KAFKA_REQUIRED=1 but SPATE_TEST_KAFKA_BROKERS is unset: start Kafka with scripts/kafka.sh start 1")
		}
		t.Skip("no Kafka: set SPATE_TEST_KAFKA_BROKERS (start one with: scripts/kafka.sh start 1)")
	}
	b, err := kafkalog.ParseBrokers(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// startKafkaServer runs a server with o (plus loopback listeners and quiet logs)
// until the returned stop is called.
func startKafkaServer(t *testing.T, o server.Options, key string) (*harness, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	o.GRPCAddr, o.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	o.Logger, o.Announce, o.MaxUploadBytes = slog.New(slog.DiscardHandler), io.Discard, 8<<20
	srv, err := server.New(ctx, o)
	if err != nil {
		cancel()
		t.Fatalf("start server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	fc, err := flight.NewClientWithMiddleware(srv.GRPCAddr(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	if key == "" {
		key = srv.DevKey()
	}
	h := &harness{t: t, srv: srv, key: key, conn: conn,
		ds: spatev1.NewDatasetServiceClient(conn), authc: spatev1.NewAuthServiceClient(conn),
		flight: fc, http: "http://" + srv.HTTPAddr()}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		fc.Close()
		conn.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server run: %v", err)
		}
	}
	t.Cleanup(stop)
	return h, stop
}

// fraudPipeline holds the fraud generator's batches and drives the same
// feature and model on any server.
type fraudPipeline struct {
	txs, labs []arrow.RecordBatch
	rows      int
}

func newFraudPipeline(t *testing.T, rows, batch int) *fraudPipeline {
	cfg := fraud.DefaultConfig()
	cfg.Rows = rows
	p := &fraudPipeline{rows: rows}
	if err := fraud.Generate(cfg, batch, func(tx, lb arrow.RecordBatch) error {
		tx.Retain()
		lb.Retain()
		p.txs, p.labs = append(p.txs, tx), append(p.labs, lb)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := range p.txs {
			p.txs[i].Release()
			p.labs[i].Release()
		}
	})
	return p
}

// setup creates the datasets, loads history batches [0, hist), materializes
// a 24-hour SUM and deploys a Hoeffding tree with labels.
func (p *fraudPipeline) setup(t *testing.T, h *harness, hist int) {
	t.Helper()
	ctx := h.ctx()
	types := map[string]spatev1.FieldType{"int32": 1, "int64": 2, "float": 3, "double": 4, "string": 5, "bool": 6, "bytes": 7}
	var txF, labF []*spatev1.Field
	for _, f := range fraud.TransactionsSchema().Fields {
		txF = append(txF, &spatev1.Field{Name: f.Name, Type: types[f.Type.String()]})
	}
	for _, f := range fraud.LabelsSchema().Fields {
		labF = append(labF, &spatev1.Field{Name: f.Name, Type: types[f.Type.String()]})
	}
	if _, err := h.ds.CreateDataset(ctx, &spatev1.CreateDatasetRequest{DatasetId: "transactions", Fields: txF, KeyField: "transactionID"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ds.CreateDataset(ctx, &spatev1.CreateDatasetRequest{DatasetId: "labels", Fields: labF, KeyField: "transactionID"}); err != nil {
		t.Fatal(err)
	}
	p.live(t, h, 0, hist)
	fsvc := spatev1.NewFeatureServiceClient(h.conn)
	if _, err := fsvc.RegisterTimestamp(ctx, &spatev1.RegisterTimestampRequest{DatasetId: "transactions", ColumnName: "timestamp", Format: "epoch_seconds"}); err != nil {
		t.Fatal(err)
	}
	sum := &spatev1.FeatureDef{Name: "my_sum_feat", Kind: "aggregate", Column: "transactionAmount", Operation: "SUM",
		GroupBy: "accountID", TimestampColumn: "timestamp", Window: "24 hours"}
	if _, err := fsvc.MaterializeFeatures(ctx, &spatev1.MaterializeFeaturesRequest{DatasetId: "transactions", Features: []*spatev1.FeatureDef{sum}}); err != nil {
		t.Fatal(err)
	}
	msvc := spatev1.NewModelServiceClient(h.conn)
	if _, err := msvc.Deploy(ctx, &spatev1.DeployRequest{
		Name: "fraud_htc", DatasetId: "transactions",
		ModelConfigsJson:  `[{"algorithm":"HoeffdingTreeClassifier","n_classes":2}]`,
		NumericalFields:   []string{"transactionAmount", "localHour", "my_sum_feat"},
		CategoricalFields: []string{"digitalItemCount", "physicalItemCount", "isProxyIP"},
		Label:             &spatev1.LabelSpec{DatasetId: "labels", Field: "is_fraud"},
	}); err != nil {
		t.Fatal(err)
	}
}

// live uploads batches [lo, hi): labels, then their transactions, so that
// every label is in its log before its transaction is processed and what
// the model learns does not depend on timing.
func (p *fraudPipeline) live(t *testing.T, h *harness, lo, hi int) {
	t.Helper()
	for i := lo; i < hi; i++ {
		if _, err := h.put(h.ctx(), "labels", p.labs[i]); err != nil {
			t.Fatalf("upload labels batch %d: %v", i, err)
		}
		if _, err := h.put(h.ctx(), "transactions", p.txs[i]); err != nil {
			t.Fatalf("upload transactions batch %d: %v", i, err)
		}
	}
}

// waitModel waits until the model has predicted and learned n rows.
func waitModel(t *testing.T, h *harness, n int64) {
	t.Helper()
	msvc := spatev1.NewModelServiceClient(h.conn)
	deadline := time.Now().Add(90 * time.Second)
	for {
		info, err := msvc.GetModel(h.ctx(), &spatev1.GetModelRequest{Name: "fraud_htc"})
		if err != nil {
			t.Fatal(err)
		}
		if info.Stats.Learned == n && info.Stats.Predicted == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("model did not reach %d rows: %+v", n, info.Stats)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// outputs reads the model's whole output log as one line per row (every
// column but the processing time and the version number).
func outputs(t *testing.T, h *harness) []string {
	t.Helper()
	_, recs, err := h.get(h.ctx(), map[string]any{"kind": "outputs", "model": "fraud_htc", "from": 0})
	if err != nil {
		t.Fatalf("read outputs: %v", err)
	}
	var out []string
	for _, rec := range recs {
		for i := 0; i < int(rec.NumRows()); i++ {
			var cols []string
			for c, f := range rec.Schema().Fields() {
				if f.Name == "processing_time_us" || f.Name == "model_version" {
					continue
				}
				cols = append(cols, rec.Column(c).ValueStr(i))
			}
			out = append(out, strings.Join(cols, "|"))
		}
		rec.Release()
	}
	return out
}

// TestKafkaLogRestartResumes runs the fraud pipeline with every stream on
// Kafka, restarts the server half way, and checks that the model resumes
// with the outputs an uninterrupted run on the embedded log gives: same
// rows, same order, none lost, none doubled.
func TestKafkaLogRestartResumes(t *testing.T) {
	brokers := kafkaBrokers(t)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	prefix := "spatetest." + hex.EncodeToString(rnd[:])
	const rows, batch = 8000, 1000
	p := newFraudPipeline(t, rows, batch)

	// Reference: the embedded log, no restart.
	ref := start(t)
	p.setup(t, ref, 2)
	p.live(t, ref, 2, rows/batch)
	waitModel(t, ref, rows)
	want := outputs(t, ref)

	dir := t.TempDir()
	o := server.Options{DataDir: dir, Log: server.LogKafka, KafkaBrokers: brokers, KafkaPrefix: prefix}
	h, stop := startKafkaServer(t, o, "")
	key := h.key
	p.setup(t, h, 2)
	p.live(t, h, 2, 5)
	waitModel(t, h, 5*batch)
	before := outputs(t, h)
	stop()

	// The data dir keeps the registry and checkpoints; the streams are on
	// Kafka only.
	if _, err := os.Stat(dir + "/logs"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the kafka log wrote an embedded log dir: %v", err)
	}
	h, _ = startKafkaServer(t, o, key)
	waitModel(t, h, 5*batch)
	p.live(t, h, 5, rows/batch)
	waitModel(t, h, rows)
	got := outputs(t, h)

	if len(before) != 5*batch {
		t.Fatalf("%d outputs before the restart, want %d", len(before), 5*batch)
	}
	for i := range before {
		if got[i] != before[i] {
			t.Fatalf("output %d changed across the restart:\n%s\n%s", i, before[i], got[i])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d outputs on Kafka with a restart, %d on the embedded log", len(got), len(want))
	}
	seen := map[string]bool{}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("output %d differs from the uninterrupted run:\nkafka: %s\nfile:  %s", i, got[i], want[i])
		}
		k := got[i][:strings.IndexByte(got[i], '|')]
		if seen[k] {
			t.Fatalf("output key %s appears twice", k)
		}
		seen[k] = true
	}
}

// TestKafkaLogWrongBroker: a server pointed at an address where no Kafka
// listens fails to start, after its bounded retries, with an error naming
// the address.
func TestKafkaLogWrongBroker(t *testing.T) {
	start := time.Now()
	_, err := server.New(context.Background(), server.Options{
		DataDir: t.TempDir(), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler), Announce: io.Discard,
		Log: server.LogKafka, KafkaBrokers: []string{"127.0.0.1:1"}, KafkaConnectTimeout: 2 * time.Second,
	})
	if err == nil || !errors.Is(err, kafkalog.ErrUnreachable) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("start with a wrong broker: %v", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("start-up took %s with a 2 s connect timeout", d)
	}
	_, err = server.New(context.Background(), server.Options{
		DataDir: t.TempDir(), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler), Announce: io.Discard, Log: "kafak",
	})
	if err == nil || !strings.Contains(err.Error(), `"kafak"`) {
		t.Fatalf("unknown log kind: %v", err)
	}
}
