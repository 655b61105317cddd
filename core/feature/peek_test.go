package feature

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/spate-ml/spate/core/schema"
)

// TestPeekMatchesProcessAndChangesNothing checks that Peek gives a row the
// values Process would give it, and that peeking leaves the state as it was.
func TestPeekMatchesProcessAndChangesNothing(t *testing.T) {
	s, err := schema.New([]schema.Field{{Name: "id", Type: schema.String}, {Name: "acct", Type: schema.String},
		{Name: "amt", Type: schema.Double}, {Name: "ts", Type: schema.Int64}}, "id")
	if err != nil {
		t.Fatal(err)
	}
	defs := []Def{
		{Name: "s", Kind: KindAggregate, Column: "amt", Op: OpSum, GroupBy: "acct", Timestamp: "ts", Window: "1 hours"},
		{Name: "c", Kind: KindAggregate, Column: "amt", Op: OpCount, GroupBy: "acct", Timestamp: "ts", Window: "1 hours"},
		{Name: "mx", Kind: KindAggregate, Column: "amt", Op: OpMax, GroupBy: "acct", Timestamp: "ts", Window: "30 minutes"},
		{Name: "big", Kind: KindSQL, SQL: `CASE WHEN "amt" > 50 THEN 1 ELSE 0 END`},
	}
	ts := []Timestamp{{Column: "ts", Format: "epoch_seconds"}}
	rng := rand.New(rand.NewPCG(3, 4))
	batch := func(first, n int, idBase ...int) arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, s.Arrow())
		defer b.Release()
		for i := first; i < first+n; i++ {
			id := fmt.Sprint(i)
			if len(idBase) > 0 {
				id = fmt.Sprint("probe", idBase[0], i)
			}
			b.Field(0).(*array.StringBuilder).Append(id)
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("a%d", rng.IntN(20)))
			if rng.IntN(10) == 0 {
				b.Field(2).AppendNull()
			} else {
				b.Field(2).(*array.Float64Builder).Append(float64(rng.IntN(100)))
			}
			b.Field(3).(*array.Int64Builder).Append(int64(i*60 + rng.IntN(30)))
		}
		return b.NewRecordBatch()
	}
	a, err := Compile(s, ts, defs)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Compile(s, ts, defs)
	var history []arrow.RecordBatch
	for k := 0; k < 50; k++ {
		rows := batch(k*20, 20)
		// A row just after the rows processed so far (its windows hold
		// earlier rows), or an out-of-order one every fifth time.
		at := k * 20
		if k%5 == 4 {
			at -= 7
		}
		probe := batch(max(at, 0), 1, k)
		peeked, err := a.Peek(probe)
		if err != nil {
			t.Fatal(err)
		}
		// Process the probe on a pipeline in the same state: its values
		// must match.
		clone, _ := Compile(s, ts, defs)
		for _, r := range history {
			if out, err := clone.Process(r); err != nil {
				t.Fatal(err)
			} else {
				out.Release()
			}
		}
		want, err := clone.Process(probe)
		if err != nil {
			t.Fatal(err)
		}
		for c := 0; c < int(want.NumCols()); c++ {
			if got, w := peeked.Column(c).ValueStr(0), want.Column(c).ValueStr(0); got != w {
				t.Fatalf("batch %d, feature %s: Peek %s, Process %s", k, want.ColumnName(c), got, w)
			}
		}
		peeked.Release()
		want.Release()
		probe.Release()
		// Peeking changed nothing: a and b (never peeked) stay equal.
		ra, err := a.Process(rows)
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := b.Process(rows)
		for c := 0; c < int(ra.NumCols()); c++ {
			for i := 0; i < int(ra.NumRows()); i++ {
				if ra.Column(c).ValueStr(i) != rb.Column(c).ValueStr(i) {
					t.Fatalf("after peeking, batch %d row %d feature %s differs", k, i, ra.ColumnName(c))
				}
			}
		}
		ra.Release()
		rb.Release()
		history = append(history, rows)
	}
	if a.Stats() != b.Stats() {
		t.Fatalf("Peek changed the statistics: %+v vs %+v", a.Stats(), b.Stats())
	}
}
