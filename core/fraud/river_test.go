package fraud

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// riverCheck computes the tutorial's feature (SUM(transactionAmount) per
// accountID over the last 24 hours, current row included) with DuckDB and
// runs two River Hoeffding trees prequentially, with and without it. It
// prints, as JSON, the ROC AUC of each model per block of 20,000 rows.
const riverCheck = `
import json, sys
import duckdb
from river import metrics, tree
con = duckdb.connect()
rows = con.execute("""
  select t.transactionAmount, t.localHour, t.digitalItemCount, t.physicalItemCount, t.isProxyIP,
         sum(t.transactionAmount) over (partition by t.accountID order by t.timestamp
             range between 86400 preceding and current row) as my_sum_feat,
         l.is_fraud
  from read_csv_auto(?) t join read_csv_auto(?) l using (transactionID)
  order by t.timestamp, t.transactionID""", [sys.argv[1], sys.argv[2]]).fetchall()
cat = ["digitalItemCount", "physicalItemCount", "isProxyIP"]
models = {"with_sum": tree.HoeffdingTreeClassifier(nominal_attributes=cat),
          "without_sum": tree.HoeffdingTreeClassifier(nominal_attributes=cat)}
out = {name: [] for name in models}
aucs = {name: metrics.ROCAUC() for name in models}
for i, (amount, hour, digital, physical, proxy, s, y) in enumerate(rows):
    base = {"transactionAmount": amount, "localHour": hour,
            "digitalItemCount": digital, "physicalItemCount": physical, "isProxyIP": proxy}
    for name, m in models.items():
        x = dict(base, my_sum_feat=s) if name == "with_sum" else base
        aucs[name].update(y == 1, m.predict_proba_one(x).get(True, 0.0))
        m.learn_one(x, y == 1)
    if (i + 1) % 20000 == 0:
        for name in models:
            out[name].append(aucs[name].get())
            aucs[name] = metrics.ROCAUC()
print(json.dumps(out))
`

// TestHoeffdingTreeLearns runs the tutorial's model on the default data set
// and checks the story the data set is built to tell: the tree learns the
// first fraud pattern, loses accuracy at the drift, recovers, and the
// 24-hour sum feature helps most after the drift.
func TestHoeffdingTreeLearns(t *testing.T) {
	t.Parallel() // the Python process runs beside the other tests
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("this test needs python3 with duckdb and river on PATH: %v", err)
	}
	dir := t.TempDir()
	txPath, labPath := filepath.Join(dir, "transactions.csv"), filepath.Join(dir, "labels.csv")
	txb, labb := csvBytes(t, DefaultConfig())
	if err := os.WriteFile(txPath, txb, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(labPath, labb, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(python, "-c", riverCheck, txPath, labPath)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 with duckdb and river failed (are they installed?): %v\n%s", err, stderr.String())
	}
	var auc struct {
		With    []float64 `json:"with_sum"`
		Without []float64 `json:"without_sum"`
	}
	if err := json.Unmarshal(out, &auc); err != nil {
		t.Fatalf("bad output %q: %v", out, err)
	}
	if len(auc.With) != 10 || len(auc.Without) != 10 {
		t.Fatalf("got %d and %d AUC blocks, want 10", len(auc.With), len(auc.Without))
	}
	t.Logf("AUC per 20,000 rows with my_sum_feat:    %.3f", auc.With)
	t.Logf("AUC per 20,000 rows without my_sum_feat: %.3f", auc.Without)
	avg := func(v []float64) float64 {
		var s float64
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	// The drift is at row 120,000: blocks 0-5 come before it.
	if a := avg(auc.With[2:6]); a < 0.85 {
		t.Errorf("before the drift, mean AUC %.3f, want >= 0.85", a)
	}
	if auc.With[6] > auc.With[5]-0.1 {
		t.Errorf("AUC %.3f just after the drift, %.3f before it: want a drop of 0.1", auc.With[6], auc.With[5])
	}
	if auc.With[9] < auc.With[6]+0.05 {
		t.Errorf("AUC %.3f at the end, %.3f just after the drift: want a recovery of 0.05", auc.With[9], auc.With[6])
	}
	if w, wo := avg(auc.With[6:]), avg(auc.Without[6:]); w < wo+0.03 {
		t.Errorf("after the drift, mean AUC %.3f with my_sum_feat, %.3f without: want a gain of 0.03", w, wo)
	}
}
