package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"
)

// TestPromoteUnderLoad swaps the "prod" alias between two models while
// clients hammer /model/prod/predict: every request must succeed, and
// answers switch from the first model to the second.
func TestPromoteUnderLoad(t *testing.T) {
	d := newDemo(t, 4000, 1000, 4, false)
	d.waitLearned(t, 4000, time.Minute)
	ctx := withKey(d.key)
	second := &spatev1.DeployRequest{
		Name: "challenger", DatasetId: "transactions", ModelConfigsJson: `[{"algorithm":"GaussianNB","n_classes":2}]`,
		NumericalFields: []string{"transactionAmount", "localHour"}, Label: &spatev1.LabelSpec{DatasetId: "labels", Field: "is_fraud"},
	}
	if _, err := d.models.Deploy(ctx, second); err != nil {
		t.Fatal(err)
	}
	if _, err := d.models.Promote(ctx, &spatev1.PromoteRequest{Name: "fraud_model"}); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"transactionAmount": 42.5, "localHour": 3, "isProxyIP": 1, "digitalItemCount": 1, "physicalItemCount": 0}`)
	url := "http://" + d.httpAddr + "/model/prod/predict"
	var (
		wg             sync.WaitGroup
		stop           atomic.Bool
		failures, oks  atomic.Int64
		sawOld, sawNew atomic.Int64
		mu             sync.Mutex
		firstErr       string
	)
	deadline := time.Now().Add(10 * time.Second)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; i < 20000 && !stop.Load() && time.Now().Before(deadline); i++ {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Authorization", "apiKey "+d.key)
				resp, err := client.Do(req)
				if err != nil {
					failures.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failures.Add(1)
					mu.Lock()
					if firstErr == "" {
						firstErr = string(b)
					}
					mu.Unlock()
					continue
				}
				oks.Add(1)
				var out struct {
					Model string `json:"model"`
				}
				_ = json.Unmarshal(b, &out)
				switch out.Model {
				case "fraud_model":
					sawOld.Add(1)
				case "challenger":
					sawNew.Add(1)
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := d.models.Promote(ctx, &spatev1.PromoteRequest{Name: "challenger"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d of %d requests failed during promotion (first: %s)", failures.Load(), failures.Load()+oks.Load(), firstErr)
	}
	if sawOld.Load() == 0 || sawNew.Load() == 0 {
		t.Fatalf("answers: %d from the old model, %d from the new one", sawOld.Load(), sawNew.Load())
	}
	infoOld := d.info(t)
	if infoOld.Stage != "dev" {
		t.Fatalf("the demoted model's stage is %q", infoOld.Stage)
	}
	t.Logf("%d requests, %d before the swap, %d after", oks.Load(), sawOld.Load(), sawNew.Load())
}
