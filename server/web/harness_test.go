package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server"
)

// env is one in-process server with a gRPC connection for setting up
// engine state the way the SDK does.
type env struct {
	tb   testing.TB
	srv  *server.Server
	key  string
	base string
	conn *grpc.ClientConn
}

func start(tb testing.TB) *env {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Options{
		DataDir: tb.TempDir(), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler), Announce: io.Discard, MaxUploadBytes: 256 << 20,
	})
	if err != nil {
		tb.Fatalf("start server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("server run: %v", err)
		}
	})
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return &env{tb: tb, srv: srv, key: srv.DevKey(), base: "http://" + srv.HTTPAddr(), conn: conn}
}

func (e *env) ctx(key string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "apiKey "+key)
}

func (e *env) newKey(ns string) string {
	e.tb.Helper()
	k, err := server.CreateKey(context.Background(), e.srv.Registry(), ns, "test")
	if err != nil {
		e.tb.Fatal(err)
	}
	return k
}

// pipeline creates tx (id, amount, account) and labels (id, label), a SQL
// feature, uploads n rows and labels and deploys model name on them.
func (e *env) pipeline(key, model string, n int) {
	e.tb.Helper()
	ds := spatev1.NewDatasetServiceClient(e.conn)
	ctx := e.ctx(key)
	for _, c := range []*spatev1.CreateDatasetRequest{
		{DatasetId: "tx", KeyField: "id", Fields: []*spatev1.Field{
			{Name: "id", Type: spatev1.FieldType_FIELD_TYPE_STRING},
			{Name: "amount", Type: spatev1.FieldType_FIELD_TYPE_DOUBLE},
			{Name: "account", Type: spatev1.FieldType_FIELD_TYPE_INT64}}},
		{DatasetId: "labels", KeyField: "id", Fields: []*spatev1.Field{
			{Name: "id", Type: spatev1.FieldType_FIELD_TYPE_STRING},
			{Name: "label", Type: spatev1.FieldType_FIELD_TYPE_INT64}}},
	} {
		if _, err := ds.CreateDataset(ctx, c); err != nil {
			e.tb.Fatalf("create %s: %v", c.DatasetId, err)
		}
	}
	fs := spatev1.NewFeatureServiceClient(e.conn)
	if _, err := fs.MaterializeFeatures(ctx, &spatev1.MaterializeFeaturesRequest{DatasetId: "tx",
		Features: []*spatev1.FeatureDef{{Name: "double_amount", Kind: "sql", Sql: "amount * 2"}}}); err != nil {
		e.tb.Fatal(err)
	}
	e.rows(key, 0, n)
	e.deploy(key, model, n)
}

// rows uploads rows [from, to) of tx and their labels over REST.
func (e *env) rows(key string, from, to int) {
	e.tb.Helper()
	for lo := from; lo < to; lo += 50000 {
		hi := min(to, lo+50000)
		var tx, lb bytes.Buffer
		tx.WriteByte('[')
		lb.WriteByte('[')
		for i := lo; i < hi; i++ {
			if i > lo {
				tx.WriteByte(',')
				lb.WriteByte(',')
			}
			fmt.Fprintf(&tx, `{"id":"r%d","amount":%d.5,"account":%d}`, i, i%97, i%7)
			fmt.Fprintf(&lb, `{"id":"r%d","label":%d}`, i, (i%97)/50)
		}
		tx.WriteByte(']')
		lb.WriteByte(']')
		for _, u := range []struct {
			id   string
			body []byte
		}{{"tx", tx.Bytes()}, {"labels", lb.Bytes()}} {
			req, _ := http.NewRequest(http.MethodPost, e.base+"/api/dataset/"+u.id+"/upload", bytes.NewReader(u.body))
			req.Header.Set("Authorization", "apiKey "+key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				e.tb.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				e.tb.Fatalf("upload %s: %d %s", u.id, resp.StatusCode, b)
			}
		}
	}
}

// deploy deploys a Hoeffding tree on tx and waits until it has learned
// want samples.
func (e *env) deploy(key, model string, want int) {
	e.tb.Helper()
	ms := spatev1.NewModelServiceClient(e.conn)
	ctx := e.ctx(key)
	if _, err := ms.Deploy(ctx, &spatev1.DeployRequest{
		Name: model, DatasetId: "tx", ModelConfigsJson: `[{"algorithm":"HoeffdingTreeClassifier","n_classes":2}]`,
		NumericalFields: []string{"amount", "double_amount"}, CategoricalFields: []string{"account"},
		Label: &spatev1.LabelSpec{DatasetId: "labels", Field: "label"}, Metrics: []string{"WindowedAUC"},
		VersionEverySamples: 200,
	}); err != nil {
		e.tb.Fatalf("deploy %s: %v", model, err)
	}
	e.waitLearned(key, model, want)
}

func (e *env) waitLearned(key, model string, want int) {
	e.tb.Helper()
	ms := spatev1.NewModelServiceClient(e.conn)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		info, err := ms.GetModel(e.ctx(key), &spatev1.GetModelRequest{Name: model})
		if err != nil {
			e.tb.Fatal(err)
		}
		if info.Stats.Learned >= int64(want) && info.Stats.Predicted >= int64(want) {
			return
		}
		if time.Now().After(deadline) {
			e.tb.Fatalf("%s learned %d of %d", model, info.Stats.Learned, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// browser is an HTTP client with a cookie jar, signed in or not.
type browser struct {
	tb   testing.TB
	base string
	c    *http.Client
	csrf string
	ns   string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{tb: e.tb, base: e.base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// login signs in with key and returns the response.
func (b *browser) login(key string) *http.Response {
	b.tb.Helper()
	resp, body := b.do(http.MethodPost, "/ui/api/login", map[string]string{"api_key": key}, nil)
	if resp.StatusCode == 200 {
		var s struct {
			Namespace string `json:"namespace"`
			CSRF      string `json:"csrf_token"`
		}
		if err := json.Unmarshal(body, &s); err != nil {
			b.tb.Fatal(err)
		}
		b.csrf, b.ns = s.CSRF, s.Namespace
	}
	return resp
}

// do sends a request (body: JSON-encoded unless []byte) with extra headers
// and returns the response and its body.
func (b *browser) do(method, path string, body any, hdr map[string]string) (*http.Response, []byte) {
	b.tb.Helper()
	var r io.Reader
	switch v := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(v)
	default:
		j, _ := json.Marshal(v)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.base+path, r)
	if err != nil {
		b.tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.tb.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, out
}

// post sends a state-changing request with the CSRF token.
func (b *browser) post(method, path string, body any) (*http.Response, []byte) {
	return b.do(method, path, body, map[string]string{"X-CSRF-Token": b.csrf})
}

// get decodes a GET's JSON into v and fails unless the status is 200.
func (b *browser) get(path string, v any) {
	b.tb.Helper()
	resp, body := b.do(http.MethodGet, path, nil, nil)
	if resp.StatusCode != 200 {
		b.tb.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			b.tb.Fatalf("GET %s: %v in %.300s", path, err, body)
		}
	}
}

func detail(body []byte) string {
	var d struct {
		Detail string `json:"detail"`
	}
	_ = json.Unmarshal(body, &d)
	if d.Detail == "" {
		return strings.TrimSpace(string(body))
	}
	return d.Detail
}

type urlT = url.URL

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }
