package faulttest

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/spate-ml/spate/core/fraud"
	spatev1 "github.com/spate-ml/spate/proto/spatev1"
)

// fraudBatches generates rows of the fraud data set in batches of n rows:
// transactions and their labels, row for row.
func fraudBatches(t *testing.T, s uint64, rows, n int) (txs, labs []arrow.RecordBatch) {
	t.Helper()
	cfg := fraud.DefaultConfig()
	cfg.Rows, cfg.Seed = rows, s
	if err := fraud.Generate(cfg, n, func(tx, lb arrow.RecordBatch) error {
		tx.Retain()
		lb.Retain()
		txs, labs = append(txs, tx), append(labs, lb)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := range txs {
			txs[i].Release()
			labs[i].Release()
		}
	})
	return txs, labs
}

// pairLog records the (label batch, transaction batch) pairs the writers
// appended, in log order. Writers append a pair under one lock — the label
// batch, acknowledged, then the transaction batch — so both logs hold the
// pairs in the same order and every row's label is in the label log before
// the row: the model then predicts each row and learns it at once, and its
// outputs depend on the order of the rows alone, whatever the timing. That
// is what lets the test compare a killed run with an uninterrupted one.
type pairLog struct {
	mu       sync.Mutex
	order    []int // batch indices, in log order
	txRows   int64
	labRows  int64
	next     atomic.Int64
	inflight int  // batch index of the pair being appended, or -1
	labDone  bool // its label batch is in the log
	acked    map[string]int
	resumed  map[string]int // what the kills interrupted, for the test's log
}

// TestKill9DuringIngestWithLearningModel streams fraud rows and labels over
// Flight DoPut and REST upload at once into a pipeline with a materialized
// feature and a learning model, SIGKILLs the server at a random moment,
// restarts it on the same data dir and resumes the client where its
// acknowledgements (and the log) say it stopped. At the end every
// acknowledged row is in its log exactly once and in order, the model has
// predicted every row once and learned every label once, and its outputs,
// metrics and live predictions equal those of an uninterrupted run over the
// same rows.
func TestKill9DuringIngestWithLearningModel(t *testing.T) {
	s := seed(t)
	rng := newRand(s, 1)
	trials := envInt(t, "SPATE_FAULT_TRIALS", 10)
	const batchRows = 40
	txs, labs := fraudBatches(t, s, 10000*trials, batchRows)
	dir := t.TempDir()
	const model = "fraud_live"
	pl := &pairLog{inflight: -1, acked: map[string]int{}, resumed: map[string]int{}}
	start := time.Now()
	var killedAcks []int
	for trial := 0; trial < trials; trial++ {
		c := startChild(t, dir, "")
		cl := dial(t, c)
		if trial == 0 {
			cl.setupFraudPipeline(model, 500)
		}
		resumePair(t, cl, pl, txs, labs)
		checkModelHealthy(t, cl, model, c)
		var killed atomic.Bool
		var wg sync.WaitGroup
		var dead atomic.Bool
		before := len(pl.order)
		for _, viaFlight := range []bool{true, false} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				writePairs(t, cl, pl, txs, labs, viaFlight, &killed, &dead)
			}()
		}
		time.Sleep(time.Duration(100+rng.IntN(500)) * time.Millisecond)
		killed.Store(true)
		c.kill()
		wg.Wait()
		killedAcks = append(killedAcks, len(pl.order)-before)
		if t.Failed() {
			t.Fatalf("trial %d failed; server log:\n%s", trial, c.logTail())
		}
	}
	t.Logf("%d kill trials in %v: pairs appended per trial %v, %d transaction rows, %d labels; interrupted pairs: %v",
		trials, time.Since(start).Round(time.Millisecond), killedAcks, pl.txRows, pl.labRows, pl.resumed)

	// Restart once more and check the logs hold exactly the pairs, in order.
	c := startChild(t, dir, "")
	cl := dial(t, c)
	resumePair(t, cl, pl, txs, labs)
	checkModelHealthy(t, cl, model, c)
	wantTx, wantLab := expectedKeys(pl, txs, labs)
	if pl.txRows < int64(trials) {
		t.Fatalf("only %d rows were acknowledged over %d trials: the kills did not exercise ingest", pl.txRows, trials)
	}
	checkKeys(t, "transactions", cl.strings(map[string]any{"dataset_id": "transactions"}, fraud.ColTransactionID), wantTx, pl.acked)
	checkKeys(t, "labels", cl.strings(map[string]any{"dataset_id": "labels"}, fraud.ColTransactionID), wantLab, pl.acked)
	info := cl.waitModel(model, pl.txRows, pl.txRows)
	if info.Stats.PendingRows != 0 || info.Stats.ParkedLabels != 0 || info.Stats.DroppedRows != 0 || info.Stats.DroppedLabels != 0 {
		t.Fatalf("model left rows or labels unmatched: %+v", info.Stats)
	}
	checkVersionsMonotonic(t, cl, model)
	got := readOutputs(t, cl, model)
	if int64(len(got)) != pl.txRows {
		t.Fatalf("%d outputs for %d input rows", len(got), pl.txRows)
	}
	for i, o := range got {
		if o.key != wantTx[i] || o.offset != int64(i) {
			t.Fatalf("output %d is for %s at input offset %d, want %s at %d", i, o.key, o.offset, wantTx[i], i)
		}
	}

	// The reference: a fresh server given the same rows in the same order,
	// never killed.
	ref := startChild(t, t.TempDir(), "")
	rc := dial(t, ref)
	rc.setupFraudPipeline(model, 500)
	var labOrder, txOrder []arrow.RecordBatch
	for _, i := range pl.order {
		labOrder, txOrder = append(labOrder, labs[i]), append(txOrder, txs[i])
	}
	ctx, cancel := rc.ctx(60 * time.Second)
	defer cancel()
	if _, err := rc.put(ctx, "labels", labOrder...); err != nil {
		t.Fatalf("reference labels: %v", err)
	}
	if _, err := rc.put(ctx, "transactions", txOrder...); err != nil {
		t.Fatalf("reference transactions: %v", err)
	}
	refInfo := rc.waitModel(model, pl.txRows, pl.txRows)
	want := readOutputs(t, rc, model)
	for i := range want {
		if got[i].key != want[i].key || got[i].prediction != want[i].prediction {
			t.Fatalf("output %d (row %s) after kills: %s; uninterrupted run: %s", i, want[i].key, got[i].prediction, want[i].prediction)
		}
	}
	if a, b := info.Stats.Metrics["WindowedAUC"], refInfo.Stats.Metrics["WindowedAUC"]; a != b {
		t.Fatalf("WindowedAUC after kills %v, uninterrupted %v", a, b)
	}
	// The live learners are the same: they predict a new row alike.
	row := []byte(`{"transactionID":"probe","accountID":"` + firstAccount(txs[0]) + `","transactionAmount":950.5,"localHour":3,"timestamp":1000,"isProxyIP":1,"digitalItemCount":2,"physicalItemCount":0}`)
	pa, pb := predict(t, cl, model, row), predict(t, rc, model, row)
	if pa != pb {
		t.Fatalf("live model after kills predicts %s, uninterrupted %s", pa, pb)
	}
	t.Logf("verified %d rows and outputs against the uninterrupted run (WindowedAUC %.4f) in %v",
		pl.txRows, info.Stats.Metrics["WindowedAUC"], time.Since(start).Round(time.Millisecond))
}

// writePairs appends pairs until the server dies: over Flight DoPut or
// over REST upload.
func writePairs(t *testing.T, cl *client, pl *pairLog, txs, labs []arrow.RecordBatch, viaFlight bool, killed, dead *atomic.Bool) {
	for {
		i := int(pl.next.Add(1) - 1)
		if i >= len(txs) {
			return
		}
		pl.mu.Lock()
		if dead.Load() {
			pl.mu.Unlock()
			return
		}
		pl.inflight, pl.labDone = i, false
		err := appendOne(cl, "labels", labs[i], pl.labRows, viaFlight)
		if err == nil {
			pl.labDone = true
			pl.labRows += labs[i].NumRows()
			err = appendOne(cl, "transactions", txs[i], pl.txRows, viaFlight)
		}
		if err == nil {
			pl.txRows += txs[i].NumRows()
			pl.order = append(pl.order, i)
			for _, k := range keysOf(txs[i], fraud.ColTransactionID) {
				pl.acked[k]++
			}
			pl.inflight = -1
		}
		if err != nil {
			dead.Store(true)
			if !killed.Load() {
				t.Errorf("append before the kill (flight=%v): %v", viaFlight, err)
			}
		}
		pl.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// appendOne appends one batch and checks its acknowledged offset.
func appendOne(cl *client, id string, rec arrow.RecordBatch, wantFirst int64, viaFlight bool) error {
	ctx, cancel := cl.ctx(20 * time.Second)
	defer cancel()
	var first, n int64
	if viaFlight {
		acks, err := cl.put(ctx, id, rec)
		if err != nil {
			return err
		}
		if len(acks) != 1 {
			return fmt.Errorf("%d acknowledgements for one batch", len(acks))
		}
		first, n = acks[0].First, acks[0].Rows
	} else {
		body, err := rowsJSON(rec)
		if err != nil {
			return err
		}
		code, resp, err := cl.upload(ctx, id, body)
		if err != nil {
			return err
		}
		if code != 200 {
			return fmt.Errorf("upload: %d %s", code, resp)
		}
		var a putAck
		if _, err := fmt.Sscanf(resp, `{"first_offset":%d,"rows":%d}`, &a.First, &a.Rows); err != nil {
			return fmt.Errorf("upload answer %q: %w", resp, err)
		}
		first, n = a.First, a.Rows
	}
	if first != wantFirst || n != rec.NumRows() {
		return fmt.Errorf("%s: acknowledged %d rows at %d, want %d at %d", id, n, first, rec.NumRows(), wantFirst)
	}
	return nil
}

// resumePair completes the pair a kill interrupted, as a client resuming
// from its last acknowledgement would: it looks at the end of each log to
// see whether the unacknowledged batch got in, and appends what is missing.
func resumePair(t *testing.T, cl *client, pl *pairLog, txs, labs []arrow.RecordBatch) {
	t.Helper()
	pl.mu.Lock()
	defer pl.mu.Unlock()
	i := pl.inflight
	if i < 0 {
		return
	}
	present := func(id string, rec arrow.RecordBatch, rows int64) bool {
		n := cl.rows(id)
		switch n {
		case rows:
			return false
		case rows + rec.NumRows():
			keys := cl.strings(map[string]any{"dataset_id": id, "from": rows}, fraud.ColTransactionID)
			want := keysOf(rec, fraud.ColTransactionID)
			if fmt.Sprint(keys) != fmt.Sprint(want) {
				t.Fatalf("%s: the rows after the last acknowledged one are %v, not the unacknowledged batch %v", id, keys, want)
			}
			return true
		}
		t.Fatalf("%s holds %d rows after restart; acknowledged %d, one batch of %d in flight", id, n, rows, rec.NumRows())
		return false
	}
	if !pl.labDone {
		pl.resumed["label unacknowledged"]++
		if !present("labels", labs[i], pl.labRows) {
			pl.resumed["label lost, resent"]++
			if err := appendOne(cl, "labels", labs[i], pl.labRows, true); err != nil {
				t.Fatalf("resume labels: %v", err)
			}
		}
		pl.labRows += labs[i].NumRows()
	}
	if present("transactions", txs[i], pl.txRows) {
		pl.resumed["transactions durable but unacknowledged"]++
	} else {
		if err := appendOne(cl, "transactions", txs[i], pl.txRows, true); err != nil {
			t.Fatalf("resume transactions: %v", err)
		}
	}
	pl.txRows += txs[i].NumRows()
	pl.order = append(pl.order, i)
	pl.inflight = -1
}

func expectedKeys(pl *pairLog, txs, labs []arrow.RecordBatch) (tx, lab []string) {
	for _, i := range pl.order {
		tx = append(tx, keysOf(txs[i], fraud.ColTransactionID)...)
		lab = append(lab, keysOf(labs[i], fraud.ColTransactionID)...)
	}
	return tx, lab
}

// checkKeys compares a log's keys with the expected sequence and checks
// that every acknowledged key is there exactly once.
func checkKeys(t *testing.T, what string, got, want []string, acked map[string]int) {
	t.Helper()
	count := map[string]int{}
	for _, k := range got {
		count[k]++
	}
	for k := range acked {
		if count[k] != 1 {
			t.Fatalf("%s: acknowledged row %s is present %d times", what, k, count[k])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s holds %d rows, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: offset %d holds %s, want %s", what, i, got[i], want[i])
		}
	}
}

// checkModelHealthy checks that a restarted server runs the model.
func checkModelHealthy(t *testing.T, cl *client, name string, c *child) {
	t.Helper()
	ctx, cancel := cl.ctx(10 * time.Second)
	defer cancel()
	info, err := cl.ms.GetModel(ctx, &spatev1.GetModelRequest{Name: name})
	if err != nil {
		t.Fatalf("model %s after restart: %v\n%s", name, err, c.logTail())
	}
	if info.Stats.LastError != "" {
		t.Fatalf("model %s after restart: %s\n%s", name, info.Stats.LastError, c.logTail())
	}
}

// checkVersionsMonotonic checks that versions have increasing ids and that,
// along the lineage, no version consumed less than its parent.
func checkVersionsMonotonic(t *testing.T, cl *client, name string) []*spatev1.Version {
	t.Helper()
	ctx, cancel := cl.ctx(10 * time.Second)
	defer cancel()
	vs, err := cl.ms.ListVersions(ctx, &spatev1.GetModelRequest{Name: name})
	if err != nil {
		t.Fatalf("versions of %s: %v", name, err)
	}
	byID := map[int64]*spatev1.Version{}
	for i, v := range vs.Versions {
		if i > 0 && v.Id <= vs.Versions[i-1].Id {
			t.Fatalf("version ids not increasing: %d after %d", v.Id, vs.Versions[i-1].Id)
		}
		byID[v.Id] = v
	}
	for _, v := range vs.Versions {
		p, ok := byID[v.Parent]
		if v.Parent == 0 {
			continue
		}
		if !ok {
			t.Fatalf("version %d names parent %d, which does not exist", v.Id, v.Parent)
		}
		if v.Reason != "rollback" && (v.InputOffset < p.InputOffset || v.LabelOffset < p.LabelOffset || v.SamplesSeen < p.SamplesSeen) {
			t.Fatalf("version %d (%s) consumed less than its parent %d: %+v vs %+v", v.Id, v.Reason, p.Id, v, p)
		}
	}
	return vs.Versions
}

// output is one model output: its key, input offset and prediction
// (score, class and probabilities, as exact text).
type output struct {
	key        string
	offset     int64
	prediction string
}

func readOutputs(t *testing.T, cl *client, model string) []output {
	t.Helper()
	recs, err := cl.get(map[string]any{"kind": "outputs", "model": model})
	if err != nil {
		t.Fatalf("outputs of %s: %v", model, err)
	}
	var out []output
	for _, r := range recs {
		col := func(name string) arrow.Array {
			idx := r.Schema().FieldIndices(name)
			if len(idx) == 0 {
				t.Fatalf("outputs have no column %q: %s", name, r.Schema())
			}
			return r.Column(idx[0])
		}
		keys, offs := col("key").(*array.String), col("input_offset").(*array.Int64)
		score, class, proba := col("score"), col("predicted_class"), col("class_probabilities")
		for i := 0; i < int(r.NumRows()); i++ {
			out = append(out, output{key: keys.Value(i), offset: offs.Value(i),
				prediction: score.ValueStr(i) + " " + class.ValueStr(i) + " " + proba.ValueStr(i)})
		}
		r.Release()
	}
	return out
}

// predict asks the live model for one row and returns its score, class
// and probabilities as exact text.
func predict(t *testing.T, cl *client, model string, row []byte) string {
	t.Helper()
	ctx, cancel := cl.ctx(10 * time.Second)
	defer cancel()
	code, body, err := cl.post(ctx, "/model/"+model+"/predict", row)
	if err != nil || code != 200 {
		t.Fatalf("predict: %d %s %v", code, body, err)
	}
	var p struct {
		Score float64   `json:"score"`
		Class int       `json:"predicted_class"`
		Proba []float64 `json:"class_probabilities"`
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("predict answer %q: %v", body, err)
	}
	return fmt.Sprintf("%v %d %v", p.Score, p.Class, p.Proba)
}

func firstAccount(rec arrow.RecordBatch) string { return keysOf(rec, "accountID")[0] }
