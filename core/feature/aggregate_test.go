package feature

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/spate-ml/spate/core/schema"
)

// aggSchema is the dataset of the aggregate tests.
func aggSchema(t testing.TB) *schema.Schema {
	t.Helper()
	s, err := schema.New([]schema.Field{
		{Name: "id", Type: schema.Int64},
		{Name: "grp", Type: schema.String},
		{Name: "ts", Type: schema.Int64},
		{Name: "val", Type: schema.Double},
		{Name: "ival", Type: schema.Int64},
		{Name: "f32", Type: schema.Float},
	}, "id")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type genOpts struct {
	rows, groups int
	jitter       int64 // seconds of arrival disorder (0: in order, distinct per group)
	nullGroups   bool
	special      bool // NaN and infinities
}

// genRows makes rows: group, epoch seconds, a double with NULLs and
// large/tiny values, an int64 with NULLs and a float32.
func genRows(seed uint64, o genOpts) [][]cell {
	r := rand.New(rand.NewPCG(seed, 99))
	steps := []int64{1, 1, 2, 5, 30, 60, 60, 600, 3600, 3600}
	var rows [][]cell
	ts := int64(1_700_000_000)
	for i := range o.rows {
		ts += steps[r.IntN(len(steps))]
		t := ts
		if o.jitter > 0 {
			t -= r.Int64N(o.jitter + 1)
		}
		var g cell = fmt.Sprintf("g%03d", r.IntN(o.groups))
		if o.nullGroups && r.IntN(20) == 0 {
			g = nil
		}
		var v cell
		switch k := r.IntN(20); {
		case k == 0:
			v = nil
		case k == 1:
			v = 1e12 * (r.Float64() + 0.5)
		case k == 2:
			v = 1e-9 * r.Float64()
		case k == 3 && o.special:
			v = []float64{math.NaN(), math.Inf(1), math.Inf(-1)}[r.IntN(3)]
		default:
			v = math.Round(r.NormFloat64()*1000) / 100
		}
		var iv cell = r.Int64N(2_000_000) - 1_000_000
		if r.IntN(8) == 0 {
			iv = nil
		}
		var f cell = float32(r.NormFloat64() * 10)
		if r.IntN(10) == 0 {
			f = nil
		}
		rows = append(rows, []cell{int64(i), g, t, v, iv, f})
	}
	return rows
}

// patternRows are rows exactly W apart, with empty windows and all-NULL
// windows, for group "pat".
func patternRows(start int, w int64) [][]cell {
	base := int64(1_600_000_000)
	pts := []struct {
		t int64
		v cell
	}{{0, 1.0}, {w, 2.0}, {2 * w, nil}, {3 * w, 4.0}, {3*w + 1, nil}, {5 * w, nil}, {5*w + 1, 7.5}, {7 * w, -1.0}, {8 * w, -2.0}}
	var rows [][]cell
	for i, p := range pts {
		var iv cell
		if p.v != nil {
			iv = int64(p.v.(float64) * 10)
		}
		rows = append(rows, []cell{int64(start + i), "pat", base + p.t, p.v, iv, nil})
	}
	return rows
}

var aggOps = []Op{OpSum, OpCount, OpAvg, OpMin, OpMax}

// aggDefs defines every op over val, ival and f32 per grp for each window.
func aggDefs(windows []string, lateness string) []Def {
	var defs []Def
	for wi, w := range windows {
		for _, col := range []string{"val", "ival", "f32"} {
			for _, op := range aggOps {
				defs = append(defs, Def{
					Name: fmt.Sprintf("%s_%s_w%d", strings.ToLower(string(op)), col, wi), Kind: KindAggregate,
					Column: col, Op: op, GroupBy: "grp", Timestamp: "ts", Window: w, AllowedLateness: lateness,
				})
			}
		}
	}
	return defs
}

// runPipeline processes rec in batches of the given size and returns the
// feature values per feature column.
func runPipeline(t testing.TB, p *Pipeline, rec arrow.RecordBatch, batch int) [][]cell {
	t.Helper()
	res := make([][]cell, len(p.Fields()))
	n := int(rec.NumRows())
	for i := 0; i < n; i += batch {
		part := sliceBatch(rec, i, min(i+batch, n))
		out, err := p.Process(part)
		part.Release()
		if err != nil {
			t.Fatal(err)
		}
		if out.NumRows() != int64(min(i+batch, n)-i) {
			t.Fatalf("Process returned %d rows for %d", out.NumRows(), min(i+batch, n)-i)
		}
		for c := range res {
			res[c] = append(res[c], columnCells(out.Column(c))...)
		}
		out.Release()
	}
	return res
}

type refRow struct {
	g     cell
	t     int64
	v     cell
	float bool
}

// bruteForce computes the documented semantics by definition: row r of
// group g at t aggregates r and the earlier rows q of g with
// t-W <= ts(q) <= t and ts(q) >= M - W - L, M the largest earlier
// timestamp of g. It also returns sum of |x| (for float tolerances) and
// whether each row was late.
func bruteForce(rows []refRow, op Op, w, l int64) (vals []cell, sumAbs []float64, late []bool) {
	byGroup := map[cell][]int{}
	vals = make([]cell, len(rows))
	sumAbs = make([]float64, len(rows))
	late = make([]bool, len(rows))
	for i, r := range rows {
		prior := byGroup[r.g]
		m := int64(math.MinInt64)
		for _, q := range prior {
			m = max(m, rows[q].t)
		}
		late[i] = len(prior) > 0 && r.t < m-l
		set := []int{i}
		for _, q := range prior {
			tq := rows[q].t
			if tq >= r.t-w && tq <= r.t && (len(prior) == 0 || tq >= m-w-l) {
				set = append(set, q)
			}
		}
		byGroup[r.g] = append(prior, i)
		var (
			cnt       int64
			isum      int64
			fs        []float64
			best      cell
			nan, pinf bool
			ninf      bool
		)
		for _, q := range set {
			v := rows[q].v
			if v == nil {
				continue
			}
			cnt++
			switch x := v.(type) {
			case int64:
				isum += x
				sumAbs[i] += math.Abs(float64(x))
				if best == nil || (op == OpMax && x > best.(int64)) || (op == OpMin && x < best.(int64)) {
					best = x
				}
			case float64:
				switch {
				case math.IsNaN(x):
					nan = true
				case math.IsInf(x, 1):
					pinf = true
				case math.IsInf(x, -1):
					ninf = true
				default:
					fs = append(fs, x)
					sumAbs[i] += math.Abs(x)
				}
				if best == nil || (op == OpMax && gtf(x, best.(float64))) || (op == OpMin && gtf(best.(float64), x)) {
					best = x
				}
			}
		}
		if op == OpCount {
			vals[i] = cnt
			continue
		}
		if cnt == 0 {
			continue
		}
		var fsum float64
		slices.SortFunc(fs, func(a, b float64) int { return cmpFloat(math.Abs(a), math.Abs(b)) })
		for _, x := range fs {
			fsum += x
		}
		switch {
		case nan || (pinf && ninf):
			fsum = math.NaN()
		case pinf:
			fsum = math.Inf(1)
		case ninf:
			fsum = math.Inf(-1)
		}
		switch op {
		case OpSum:
			if r.float {
				vals[i] = fsum
			} else {
				vals[i] = isum
			}
		case OpAvg:
			if r.float {
				vals[i] = fsum / float64(cnt)
			} else {
				vals[i] = float64(isum) / float64(cnt)
			}
		default:
			vals[i] = best
		}
	}
	return vals, sumAbs, late
}

func refRows(rows [][]cell, col int) []refRow {
	out := make([]refRow, len(rows))
	for i, r := range rows {
		v := r[col]
		if f, ok := v.(float32); ok {
			v = float64(f)
		}
		_, isF := v.(float64)
		out[i] = refRow{g: r[1], t: r[2].(int64) * 1_000_000, v: v, float: isF || col != 4}
	}
	return out
}

var colIndex = map[string]int{"val": 3, "ival": 4, "f32": 5}

// checkAgainstBrute compares every aggregate feature with the brute-force
// definition and returns the sumAbs tolerances per feature.
func checkAgainstBrute(t *testing.T, defs []Def, rows [][]cell, got [][]cell) {
	t.Helper()
	for fi, d := range defs {
		w, _ := ParseInterval(d.Window)
		var l time.Duration
		if d.AllowedLateness != "" {
			l, _ = ParseInterval(d.AllowedLateness)
		}
		want, sumAbs, _ := bruteForce(refRows(rows, colIndex[d.Column]), d.Op, w.Microseconds(), l.Microseconds())
		bad := 0
		for i := range rows {
			if !sameValue(got[fi][i], want[i], 1e-9*sumAbs[i]+1e-300) {
				if bad < 5 {
					t.Errorf("%s row %d %v: got %v, want %v", d.Name, i, rows[i], got[fi][i], want[i])
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d rows differ from the definition", d.Name, bad)
		}
	}
}

func TestAggregatesAgainstDuckDB(t *testing.T) {
	s := aggSchema(t)
	windows := []string{"1 seconds", "1 minutes", "1 hours", "1 days"}
	defs := aggDefs(windows, "")
	rows := genRows(1, genOpts{rows: 3000, groups: 40, nullGroups: true, special: true})
	rows = append(rows, patternRows(len(rows), 3600)...)
	rec := buildBatch(t, s, rows)
	defer rec.Release()
	p, err := Compile(s, []Timestamp{{Column: "ts", Format: FormatEpochSeconds}}, defs)
	if err != nil {
		t.Fatal(err)
	}
	got := runPipeline(t, p, rec, 257)
	checkAgainstBrute(t, defs, rows, got)

	var sel []string
	for _, d := range defs {
		w, _ := ParseInterval(d.Window)
		sel = append(sel, fmt.Sprintf(`%s("%s") OVER (PARTITION BY grp ORDER BY to_timestamp(ts) RANGE BETWEEN INTERVAL %d SECONDS PRECEDING AND CURRENT ROW) AS %s`,
			d.Op, d.Column, int64(w.Seconds()), d.Name))
	}
	duck := duckSelect(t, rec, strings.Join(sel, ", "))
	for fi, d := range defs {
		w, _ := ParseInterval(d.Window)
		_, sumAbs, _ := bruteForce(refRows(rows, colIndex[d.Column]), d.Op, w.Microseconds(), 0)
		bad := 0
		for i := range rows {
			if !sameValue(got[fi][i], duck[fi][i], 1e-9*sumAbs[i]+1e-300) {
				if bad < 5 {
					t.Errorf("%s row %d (%s): spate %v, duckdb %v", d.Name, i, fmtRow(rec, i), got[fi][i], duck[fi][i])
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d rows differ from DuckDB", d.Name, bad, len(rows))
		}
	}
}

func TestAggregatesOutOfOrder(t *testing.T) {
	s := aggSchema(t)
	tests := []struct {
		name     string
		jitter   int64
		windows  []string
		lateness string
		wantLate bool
	}{
		{"small disorder, no lateness", 30, []string{"1 minutes", "1 hours"}, "", true},
		{"disorder within lateness", 600, []string{"5 minutes", "1 hours"}, "15 minutes", false},
		{"disorder beyond lateness", 7200, []string{"10 minutes", "2 hours"}, "30 minutes", true},
	}
	for k, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defs := aggDefs(tc.windows, tc.lateness)
			rows := genRows(uint64(10+k), genOpts{rows: 2500, groups: 15, jitter: tc.jitter, nullGroups: true, special: true})
			rec := buildBatch(t, s, rows)
			defer rec.Release()
			p, err := Compile(s, []Timestamp{{Column: "ts", Format: FormatEpochSeconds}}, defs)
			if err != nil {
				t.Fatal(err)
			}
			got := runPipeline(t, p, rec, 100)
			checkAgainstBrute(t, defs, rows, got)
			// Late rows: counted per row, late for at least one window.
			isLate := make([]bool, len(rows))
			for _, d := range defs {
				w, _ := ParseInterval(d.Window)
				var l time.Duration
				if d.AllowedLateness != "" {
					l, _ = ParseInterval(d.AllowedLateness)
				}
				_, _, late := bruteForce(refRows(rows, 3), d.Op, w.Microseconds(), l.Microseconds())
				for i, x := range late {
					isLate[i] = isLate[i] || x
				}
			}
			var want int64
			for _, x := range isLate {
				if x {
					want++
				}
			}
			if st := p.Stats(); st.LateRows != want || st.Rows != int64(len(rows)) {
				t.Errorf("stats %+v, want %d late of %d rows", st, want, len(rows))
			}
			if (want > 0) != tc.wantLate {
				t.Errorf("%d late rows, want late rows: %v", want, tc.wantLate)
			}
		})
	}
}

func TestRestartEquality(t *testing.T) {
	s := aggSchema(t)
	defs := append(aggDefs([]string{"10 minutes", "1 hours"}, "20 minutes"),
		Def{Name: "big", Kind: KindSQL, SQL: `CASE WHEN "val" > 5 THEN 1 ELSE 0 END`})
	rows := genRows(7, genOpts{rows: 4000, groups: 30, jitter: 1800, nullGroups: true, special: true})
	rec := buildBatch(t, s, rows)
	defer rec.Release()
	tss := []Timestamp{{Column: "ts", Format: FormatEpochSeconds}}
	mk := func() *Pipeline {
		p, err := Compile(s, tss, defs)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	whole := runPipeline(t, mk(), rec, 1000)
	for _, cut := range []int{1, 1337, 2000, 3999} {
		a := mk()
		first := sliceBatch(rec, 0, cut)
		part1 := runPipeline(t, a, first, 64)
		first.Release()
		st, err := a.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		st2, _ := a.MarshalState()
		if string(st) != string(st2) {
			t.Fatal("MarshalState is not deterministic")
		}
		b := mk()
		if err := b.RestoreState(st); err != nil {
			t.Fatal(err)
		}
		rest := sliceBatch(rec, cut, len(rows))
		part2 := runPipeline(t, b, rest, 333)
		rest.Release()
		for c := range whole {
			got := append(slices.Clone(part1[c]), part2[c]...)
			for i := range got {
				if !identical(got[i], whole[c][i]) {
					t.Fatalf("cut %d feature %d row %d: restarted %v, uninterrupted %v", cut, c, i, got[i], whole[c][i])
				}
			}
		}
		if b.Stats() != mk().Stats() && b.Stats().Rows != int64(len(rows)) {
			t.Errorf("stats after restart: %+v", b.Stats())
		}
	}
	// Batch boundaries do not change values.
	other := runPipeline(t, mk(), rec, 7)
	for c := range whole {
		for i := range whole[c] {
			if !identical(other[c][i], whole[c][i]) {
				t.Fatalf("feature %d row %d: batch 7 gives %v, batch 1000 %v", c, i, other[c][i], whole[c][i])
			}
		}
	}
}

// identical compares cells bit for bit (NaN equals NaN).
func identical(a, b cell) bool {
	fa, aok := a.(float64)
	fb, bok := b.(float64)
	if aok && bok {
		return math.Float64bits(fa) == math.Float64bits(fb)
	}
	return a == b
}

func TestRestoreStateRejects(t *testing.T) {
	s := aggSchema(t)
	tss := []Timestamp{{Column: "ts", Format: FormatEpochSeconds}}
	p1, err := Compile(s, tss, aggDefs([]string{"1 hours"}, ""))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := Compile(s, tss, aggDefs([]string{"2 hours"}, ""))
	if err != nil {
		t.Fatal(err)
	}
	rec := buildBatch(t, s, genRows(3, genOpts{rows: 100, groups: 5}))
	defer rec.Release()
	runPipeline(t, p1, rec, 50)
	st, _ := p1.MarshalState()
	tests := []struct {
		name string
		p    *Pipeline
		b    []byte
	}{
		{"other definitions", p2, st},
		{"truncated", p1, st[:len(st)-3]},
		{"garbage", p1, []byte("hello")},
		{"trailing", p1, append(slices.Clone(st), 0)},
	}
	for _, tc := range tests {
		if err := tc.p.RestoreState(tc.b); err == nil {
			t.Errorf("%s: RestoreState accepted it", tc.name)
		}
	}
}

// TestProcessAllocations checks that rows cost no allocations: a warm
// pipeline allocates a small number of objects per batch (its output
// arrays, amortized growth), not per row.
func TestProcessAllocations(t *testing.T) {
	s := aggSchema(t)
	defs := aggDefs([]string{"1 hours"}, "5 minutes")
	rows := genRows(4, genOpts{rows: 20000, groups: 200, jitter: 20})
	rec := buildBatch(t, s, rows)
	defer rec.Release()
	p, err := Compile(s, []Timestamp{{Column: "ts", Format: FormatEpochSeconds}}, defs)
	if err != nil {
		t.Fatal(err)
	}
	warm := sliceBatch(rec, 0, 5000)
	runPipeline(t, p, warm, 4096) // warm: groups and chunks exist
	warm.Release()
	// Fresh, mostly in-order rows for each measurement.
	allocs := func(from, to int) float64 {
		part := sliceBatch(rec, from, to)
		defer part.Release()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		out, err := p.Process(part)
		runtime.ReadMemStats(&m1)
		if err != nil {
			t.Fatal(err)
		}
		out.Release()
		return float64(m1.Mallocs - m0.Mallocs)
	}
	allocs(5000, 5100)
	small, large := allocs(5100, 5200), allocs(5200, 15200)
	// Amortized growth of the slab and free lists (and the race detector)
	// may allocate a little more for 100 times the rows; one allocation per
	// row would add 9,900.
	if large-small > 990 {
		t.Errorf("allocations per batch: %v for 100 rows, %v for 10000 rows", small, large)
	}
}
