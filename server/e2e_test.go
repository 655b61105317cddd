package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spate-ml/spate/core/fraud"
	spatev1 "github.com/spate-ml/spate/proto/spatev1"
)

// TestFraudPipelineEndToEnd runs the user's day over gRPC, Flight and HTTP:
// datasets from the fraud generator, a 24-hour SUM feature, a Hoeffding tree
// trained on history then live, outputs, evaluations, versions, a
// synchronous prediction and promotion to an alias.
func TestFraudPipelineEndToEnd(t *testing.T) {
	h := start(t)
	ctx := h.ctx()
	var txFieldsP, labFieldsP []*spatev1.Field
	types := map[string]spatev1.FieldType{"int32": 1, "int64": 2, "float": 3, "double": 4, "string": 5, "bool": 6, "bytes": 7}
	for _, f := range fraud.TransactionsSchema().Fields {
		txFieldsP = append(txFieldsP, &spatev1.Field{Name: f.Name, Type: types[f.Type.String()]})
	}
	for _, f := range fraud.LabelsSchema().Fields {
		labFieldsP = append(labFieldsP, &spatev1.Field{Name: f.Name, Type: types[f.Type.String()]})
	}
	if _, err := h.ds.CreateDataset(ctx, &spatev1.CreateDatasetRequest{DatasetId: "transactions", Fields: txFieldsP, KeyField: "transactionID"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ds.CreateDataset(ctx, &spatev1.CreateDatasetRequest{DatasetId: "labels", Fields: labFieldsP, KeyField: "transactionID"}); err != nil {
		t.Fatal(err)
	}
	cfg := fraud.DefaultConfig()
	cfg.Rows = 12000
	var txs, labs []arrow.RecordBatch
	if err := fraud.Generate(cfg, 2000, func(tx, lb arrow.RecordBatch) error {
		tx.Retain()
		lb.Retain()
		txs, labs = append(txs, tx), append(labs, lb)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// History: the first half with labels, before features or models exist.
	if _, err := h.put(ctx, "transactions", txs[:3]...); err != nil {
		t.Fatal(err)
	}
	if _, err := h.put(ctx, "labels", labs[:3]...); err != nil {
		t.Fatal(err)
	}

	fsvc := spatev1.NewFeatureServiceClient(h.conn)
	if _, err := fsvc.RegisterTimestamp(ctx, &spatev1.RegisterTimestampRequest{DatasetId: "transactions", ColumnName: "timestamp", Format: "epoch_seconds"}); err != nil {
		t.Fatal(err)
	}
	sum := &spatev1.FeatureDef{Name: "my_sum_feat", Kind: "aggregate", Column: "transactionAmount", Operation: "SUM",
		GroupBy: "accountID", TimestampColumn: "timestamp", Window: "24 hours"}
	bad := &spatev1.FeatureDef{Name: "bad", Kind: "sql", Sql: `"nope" + 1`}
	if _, err := fsvc.MaterializeFeatures(ctx, &spatev1.MaterializeFeaturesRequest{DatasetId: "transactions", Features: []*spatev1.FeatureDef{bad}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad feature: %v", err)
	}
	if _, err := fsvc.MaterializeFeatures(ctx, &spatev1.MaterializeFeaturesRequest{DatasetId: "transactions", Features: []*spatev1.FeatureDef{sum}}); err != nil {
		t.Fatal(err)
	}

	msvc := spatev1.NewModelServiceClient(h.conn)
	deploy := &spatev1.DeployRequest{
		Name: "fraud_htc", DatasetId: "transactions",
		ModelConfigsJson:  `[{"algorithm":"HoeffdingTreeClassifier","n_classes":2}]`,
		NumericalFields:   []string{"transactionAmount", "localHour", "my_sum_feat"},
		CategoricalFields: []string{"digitalItemCount", "physicalItemCount", "isProxyIP"},
		Label:             &spatev1.LabelSpec{DatasetId: "labels", Field: "is_fraud"},
		Metrics:           []string{"WindowedAUC"}, VersionEverySamples: 2000,
	}
	if _, err := msvc.Deploy(ctx, deploy); err != nil {
		t.Fatal(err)
	}
	if _, err := msvc.Deploy(ctx, deploy); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("second deploy: %v", err)
	}
	// Live: the rest, transactions then labels, batch by batch.
	for i := 3; i < len(txs); i++ {
		if _, err := h.put(ctx, "transactions", txs[i]); err != nil {
			t.Fatal(err)
		}
		if _, err := h.put(ctx, "labels", labs[i]); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	var info *spatev1.ModelInfo
	for {
		var err error
		info, err = msvc.GetModel(ctx, &spatev1.GetModelRequest{Name: "fraud_htc"})
		if err != nil {
			t.Fatal(err)
		}
		if info.Stats.Learned == int64(cfg.Rows) && info.Stats.Predicted == int64(cfg.Rows) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("model did not catch up: %+v", info.Stats)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if info.Algorithm != "HoeffdingTreeClassifier" || info.EndpointPaths[0] != "/model/fraud_htc/predict" {
		t.Fatalf("model info: %+v", info)
	}
	n, recs, err := h.get(ctx, map[string]any{"kind": "outputs", "model": "fraud_htc", "from": 11000})
	if err != nil || n != 1000 {
		t.Fatalf("outputs from 11000: %d, %v", n, err)
	}
	if recs[0].Column(0).(*array.String).Value(0) == "" {
		t.Fatal("output without key")
	}
	ev, err := msvc.GetEvaluation(ctx, &spatev1.GetEvaluationRequest{Name: "fraud_htc", Metric: "WindowedAUC", WindowSize: 1000})
	if err != nil || len(ev.Values) != cfg.Rows || ev.NextIndex != int64(cfg.Rows) {
		t.Fatalf("evaluation: %d points, %v", len(ev.Values), err)
	}
	if auc := ev.Values[len(ev.Values)-1]; !(auc > 0.6) {
		t.Fatalf("WindowedAUC at the end = %v: the tree learned nothing useful", auc)
	}
	vs, err := msvc.ListVersions(ctx, &spatev1.GetModelRequest{Name: "fraud_htc"})
	if err != nil || len(vs.Versions) < 2 {
		t.Fatalf("versions: %v %v", vs, err)
	}
	history := false
	for _, v := range vs.Versions {
		history = history || v.Reason == "history"
	}
	if !history {
		t.Fatalf("no version marks the end of history training: %v", vs)
	}

	// Features are readable with the raw columns.
	n, recs, err = h.get(ctx, map[string]any{"kind": "features", "dataset_id": "transactions", "from": 100, "limit": 10})
	if err != nil || n != 10 || recs[0].Schema().NumFields() != 23 {
		t.Fatalf("features: %d rows, %v", n, err)
	}

	// Synchronous prediction of one raw row, by name and through an alias.
	row := `{"transactionID":"new1","accountID":"` + recs[0].Column(recs[0].Schema().FieldIndices("accountID")[0]).(*array.String).Value(0) +
		`","transactionAmount":950.5,"localHour":3,"timestamp":` + fmt.Sprint(1e9) + `,"isProxyIP":1,"digitalItemCount":2,"physicalItemCount":0}`
	code, body := h.post("/model/fraud_htc/predict", "apiKey "+h.key, []byte(row))
	if code != 200 || !strings.Contains(body, `"predicted_class"`) || !strings.Contains(body, `"key":"new1"`) {
		t.Fatalf("predict: %d %s", code, body)
	}
	if code, body := h.post("/model/prod/predict", "apiKey "+h.key, []byte(row)); code != http.StatusNotFound {
		t.Fatalf("alias before promotion: %d %s", code, body)
	}
	if _, err := msvc.Promote(ctx, &spatev1.PromoteRequest{Name: "fraud_htc"}); err != nil {
		t.Fatal(err)
	}
	if code, body := h.post("/model/prod/predict", "apiKey "+h.key, []byte(row)); code != 200 || !strings.Contains(body, `"model":"fraud_htc"`) {
		t.Fatalf("alias after promotion: %d %s", code, body)
	}
	if code, body := h.post("/model/fraud_htc/predict", "apiKey "+h.key, []byte(`{"transactionAmount":"lots"}`)); code != 400 {
		t.Fatalf("bad predict row: %d %s", code, body)
	}

	// Predict with exactly one version over Flight DoExchange.
	stream, err := h.flight.DoExchange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	feats := recs[0]
	w := flight.NewRecordWriter(stream, ipc.WithSchema(feats.Schema()))
	w.SetFlightDescriptor(&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd(map[string]any{"kind": "predict", "model": "fraud_htc", "version": vs.Versions[0].Id})})
	if err := w.Write(feats); err != nil {
		t.Fatal(err)
	}
	w.Close()
	stream.CloseSend()
	rdr, err := flight.NewRecordReader(stream)
	if err != nil {
		t.Fatal(err)
	}
	var got int64
	for rdr.Next() {
		r := rdr.RecordBatch()
		got += r.NumRows()
		if v := r.Column(3).(*array.Int64).Value(0); v != vs.Versions[0].Id {
			t.Fatalf("prediction names version %d, want %d", v, vs.Versions[0].Id)
		}
	}
	rdr.Release()
	if got != 10 {
		t.Fatalf("version predictions: %d rows", got)
	}
}
