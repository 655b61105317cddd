package feature

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/spate-ml/spate/core/schema"
)

// TestGroupKeyTypes runs COUNT, SUM and MAX grouped by integer, float,
// boolean and long-string columns (with NULL keys and enough distinct keys
// to grow the index) against the brute-force definition, across a restart.
func TestGroupKeyTypes(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	cases := []struct {
		typ schema.Type
		key func(i int) cell
	}{
		{schema.Int64, func(i int) cell { return int64(r.IntN(5000)) - 2500 }},
		{schema.Int32, func(i int) cell { return int32(r.IntN(3000)) }},
		{schema.Double, func(i int) cell { return float64(r.IntN(50)) / 4 }},
		{schema.Bool, func(i int) cell { return r.IntN(2) == 0 }},
		{schema.String, func(i int) cell { return fmt.Sprintf("a-rather-long-account-key-%05d", r.IntN(4000)) }},
	}
	for _, c := range cases {
		t.Run(c.typ.String(), func(t *testing.T) {
			s, err := schema.New([]schema.Field{{Name: "id", Type: schema.Int64}, {Name: "k", Type: c.typ}, {Name: "ts", Type: schema.Int64}, {Name: "v", Type: schema.Int64}}, "id")
			if err != nil {
				t.Fatal(err)
			}
			var rows [][]cell
			ts := int64(1_000_000)
			for i := range 8000 {
				ts += int64(r.IntN(30))
				var k cell = c.key(i)
				if r.IntN(50) == 0 {
					k = nil
				}
				rows = append(rows, []cell{int64(i), k, ts - int64(r.IntN(20)), int64(r.IntN(100))})
			}
			rec := buildBatch(t, s, rows)
			defer rec.Release()
			var defs []Def
			for _, op := range []Op{OpCount, OpSum, OpMax} {
				defs = append(defs, Def{Name: "f_" + string(op), Kind: KindAggregate, Column: "v", Op: op, GroupBy: "k", Timestamp: "ts", Window: "10 minutes", AllowedLateness: "10 seconds"})
			}
			tss := []Timestamp{{Column: "ts", Format: FormatEpochSeconds}}
			a, err := Compile(s, tss, defs)
			if err != nil {
				t.Fatal(err)
			}
			first := sliceBatch(rec, 0, 4000)
			got := runPipeline(t, a, first, 512)
			first.Release()
			st, _ := a.MarshalState()
			b, _ := Compile(s, tss, defs)
			if err := b.RestoreState(st); err != nil {
				t.Fatal(err)
			}
			rest := sliceBatch(rec, 4000, 8000)
			more := runPipeline(t, b, rest, 999)
			rest.Release()
			ref := make([]refRow, len(rows))
			for i, row := range rows {
				g := row[1]
				if f, ok := g.(float64); ok {
					g = fmt.Sprint(f) // map key
				}
				ref[i] = refRow{g: g, t: row[2].(int64) * 1_000_000, v: row[3]}
			}
			for fi, d := range defs {
				want, _, _ := bruteForce(ref, d.Op, 600_000_000, 10_000_000)
				all := append(got[fi], more[fi]...)
				for i := range rows {
					if !sameValue(all[i], want[i], 0) {
						t.Fatalf("%s row %d %v: got %v, want %v", d.Name, i, rows[i], all[i], want[i])
					}
				}
			}
			if n := b.StateSize().Keys; n < 2 {
				t.Errorf("%d keys", n)
			}
		})
	}
}
