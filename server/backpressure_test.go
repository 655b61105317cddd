package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/spate-ml/spate/core/runtime"
	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server"
)

// jsonRows renders rows [first, first+n) of txBatch as a REST upload body.
func jsonRows(first, n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := first; i < first+n; i++ {
		if i > first {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"tx%06d","account":%d,"amount":%g,"ok":%t}`, i, i%7, float64(i)*1.5, i%2 == 0)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// TestBackpressureREST429AndFlightThrottle streams rows far faster than a
// model consumes them: REST uploads beyond the lag bound get 429 with a
// Retry-After and a JSON detail naming the model, a client that retries
// loses no row, Flight DoPut is held back (not refused) and every row gets
// its output.
func TestBackpressureREST429AndFlightThrottle(t *testing.T) {
	const maxLag, body, bodies = 2000, 1000, 20
	h := startWith(t, func(o *server.Options) {
		o.Backpressure = runtime.BackpressureOptions{MaxLagRows: maxLag}
		o.MaxUploadBytes = 8 << 20
	})
	ctx := h.ctx()
	h.create(ctx, "tx")
	h.create(ctx, "labels")
	// History before any model: never refused, however big. Labels for
	// every row come first, so the model learns each row as it arrives.
	for i := 0; i < 10+bodies+10; i++ {
		if code, resp := h.post("/api/dataset/labels/upload", "apiKey "+h.key, jsonRows(i*body, body)); code != http.StatusOK {
			t.Fatalf("label upload %d: %d %s", i, code, resp)
		}
	}
	for i := 0; i < 10; i++ {
		if code, resp := h.post("/api/dataset/tx/upload", "apiKey "+h.key, jsonRows(i*body, body)); code != http.StatusOK {
			t.Fatalf("history upload %d: %d %s", i, code, resp)
		}
	}
	msvc := spatev1.NewModelServiceClient(h.conn)
	if _, err := msvc.Deploy(ctx, &spatev1.DeployRequest{
		// AMF with 50 trees learns a few thousand rows a second: far
		// slower than REST uploads.
		Name: "slow", DatasetId: "tx", ModelConfigsJson: `[{"algorithm":"AMFClassifier","n_classes":2,"n_estimators":50}]`,
		NumericalFields: []string{"amount", "account"}, Label: &spatev1.LabelSpec{DatasetId: "labels", Field: "ok"},
	}); err != nil {
		t.Fatal(err)
	}
	sent, refused := 10*body, 0
	var detail map[string]any
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; i < bodies; {
		if time.Now().After(deadline) {
			t.Fatalf("REST producer stuck after %d bodies (%d refused)", i, refused)
		}
		req, _ := http.NewRequest(http.MethodPost, h.http+"/api/dataset/tx/upload", bytes.NewReader(jsonRows(sent, body)))
		req.Header.Set("Authorization", "apiKey "+h.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			sent += body
			i++
		case http.StatusTooManyRequests:
			refused++
			ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil || ra < 1 {
				t.Fatalf("429 with Retry-After %q", resp.Header.Get("Retry-After"))
			}
			if err := json.Unmarshal(b, &detail); err != nil || detail["lagging"] != `model "slow"` || detail["max_lag_rows"] != float64(maxLag) {
				t.Fatalf("429 body %s", b)
			}
			time.Sleep(20 * time.Millisecond) // a test need not wait the whole Retry-After
		default:
			t.Fatalf("upload: %d %s", resp.StatusCode, b)
		}
	}
	if refused == 0 {
		t.Fatal("no upload was refused although the model lagged far behind")
	}
	// Flight: one stream of many batches is held back, not refused.
	var recs []arrow.RecordBatch
	for i := 0; i < 10; i++ {
		recs = append(recs, txBatch(sent+i*body, body))
	}
	start := time.Now()
	acks, err := h.put(ctx, "tx", recs...)
	if err != nil {
		t.Fatalf("throttled DoPut: %v", err)
	}
	if len(acks) != len(recs) {
		t.Fatalf("%d acks for %d batches", len(acks), len(recs))
	}
	sent += 10 * body
	t.Logf("REST: %d bodies refused with 429; Flight: 10 batches in %s", refused, time.Since(start).Round(time.Millisecond))
	if rows := h.rows(ctx, "tx"); rows != int64(sent) {
		t.Fatalf("dataset holds %d rows, %d were acknowledged", rows, sent)
	}
	waitFor := time.Now().Add(2 * time.Minute)
	for {
		m, err := msvc.GetModel(ctx, &spatev1.GetModelRequest{Name: "slow"})
		if err != nil {
			t.Fatal(err)
		}
		if m.GetStats().GetPredicted() == int64(sent) {
			break
		}
		if time.Now().After(waitFor) {
			t.Fatalf("model predicted %d of %d rows", m.GetStats().GetPredicted(), sent)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
