package feature

// SQL features: a scalar expression over the row's columns, parsed by the
// TiDB SQL parser (pure Go) in ANSI mode, so that "double quotes" name
// columns, 'single quotes' are strings and || concatenates, then
// type-checked against the dataset schema and compiled to typed closures.
//
// Supported: literals (integers, decimals, strings, TRUE, FALSE, NULL);
// + - * / % DIV, unary -; = <> != < <= > >=; AND, OR, NOT, IS [NOT] NULL,
// IS [NOT] TRUE/FALSE, BETWEEN, IN (list), [NOT] LIKE and ILIKE (% and _,
// ESCAPE when given); CASE (searched and simple);
// CAST(x AS t) with t one of BIGINT, INTEGER, INT, SMALLINT, SIGNED,
// DOUBLE, FLOAT, REAL, DECIMAL, VARCHAR, TEXT, CHAR; COALESCE, IFNULL,
// NULLIF, IF; ABS, SIGN, ROUND, FLOOR, CEIL, CEILING, SQRT, LN, LOG,
// LOG10, LOG2, EXP, POWER, POW, MOD, GREATEST, LEAST; LOWER, UPPER,
// LENGTH, CHAR_LENGTH, CONCAT (and ||), SUBSTRING, SUBSTR, TRIM, LTRIM,
// RTRIM, REPLACE.
//
// Types follow DuckDB: integer columns are BIGINT, float and double
// columns DOUBLE; + - * % of integers are integers, / is always a DOUBLE
// division (x/0 is ±Inf or NaN, as in DuckDB); DIV is integer division
// (DuckDB's //); comparisons order NaN above every number and equal to
// itself; LOG(x) is the base-10 logarithm; ROUND rounds half away from
// zero; CAST of a DOUBLE to an integer rounds to nearest, ties to even; GREATEST and
// LEAST skip NULLs; CASE and COALESCE take the common type of their
// branches (integer and double give double).
//
// Differences from DuckDB, where DuckDB raises an error for the whole
// query the engine yields NULL for the row: integer overflow in + - * and
// CAST, integer % or DIV by zero, SQRT of a negative number, LN/LOG of a
// number <= 0, CAST of a string that is not a number. CONCAT returns NULL
// when any argument is NULL (DuckDB's concat() skips NULLs, its || does
// not; the parser cannot tell them apart). INTEGER (int32) columns compute
// in 64 bits and FLOAT columns in double precision. Decimal literals such
// as 1.5 are DOUBLE (DuckDB: DECIMAL, so CAST(2.5 AS BIGINT) is 2 here and
// 3 there). LENGTH counts code points (DuckDB
// counts grapheme clusters, which differ only for combining sequences).

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/spate-ml/spate/core/schema"
)

type vtype uint8

const (
	tNull vtype = iota
	tBool
	tInt
	tFloat
	tString
)

var vtypeNames = [...]string{"NULL", "BOOLEAN", "BIGINT", "DOUBLE", "VARCHAR"}

func (t vtype) String() string { return vtypeNames[t] }

func (t vtype) schemaType() schema.Type {
	switch t {
	case tBool:
		return schema.Bool
	case tInt:
		return schema.Int64
	case tString:
		return schema.String
	}
	return schema.Double
}

type (
	intFn   func(r int) (int64, bool)
	floatFn func(r int) (float64, bool)
	strFn   func(r int) (string, bool)
	boolFn  func(r int) (bool, bool)
)

// expr is a compiled, typed expression: exactly the closure of its type is
// set (none for tNull).
type expr struct {
	t vtype
	i intFn
	f floatFn
	s strFn
	b boolFn
}

// colBind holds the current batch's data of one column used by SQL.
type colBind struct {
	typ   schema.Type
	valid []bool
	i64   []int64
	f64   []float64
	str   *array.String
	bin   *array.Binary
	boo   *array.Boolean
	i32   []int32
	f32   []float32
}

func (cb *colBind) bind(col arrow.Array) {
	n := col.Len()
	cb.valid = slices.Grow(cb.valid[:0], n)[:n]
	for i := range n {
		cb.valid[i] = col.IsValid(i)
	}
	switch c := col.(type) {
	case *array.Int64:
		cb.i64 = c.Int64Values()
	case *array.Int32:
		cb.i32 = c.Int32Values()
	case *array.Float64:
		cb.f64 = c.Float64Values()
	case *array.Float32:
		cb.f32 = c.Float32Values()
	case *array.String:
		cb.str = c
	case *array.Binary:
		cb.bin = c
	case *array.Boolean:
		cb.boo = c
	}
}

// sqlFeature is one compiled SQL feature.
type sqlFeature struct {
	name string
	text string
	e    expr
	out  *outBuf
}

type sqlCompiler struct {
	s     *schema.Schema
	binds map[int]*colBind
}

// castTypeNames maps DuckDB/Postgres type names the MySQL grammar lacks to
// the grammar's CAST targets.
var castTypeNames = map[string]string{
	"BIGINT": "SIGNED", "INTEGER": "SIGNED", "INT": "SIGNED", "SMALLINT": "SIGNED",
	"TINYINT": "SIGNED", "HUGEINT": "SIGNED", "INT64": "SIGNED", "INT32": "SIGNED", "LONG": "SIGNED",
	"VARCHAR": "CHAR", "TEXT": "CHAR", "STRING": "CHAR", "FLOAT8": "DOUBLE", "FLOAT4": "FLOAT",
}

// rewriteCastTypes replaces "AS <duckdb type>" outside quotes by the
// grammar's CAST target. Only the word after AS changes; quoted text is
// skipped.
func rewriteCastTypes(s string) string {
	var b strings.Builder
	i := 0
	prevAS := false
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(s) {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j < len(s) {
				j++
			}
			b.WriteString(s[i:j])
			i = j
			prevAS = false
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			w := s[i:j]
			if r, ok := castTypeNames[strings.ToUpper(w)]; ok && prevAS {
				w = r
			}
			b.WriteString(w)
			prevAS = strings.EqualFold(w, "AS")
			i = j
		default:
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				prevAS = false
			}
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// parseSQLExpr parses one scalar expression.
func parseSQLExpr(text string) (ast.ExprNode, error) {
	p := parser.New()
	p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModePipesAsConcat)
	stmts, _, err := p.ParseSQL("SELECT " + rewriteCastTypes(text))
	if err != nil {
		return nil, fmt.Errorf("syntax error: %v", err)
	}
	if len(stmts) != 1 {
		return nil, errors.New("want exactly one expression")
	}
	sel, ok := stmts[0].(*ast.SelectStmt)
	if !ok || sel.From != nil || sel.Where != nil || sel.GroupBy != nil || sel.Fields == nil || len(sel.Fields.Fields) != 1 || sel.OrderBy != nil || sel.Limit != nil {
		return nil, errors.New("want one scalar expression (no FROM, WHERE, commas or clauses)")
	}
	f := sel.Fields.Fields[0]
	if f.WildCard != nil || f.AsName.O != "" {
		return nil, errors.New("want one scalar expression without alias")
	}
	return f.Expr, nil
}

func compileSQL(s *schema.Schema, binds map[int]*colBind, text string) (expr, error) {
	node, err := parseSQLExpr(text)
	if err != nil {
		return expr{}, err
	}
	c := &sqlCompiler{s: s, binds: binds}
	return c.compile(node)
}

func (c *sqlCompiler) column(name string) (expr, error) {
	j := c.s.Index(name)
	if j < 0 {
		// Unquoted identifiers fold case in SQL: accept one case-insensitive match.
		for k, f := range c.s.Fields {
			if strings.EqualFold(f.Name, name) {
				if j >= 0 {
					return expr{}, fmt.Errorf("column %q is ambiguous", name)
				}
				j = k
			}
		}
	}
	if j < 0 {
		names := make([]string, len(c.s.Fields))
		for k, f := range c.s.Fields {
			names[k] = f.Name
		}
		return expr{}, fmt.Errorf("unknown column %q (columns: %s)", name, strings.Join(names, ", "))
	}
	f := c.s.Fields[j]
	cb := c.binds[j]
	if cb == nil {
		cb = &colBind{typ: f.Type}
		c.binds[j] = cb
	}
	switch f.Type {
	case schema.Int64:
		return expr{t: tInt, i: func(r int) (int64, bool) { return cb.i64[r], cb.valid[r] }}, nil
	case schema.Int32:
		return expr{t: tInt, i: func(r int) (int64, bool) { return int64(cb.i32[r]), cb.valid[r] }}, nil
	case schema.Double:
		return expr{t: tFloat, f: func(r int) (float64, bool) { return cb.f64[r], cb.valid[r] }}, nil
	case schema.Float:
		return expr{t: tFloat, f: func(r int) (float64, bool) { return float64(cb.f32[r]), cb.valid[r] }}, nil
	case schema.String:
		return expr{t: tString, s: func(r int) (string, bool) {
			if !cb.valid[r] {
				return "", false
			}
			return cb.str.Value(r), true
		}}, nil
	case schema.Bytes:
		return expr{t: tString, s: func(r int) (string, bool) {
			if !cb.valid[r] {
				return "", false
			}
			return string(cb.bin.Value(r)), true
		}}, nil
	case schema.Bool:
		return expr{t: tBool, b: func(r int) (bool, bool) {
			if !cb.valid[r] {
				return false, false
			}
			return cb.boo.Value(r), true
		}}, nil
	}
	return expr{}, fmt.Errorf("column %q has unsupported type %s", name, f.Type)
}

func constInt(v int64) expr {
	return expr{t: tInt, i: func(int) (int64, bool) { return v, true }}
}
func constFloat(v float64) expr {
	return expr{t: tFloat, f: func(int) (float64, bool) { return v, true }}
}
func constStr(v string) expr {
	return expr{t: tString, s: func(int) (string, bool) { return v, true }}
}
func constBool(v bool) expr {
	return expr{t: tBool, b: func(int) (bool, bool) { return v, true }}
}

func (c *sqlCompiler) literal(v *driver.ValueExpr) (expr, error) {
	d := v.Datum
	switch d.Kind() {
	case driver.KindNull:
		return expr{t: tNull}, nil
	case driver.KindInt64:
		if v.Type.GetFlag()&mysql.IsBooleanFlag != 0 {
			return constBool(d.GetInt64() != 0), nil
		}
		return constInt(d.GetInt64()), nil
	case driver.KindUint64:
		u := d.GetUint64()
		if u > math.MaxInt64 {
			return constFloat(float64(u)), nil
		}
		return constInt(int64(u)), nil
	case driver.KindFloat64, driver.KindFloat32:
		return constFloat(d.GetFloat64()), nil
	case driver.KindMysqlDecimal:
		f, err := strconv.ParseFloat(d.GetMysqlDecimal().String(), 64)
		if err != nil {
			return expr{}, fmt.Errorf("bad number: %v", err)
		}
		return constFloat(f), nil
	case driver.KindString, driver.KindBytes:
		return constStr(d.GetString()), nil
	}
	return expr{}, fmt.Errorf("unsupported literal %v", d.GetValue())
}

func (c *sqlCompiler) compile(n ast.ExprNode) (expr, error) {
	switch x := n.(type) {
	case *ast.ParenthesesExpr:
		return c.compile(x.Expr)
	case *driver.ValueExpr:
		return c.literal(x)
	case *ast.ColumnNameExpr:
		if x.Name.Table.O != "" || x.Name.Schema.O != "" {
			return expr{}, fmt.Errorf("column %s: qualified names are not supported", x.Name.String())
		}
		return c.column(x.Name.Name.O)
	case *ast.UnaryOperationExpr:
		a, err := c.compile(x.V)
		if err != nil {
			return expr{}, err
		}
		switch x.Op {
		case opcode.Minus:
			return negate(a)
		case opcode.Plus:
			if !isNumeric(a.t) {
				return expr{}, fmt.Errorf("unary + needs a number, got %s", a.t)
			}
			return a, nil
		case opcode.Not, opcode.Not2:
			return not(a)
		}
		return expr{}, fmt.Errorf("operator %s is not supported", x.Op)
	case *ast.BinaryOperationExpr:
		a, err := c.compile(x.L)
		if err != nil {
			return expr{}, err
		}
		b, err := c.compile(x.R)
		if err != nil {
			return expr{}, err
		}
		return binop(x.Op, a, b)
	case *ast.IsNullExpr:
		a, err := c.compile(x.Expr)
		if err != nil {
			return expr{}, err
		}
		isnull := nullTest(a)
		neg := x.Not
		return expr{t: tBool, b: func(r int) (bool, bool) { return isnull(r) != neg, true }}, nil
	case *ast.IsTruthExpr:
		a, err := c.compile(x.Expr)
		if err != nil {
			return expr{}, err
		}
		a, err = asBool(a, "IS TRUE/FALSE")
		if err != nil {
			return expr{}, err
		}
		want, neg, f := x.True != 0, x.Not, a.b
		return expr{t: tBool, b: func(r int) (bool, bool) {
			v, ok := f(r)
			return (ok && v == want) != neg, true
		}}, nil
	case *ast.BetweenExpr:
		v, err := c.compile(x.Expr)
		if err != nil {
			return expr{}, err
		}
		lo, err := c.compile(x.Left)
		if err != nil {
			return expr{}, err
		}
		hi, err := c.compile(x.Right)
		if err != nil {
			return expr{}, err
		}
		ge, err := binop(opcode.GE, v, lo)
		if err != nil {
			return expr{}, err
		}
		le, err := binop(opcode.LE, v, hi)
		if err != nil {
			return expr{}, err
		}
		r, err := binop(opcode.LogicAnd, ge, le)
		if err != nil || !x.Not {
			return r, err
		}
		return not(r)
	case *ast.PatternInExpr:
		if x.Sel != nil {
			return expr{}, errors.New("IN (subquery) is not supported")
		}
		v, err := c.compile(x.Expr)
		if err != nil {
			return expr{}, err
		}
		var acc expr
		for k, item := range x.List {
			it, err := c.compile(item)
			if err != nil {
				return expr{}, err
			}
			eq, err := binop(opcode.EQ, v, it)
			if err != nil {
				return expr{}, err
			}
			if k == 0 {
				acc = eq
			} else if acc, err = binop(opcode.LogicOr, acc, eq); err != nil {
				return expr{}, err
			}
		}
		if x.Not {
			return not(acc)
		}
		return acc, nil
	case *ast.PatternLikeOrIlikeExpr:
		v, err := c.compile(x.Expr)
		if err != nil {
			return expr{}, err
		}
		pat, err := c.compile(x.Pattern)
		if err != nil {
			return expr{}, err
		}
		if err := wantString("LIKE", v, pat); err != nil {
			return expr{}, err
		}
		escape := rune(-1) // DuckDB: no escape character unless ESCAPE says so
		if x.EscapeExplicit {
			escape = rune(x.Escape)
		}
		fv, fp := retype(v, tString).s, retype(pat, tString).s
		fold, neg := !x.IsLike, x.Not
		return expr{t: tBool, b: func(r int) (bool, bool) {
			s, ok := fv(r)
			p, pok := fp(r)
			if !ok || !pok {
				return false, false
			}
			if fold {
				s, p = strings.ToLower(s), strings.ToLower(p)
			}
			return like(s, p, escape) != neg, true
		}}, nil
	case *ast.CaseExpr:
		return c.caseExpr(x)
	case *ast.FuncCastExpr:
		a, err := c.compile(x.Expr)
		if err != nil {
			return expr{}, err
		}
		switch x.Tp.GetType() {
		case mysql.TypeLonglong, mysql.TypeLong, mysql.TypeShort, mysql.TypeTiny:
			return castTo(a, tInt)
		case mysql.TypeDouble, mysql.TypeFloat, mysql.TypeNewDecimal:
			return castTo(a, tFloat)
		case mysql.TypeVarString, mysql.TypeString, mysql.TypeVarchar:
			return castTo(a, tString)
		}
		return expr{}, fmt.Errorf("CAST to %s is not supported (use BIGINT, DOUBLE or VARCHAR)", x.Tp.String())
	case *ast.FuncCallExpr:
		args := make([]expr, 0, len(x.Args))
		for _, an := range x.Args {
			if _, ok := an.(*ast.TrimDirectionExpr); ok {
				return expr{}, errors.New("TRIM(BOTH|LEADING|TRAILING ... FROM ...) is not supported: use TRIM, LTRIM or RTRIM")
			}
			a, err := c.compile(an)
			if err != nil {
				return expr{}, err
			}
			args = append(args, a)
		}
		return callFunc(x.FnName.L, args)
	}
	return expr{}, fmt.Errorf("unsupported SQL construct %T", n)
}

func isNumeric(t vtype) bool { return t == tInt || t == tFloat || t == tNull }

// nullTest returns a function telling whether e is NULL at a row.
func nullTest(e expr) func(int) bool {
	switch e.t {
	case tInt:
		return func(r int) bool { _, ok := e.i(r); return !ok }
	case tFloat:
		return func(r int) bool { _, ok := e.f(r); return !ok }
	case tString:
		return func(r int) bool { _, ok := e.s(r); return !ok }
	case tBool:
		return func(r int) bool { _, ok := e.b(r); return !ok }
	}
	return func(int) bool { return true }
}

// retype gives a NULL literal the type t.
func retype(e expr, t vtype) expr {
	if e.t != tNull {
		return e
	}
	switch t {
	case tInt:
		return expr{t: t, i: func(int) (int64, bool) { return 0, false }}
	case tFloat:
		return expr{t: t, f: func(int) (float64, bool) { return 0, false }}
	case tString:
		return expr{t: t, s: func(int) (string, bool) { return "", false }}
	case tBool:
		return expr{t: t, b: func(int) (bool, bool) { return false, false }}
	}
	return e
}

// asFloat widens an integer expression to DOUBLE.
func asFloat(e expr) floatFn {
	switch e.t {
	case tFloat:
		return e.f
	case tInt:
		f := e.i
		return func(r int) (float64, bool) { v, ok := f(r); return float64(v), ok }
	}
	return func(int) (float64, bool) { return 0, false }
}

func asBool(e expr, what string) (expr, error) {
	if e.t == tNull {
		return retype(e, tBool), nil
	}
	if e.t != tBool {
		return expr{}, fmt.Errorf("%s needs a BOOLEAN, got %s", what, e.t)
	}
	return e, nil
}

// common returns the type two branches unify to.
func common(a, b vtype) (vtype, error) {
	switch {
	case a == b:
		return a, nil
	case a == tNull:
		return b, nil
	case b == tNull:
		return a, nil
	case isNumeric(a) && isNumeric(b):
		return tFloat, nil
	}
	return 0, fmt.Errorf("cannot mix %s and %s", a, b)
}

// coerce converts e to t (only NULL→any and BIGINT→DOUBLE).
func coerce(e expr, t vtype) expr {
	if e.t == t {
		return e
	}
	if e.t == tNull {
		return retype(e, t)
	}
	if t == tFloat && e.t == tInt {
		return expr{t: tFloat, f: asFloat(e)}
	}
	return e
}

func negate(a expr) (expr, error) {
	switch a.t {
	case tInt:
		f := a.i
		return expr{t: tInt, i: func(r int) (int64, bool) {
			v, ok := f(r)
			if v == math.MinInt64 {
				return 0, false
			}
			return -v, ok
		}}, nil
	case tFloat:
		f := a.f
		return expr{t: tFloat, f: func(r int) (float64, bool) { v, ok := f(r); return -v, ok }}, nil
	case tNull:
		return a, nil
	}
	return expr{}, fmt.Errorf("unary - needs a number, got %s", a.t)
}

func not(a expr) (expr, error) {
	a, err := asBool(a, "NOT")
	if err != nil {
		return expr{}, err
	}
	f := a.b
	return expr{t: tBool, b: func(r int) (bool, bool) { v, ok := f(r); return !v, ok }}, nil
}

// cmpFloat orders NaN above every number and equal to itself.
func cmpFloat(a, b float64) int {
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpResult(op opcode.Op, c int) bool {
	switch op {
	case opcode.EQ:
		return c == 0
	case opcode.NE:
		return c != 0
	case opcode.LT:
		return c < 0
	case opcode.LE:
		return c <= 0
	case opcode.GT:
		return c > 0
	}
	return c >= 0
}

func binop(op opcode.Op, a, b expr) (expr, error) {
	switch op {
	case opcode.LogicAnd, opcode.LogicOr:
		name := "AND"
		if op == opcode.LogicOr {
			name = "OR"
		}
		a, err := asBool(a, name)
		if err != nil {
			return expr{}, err
		}
		b, err := asBool(b, name)
		if err != nil {
			return expr{}, err
		}
		fa, fb := a.b, b.b
		if op == opcode.LogicAnd {
			return expr{t: tBool, b: func(r int) (bool, bool) {
				x, xok := fa(r)
				if xok && !x {
					return false, true
				}
				y, yok := fb(r)
				if yok && !y {
					return false, true
				}
				return true, xok && yok
			}}, nil
		}
		return expr{t: tBool, b: func(r int) (bool, bool) {
			x, xok := fa(r)
			if xok && x {
				return true, true
			}
			y, yok := fb(r)
			if yok && y {
				return true, true
			}
			return false, xok && yok
		}}, nil
	case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE:
		t, err := common(a.t, b.t)
		if err != nil {
			return expr{}, fmt.Errorf("comparison %s: %w", op, err)
		}
		if a.t == tInt && b.t == tInt {
			fa, fb := a.i, b.i
			return expr{t: tBool, b: func(r int) (bool, bool) {
				x, xok := fa(r)
				y, yok := fb(r)
				if !xok || !yok {
					return false, false
				}
				c := 0
				if x < y {
					c = -1
				} else if x > y {
					c = 1
				}
				return cmpResult(op, c), true
			}}, nil
		}
		a, b = coerce(a, t), coerce(b, t)
		switch t {
		case tFloat:
			fa, fb := asFloat(a), asFloat(b)
			return expr{t: tBool, b: func(r int) (bool, bool) {
				x, xok := fa(r)
				y, yok := fb(r)
				return cmpResult(op, cmpFloat(x, y)), xok && yok
			}}, nil
		case tString:
			fa, fb := a.s, b.s
			return expr{t: tBool, b: func(r int) (bool, bool) {
				x, xok := fa(r)
				y, yok := fb(r)
				return cmpResult(op, strings.Compare(x, y)), xok && yok
			}}, nil
		case tBool:
			fa, fb := a.b, b.b
			return expr{t: tBool, b: func(r int) (bool, bool) {
				x, xok := fa(r)
				y, yok := fb(r)
				c := 0
				if x != y {
					c = 1
					if !x {
						c = -1
					}
				}
				return cmpResult(op, c), xok && yok
			}}, nil
		}
		return expr{t: tNull}, nil
	case opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div, opcode.Mod, opcode.IntDiv:
		if !isNumeric(a.t) || !isNumeric(b.t) {
			return expr{}, fmt.Errorf("operator %s needs numbers, got %s and %s", op, a.t, b.t)
		}
		if a.t == tNull && b.t == tNull {
			return expr{t: tNull}, nil
		}
		if op == opcode.Div {
			fa, fb := asFloat(coerce(a, tFloat)), asFloat(coerce(b, tFloat))
			return expr{t: tFloat, f: func(r int) (float64, bool) {
				x, xok := fa(r)
				y, yok := fb(r)
				return x / y, xok && yok
			}}, nil
		}
		t, _ := common(a.t, b.t)
		if op == opcode.IntDiv {
			if t != tInt {
				fa, fb := asFloat(coerce(a, tFloat)), asFloat(coerce(b, tFloat))
				return expr{t: tFloat, f: func(r int) (float64, bool) {
					x, xok := fa(r)
					y, yok := fb(r)
					return math.Floor(x / y), xok && yok
				}}, nil
			}
		}
		if t == tInt {
			fa, fb := coerce(a, tInt).i, coerce(b, tInt).i
			var k func(x, y int64) (int64, bool)
			switch op {
			case opcode.Plus:
				k = func(x, y int64) (int64, bool) { s := x + y; return s, (s > x) == (y > 0) }
			case opcode.Minus:
				k = func(x, y int64) (int64, bool) { s := x - y; return s, (s < x) == (y > 0) }
			case opcode.Mul:
				k = func(x, y int64) (int64, bool) {
					if x == 0 || y == 0 {
						return 0, true
					}
					p := x * y
					return p, p/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64)
				}
			case opcode.Mod:
				k = func(x, y int64) (int64, bool) {
					if y == 0 {
						return 0, false
					}
					if y == -1 {
						return 0, true
					}
					return x % y, true
				}
			default: // DIV: truncating, as DuckDB's //
				k = func(x, y int64) (int64, bool) {
					if y == 0 || (x == math.MinInt64 && y == -1) {
						return 0, false
					}
					return x / y, true
				}
			}
			return expr{t: tInt, i: func(r int) (int64, bool) {
				x, xok := fa(r)
				y, yok := fb(r)
				if !xok || !yok {
					return 0, false
				}
				return k(x, y)
			}}, nil
		}
		fa, fb := asFloat(coerce(a, tFloat)), asFloat(coerce(b, tFloat))
		var k func(x, y float64) float64
		switch op {
		case opcode.Plus:
			k = func(x, y float64) float64 { return x + y }
		case opcode.Minus:
			k = func(x, y float64) float64 { return x - y }
		case opcode.Mul:
			k = func(x, y float64) float64 { return x * y }
		default:
			k = math.Mod
		}
		return expr{t: tFloat, f: func(r int) (float64, bool) {
			x, xok := fa(r)
			y, yok := fb(r)
			return k(x, y), xok && yok
		}}, nil
	}
	return expr{}, fmt.Errorf("operator %s is not supported", op)
}

func (c *sqlCompiler) caseExpr(x *ast.CaseExpr) (expr, error) {
	var subject expr
	if x.Value != nil {
		var err error
		if subject, err = c.compile(x.Value); err != nil {
			return expr{}, err
		}
	}
	conds := make([]boolFn, len(x.WhenClauses))
	results := make([]expr, 0, len(x.WhenClauses)+1)
	t := tNull
	for k, w := range x.WhenClauses {
		cond, err := c.compile(w.Expr)
		if err != nil {
			return expr{}, err
		}
		if x.Value != nil {
			if cond, err = binop(opcode.EQ, subject, cond); err != nil {
				return expr{}, fmt.Errorf("CASE: %w", err)
			}
		}
		if cond, err = asBool(cond, "CASE WHEN"); err != nil {
			return expr{}, err
		}
		conds[k] = cond.b
		res, err := c.compile(w.Result)
		if err != nil {
			return expr{}, err
		}
		if t, err = common(t, res.t); err != nil {
			return expr{}, fmt.Errorf("CASE branches: %w", err)
		}
		results = append(results, res)
	}
	elseE := expr{t: tNull}
	if x.ElseClause != nil {
		var err error
		if elseE, err = c.compile(x.ElseClause); err != nil {
			return expr{}, err
		}
		if t, err = common(t, elseE.t); err != nil {
			return expr{}, fmt.Errorf("CASE branches: %w", err)
		}
	}
	results = append(results, elseE)
	for k := range results {
		results[k] = coerce(results[k], t)
	}
	pick := func(r int) int {
		for k, cf := range conds {
			if v, ok := cf(r); ok && v {
				return k
			}
		}
		return len(conds)
	}
	return choose(t, results, pick), nil
}

// choose builds an expression of type t that evaluates results[pick(r)].
func choose(t vtype, results []expr, pick func(int) int) expr {
	switch t {
	case tInt:
		fs := make([]intFn, len(results))
		for k := range results {
			fs[k] = results[k].i
		}
		return expr{t: t, i: func(r int) (int64, bool) { return fs[pick(r)](r) }}
	case tFloat:
		fs := make([]floatFn, len(results))
		for k := range results {
			fs[k] = results[k].f
		}
		return expr{t: t, f: func(r int) (float64, bool) { return fs[pick(r)](r) }}
	case tString:
		fs := make([]strFn, len(results))
		for k := range results {
			fs[k] = results[k].s
		}
		return expr{t: t, s: func(r int) (string, bool) { return fs[pick(r)](r) }}
	case tBool:
		fs := make([]boolFn, len(results))
		for k := range results {
			fs[k] = results[k].b
		}
		return expr{t: t, b: func(r int) (bool, bool) { return fs[pick(r)](r) }}
	}
	return expr{t: tNull}
}

// formatFloat renders a DOUBLE as DuckDB does when casting to VARCHAR.
func formatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func toStr(e expr) strFn {
	switch e.t {
	case tString:
		return e.s
	case tInt:
		f := e.i
		return func(r int) (string, bool) { v, ok := f(r); return strconv.FormatInt(v, 10), ok }
	case tFloat:
		f := e.f
		return func(r int) (string, bool) { v, ok := f(r); return formatFloat(v), ok }
	case tBool:
		f := e.b
		return func(r int) (string, bool) { v, ok := f(r); return strconv.FormatBool(v), ok }
	}
	return func(int) (string, bool) { return "", false }
}

// floatToInt converts as DuckDB casts DOUBLE to BIGINT: to nearest, ties to
// even; NULL when out of range.
func floatToInt(v float64) (int64, bool) {
	v = math.RoundToEven(v)
	if v != v || v < -9.223372036854775808e18 || v >= 9.223372036854775808e18 {
		return 0, false
	}
	return int64(v), true
}

func castTo(a expr, t vtype) (expr, error) {
	if a.t == t || a.t == tNull {
		return retype(a, t), nil
	}
	switch t {
	case tInt:
		switch a.t {
		case tFloat:
			f := a.f
			return expr{t: t, i: func(r int) (int64, bool) {
				v, ok := f(r)
				if !ok {
					return 0, false
				}
				return floatToInt(v)
			}}, nil
		case tBool:
			f := a.b
			return expr{t: t, i: func(r int) (int64, bool) {
				v, ok := f(r)
				if v {
					return 1, ok
				}
				return 0, ok
			}}, nil
		case tString:
			f := a.s
			return expr{t: t, i: func(r int) (int64, bool) {
				v, ok := f(r)
				if !ok {
					return 0, false
				}
				n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				return n, err == nil
			}}, nil
		}
	case tFloat:
		switch a.t {
		case tInt:
			return expr{t: t, f: asFloat(a)}, nil
		case tBool:
			f := a.b
			return expr{t: t, f: func(r int) (float64, bool) {
				v, ok := f(r)
				if v {
					return 1, ok
				}
				return 0, ok
			}}, nil
		case tString:
			f := a.s
			return expr{t: t, f: func(r int) (float64, bool) {
				v, ok := f(r)
				if !ok {
					return 0, false
				}
				x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				return x, err == nil
			}}, nil
		}
	case tString:
		return expr{t: t, s: toStr(a)}, nil
	}
	return expr{}, fmt.Errorf("cannot CAST %s to %s", a.t, t)
}

const eqOp = opcode.EQ

func binaryMod(a, b expr) (expr, error) { return binop(opcode.Mod, a, b) }
