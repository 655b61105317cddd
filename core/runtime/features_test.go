package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/spate-ml/spate/core/feature"
	"github.com/spate-ml/spate/core/runtime"
	"github.com/spate-ml/spate/core/schema"
	"github.com/spate-ml/spate/core/stream/filelog"
)

var evSchema, _ = schema.New([]schema.Field{
	{Name: "id", Type: schema.String}, {Name: "acct", Type: schema.String},
	{Name: "amount", Type: schema.Double}, {Name: "ts", Type: schema.Int64},
}, "id")

func events(first, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, evSchema.Arrow())
	defer b.Release()
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("e%d", i))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("a%d", i%3))
		b.Field(2).(*array.Float64Builder).Append(float64(i))
		b.Field(3).(*array.Int64Builder).Append(int64(i * 3600)) // one row an hour
	}
	return b.NewRecordBatch()
}

// sumFeature reads the my_sum column of every row from offset 0.
func sumFeature(t *testing.T, e *runtime.Engine, n int64) []float64 {
	t.Helper()
	var out []float64
	for off := int64(0); off < n; {
		recs, next, err := e.ReadFeatures(context.Background(), "ns", "ev", off, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			idx := r.Schema().FieldIndices("my_sum")
			if len(idx) != 1 {
				t.Fatalf("no my_sum column in %s", r.Schema())
			}
			c := r.Column(idx[0]).(*array.Float64)
			for i := 0; i < c.Len(); i++ {
				out = append(out, c.Value(i))
			}
			r.Release()
		}
		if next == off {
			break
		}
		off = next
	}
	return out
}

// want is the 24-hour per-account sum for row i (rows an hour apart, three
// accounts in turn: each window holds the account's rows of the last 24 h).
func want(i int) float64 {
	var s float64
	for j := i; j >= 0 && (i-j) <= 24; j-- {
		if j%3 == i%3 {
			s += float64(j)
		}
	}
	return s
}

func TestMaterializedFeaturesBackfillTailAndResume(t *testing.T) {
	dir := t.TempDir()
	en := open(t, dir)
	ctx := context.Background()
	e := en.e
	if _, err := e.CreateDataset(ctx, "ns", "ev", evSchema); err != nil {
		t.Fatal(err)
	}
	en.upload("ev", events(0, 100))
	def := feature.Def{Name: "my_sum", Kind: feature.KindAggregate, Column: "amount", Op: feature.OpSum, GroupBy: "acct", Timestamp: "ts", Window: "24 hours"}
	if err := e.MaterializeFeatures(ctx, "ns", "ev", []feature.Def{def}); !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("materialize before the timestamp is registered: %v", err)
	}
	if err := e.RegisterTimestamp(ctx, "ns", "ev", "ts", "epoch_seconds"); err != nil {
		t.Fatal(err)
	}
	if err := e.RegisterTimestamp(ctx, "ns", "ev", "ts", "epoch_seconds"); err != nil {
		t.Fatalf("same registration twice: %v", err)
	}
	if err := e.RegisterTimestamp(ctx, "ns", "ev", "ts", "epoch_milliseconds"); !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("re-registration with another format: %v", err)
	}
	if err := e.MaterializeFeatures(ctx, "ns", "ev", []feature.Def{def}); err != nil {
		t.Fatal(err)
	}
	if err := e.MaterializeFeatures(ctx, "ns", "ev", []feature.Def{def}); err != nil {
		t.Fatalf("materializing again is idempotent: %v", err)
	}
	other := def
	other.Window = "1 hours"
	if err := e.MaterializeFeatures(ctx, "ns", "ev", []feature.Def{other}); !errors.Is(err, runtime.ErrExists) {
		t.Fatalf("another definition under a materialized name: %v", err)
	}
	en.upload("ev", events(100, 50)) // live rows while the backfill runs
	waitFor(t, "backfill and tail", func() bool { f, _ := e.FeatureFrontier(ctx, "ns", "ev"); return f == 150 })
	got := sumFeature(t, e, 150)
	for i, v := range got {
		if v != want(i) {
			t.Fatalf("row %d: my_sum = %v, want %v", i, v, want(i))
		}
	}

	// Preview a pending SQL feature next to the materialized one.
	var rows int64
	err := e.PreviewFeatures(ctx, "ns", "ev", []feature.Def{{Name: "double_amount", Kind: feature.KindSQL, SQL: `"amount" * 2`}}, 10, func(r arrow.RecordBatch) error {
		if r.Schema().NumFields() != 6 {
			return fmt.Errorf("preview schema %s", r.Schema())
		}
		rows += r.NumRows()
		return nil
	})
	if err != nil || rows != 10 {
		t.Fatalf("preview: %d rows, %v", rows, err)
	}

	// Restart after losing the feature log (a machine crash can: it is not
	// fsynced): features are recomputed and keep exactly the same values.
	en.close()
	der, err := filelog.Open(filelog.Options{Dir: filepath.Join(dir, "derived"), Sync: filelog.SyncNone})
	if err != nil {
		t.Fatal(err)
	}
	if err := der.Delete(ctx, runtime.FeatureTopic("ns", "ev", 1)); err != nil {
		t.Fatal(err)
	}
	der.Close()
	en = open(t, dir)
	e = en.e
	en.upload("ev", events(150, 50))
	waitFor(t, "resume after restart", func() bool { f, _ := e.FeatureFrontier(ctx, "ns", "ev"); return f == 200 })
	got = sumFeature(t, e, 200)
	if len(got) != 200 {
		t.Fatalf("%d feature rows after restart", len(got))
	}
	for i, v := range got {
		if v != want(i) {
			t.Fatalf("after restart, row %d: my_sum = %v, want %v", i, v, want(i))
		}
	}

	// A model on the feature; the feature cannot be dropped under it.
	if _, err := e.CreateDataset(ctx, "ns", "labels", labSchema); err != nil {
		t.Fatal(err)
	}
	s := spec()
	s.DatasetID, s.NumericalFields, s.CategoricalFields = "ev", []string{"my_sum"}, []string{"acct"}
	if err := e.Deploy(ctx, "ns", "m", s); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "model predicted history", func() bool { n, _ := e.OutputEnd("ns", "m"); return n == 200 })
	if err := e.DropFeature(ctx, "ns", "ev", "my_sum"); !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("drop a feature a model uses: %v", err)
	}
	if err := e.DeleteModel(ctx, "ns", "m"); err != nil {
		t.Fatal(err)
	}
	if err := e.DropFeature(ctx, "ns", "ev", "my_sum"); err != nil {
		t.Fatal(err)
	}
	if fs, _ := e.Features(ctx, "ns", "ev"); len(fs) != 0 {
		t.Fatalf("features after drop: %v", fs)
	}
}

func TestDeleteDatasetWithFeaturesAndModels(t *testing.T) {
	en := open(t, t.TempDir())
	ctx := context.Background()
	e := en.e
	if _, err := e.CreateDataset(ctx, "ns", "ev", evSchema); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateDataset(ctx, "ns", "labels", labSchema); err != nil {
		t.Fatal(err)
	}
	en.upload("ev", events(0, 10))
	if err := e.RegisterTimestamp(ctx, "ns", "ev", "ts", "epoch_seconds"); err != nil {
		t.Fatal(err)
	}
	def := feature.Def{Name: "my_sum", Kind: feature.KindAggregate, Column: "amount", Op: feature.OpSum, GroupBy: "acct", Timestamp: "ts", Window: "24 hours"}
	if err := e.MaterializeFeatures(ctx, "ns", "ev", []feature.Def{def}); err != nil {
		t.Fatal(err)
	}
	s := spec()
	s.DatasetID, s.NumericalFields, s.CategoricalFields = "ev", []string{"amount"}, nil
	if err := e.Deploy(ctx, "ns", "m", s); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ev", "labels"} {
		if err := e.DeleteDataset(ctx, "ns", id); !errors.Is(err, runtime.ErrInvalid) {
			t.Fatalf("delete %s under a model: %v", id, err)
		}
	}
	if err := e.DeleteModel(ctx, "ns", "m"); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteDataset(ctx, "ns", "ev"); err != nil {
		t.Fatal(err)
	}
	// A new dataset under the same id starts empty, without features.
	if _, err := e.CreateDataset(ctx, "ns", "ev", evSchema); err != nil {
		t.Fatal(err)
	}
	if fs, err := e.Features(ctx, "ns", "ev"); err != nil || len(fs) != 0 {
		t.Fatalf("features of the new dataset: %v %v", fs, err)
	}
	if info, err := e.Dataset(ctx, "ns", "ev"); err != nil || info.Rows != 0 {
		t.Fatalf("new dataset: %+v %v", info, err)
	}
}
