package feature

import (
	"testing"
)

// FuzzSQLFeature checks that any expression text either fails to compile
// with an error or evaluates over a batch with NULLs, NaN and extreme
// values without panicking, and yields one value per row. Plain go test
// runs the seeds.
func FuzzSQLFeature(f *testing.F) {
	for _, c := range sqlCases {
		f.Add(c.sql)
	}
	for _, s := range []string{
		`SUBSTRING("s", -9223372036854775807, 9223372036854775807)`, `"a" * "a" * "a" * "a" * "a" * "a" * "a"`,
		`ROUND("x", -400)`, `ROUND("x", 400)`, `POWER("x", "y")`, `CAST("x" AS BIGINT)`, `CAST("s" AS DOUBLE)`,
		`COALESCE(NULL, NULL)`, `NULL`, `-(-9223372036854775807 - 1)`, `"a" % -1`, `LOG("y", "x")`,
		`GREATEST("s", 'x', NULL)`, `CASE WHEN NULL THEN 1 END`, `"s" BETWEEN 'a' AND 'z'`, `'x' || 1.5 || TRUE`,
	} {
		f.Add(s)
	}
	s := sqlSchema(f)
	rows := sqlRows(40)
	rows = append(rows, []cell{int64(99), int64(-9223372036854775808), int64(-1), -0.0, nil, float32(3.4e38), int32(-2147483648), "", nil, false, nil, "xx"})
	rec := buildBatch(f, s, rows)
	f.Cleanup(rec.Release)
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Compile(s, nil, []Def{{Name: "feat", Kind: KindSQL, SQL: text}})
		if err != nil {
			return
		}
		out, err := p.Process(rec)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if out.NumRows() != rec.NumRows() || out.NumCols() != 1 {
			t.Fatalf("%s: %d rows, %d columns", text, out.NumRows(), out.NumCols())
		}
		out.Release()
	})
}
