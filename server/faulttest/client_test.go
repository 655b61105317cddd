package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/spate-ml/spate/core/fraud"
	"github.com/spate-ml/spate/core/schema"
	spatev1 "github.com/spate-ml/spate/proto/spatev1"
)

// client talks to one child over every surface.
type client struct {
	t      *testing.T
	key    string
	http   string
	conn   *grpc.ClientConn
	flight flight.Client
	ds     spatev1.DatasetServiceClient
	fs     spatev1.FeatureServiceClient
	ms     spatev1.ModelServiceClient
	hc     *http.Client
}

func dial(t *testing.T, c *child) *client {
	t.Helper()
	conn, err := grpc.NewClient(c.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	fc, err := flight.NewClientWithMiddleware(c.grpc, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	cl := &client{t: t, key: c.key, http: "http://" + c.http, conn: conn, flight: fc,
		ds: spatev1.NewDatasetServiceClient(conn), fs: spatev1.NewFeatureServiceClient(conn),
		ms: spatev1.NewModelServiceClient(conn),
		hc: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{}}}
	t.Cleanup(cl.close)
	return cl
}

func (c *client) close() {
	c.flight.Close()
	c.conn.Close()
	c.hc.CloseIdleConnections()
}

// ctx is a context with the API key and a deadline, so that no call of the
// suite can hang.
func (c *client) ctx(d time.Duration) (context.Context, context.CancelFunc) {
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "apiKey "+c.key)
	return context.WithTimeout(ctx, d)
}

func cmd(v any) []byte { b, _ := json.Marshal(v); return b }

// putAck is one acknowledged batch of a DoPut stream.
type putAck struct {
	First int64 `json:"first_offset"`
	Rows  int64 `json:"rows"`
}

// put uploads batches in one DoPut stream (all sent, then the results
// read) and returns the acknowledgements received and the stream's error.
func (c *client) put(ctx context.Context, id string, recs ...arrow.RecordBatch) ([]putAck, error) {
	stream, err := c.flight.DoPut(ctx)
	if err != nil {
		return nil, err
	}
	w := flight.NewRecordWriter(stream, ipc.WithSchema(recs[0].Schema()))
	w.SetFlightDescriptor(&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd(map[string]string{"dataset_id": id})})
	acks := make(chan putAck, len(recs))
	recvErr := make(chan error, 1)
	go func() {
		for {
			res, err := stream.Recv()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				recvErr <- err
				return
			}
			var a putAck
			if err := json.Unmarshal(res.AppMetadata, &a); err != nil {
				recvErr <- fmt.Errorf("ack %q: %w", res.AppMetadata, err)
				return
			}
			acks <- a
		}
	}()
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			break // the server ended the stream: its status comes from Recv
		}
	}
	w.Close()
	_ = stream.CloseSend()
	err = <-recvErr
	close(acks)
	var out []putAck
	for a := range acks {
		out = append(out, a)
	}
	return out, err
}

// upload posts rows as a REST JSON body; it returns the HTTP status and body.
func (c *client) upload(ctx context.Context, id string, body []byte) (int, string, error) {
	return c.post(ctx, "/api/dataset/"+id+"/upload", body)
}

// post sends an authenticated POST and returns the status and body.
func (c *client) post(ctx context.Context, path string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.http+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "apiKey "+c.key)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// get reads a DoGet ticket to its end.
func (c *client) get(ticket map[string]any) ([]arrow.RecordBatch, error) {
	ctx, cancel := c.ctx(60 * time.Second)
	defer cancel()
	stream, err := c.flight.DoGet(ctx, &flight.Ticket{Ticket: cmd(ticket)})
	if err != nil {
		return nil, err
	}
	rdr, err := flight.NewRecordReader(stream)
	if err != nil {
		return nil, err
	}
	defer rdr.Release()
	var out []arrow.RecordBatch
	for rdr.Next() {
		r := rdr.RecordBatch()
		r.Retain()
		out = append(out, r)
	}
	return out, rdr.Err()
}

// strings reads one string column of a DoGet ticket, in log order.
func (c *client) strings(ticket map[string]any, col string) []string {
	c.t.Helper()
	recs, err := c.get(ticket)
	if err != nil {
		c.t.Fatalf("read %v: %v", ticket, err)
	}
	var out []string
	for _, r := range recs {
		idx := r.Schema().FieldIndices(col)
		if len(idx) == 0 {
			c.t.Fatalf("read %v: no column %q in %s", ticket, col, r.Schema())
		}
		a := r.Column(idx[0]).(*array.String)
		for i := 0; i < a.Len(); i++ {
			out = append(out, a.Value(i))
		}
		r.Release()
	}
	return out
}

// rows is the row count of a dataset.
func (c *client) rows(id string) int64 {
	c.t.Helper()
	ctx, cancel := c.ctx(20 * time.Second)
	defer cancel()
	d, err := c.ds.GetDataset(ctx, &spatev1.GetDatasetRequest{DatasetId: id})
	if err != nil {
		c.t.Fatalf("get dataset %s: %v", id, err)
	}
	return d.RowCount
}

// protoFields converts a dataset schema to the control plane's fields.
func protoFields(s *schema.Schema) []*spatev1.Field {
	types := map[string]spatev1.FieldType{"int32": 1, "int64": 2, "float": 3, "double": 4, "string": 5, "bool": 6, "bytes": 7}
	var out []*spatev1.Field
	for _, f := range s.Fields {
		out = append(out, &spatev1.Field{Name: f.Name, Type: types[f.Type.String()]})
	}
	return out
}

// createFraudDatasets creates "transactions" and "labels" with the fraud
// schemas, keyed by transactionID.
func (c *client) createFraudDatasets() {
	c.t.Helper()
	ctx, cancel := c.ctx(20 * time.Second)
	defer cancel()
	if _, err := c.ds.CreateDataset(ctx, &spatev1.CreateDatasetRequest{DatasetId: "transactions", Fields: protoFields(fraud.TransactionsSchema()), KeyField: fraud.ColTransactionID}); err != nil {
		c.t.Fatalf("create transactions: %v", err)
	}
	if _, err := c.ds.CreateDataset(ctx, &spatev1.CreateDatasetRequest{DatasetId: "labels", Fields: protoFields(fraud.LabelsSchema()), KeyField: fraud.ColTransactionID}); err != nil {
		c.t.Fatalf("create labels: %v", err)
	}
}

// fraudModel is the demo's model: a Hoeffding tree over raw columns and a
// 24-hour per-account SUM, learning from is_fraud.
func fraudModel(name string, versionEvery int64) *spatev1.DeployRequest {
	return &spatev1.DeployRequest{
		Name: name, DatasetId: "transactions",
		ModelConfigsJson:  `[{"algorithm":"HoeffdingTreeClassifier","n_classes":2,"grace_period":50}]`,
		NumericalFields:   []string{"transactionAmount", "localHour", "my_sum_feat"},
		CategoricalFields: []string{"digitalItemCount", "physicalItemCount", "isProxyIP"},
		Label:             &spatev1.LabelSpec{DatasetId: "labels", Field: "is_fraud"},
		Metrics:           []string{"WindowedAUC"}, VersionEverySamples: versionEvery,
	}
}

// setupFraudPipeline creates the datasets, the timestamp, the SUM feature
// and, when model is not empty, deploys the model.
func (c *client) setupFraudPipeline(model string, versionEvery int64) {
	c.t.Helper()
	c.createFraudDatasets()
	ctx, cancel := c.ctx(30 * time.Second)
	defer cancel()
	if _, err := c.fs.RegisterTimestamp(ctx, &spatev1.RegisterTimestampRequest{DatasetId: "transactions", ColumnName: "timestamp", Format: "epoch_seconds"}); err != nil {
		c.t.Fatalf("register timestamp: %v", err)
	}
	sum := &spatev1.FeatureDef{Name: "my_sum_feat", Kind: "aggregate", Column: "transactionAmount", Operation: "SUM",
		GroupBy: "accountID", TimestampColumn: "timestamp", Window: "24 hours"}
	if _, err := c.fs.MaterializeFeatures(ctx, &spatev1.MaterializeFeaturesRequest{DatasetId: "transactions", Features: []*spatev1.FeatureDef{sum}}); err != nil {
		c.t.Fatalf("materialize: %v", err)
	}
	if model != "" {
		if _, err := c.ms.Deploy(ctx, fraudModel(model, versionEvery)); err != nil {
			c.t.Fatalf("deploy: %v", err)
		}
	}
}

// waitModel waits until the model has predicted and learned the given
// counts and returns its info.
func (c *client) waitModel(name string, predicted, learned int64) *spatev1.ModelInfo {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := c.ctx(10 * time.Second)
		info, err := c.ms.GetModel(ctx, &spatev1.GetModelRequest{Name: name})
		cancel()
		if err != nil {
			c.t.Fatalf("get model %s: %v", name, err)
		}
		if info.Stats.Predicted == predicted && info.Stats.Learned == learned {
			return info
		}
		if info.Stats.Predicted > predicted || info.Stats.Learned > learned {
			c.t.Fatalf("model %s predicted %d and learned %d, more than the %d rows and %d labels it was given",
				name, info.Stats.Predicted, info.Stats.Learned, predicted, learned)
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("model %s did not catch up in 60s: predicted %d/%d, learned %d/%d, last error %q",
				name, info.Stats.Predicted, predicted, info.Stats.Learned, learned, info.Stats.LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rowsJSON renders a batch as a REST upload body (a JSON list of objects).
func rowsJSON(rec arrow.RecordBatch) ([]byte, error) {
	b, err := rec.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&rows); err != nil {
		return nil, err
	}
	return json.Marshal(rows)
}

// keysOf returns the string column col of a batch.
func keysOf(rec arrow.RecordBatch, col string) []string {
	a := rec.Column(rec.Schema().FieldIndices(col)[0]).(*array.String)
	out := make([]string, a.Len())
	for i := range out {
		out[i] = a.Value(i)
	}
	return out
}
