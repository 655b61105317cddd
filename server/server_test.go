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
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server"
)

// harness is one in-process server with clients for every surface.
type harness struct {
	t      *testing.T
	srv    *server.Server
	key    string
	conn   *grpc.ClientConn
	ds     spatev1.DatasetServiceClient
	authc  spatev1.AuthServiceClient
	flight flight.Client
	http   string
}

func start(t *testing.T) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	srv, err := server.New(ctx, server.Options{
		DataDir: dir, GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler), MaxUploadBytes: 1 << 20, Announce: io.Discard,
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server run: %v", err)
		}
	})
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fc, err := flight.NewClientWithMiddleware(srv.GRPCAddr(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fc.Close() })
	if srv.DevKey() == "" {
		t.Fatal("no development key on first start")
	}
	return &harness{t: t, srv: srv, key: srv.DevKey(), conn: conn,
		ds: spatev1.NewDatasetServiceClient(conn), authc: spatev1.NewAuthServiceClient(conn),
		flight: fc, http: "http://" + srv.HTTPAddr()}
}

func withKey(key string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "apiKey "+key)
}

func (h *harness) ctx() context.Context { return withKey(h.key) }

func (h *harness) newKey(ns string) string {
	h.t.Helper()
	k, err := server.CreateKey(context.Background(), h.srv.Registry(), ns, "test")
	if err != nil {
		h.t.Fatal(err)
	}
	return k
}

var txFields = []*spatev1.Field{
	{Name: "id", Type: spatev1.FieldType_FIELD_TYPE_STRING},
	{Name: "account", Type: spatev1.FieldType_FIELD_TYPE_INT64},
	{Name: "amount", Type: spatev1.FieldType_FIELD_TYPE_DOUBLE},
	{Name: "ok", Type: spatev1.FieldType_FIELD_TYPE_BOOL},
}

func (h *harness) create(ctx context.Context, id string) {
	h.t.Helper()
	if _, err := h.ds.CreateDataset(ctx, &spatev1.CreateDatasetRequest{DatasetId: id, Fields: txFields, KeyField: "id"}); err != nil {
		h.t.Fatalf("create %s: %v", id, err)
	}
}

func txBatch(first, n int) arrow.RecordBatch {
	sch := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String},
		{Name: "account", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sch)
	defer b.Release()
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("tx%06d", i))
		b.Field(1).(*array.Int64Builder).Append(int64(i % 7))
		b.Field(2).(*array.Float64Builder).Append(float64(i) * 1.5)
		b.Field(3).(*array.BooleanBuilder).Append(i%2 == 0)
	}
	return b.NewRecordBatch()
}

func cmd(v any) []byte { b, _ := json.Marshal(v); return b }

// put uploads batches over Flight DoPut and returns the acks or the error.
func (h *harness) put(ctx context.Context, id string, recs ...arrow.RecordBatch) ([]map[string]int64, error) {
	stream, err := h.flight.DoPut(ctx)
	if err != nil {
		return nil, err
	}
	w := flight.NewRecordWriter(stream, ipc.WithSchema(recs[0].Schema()))
	w.SetFlightDescriptor(&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd(map[string]string{"dataset_id": id})})
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			break
		}
	}
	w.Close()
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	var acks []map[string]int64
	for {
		res, err := stream.Recv()
		if err == io.EOF {
			return acks, nil
		}
		if err != nil {
			return acks, err
		}
		var a map[string]int64
		if err := json.Unmarshal(res.AppMetadata, &a); err != nil {
			return acks, err
		}
		acks = append(acks, a)
	}
}

// get reads a dataset over Flight DoGet from an offset.
func (h *harness) get(ctx context.Context, ticket map[string]any) (int64, []arrow.RecordBatch, error) {
	stream, err := h.flight.DoGet(ctx, &flight.Ticket{Ticket: cmd(ticket)})
	if err != nil {
		return 0, nil, err
	}
	rdr, err := flight.NewRecordReader(stream)
	if err != nil {
		return 0, nil, err
	}
	defer rdr.Release()
	var n int64
	var out []arrow.RecordBatch
	for rdr.Next() {
		r := rdr.RecordBatch()
		r.Retain()
		out = append(out, r)
		n += r.NumRows()
	}
	return n, out, rdr.Err()
}

func (h *harness) rows(ctx context.Context, id string) int64 {
	h.t.Helper()
	d, err := h.ds.GetDataset(ctx, &spatev1.GetDatasetRequest{DatasetId: id})
	if err != nil {
		h.t.Fatalf("get dataset: %v", err)
	}
	return d.RowCount
}

func (h *harness) post(path, auth string, body []byte) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.http+path, bytes.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) getHTTP(path, auth string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.http+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAuthRejectedOnEverySurface(t *testing.T) {
	h := start(t)
	h.create(h.ctx(), "tx")
	bad := map[string]context.Context{
		"missing":   context.Background(),
		"wrong key": withKey("spk_not_a_key"),
		"no scheme": metadata.AppendToOutgoingContext(context.Background(), "authorization", h.key),
		"bad jwt":   metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer abc.def.ghi"),
	}
	for name, ctx := range bad {
		t.Run("grpc/"+name, func(t *testing.T) {
			_, err := h.ds.ListDatasets(ctx, &spatev1.ListDatasetsRequest{})
			if status.Code(err) != codes.Unauthenticated {
				t.Fatalf("ListDatasets: got %v, want UNAUTHENTICATED", err)
			}
			if _, err := h.authc.WhoAmI(ctx, &spatev1.WhoAmIRequest{}); status.Code(err) != codes.Unauthenticated {
				t.Fatalf("WhoAmI: got %v", err)
			}
		})
		t.Run("flight/"+name, func(t *testing.T) {
			_, _, err := h.get(ctx, map[string]any{"dataset_id": "tx"})
			if status.Code(err) != codes.Unauthenticated {
				t.Fatalf("DoGet: got %v, want UNAUTHENTICATED", err)
			}
			rec := txBatch(0, 3)
			defer rec.Release()
			if _, err := h.put(ctx, "tx", rec); status.Code(err) != codes.Unauthenticated {
				t.Fatalf("DoPut: got %v, want UNAUTHENTICATED", err)
			}
		})
	}
	if n := h.rows(h.ctx(), "tx"); n != 0 {
		t.Fatalf("unauthenticated uploads wrote %d rows", n)
	}
	for _, hdr := range []string{"", "apiKey wrong", "Basic abc", "Bearer x"} {
		for _, route := range []string{"/api/user", "/api/service/endpoints", "/metrics"} {
			if code, body := h.getHTTP(route, hdr); code != http.StatusUnauthorized || !strings.Contains(body, "detail") {
				t.Errorf("GET %s with %q: %d %s, want 401 with detail", route, hdr, code, body)
			}
		}
		if code, _ := h.post("/api/dataset/tx/upload", hdr, []byte(`[{"id":"a"}]`)); code != http.StatusUnauthorized {
			t.Errorf("upload with %q: %d, want 401", hdr, code)
		}
	}
	if code, _ := h.getHTTP("/healthz", ""); code != http.StatusOK {
		t.Errorf("healthz without credentials: %d", code)
	}
	hc := healthpb.NewHealthClient(h.conn)
	if r, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("gRPC health without credentials: %v %v", r, err)
	}
}

func TestLoginTokenReplacesKey(t *testing.T) {
	h := start(t)
	resp, err := h.authc.Login(h.ctx(), &spatev1.LoginRequest{TtlSeconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Namespace != "default" || resp.ExpiresAtUnix <= time.Now().Unix() {
		t.Fatalf("login: %+v", resp)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+resp.Token)
	who, err := h.authc.WhoAmI(ctx, &spatev1.WhoAmIRequest{})
	if err != nil || who.Namespace != "default" || who.Method != "jwt" {
		t.Fatalf("WhoAmI with token: %v %v", who, err)
	}
	if code, body := h.getHTTP("/api/user", "Bearer "+resp.Token); code != 200 || !strings.Contains(body, `"namespace":"default"`) {
		t.Fatalf("HTTP with token: %d %s", code, body)
	}
	tampered := resp.Token[:len(resp.Token)-2] + "xx"
	if code, _ := h.getHTTP("/api/user", "Bearer "+tampered); code != http.StatusUnauthorized {
		t.Fatalf("tampered token accepted: %d", code)
	}
}

func TestNamespacesAreIsolated(t *testing.T) {
	h := start(t)
	other := withKey(h.newKey("other"))
	h.create(h.ctx(), "tx")
	rec := txBatch(0, 5)
	defer rec.Release()
	if _, err := h.put(h.ctx(), "tx", rec); err != nil {
		t.Fatal(err)
	}
	if l, err := h.ds.ListDatasets(other, &spatev1.ListDatasetsRequest{}); err != nil || len(l.Datasets) != 0 {
		t.Fatalf("other namespace lists %v (%v)", l, err)
	}
	if _, err := h.ds.GetDataset(other, &spatev1.GetDatasetRequest{DatasetId: "tx"}); status.Code(err) != codes.NotFound {
		t.Fatalf("other namespace GetDataset: %v", err)
	}
	if _, _, err := h.get(other, map[string]any{"dataset_id": "tx"}); status.Code(err) != codes.NotFound {
		t.Fatalf("other namespace DoGet: %v", err)
	}
	if _, err := h.put(other, "tx", rec); status.Code(err) != codes.NotFound {
		t.Fatalf("other namespace DoPut: %v", err)
	}
	if code, _ := h.post("/api/dataset/tx/upload", "apiKey "+h.newKey("third"), []byte(`[{"id":"z"}]`)); code != http.StatusNotFound {
		t.Fatalf("other namespace REST upload: %d", code)
	}
	if _, err := h.ds.DeleteDataset(other, &spatev1.DeleteDatasetRequest{DatasetId: "tx"}); status.Code(err) != codes.NotFound {
		t.Fatalf("other namespace delete: %v", err)
	}
	// The same id in the other namespace is a different dataset.
	h.create(other, "tx")
	if n := h.rows(other, "tx"); n != 0 {
		t.Fatalf("other namespace's tx has %d rows", n)
	}
	if n := h.rows(h.ctx(), "tx"); n != 5 {
		t.Fatalf("default namespace's tx has %d rows, want 5", n)
	}
}

func TestUploadAndIncrementalRead(t *testing.T) {
	h := start(t)
	h.create(h.ctx(), "tx")
	a, b := txBatch(0, 1000), txBatch(1000, 500)
	defer a.Release()
	defer b.Release()
	acks, err := h.put(h.ctx(), "tx", a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(acks) != 2 || acks[0]["first_offset"] != 0 || acks[1]["first_offset"] != 1000 || acks[1]["rows"] != 500 {
		t.Fatalf("acks: %v", acks)
	}
	code, body := h.post("/api/dataset/tx/upload", "apiKey "+h.key, []byte(`[{"id":"r1","account":1,"amount":2.5,"ok":true},{"id":"r2","amount":null}]`))
	if code != 200 || !strings.Contains(body, `"first_offset":1500`) {
		t.Fatalf("REST upload: %d %s", code, body)
	}
	n, recs, err := h.get(h.ctx(), map[string]any{"dataset_id": "tx", "from": 1490})
	if err != nil || n != 12 {
		t.Fatalf("read from 1490: %d rows, %v", n, err)
	}
	last := recs[len(recs)-1]
	ids := last.Column(0).(*array.String)
	if ids.Value(int(last.NumRows())-1) != "r2" || !last.Column(2).IsNull(int(last.NumRows())-1) {
		t.Fatalf("last row wrong: %v", last)
	}
	first := recs[0].Column(0).(*array.String).Value(0)
	if first != "tx001490" {
		t.Fatalf("first row read from 1490 is %s", first)
	}
	n, _, err = h.get(h.ctx(), map[string]any{"dataset_id": "tx", "from": 10, "limit": 25})
	if err != nil || n != 25 {
		t.Fatalf("limit read: %d, %v", n, err)
	}
	n, _, err = h.get(h.ctx(), map[string]any{"dataset_id": "tx", "from": 1502})
	if err != nil || n != 0 {
		t.Fatalf("read at end: %d, %v", n, err)
	}
	if _, _, err = h.get(h.ctx(), map[string]any{"dataset_id": "tx", "from": 1503}); status.Code(err) != codes.OutOfRange {
		t.Fatalf("read past end: %v", err)
	}
}

func TestBadInputsRejectedWhole(t *testing.T) {
	h := start(t)
	h.create(h.ctx(), "tx")
	good := txBatch(0, 10)
	defer good.Release()
	if _, err := h.put(h.ctx(), "tx", good); err != nil {
		t.Fatal(err)
	}
	mem := memory.DefaultAllocator
	mk := func(fields []arrow.Field, build func(b *array.RecordBuilder)) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
		defer b.Release()
		build(b)
		return b.NewRecordBatch()
	}
	wrongType := mk([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}, {Name: "amount", Type: arrow.BinaryTypes.String}},
		func(b *array.RecordBuilder) {
			b.Field(0).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
			b.Field(1).(*array.StringBuilder).AppendValues([]string{"1", "2"}, nil)
		})
	nullKey := mk([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String, Nullable: true}},
		func(b *array.RecordBuilder) {
			b.Field(0).(*array.StringBuilder).AppendValues([]string{"a", "b", ""}, []bool{true, true, false})
		})
	missingKey := mk([]arrow.Field{{Name: "amount", Type: arrow.PrimitiveTypes.Float64}},
		func(b *array.RecordBuilder) { b.Field(0).(*array.Float64Builder).Append(1) })
	unknownCol := mk([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}, {Name: "color", Type: arrow.BinaryTypes.String}},
		func(b *array.RecordBuilder) {
			b.Field(0).(*array.StringBuilder).Append("a")
			b.Field(1).(*array.StringBuilder).Append("red")
		})
	cases := []struct {
		name, id string
		rec      arrow.RecordBatch
		code     codes.Code
		msg      string
	}{
		{"wrong type", "tx", wrongType, codes.InvalidArgument, `field "amount": has type utf8, want double`},
		{"null key", "tx", nullKey, codes.InvalidArgument, `row 2, field "id": key is null`},
		{"missing key", "tx", missingKey, codes.InvalidArgument, `field "id": key column is missing`},
		{"unknown column", "tx", unknownCol, codes.InvalidArgument, `field "color": not in the dataset schema`},
		{"unknown dataset", "nope", good, codes.NotFound, `dataset "nope" does not exist`},
	}
	for _, c := range cases {
		t.Run("flight/"+c.name, func(t *testing.T) {
			_, err := h.put(h.ctx(), c.id, c.rec)
			if status.Code(err) != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %s containing %q", err, c.code, c.msg)
			}
		})
	}
	// A stream whose second batch is bad keeps the first (acknowledged) one.
	badSameSchema := func() arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, good.Schema())
		defer b.Release()
		b.Field(0).AppendNull()
		b.Field(1).AppendNull()
		b.Field(2).AppendNull()
		b.Field(3).AppendNull()
		return b.NewRecordBatch()
	}()
	defer badSameSchema.Release()
	if acks, err := h.put(h.ctx(), "tx", good, badSameSchema); status.Code(err) != codes.InvalidArgument || len(acks) != 1 {
		t.Fatalf("good then bad: acks=%v err=%v", acks, err)
	}

	// Malformed Arrow: a FlightData whose body is not IPC.
	stream, err := h.flight.DoPut(h.ctx())
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.Send(&flight.FlightData{
		FlightDescriptor: &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd(map[string]string{"dataset_id": "tx"})},
		DataHeader:       []byte("definitely not a flatbuffer"), DataBody: []byte{1, 2, 3},
	})
	_ = stream.CloseSend()
	if _, err := stream.Recv(); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("malformed Arrow: %v, want INVALID_ARGUMENT", err)
	}

	auth := "apiKey " + h.key
	rest := []struct {
		name string
		body string
		code int
		msg  string
	}{
		{"malformed JSON", `[{"id": "a",`, 400, "malformed JSON"},
		{"not a list", `{"id": "a"}`, 400, "JSON list"},
		{"wrong type", `[{"id":"a","amount":"lots"}]`, 400, `row 0, field \"amount\": want a number`},
		{"fraction in int", `[{"id":"a"},{"id":"b","account":1.5}]`, 400, `row 1, field \"account\"`},
		{"null key", `[{"id":"a"},{"id":null}]`, 400, `row 1, field \"id\": key is null`},
		{"missing key", `[{"amount":1}]`, 400, `key is null`},
		{"unknown field", `[{"id":"a","color":"red"}]`, 400, `field \"color\": not in the dataset schema`},
		{"row not object", `[{"id":"a"}, 3]`, 400, "row 1: is not a JSON object"},
		{"oversized", `[` + strings.Repeat(`{"id":"aaaaaaaaaa"},`, 60000) + `{"id":"b"}]`, 413, "larger than"},
	}
	for _, c := range rest {
		t.Run("rest/"+c.name, func(t *testing.T) {
			code, body := h.post("/api/dataset/tx/upload", auth, []byte(c.body))
			if code != c.code || !strings.Contains(body, c.msg) {
				t.Fatalf("got %d %s, want %d containing %q", code, body, c.code, c.msg)
			}
		})
	}
	if code, _ := h.post("/api/dataset/nope/upload", auth, []byte(`[{"id":"a"}]`)); code != 404 {
		t.Fatalf("unknown dataset REST: %d", code)
	}
	// Nothing half-written: only the good batches are there.
	if n := h.rows(h.ctx(), "tx"); n != 20 {
		t.Fatalf("rows after rejections = %d, want 20", n)
	}

	names := []struct{ id, field, key string }{
		{"1bad", "a", "a"}, {"has-dash", "a", "a"}, {"has.dot", "a", "a"}, {"", "a", "a"},
		{"ok", "bad name", "bad name"}, {"ok", "a", "b"},
	}
	for _, n := range names {
		_, err := h.ds.CreateDataset(h.ctx(), &spatev1.CreateDatasetRequest{DatasetId: n.id, KeyField: n.key,
			Fields: []*spatev1.Field{{Name: n.field, Type: spatev1.FieldType_FIELD_TYPE_STRING}}})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("create %q/%q/%q: %v, want INVALID_ARGUMENT", n.id, n.field, n.key, err)
		}
	}
	if _, err := h.ds.CreateDataset(h.ctx(), &spatev1.CreateDatasetRequest{DatasetId: "tx", KeyField: "id", Fields: txFields}); status.Code(err) != codes.AlreadyExists {
		t.Errorf("duplicate create: %v", err)
	}
	if _, err := h.ds.CreateDataset(h.ctx(), &spatev1.CreateDatasetRequest{DatasetId: "t2", KeyField: "id",
		Fields: []*spatev1.Field{{Name: "id", Type: spatev1.FieldType_FIELD_TYPE_UNSPECIFIED}}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("unspecified type: %v", err)
	}
}

func TestSampleFraudData(t *testing.T) {
	h := start(t)
	n, recs, err := h.get(h.ctx(), map[string]any{"kind": "sample", "name": "fraud_transactions", "rows": 5000})
	if err != nil || n != 5000 {
		t.Fatalf("sample: %d rows, %v", n, err)
	}
	if got := recs[0].Schema().NumFields(); got != 22 {
		t.Fatalf("transactions have %d columns, want 22", got)
	}
	n, _, err = h.get(h.ctx(), map[string]any{"kind": "sample", "name": "fraud_labels", "rows": 5000})
	if err != nil || n != 5000 {
		t.Fatalf("labels: %d rows, %v", n, err)
	}
	if _, _, err := h.get(h.ctx(), map[string]any{"kind": "sample", "name": "nope"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("unknown sample: %v", err)
	}
}

func TestDevKeyWrittenToEnvFile(t *testing.T) {
	dir := t.TempDir()
	envFile := dir + "/.env"
	if err := os.WriteFile(envFile, []byte("# settings\nSPATE_BACKEND_URL=http://localhost:8500\nSPATE_API_KEY=\n# SPATE_DATA_DIR=data\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv, err := server.New(ctx, server.Options{DataDir: dir + "/data", GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		EnvFile: envFile, Logger: slog.New(slog.DiscardHandler), Announce: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	key := srv.DevKey()
	srv.Close()
	got, _ := os.ReadFile(envFile)
	want := "# settings\nSPATE_BACKEND_URL=http://localhost:8500\nSPATE_API_KEY=" + key + "\n# SPATE_DATA_DIR=data\n"
	if string(got) != want {
		t.Fatalf("env file:\n%s\nwant:\n%s", got, want)
	}
	// A second start on the same store creates no key and leaves the file alone.
	srv, err = server.New(ctx, server.Options{DataDir: dir + "/data", GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		EnvFile: envFile, Logger: slog.New(slog.DiscardHandler), Announce: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.DevKey() != "" {
		t.Fatal("second start created another development key")
	}
	if again, _ := os.ReadFile(envFile); string(again) != want {
		t.Fatalf("second start changed the env file:\n%s", again)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
