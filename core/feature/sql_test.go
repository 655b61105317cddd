package feature

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/spate-ml/spate/core/schema"
)

func sqlSchema(t testing.TB) *schema.Schema {
	t.Helper()
	s, err := schema.New([]schema.Field{
		{Name: "id", Type: schema.Int64},
		{Name: "a", Type: schema.Int64},
		{Name: "b", Type: schema.Int64},
		{Name: "x", Type: schema.Double},
		{Name: "y", Type: schema.Double},
		{Name: "f", Type: schema.Float},
		{Name: "i32", Type: schema.Int32},
		{Name: "s", Type: schema.String},
		{Name: "c", Type: schema.String},
		{Name: "flag", Type: schema.Bool},
		{Name: "paymentBillingCountryCode", Type: schema.String},
		{Name: "ipCountryCode", Type: schema.String},
	}, "id")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sqlRows(n int) [][]cell {
	r := rand.New(rand.NewPCG(5, 6))
	maybe := func(v cell) cell {
		if r.IntN(9) == 0 {
			return nil
		}
		return v
	}
	countries := []string{"US", "GB", "FR", "DE", "us", "  pad  ", "héllo", ""}
	var rows [][]cell
	for i := range n {
		b := r.Int64N(41) - 20
		if b == 0 {
			b = 3
		}
		var x cell = math.Round(r.NormFloat64()*1e4) / 100
		switch r.IntN(40) {
		case 0:
			x = math.NaN()
		case 1:
			x = math.Inf(1)
		case 2:
			x = 0.0
		case 3:
			x = 1e15
		case 4:
			x = 2.5 // ROUND half away from zero
		case 5:
			x = -2.5
		}
		y := []float64{0, 1, -1, 0.5, 3.25, math.NaN(), 1e-8}[r.IntN(7)]
		rows = append(rows, []cell{
			int64(i),
			maybe(r.Int64N(2001) - 1000),
			maybe(b),
			maybe(x),
			maybe(y),
			maybe(float32(math.Round(r.NormFloat64()*300) / 10)),
			maybe(int32(r.IntN(1000) - 500)),
			maybe(countries[r.IntN(len(countries))]),
			maybe(countries[r.IntN(len(countries))]),
			maybe(r.IntN(2) == 0),
			maybe(countries[r.IntN(4)]),
			maybe(countries[r.IntN(4)]),
		})
	}
	return rows
}

// sqlCases are expressions DuckDB and the engine must agree on; the type
// is the engine's result type.
var sqlCases = []struct {
	sql string
	typ schema.Type
	tol float64 // relative tolerance
}{
	{`CASE WHEN "paymentBillingCountryCode" <> "ipCountryCode" THEN 1 ELSE 0 END`, schema.Int64, 0},
	{`"a" + "b"`, schema.Int64, 0},
	{`"a" - "b" * 3`, schema.Int64, 0},
	{`"a" / "b"`, schema.Double, 1e-15},
	{`"a" % "b"`, schema.Int64, 0},
	{`"a" / ("b" - "b")`, schema.Double, 0},
	{`"x" * 2.5 + "a"`, schema.Double, 1e-12},
	{`-"x"`, schema.Double, 0},
	{`"x" / "y"`, schema.Double, 1e-15},
	{`"x" = "y"`, schema.Bool, 0},
	{`"x" > "y" OR "y" IS NULL`, schema.Bool, 0},
	{`"i32" * 2 + 1`, schema.Int64, 0},
	{`"f" + "x"`, schema.Double, 1e-12},
	{`CASE WHEN "x" > 1 THEN "x" WHEN "a" > 0 THEN "a" END`, schema.Double, 0},
	{`CASE "s" WHEN 'US' THEN 'us' WHEN 'GB' THEN 'gb' ELSE 'other' END`, schema.String, 0},
	{`"a" > "b" AND "x" < 0`, schema.Bool, 0},
	{`"flag" OR "x" > 0`, schema.Bool, 0},
	{`NOT "flag"`, schema.Bool, 0},
	{`"x" IS NULL`, schema.Bool, 0},
	{`"s" IS NOT NULL AND "flag" IS TRUE`, schema.Bool, 0},
	{`CAST("f" AS BIGINT)`, schema.Int64, 0},
	{`CAST("a" AS DOUBLE) / 3`, schema.Double, 1e-15},
	{`CAST("a" AS VARCHAR) || 'x'`, schema.String, 0},
	{`CAST("i32" AS INTEGER) + 1`, schema.Int64, 0},
	{`COALESCE("x", "a", 0)`, schema.Double, 0},
	{`COALESCE("s", 'none')`, schema.String, 0},
	{`NULLIF("a", 0)`, schema.Int64, 0},
	{`ABS("a") + ABS("x")`, schema.Double, 1e-15},
	{`ROUND("x", 2)`, schema.Double, 1e-15},
	{`ROUND("x")`, schema.Double, 0},
	{`ROUND("a")`, schema.Int64, 0},
	{`FLOOR("x") + CEIL("x")`, schema.Double, 0},
	{`SQRT(ABS("x"))`, schema.Double, 1e-14},
	{`LN(ABS("x") + 1)`, schema.Double, 1e-14},
	{`LOG(ABS("x") + 1)`, schema.Double, 1e-14},
	{`EXP("f" / 10)`, schema.Double, 1e-6},
	{`POWER("x", 2)`, schema.Double, 1e-14},
	{`GREATEST("a", "b", 0)`, schema.Int64, 0},
	{`LEAST("x", "y")`, schema.Double, 0},
	{`SIGN("a")`, schema.Int64, 0},
	{`LOWER("s") || UPPER("c")`, schema.String, 0},
	{`LENGTH("s")`, schema.Int64, 0},
	{`"s" || '-' || "c"`, schema.String, 0},
	{`SUBSTRING("s", 2, 3)`, schema.String, 0},
	{`SUBSTRING("s", -2, 2)`, schema.String, 0},
	{`TRIM("c")`, schema.String, 0},
	{`REPLACE("s", 'U', 'u')`, schema.String, 0},
	{`"a" BETWEEN -10 AND 10`, schema.Bool, 0},
	{`"s" IN ('US', 'GB')`, schema.Bool, 0},
	{`"s" NOT IN ('US', 'GB')`, schema.Bool, 0},
	{`"a" % 7 = 0`, schema.Bool, 0},
	{`"s" < "c"`, schema.Bool, 0},
	{`"s" LIKE 'U%'`, schema.Bool, 0},
	{`"c" NOT LIKE '%e%'`, schema.Bool, 0},
	{`"s" LIKE '_S'`, schema.Bool, 0},
	{`"s" ILIKE 'us'`, schema.Bool, 0},
	{`"s" LIKE '%l_o'`, schema.Bool, 0},
	{`"c" LIKE '%'`, schema.Bool, 0},
	{`"s" LIKE '%!%%' ESCAPE '!'`, schema.Bool, 0},
	{`CASE WHEN "flag" THEN NULL ELSE "b" END`, schema.Int64, 0},
	{`1.5 * 2`, schema.Double, 0},
	{`TRUE AND NULL`, schema.Bool, 0},
}

func TestSQLAgainstDuckDB(t *testing.T) {
	s := sqlSchema(t)
	rows := sqlRows(600)
	rec := buildBatch(t, s, rows)
	defer rec.Release()
	var defs []Def
	var sel []string
	for i, c := range sqlCases {
		name := fmt.Sprintf("f%d", i)
		defs = append(defs, Def{Name: name, Kind: KindSQL, SQL: c.sql})
		sel = append(sel, fmt.Sprintf("%s AS %s", c.sql, name))
	}
	p, err := Compile(s, nil, defs)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range p.Fields() {
		if f.Type != sqlCases[i].typ {
			t.Errorf("%s: type %s, want %s", sqlCases[i].sql, f.Type, sqlCases[i].typ)
		}
	}
	got := runPipeline(t, p, rec, 128)
	duck := duckSelect(t, rec, strings.Join(sel, ", "))
	for i, c := range sqlCases {
		bad := 0
		for r := range rows {
			g, d := got[i][r], duck[i][r]
			tol := 0.0
			if fg, ok := toF(g); ok {
				tol = c.tol * math.Abs(fg)
			}
			if !sameValue(g, d, tol) {
				if bad < 3 {
					t.Errorf("%s row %d (%s): spate %#v, duckdb %#v", c.sql, r, fmtRow(rec, r), g, d)
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d rows differ", c.sql, bad)
		}
	}
}

// TestSQLDocumentedDifferences pins the rows where the engine yields NULL
// and DuckDB raises an error, and CONCAT's NULL rule.
func TestSQLDocumentedDifferences(t *testing.T) {
	s := sqlSchema(t)
	rows := [][]cell{{int64(0), int64(math.MaxInt64), int64(0), -4.0, nil, nil, nil, "7x", nil, nil, nil, nil}}
	rec := buildBatch(t, s, rows)
	defer rec.Release()
	cases := []struct {
		sql  string
		want cell
	}{
		{`"a" + 1`, nil},
		{`"a" * 2`, nil},
		{`"a" % "b"`, nil},
		{`SQRT("x")`, nil},
		{`LN("x")`, nil},
		{`LOG(0)`, nil},
		{`CAST("s" AS BIGINT)`, nil},
		{`CONCAT("s", "c")`, nil},
		{`CONCAT("s", 'y')`, "7xy"},
		{`"a" DIV 2`, int64(math.MaxInt64 / 2)},
		{`CAST(2.5 AS BIGINT)`, int64(2)}, // DOUBLE literal, half to even (DuckDB's DECIMAL 2.5 gives 3)
		{`CAST(-3.5 AS BIGINT)`, int64(-4)},
		{`ROUND(-2.5)`, -3.0},
		{`IF("x" < 0, 'neg', 'pos')`, "neg"},
		{`IFNULL("y", 9)`, 9.0},
	}
	for i, c := range cases {
		p, err := Compile(s, nil, []Def{{Name: fmt.Sprintf("f%d", i), Kind: KindSQL, SQL: c.sql}})
		if err != nil {
			t.Errorf("%s: %v", c.sql, err)
			continue
		}
		got := runPipeline(t, p, rec, 10)[0][0]
		if !sameValue(got, c.want, 0) {
			t.Errorf("%s = %#v, want %#v", c.sql, got, c.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	s := sqlSchema(t)
	ts := []Timestamp{{Column: "a", Format: FormatEpochSeconds}}
	agg := func(mod func(*Def)) Def {
		d := Def{Name: "feat", Kind: KindAggregate, Column: "x", Op: OpSum, GroupBy: "s", Timestamp: "a", Window: "24 hours"}
		mod(&d)
		return d
	}
	cases := []struct {
		name string
		ts   []Timestamp
		defs []Def
		want string
	}{
		{"unknown column in SQL", nil, []Def{{Name: "feat", Kind: KindSQL, SQL: `"nope" + 1`}}, `unknown column "nope"`},
		{"type error", nil, []Def{{Name: "feat", Kind: KindSQL, SQL: `"s" + 1`}}, "needs numbers"},
		{"unknown function", nil, []Def{{Name: "feat", Kind: KindSQL, SQL: `FOO("a")`}}, "FOO"},
		{"wrong arity", nil, []Def{{Name: "feat", Kind: KindSQL, SQL: `ABS("a", 2)`}}, "ABS takes 1"},
		{"CASE branches", nil, []Def{{Name: "feat", Kind: KindSQL, SQL: `CASE WHEN "flag" THEN 'x' ELSE 1 END`}}, "CASE branches"},
		{"syntax", nil, []Def{{Name: "feat", Kind: KindSQL, SQL: `"a" +`}}, "syntax error"},
		{"two expressions", nil, []Def{{Name: "feat", Kind: KindSQL, SQL: `"a", "b"`}}, "one scalar expression"},
		{"subquery clause", nil, []Def{{Name: "feat", Kind: KindSQL, SQL: `"a" FROM t`}}, "one scalar expression"},
		{"AND on numbers", nil, []Def{{Name: "feat", Kind: KindSQL, SQL: `"a" AND "b"`}}, "needs a BOOLEAN"},
		{"duplicate name", nil, []Def{{Name: "feat", Kind: KindSQL, SQL: `1`}, {Name: "feat", Kind: KindSQL, SQL: `2`}}, "defined twice"},
		{"clash with column", nil, []Def{{Name: "x", Kind: KindSQL, SQL: `1`}}, "clashes"},
		{"bad name", nil, []Def{{Name: "my-feat", Kind: KindSQL, SQL: `1`}}, "invalid name"},
		{"unknown kind", nil, []Def{{Name: "feat", Kind: "udf"}}, "unknown kind"},
		{"unregistered timestamp", nil, []Def{agg(func(*Def) {})}, "not registered"},
		{"unknown agg column", ts, []Def{agg(func(d *Def) { d.Column = "zz" })}, `unknown column "zz"`},
		{"unknown group column", ts, []Def{agg(func(d *Def) { d.GroupBy = "zz" })}, `unknown group-by column "zz"`},
		{"SUM of string", ts, []Def{agg(func(d *Def) { d.Column = "s" })}, "needs a numeric column"},
		{"bad op", ts, []Def{agg(func(d *Def) { d.Op = "MEDIAN" })}, "unknown aggregate operation"},
		{"bad window", ts, []Def{agg(func(d *Def) { d.Window = "3 fortnights" })}, "unknown window unit"},
		{"bad lateness", ts, []Def{agg(func(d *Def) { d.AllowedLateness = "soon" })}, "allowed lateness"},
		{"bad timestamp format", []Timestamp{{Column: "a", Format: "unix"}}, nil, "unknown timestamp format"},
		{"timestamp column", []Timestamp{{Column: "zz", Format: FormatEpochSeconds}}, nil, `unknown column "zz"`},
		{"string format on int", []Timestamp{{Column: "a", Format: "YYYY MM DD"}}, nil, "cannot hold"},
		{"timestamp twice", []Timestamp{{Column: "a", Format: FormatEpochSeconds}, {Column: "a", Format: FormatEpochMilliseconds}}, nil, "registered twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(s, c.ts, c.defs)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	// The same format twice is fine, and COUNT accepts any column type.
	_, err := Compile(s, []Timestamp{ts[0], ts[0]}, []Def{agg(func(d *Def) { d.Op = OpCount; d.Column = "s" })})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLike(t *testing.T) {
	cases := []struct {
		s, p   string
		escape rune
		want   bool
	}{
		{"abc", "a%c", -1, true},
		{"abc", "a_c", -1, true},
		{"ab", "a_c", -1, false},
		{"aXbXc", "a%b%c", -1, true},
		{"aXbXd", "a%b%c", -1, false},
		{"héllo", "h_llo", -1, true},
		{"50%", "50!%", '!', true},
		{"500", "50!%", '!', false},
		{"50%", "50\\%", -1, false},
		{"", "%", -1, true},
		{"", "_", -1, false},
		{"abc", "%%", -1, true},
		{"abcabc", "%abc", -1, true},
		{"mississippi", "%iss%pi", -1, true},
		{"a!", "a!", '!', true},
	}
	for _, c := range cases {
		if got := like(c.s, c.p, c.escape); got != c.want {
			t.Errorf("like(%q, %q, %q) = %v, want %v", c.s, c.p, c.escape, got, c.want)
		}
	}
}
