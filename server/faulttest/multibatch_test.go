package faulttest

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/spate-ml/spate/core/fraud"
)

// TestKill9MidMultiBatchUpload documents what a multi-batch upload (one
// DoPut stream of many batches) guarantees when the server dies midway.
// It is not all-or-nothing: each batch is appended and acknowledged on its
// own. What holds, and is checked here after SIGKILL at a random moment:
//   - every acknowledged batch is in the log, whole, at the offset its
//     acknowledgement named;
//   - the stream's batches in the log are a prefix of what was sent, in
//     order, each batch whole (a batch may be there without its
//     acknowledgement: it became durable just before the kill);
//   - so a client resumes by reading where the log ends (the last key) and
//     sending the rest, and ends with every batch exactly once.
func TestKill9MidMultiBatchUpload(t *testing.T) {
	s := seed(t)
	rng := newRand(s, 4)
	trials := max(3, envInt(t, "SPATE_FAULT_TRIALS", 10)/2)
	const perUpload = 150
	txs, _ := fraudBatches(t, s, 40*perUpload*trials, 40)
	dir := t.TempDir()
	c := startChild(t, dir, "")
	cl := dial(t, c)
	cl.createFraudDatasets()

	// Time one upload of the same size without a kill.
	ctx, cancel := cl.ctx(60 * time.Second)
	begin := time.Now()
	if _, err := cl.put(ctx, "transactions", txs[:perUpload]...); err != nil {
		t.Fatalf("upload without a kill: %v", err)
	}
	took := time.Since(begin)
	cancel()
	logged := append([]arrow.RecordBatch(nil), txs[:perUpload]...)
	var rows int64
	for _, r := range logged {
		rows += r.NumRows()
	}

	var extra, ackedTotal int
	for trial := 1; trial < trials; trial++ {
		batches := txs[trial*perUpload : (trial+1)*perUpload]
		type result struct {
			acks []putAck
			err  error
		}
		res := make(chan result, 1)
		ctx, cancel := cl.ctx(60 * time.Second)
		go func() {
			acks, err := cl.put(ctx, "transactions", batches...)
			res <- result{acks, err}
		}()
		time.Sleep(time.Duration(rng.Int64N(int64(took) + 1)))
		c.kill()
		r := <-res
		cancel()
		if r.err == nil && len(r.acks) < len(batches) {
			t.Fatalf("trial %d: the stream ended without error after %d of %d acknowledgements", trial, len(r.acks), len(batches))
		}
		// Acknowledgements come in order, one per batch, at consecutive
		// offsets after what the log held.
		off := rows
		for i, a := range r.acks {
			if a.First != off || a.Rows != batches[i].NumRows() {
				t.Fatalf("trial %d: ack %d is %d rows at %d, want %d at %d", trial, i, a.Rows, a.First, batches[i].NumRows(), off)
			}
			off += a.Rows
		}

		c = startChild(t, dir, "")
		cl = dial(t, c)
		got := cl.strings(map[string]any{"dataset_id": "transactions", "from": rows}, fraud.ColTransactionID)
		// got must be the keys of batches[:k] for some k ≥ len(acks).
		k, pos := 0, 0
		for pos < len(got) && k < len(batches) {
			want := keysOf(batches[k], fraud.ColTransactionID)
			if pos+len(want) > len(got) || strings.Join(got[pos:pos+len(want)], ",") != strings.Join(want, ",") {
				t.Fatalf("trial %d: after batch %d the log holds %v…, not the next batch whole", trial, k, got[pos:min(pos+3, len(got))])
			}
			pos += len(want)
			k++
		}
		if pos != len(got) {
			t.Fatalf("trial %d: %d rows after the stream's batches", trial, len(got)-pos)
		}
		if k < len(r.acks) {
			t.Fatalf("trial %d: %d batches acknowledged, only %d in the log", trial, len(r.acks), k)
		}
		extra += k - len(r.acks)
		ackedTotal += len(r.acks)
		// Resume from where the log ends.
		logged = append(logged, batches...)
		for _, b := range batches {
			rows += b.NumRows()
		}
		if k < len(batches) {
			ctx, cancel := cl.ctx(60 * time.Second)
			acks, err := cl.put(ctx, "transactions", batches[k:]...)
			cancel()
			if err != nil || len(acks) != len(batches)-k {
				t.Fatalf("trial %d: resume with batches %d..: %d acks, %v", trial, k, len(acks), err)
			}
		}
	}
	var want []string
	for _, r := range logged {
		want = append(want, keysOf(r, fraud.ColTransactionID)...)
	}
	got := cl.strings(map[string]any{"dataset_id": "transactions"}, fraud.ColTransactionID)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("after resuming every upload the log holds %d rows, want each of the %d sent exactly once", len(got), len(want))
	}
	t.Logf("%d killed uploads of %d batches (uninterrupted: %v): %d batches acknowledged before the kills, %d more durable without their acknowledgement",
		trials-1, perUpload, took.Round(time.Millisecond), ackedTotal, extra)
}
