package runtime_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/spate-ml/spate/core/feature"
)

// eventLabels are the labels of events first..first+n.
func eventLabels(first, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, labSchema.Arrow())
	defer b.Release()
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("e%d", i))
		b.Field(1).(*array.Int64Builder).Append(int64(i % 2))
	}
	return b.NewRecordBatch()
}

// TestModelsShareOneFeatureComputation deploys several models on one
// dataset with a materialized window feature and checks that the feature is
// computed once per row (one materializer pass, one feature log) while every
// model reads it: each predicts and learns every row, with identical
// outputs, and the feature values are the window sums.
func TestModelsShareOneFeatureComputation(t *testing.T) {
	for _, models := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d models", models), func(t *testing.T) {
			en := open(t, t.TempDir())
			ctx := context.Background()
			e := en.e
			if _, err := e.CreateDataset(ctx, "ns", "ev", evSchema); err != nil {
				t.Fatal(err)
			}
			if _, err := e.CreateDataset(ctx, "ns", "labels", labSchema); err != nil {
				t.Fatal(err)
			}
			if err := e.RegisterTimestamp(ctx, "ns", "ev", "ts", "epoch_seconds"); err != nil {
				t.Fatal(err)
			}
			def := feature.Def{Name: "my_sum", Kind: feature.KindAggregate, Column: "amount", Op: feature.OpSum, GroupBy: "acct", Timestamp: "ts", Window: "24 hours"}
			if err := e.MaterializeFeatures(ctx, "ns", "ev", []feature.Def{def}); err != nil {
				t.Fatal(err)
			}
			const n = 3000
			// History before the models, the rest while they run.
			en.upload("ev", events(0, 1000))
			en.upload("labels", eventLabels(0, 1000))
			s := spec()
			s.DatasetID, s.NumericalFields, s.CategoricalFields = "ev", []string{"amount", "my_sum"}, nil
			for m := range models {
				if err := e.Deploy(ctx, "ns", fmt.Sprintf("m%d", m), s); err != nil {
					t.Fatal(err)
				}
			}
			for first := 1000; first < n; first += 500 {
				en.upload("ev", events(first, 500))
				en.upload("labels", eventLabels(first, 500))
			}
			for m := range models {
				name := fmt.Sprintf("m%d", m)
				waitFor(t, name+" to learn every row", func() bool {
					info, err := e.GetModel(ctx, "ns", name)
					return err == nil && info.Stats.Predicted == n && info.Stats.Learned == n
				})
			}
			st, _ := e.FeatureStatus("ns", "ev")
			if st.Stats.Rows != n || st.Processed != n {
				t.Fatalf("the materializer processed %d rows (up to offset %d), want each of the %d rows once for %d models", st.Stats.Rows, st.Processed, n, models)
			}
			sums := sumFeature(t, e, n)
			if len(sums) != n {
				t.Fatalf("feature log holds %d rows, want %d", len(sums), n)
			}
			for i, v := range sums {
				if v != want(i) {
					t.Fatalf("my_sum of row %d = %v, want %v", i, v, want(i))
				}
			}
			var first []float64
			for m := range models {
				var scores []float64
				for off := int64(0); off < n; {
					recs, next, err := e.ReadOutputs(ctx, "ns", fmt.Sprintf("m%d", m), off, n)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range recs {
						scores = append(scores, r.Column(1).(*array.Float64).Float64Values()...)
						r.Release()
					}
					if next == off {
						break
					}
					off = next
				}
				if len(scores) != n {
					t.Fatalf("m%d wrote %d outputs, want %d", m, len(scores), n)
				}
				if m == 0 {
					first = scores
					continue
				}
				for i := range scores {
					if scores[i] != first[i] {
						t.Fatalf("output %d: m%d scored %v, m0 %v (same learner, same inputs)", i, m, scores[i], first[i])
					}
				}
			}
		})
	}
}
