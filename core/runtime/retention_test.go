package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/spate-ml/spate/core/feature"
	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/runtime"
	"github.com/spate-ml/spate/core/schema"
	"github.com/spate-ml/spate/core/stream"
	"github.com/spate-ml/spate/core/stream/filelog"
)

// openOpts opens an engine over dir with small derived segments (so that
// retention has segments to remove), no background retention pass and the
// given lag bound.
func openOpts(t *testing.T, dir string, maxLag int64, learners runtime.Learners) *env {
	t.Helper()
	ctx := context.Background()
	reg, err := registry.Open(ctx, filepath.Join(dir, "registry.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	br, err := filelog.Open(filelog.Options{Dir: filepath.Join(dir, "logs")})
	if err != nil {
		t.Fatal(err)
	}
	der, err := filelog.Open(filelog.Options{Dir: filepath.Join(dir, "derived"), Sync: filelog.SyncNone, SegmentSize: 8 << 10, IndexInterval: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	e, err := runtime.New(runtime.Options{Registry: reg, Broker: br, Derived: der, Learners: learners, CheckpointDir: filepath.Join(dir, "checkpoints"),
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Retention:    runtime.RetentionOptions{Interval: -1},
		Backpressure: runtime.BackpressureOptions{MaxLagRows: maxLag},
		Metrics: func(name string, w int) (runtime.Metric, error) {
			return &accMetric{}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	en := &env{t: t, dir: dir, reg: reg, br: br, der: der, e: e}
	t.Cleanup(en.close)
	return en
}

var evLabSchema, _ = schema.New([]schema.Field{{Name: "id", Type: schema.String}, {Name: "y", Type: schema.Int64}}, "id")

func evLabels(first, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, evLabSchema.Arrow())
	defer b.Release()
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("e%d", i))
		b.Field(1).(*array.Int64Builder).Append(int64((i * 7919) % 3 % 2))
	}
	return b.NewRecordBatch()
}

// setupFeatureModel creates dataset ev (with the my_sum feature) and its
// labels, loads a history of n rows with labels and deploys model m on it.
func setupFeatureModel(t *testing.T, en *env, n int) {
	t.Helper()
	ctx := context.Background()
	e := en.e
	if _, err := e.CreateDataset(ctx, "ns", "ev", evSchema); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateDataset(ctx, "ns", "evlab", evLabSchema); err != nil {
		t.Fatal(err)
	}
	if err := e.RegisterTimestamp(ctx, "ns", "ev", "ts", "epoch_seconds"); err != nil {
		t.Fatal(err)
	}
	def := feature.Def{Name: "my_sum", Kind: feature.KindAggregate, Column: "amount", Op: feature.OpSum, GroupBy: "acct", Timestamp: "ts", Window: "24 hours"}
	if err := e.MaterializeFeatures(ctx, "ns", "ev", []feature.Def{def}); err != nil {
		t.Fatal(err)
	}
	for off := 0; off < n; off += 500 {
		en.upload("ev", events(off, 500))
		en.upload("evlab", evLabels(off, 500))
	}
	s := runtime.ModelSpec{
		DatasetID: "ev", ModelConfigs: []json.RawMessage{json.RawMessage(`{"algorithm":"SumLearner","n_classes":2}`)},
		NumericalFields: []string{"my_sum", "amount"}, CategoricalFields: []string{"acct"},
		Label: &runtime.LabelSpec{DatasetID: "evlab", Field: "y"}, VersionEverySamples: 700,
	}
	if err := e.Deploy(ctx, "ns", "m", s); err != nil {
		t.Fatal(err)
	}
	waitLearned(t, en, int64(n), int64(n))
}

func waitLearned(t *testing.T, en *env, predicted, learned int64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d rows predicted and %d learned", predicted, learned), func() bool {
		info, err := en.e.GetModel(context.Background(), "ns", "m")
		return err == nil && info.Stats.Predicted >= predicted && info.Stats.Learned >= learned
	})
}

// livePhase streams rows [first, first+n): inputs first (predicted with the
// state before them), then their labels (learned in label order), so that
// outputs do not depend on how ticks happen to split the rows.
func livePhase(t *testing.T, en *env, first, n int) {
	t.Helper()
	en.upload("ev", events(first, n))
	waitLearned(t, en, int64(first+n), int64(first))
	en.upload("evlab", evLabels(first, n))
	waitLearned(t, en, int64(first+n), int64(first+n))
}

type output struct {
	Score float64
	Class int64
}

func readOutputs(t *testing.T, e *runtime.Engine, from, to int64) []output {
	t.Helper()
	var out []output
	for off := from; off < to; {
		recs, next, err := e.ReadOutputs(context.Background(), "ns", "m", off, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			sc, cl, in := r.Column(1).(*array.Float64), r.Column(2).(*array.Int64), r.Column(5).(*array.Int64)
			for i := 0; i < int(r.NumRows()); i++ {
				if want := from + int64(len(out)); in.Value(i) != want {
					t.Fatalf("output for input %d where %d was expected", in.Value(i), want)
				}
				out = append(out, output{sc.Value(i), cl.Value(i)})
			}
			r.Release()
		}
		if next == off {
			t.Fatalf("outputs end at %d, want %d", off, to)
		}
		off = next
	}
	return out
}

// TestRestartAfterRetentionPredictsTheSame runs the same stream twice: once
// uninterrupted, once with a retention pass that removes most of the
// feature, output and evaluation logs followed by a restart of the engine.
// The outputs after the restart are identical: a model restarts from its
// version, and no trimmed row is needed.
func TestRestartAfterRetentionPredictsTheSame(t *testing.T) {
	const history = 3000
	ctx := context.Background()

	// Uninterrupted.
	a := openOpts(t, t.TempDir(), -1, testLearners{})
	setupFeatureModel(t, a, history)
	livePhase(t, a, history, 400)
	livePhase(t, a, history+400, 400)
	ref := readOutputs(t, a.e, history, history+800)

	// Retention, then a restart, in the middle.
	dir := t.TempDir()
	b := openOpts(t, dir, -1, testLearners{})
	setupFeatureModel(t, b, history)
	livePhase(t, b, history, 400)
	keepNothing := registry.Retention{MaxAge: time.Millisecond, MaxBytes: 1}
	if _, err := b.e.SetDatasetRetention(ctx, "ns", "ev", keepNothing); err != nil {
		t.Fatal(err)
	}
	if err := b.e.SetModelRetention(ctx, "ns", "m", keepNothing); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // every segment is now older than the max age
	rep, err := b.e.RetainNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Segments == 0 || rep.Bytes == 0 || rep.Logs != 3 {
		t.Fatalf("retention pass: %+v, want segments of 3 logs removed", rep)
	}
	ri, err := b.e.ModelRetention(ctx, "ns", "m")
	if err != nil {
		t.Fatal(err)
	}
	d, err := b.e.Dataset(ctx, "ns", "ev")
	if err != nil {
		t.Fatal(err)
	}
	_, featStart := b.e.DatasetRetention(d.Dataset)
	vs, err := b.e.Versions(ctx, "ns", "m")
	if err != nil {
		t.Fatal(err)
	}
	var restartAt int64
	for _, v := range vs {
		var off struct {
			Inputs int64 `json:"inputs"`
		}
		_ = json.Unmarshal(v.Offsets, &off)
		restartAt = off.Inputs
	}
	// The evaluation log keeps the last DefaultMetricWindow samples; its
	// history was one frame (one segment) reaching past that, so it stays.
	if ri.EvalStart > ri.EvaluationCount-runtime.DefaultMetricWindow {
		t.Fatalf("evaluations trimmed to %d of %d: fewer than a metric window left", ri.EvalStart, ri.EvaluationCount)
	}
	if ri.OutputStart == 0 || featStart == 0 {
		t.Fatalf("nothing trimmed: outputs from %d, evaluations from %d, features from %d", ri.OutputStart, ri.EvalStart, featStart)
	}
	if featStart > restartAt {
		t.Fatalf("feature log trimmed to %d, past the restart point %d of the current version", featStart, restartAt)
	}
	// Reading trimmed features is an error that says so; outputs start at
	// the oldest kept.
	if _, _, err := b.e.ReadFeatures(ctx, "ns", "ev", 0, 10); !errors.Is(err, stream.ErrTrimmed) {
		t.Fatalf("reading trimmed features: %v, want ErrTrimmed", err)
	}
	recs, _, err := b.e.ReadOutputs(ctx, "ns", "m", 0, 10)
	if err != nil || len(recs) == 0 || recs[0].Column(5).(*array.Int64).Value(0) != ri.OutputStart {
		t.Fatalf("reading outputs from 0 after retention: %d batches, %v; want rows from %d", len(recs), err, ri.OutputStart)
	}
	for _, r := range recs {
		r.Release()
	}
	b.close()

	b = openOpts(t, dir, -1, testLearners{})
	waitLearned(t, b, history+400, history+400)
	livePhase(t, b, history+400, 400)
	got := readOutputs(t, b.e, history, history+800)
	if len(got) != len(ref) {
		t.Fatalf("%d outputs after restart, want %d", len(got), len(ref))
	}
	for i := range ref {
		if got[i] != ref[i] {
			t.Fatalf("output %d after retention and restart: %+v, uninterrupted %+v", history+i, got[i], ref[i])
		}
	}
	// A new model on the trimmed dataset gets the whole history: the
	// features are recomputed from the dataset's log.
	s := runtime.ModelSpec{
		DatasetID: "ev", ModelConfigs: []json.RawMessage{json.RawMessage(`{"algorithm":"SumLearner","n_classes":2}`)},
		NumericalFields: []string{"my_sum"}, PredictOnly: true,
	}
	if err := b.e.Deploy(ctx, "ns", "late", s); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the late model predicts the whole history", func() bool {
		n, err := b.e.OutputEnd("ns", "late")
		return err == nil && n == history+800
	})
	if got := sumFeature(t, b.e, history+800); len(got) != history+800 || got[10] != want(10) {
		t.Fatalf("recomputed features: %d rows, row 10 = %v, want %v", len(got), got[10], want(10))
	}
}

// TestVersionThinning checks the cadence by samples, the thinning of
// automatic versions, that a user-made version with a label is never
// thinned and that rolling back to a thinned version is ErrNotFound with a
// message saying so.
func TestVersionThinning(t *testing.T) {
	en := openOpts(t, t.TempDir(), -1, testLearners{})
	ctx := context.Background()
	for _, ds := range []struct {
		id string
		s  *schema.Schema
	}{{"tx", txSchema}, {"labels", labSchema}} {
		if _, err := en.e.CreateDataset(ctx, "ns", ds.id, ds.s); err != nil {
			t.Fatal(err)
		}
	}
	s := spec()
	s.VersionEverySamples, s.KeepVersions = 100, 3
	if err := en.e.Deploy(ctx, "ns", "m", s); err != nil {
		t.Fatal(err)
	}
	if _, err := en.e.Snapshot(ctx, "ns", "m", strings.Repeat("x", runtime.MaxVersionLabel+1)); !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("over-long label: %v", err)
	}
	var pinned registry.Version
	for i := 0; i < 30; i++ {
		tx, lb := rows(i*100, 100)
		en.upload("tx", tx)
		en.upload("labels", lb)
		waitLearned(t, en, int64(i*100+100), int64(i*100+100))
		if i == 2 {
			v, err := en.e.Snapshot(ctx, "ns", "m", "before the campaign")
			if err != nil {
				t.Fatal(err)
			}
			pinned = v
		}
	}
	vs, err := en.e.Versions(ctx, "ns", "m")
	if err != nil {
		t.Fatal(err)
	}
	var kept, thinned []int64
	var firstThinned int64
	for _, v := range vs {
		if v.Thinned() {
			thinned = append(thinned, v.ID)
			if firstThinned == 0 {
				firstThinned = v.ID
			}
			continue
		}
		kept = append(kept, v.ID)
	}
	if len(vs) < 30 || len(thinned) == 0 || len(kept) > 3+1+8 {
		t.Fatalf("%d versions: kept %v, thinned %v", len(vs), kept, thinned)
	}
	for _, v := range vs {
		if v.ID == pinned.ID && (v.Thinned() || !v.Pinned || v.Label != "before the campaign") {
			t.Fatalf("the user-made version came back as %+v", v)
		}
	}
	_, err = en.e.Rollback(ctx, "ns", "m", firstThinned)
	if !errors.Is(err, runtime.ErrNotFound) || !strings.Contains(err.Error(), "thinned") {
		t.Fatalf("rollback to thinned version %d: %v, want ErrNotFound saying it was thinned", firstThinned, err)
	}
	if _, err := en.e.Rollback(ctx, "ns", "m", pinned.ID); err != nil {
		t.Fatalf("rollback to the pinned version: %v", err)
	}
}

// slowLearners builds sumLearners that take a millisecond per prediction.
type slowLearners struct{ testLearners }

type slowLearner struct{ sumLearner }

func (l *slowLearner) Predict(x ml.Instance, p *ml.Prediction) {
	time.Sleep(time.Millisecond)
	l.sumLearner.Predict(x, p)
}

func (slowLearners) Build([]json.RawMessage, ml.Spec) (ml.Learner, error) { return &slowLearner{}, nil }

// TestBackpressureBoundsTheLag streams rows far faster than a slow model
// predicts them, the way a well-behaved client does: it appends while
// Admit says yes and waits when it says no. Admit refuses at once when the
// lag passes the bound, the lag never goes past the bound by more than one
// batch, and every row is predicted in the end.
func TestBackpressureBoundsTheLag(t *testing.T) {
	const maxLag, batch, total = 300, 50, 2000
	en := openOpts(t, t.TempDir(), maxLag, slowLearners{})
	ctx := context.Background()
	if _, err := en.e.CreateDataset(ctx, "ns", "tx", txSchema); err != nil {
		t.Fatal(err)
	}
	// History before a model exists is never refused.
	tx, _ := rows(0, 1000)
	if err := en.e.Admit("ns", "tx"); err != nil {
		t.Fatalf("admit with no consumer: %v", err)
	}
	en.upload("tx", tx)
	if err := en.e.Admit("ns", "tx"); err != nil {
		t.Fatalf("admit with no consumer after 1000 rows: %v", err)
	}
	s := spec()
	s.PredictOnly, s.Label = true, nil
	if err := en.e.Deploy(ctx, "ns", "m", s); err != nil {
		t.Fatal(err)
	}
	var lagErr *runtime.LagError
	if err := en.e.Admit("ns", "tx"); !errors.As(err, &lagErr) || !errors.Is(err, runtime.ErrBackpressure) {
		t.Fatalf("admit 1000 rows behind a new model: %v, want a LagError", err)
	}
	if !strings.Contains(lagErr.Consumer, `"m"`) || lagErr.RetryAfter <= 0 || lagErr.Lag <= maxLag {
		t.Fatalf("lag error %+v", lagErr)
	}
	refused, maxSeen := 0, int64(0)
	deadline := time.Now().Add(60 * time.Second)
	for sent := 1000; sent < 1000+total; {
		if time.Now().After(deadline) {
			t.Fatal("producer did not finish in time")
		}
		if err := en.e.Admit("ns", "tx"); err != nil {
			if !errors.As(err, &lagErr) {
				t.Fatal(err)
			}
			refused++
			time.Sleep(min(lagErr.RetryAfter, 20*time.Millisecond))
			continue
		}
		rec, _ := rows(sent, batch)
		en.upload("tx", rec)
		sent += batch
		lag, _, _ := en.e.Lag("ns", "tx")
		maxSeen = max(maxSeen, lag)
	}
	if refused == 0 {
		t.Fatal("a producer far faster than the model was never refused")
	}
	if maxSeen > maxLag+batch {
		t.Fatalf("lag reached %d rows, bound %d + one batch of %d", maxSeen, maxLag, batch)
	}
	waitFor(t, "every row predicted", func() bool {
		n, err := en.e.OutputEnd("ns", "m")
		return err == nil && n == 1000+total
	})
	if err := en.e.Admit("ns", "tx"); err != nil {
		t.Fatalf("admit once the model caught up: %v", err)
	}
	// A paused model does not hold producers back.
	if err := en.e.SetPaused(ctx, "ns", "m", true); err != nil {
		t.Fatal(err)
	}
	rec, _ := rows(1000+total, 2*maxLag)
	en.upload("tx", rec)
	if err := en.e.Admit("ns", "tx"); err != nil {
		t.Fatalf("admit behind a paused model: %v", err)
	}
}
