package feature

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

func wantArgs(name string, args []expr, lo, hi int) error {
	if len(args) < lo || len(args) > hi {
		if lo == hi {
			return fmt.Errorf("%s takes %d argument(s), got %d", strings.ToUpper(name), lo, len(args))
		}
		return fmt.Errorf("%s takes %d to %d arguments, got %d", strings.ToUpper(name), lo, hi, len(args))
	}
	return nil
}

func wantNumeric(name string, args ...expr) error {
	for _, a := range args {
		if !isNumeric(a.t) {
			return fmt.Errorf("%s needs numeric arguments, got %s", strings.ToUpper(name), a.t)
		}
	}
	return nil
}

func wantString(name string, args ...expr) error {
	for _, a := range args {
		if a.t != tString && a.t != tNull {
			return fmt.Errorf("%s needs VARCHAR arguments, got %s", strings.ToUpper(name), a.t)
		}
	}
	return nil
}

// floatMath wraps a float function; results that are NaN from a non-NaN
// input (domain errors, where DuckDB raises an error) become NULL.
func floatMath(a expr, k func(float64) (float64, bool)) expr {
	f := asFloat(coerce(a, tFloat))
	return expr{t: tFloat, f: func(r int) (float64, bool) {
		v, ok := f(r)
		if !ok {
			return 0, false
		}
		return k(v)
	}}
}

func roundDigits(v float64, d int64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	if d >= 0 {
		m := math.Pow(10, float64(d))
		r := math.Round(v*m) / m
		if math.IsInf(r, 0) || math.IsNaN(r) {
			return v
		}
		return r
	}
	m := math.Pow(10, float64(-d))
	return math.Round(v/m) * m
}

func callFunc(name string, args []expr) (expr, error) {
	switch name {
	case "abs", "sign", "floor", "ceil", "ceiling":
		if err := wantArgs(name, args, 1, 1); err != nil {
			return expr{}, err
		}
		if err := wantNumeric(name, args...); err != nil {
			return expr{}, err
		}
		a := args[0]
		if a.t == tInt {
			f := a.i
			var k func(int64) (int64, bool)
			switch name {
			case "abs":
				k = func(v int64) (int64, bool) {
					if v < 0 {
						return -v, v != math.MinInt64
					}
					return v, true
				}
			case "sign":
				k = func(v int64) (int64, bool) {
					switch {
					case v > 0:
						return 1, true
					case v < 0:
						return -1, true
					}
					return 0, true
				}
			default:
				k = func(v int64) (int64, bool) { return v, true }
			}
			return expr{t: tInt, i: func(r int) (int64, bool) {
				v, ok := f(r)
				if !ok {
					return 0, false
				}
				return k(v)
			}}, nil
		}
		switch name {
		case "abs":
			return floatMath(a, func(v float64) (float64, bool) { return math.Abs(v), true }), nil
		case "floor":
			return floatMath(a, func(v float64) (float64, bool) { return math.Floor(v), true }), nil
		case "ceil", "ceiling":
			return floatMath(a, func(v float64) (float64, bool) { return math.Ceil(v), true }), nil
		}
		f := asFloat(coerce(a, tFloat))
		return expr{t: tInt, i: func(r int) (int64, bool) {
			v, ok := f(r)
			switch {
			case v > 0:
				return 1, ok
			case v < 0:
				return -1, ok
			}
			return 0, ok
		}}, nil
	case "round":
		if err := wantArgs(name, args, 1, 2); err != nil {
			return expr{}, err
		}
		if err := wantNumeric(name, args...); err != nil {
			return expr{}, err
		}
		digits := constInt(0)
		if len(args) == 2 {
			if args[1].t != tInt {
				return expr{}, fmt.Errorf("ROUND: the number of digits must be an integer, got %s", args[1].t)
			}
			digits = args[1]
		}
		a, fd := args[0], digits.i
		if a.t == tInt {
			f := a.i
			return expr{t: tInt, i: func(r int) (int64, bool) {
				v, ok := f(r)
				d, dok := fd(r)
				if !ok || !dok {
					return 0, false
				}
				if d >= 0 {
					return v, true
				}
				return floatToInt(roundDigits(float64(v), d))
			}}, nil
		}
		f := asFloat(coerce(a, tFloat))
		return expr{t: tFloat, f: func(r int) (float64, bool) {
			v, ok := f(r)
			d, dok := fd(r)
			return roundDigits(v, d), ok && dok
		}}, nil
	case "sqrt":
		if err := wantArgs(name, args, 1, 1); err != nil {
			return expr{}, err
		}
		if err := wantNumeric(name, args...); err != nil {
			return expr{}, err
		}
		return floatMath(args[0], func(v float64) (float64, bool) { return math.Sqrt(v), !(v < 0) }), nil
	case "ln", "log10", "log2":
		if err := wantArgs(name, args, 1, 1); err != nil {
			return expr{}, err
		}
		if err := wantNumeric(name, args...); err != nil {
			return expr{}, err
		}
		k := map[string]func(float64) float64{"ln": math.Log, "log10": math.Log10, "log2": math.Log2}[name]
		return floatMath(args[0], func(v float64) (float64, bool) { return k(v), !(v <= 0) }), nil
	case "log":
		if err := wantArgs(name, args, 1, 2); err != nil {
			return expr{}, err
		}
		if err := wantNumeric(name, args...); err != nil {
			return expr{}, err
		}
		if len(args) == 1 {
			return floatMath(args[0], func(v float64) (float64, bool) { return math.Log10(v), !(v <= 0) }), nil
		}
		fb, fx := asFloat(coerce(args[0], tFloat)), asFloat(coerce(args[1], tFloat))
		return expr{t: tFloat, f: func(r int) (float64, bool) {
			b, bok := fb(r)
			x, xok := fx(r)
			if !bok || !xok || b <= 0 || x <= 0 || b == 1 {
				return 0, false
			}
			return math.Log(x) / math.Log(b), true
		}}, nil
	case "exp":
		if err := wantArgs(name, args, 1, 1); err != nil {
			return expr{}, err
		}
		if err := wantNumeric(name, args...); err != nil {
			return expr{}, err
		}
		return floatMath(args[0], func(v float64) (float64, bool) { return math.Exp(v), true }), nil
	case "power", "pow":
		if err := wantArgs(name, args, 2, 2); err != nil {
			return expr{}, err
		}
		if err := wantNumeric(name, args...); err != nil {
			return expr{}, err
		}
		fa, fb := asFloat(coerce(args[0], tFloat)), asFloat(coerce(args[1], tFloat))
		return expr{t: tFloat, f: func(r int) (float64, bool) {
			x, xok := fa(r)
			y, yok := fb(r)
			return math.Pow(x, y), xok && yok
		}}, nil
	case "mod":
		if err := wantArgs(name, args, 2, 2); err != nil {
			return expr{}, err
		}
		return binaryMod(args[0], args[1])
	case "greatest", "least":
		if len(args) == 0 {
			return expr{}, fmt.Errorf("%s needs arguments", strings.ToUpper(name))
		}
		t := tNull
		for _, a := range args {
			var err error
			if t, err = common(t, a.t); err != nil {
				return expr{}, fmt.Errorf("%s: %w", strings.ToUpper(name), err)
			}
		}
		return extreme(name == "greatest", t, args)
	case "coalesce", "ifnull":
		if name == "ifnull" {
			if err := wantArgs(name, args, 2, 2); err != nil {
				return expr{}, err
			}
		}
		if len(args) == 0 {
			return expr{}, fmt.Errorf("COALESCE needs arguments")
		}
		t := tNull
		for _, a := range args {
			var err error
			if t, err = common(t, a.t); err != nil {
				return expr{}, fmt.Errorf("%s: %w", strings.ToUpper(name), err)
			}
		}
		tests := make([]func(int) bool, len(args))
		for k := range args {
			args[k] = coerce(args[k], t)
			tests[k] = nullTest(args[k])
		}
		results := append(args, expr{t: tNull})
		results[len(results)-1] = retype(results[len(results)-1], t)
		return choose(t, results, func(r int) int {
			for k, isNull := range tests {
				if !isNull(r) {
					return k
				}
			}
			return len(tests)
		}), nil
	case "nullif":
		if err := wantArgs(name, args, 2, 2); err != nil {
			return expr{}, err
		}
		eq, err := binop(eqOp, args[0], args[1])
		if err != nil {
			return expr{}, fmt.Errorf("NULLIF: %w", err)
		}
		t := args[0].t
		results := []expr{retype(expr{t: tNull}, t), args[0]}
		return choose(t, results, func(r int) int {
			if v, ok := eq.b(r); ok && v {
				return 0
			}
			return 1
		}), nil
	case "if":
		if err := wantArgs(name, args, 3, 3); err != nil {
			return expr{}, err
		}
		cond, err := asBool(args[0], "IF")
		if err != nil {
			return expr{}, err
		}
		t, err := common(args[1].t, args[2].t)
		if err != nil {
			return expr{}, fmt.Errorf("IF: %w", err)
		}
		results := []expr{coerce(args[1], t), coerce(args[2], t)}
		return choose(t, results, func(r int) int {
			if v, ok := cond.b(r); ok && v {
				return 0
			}
			return 1
		}), nil
	case "lower", "upper", "trim", "ltrim", "rtrim":
		if err := wantArgs(name, args, 1, 1); err != nil {
			return expr{}, err
		}
		if err := wantString(name, args...); err != nil {
			return expr{}, err
		}
		k := map[string]func(string) string{
			"lower": strings.ToLower, "upper": strings.ToUpper,
			"trim":  func(s string) string { return strings.Trim(s, " ") },
			"ltrim": func(s string) string { return strings.TrimLeft(s, " ") },
			"rtrim": func(s string) string { return strings.TrimRight(s, " ") },
		}[name]
		f := retype(args[0], tString).s
		return expr{t: tString, s: func(r int) (string, bool) {
			v, ok := f(r)
			if !ok {
				return "", false
			}
			return k(v), true
		}}, nil
	case "length", "char_length", "character_length":
		if err := wantArgs(name, args, 1, 1); err != nil {
			return expr{}, err
		}
		if err := wantString(name, args...); err != nil {
			return expr{}, err
		}
		f := retype(args[0], tString).s
		return expr{t: tInt, i: func(r int) (int64, bool) {
			v, ok := f(r)
			return int64(utf8.RuneCountInString(v)), ok
		}}, nil
	case "concat":
		if len(args) == 0 {
			return expr{}, fmt.Errorf("CONCAT needs arguments")
		}
		fs := make([]strFn, len(args))
		for k, a := range args {
			fs[k] = toStr(a)
		}
		return expr{t: tString, s: func(r int) (string, bool) {
			var b strings.Builder
			for _, f := range fs {
				v, ok := f(r)
				if !ok {
					return "", false
				}
				b.WriteString(v)
			}
			return b.String(), true
		}}, nil
	case "substring", "substr":
		if err := wantArgs(name, args, 2, 3); err != nil {
			return expr{}, err
		}
		if err := wantString(name, args[0]); err != nil {
			return expr{}, err
		}
		for _, a := range args[1:] {
			if a.t != tInt && a.t != tNull {
				return expr{}, fmt.Errorf("SUBSTRING: positions must be integers, got %s", a.t)
			}
		}
		fs, fstart := retype(args[0], tString).s, retype(args[1], tInt).i
		flen := constInt(math.MaxInt32).i
		if len(args) == 3 {
			flen = retype(args[2], tInt).i
		}
		return expr{t: tString, s: func(r int) (string, bool) {
			s, ok := fs(r)
			start, sok := fstart(r)
			n, nok := flen(r)
			if !ok || !sok || !nok {
				return "", false
			}
			return substring(s, start, n), true
		}}, nil
	case "replace":
		if err := wantArgs(name, args, 3, 3); err != nil {
			return expr{}, err
		}
		if err := wantString(name, args...); err != nil {
			return expr{}, err
		}
		fs, fa, fb := retype(args[0], tString).s, retype(args[1], tString).s, retype(args[2], tString).s
		return expr{t: tString, s: func(r int) (string, bool) {
			s, ok := fs(r)
			a, aok := fa(r)
			b, bok := fb(r)
			if !ok || !aok || !bok {
				return "", false
			}
			if a == "" {
				return s, true
			}
			return strings.ReplaceAll(s, a, b), true
		}}, nil
	}
	return expr{}, fmt.Errorf("unknown or unsupported function %s", strings.ToUpper(name))
}

// substring follows DuckDB: 1-based start, a negative start counts from the
// end, and the range [start, start+n) is clipped to the string.
func substring(s string, start, n int64) string {
	if n <= 0 {
		return ""
	}
	runes := int64(utf8.RuneCountInString(s))
	if start < 0 {
		start = runes + start + 1
	}
	lo, hi := start, start+n
	if n > math.MaxInt64-start {
		hi = math.MaxInt64
	}
	if lo < 1 {
		lo = 1
	}
	if hi > runes+1 {
		hi = runes + 1
	}
	if lo >= hi {
		return ""
	}
	var b strings.Builder
	pos := int64(1)
	for _, c := range s {
		if pos >= lo && pos < hi {
			b.WriteRune(c)
		}
		pos++
	}
	return b.String()
}

func extreme(greatest bool, t vtype, args []expr) (expr, error) {
	for k := range args {
		args[k] = coerce(args[k], t)
	}
	better := func(c int) bool {
		if greatest {
			return c > 0
		}
		return c < 0
	}
	switch t {
	case tInt:
		return expr{t: t, i: func(r int) (int64, bool) {
			var best int64
			have := false
			for _, a := range args {
				if v, ok := a.i(r); ok && (!have || (greatest && v > best) || (!greatest && v < best)) {
					best, have = v, true
				}
			}
			return best, have
		}}, nil
	case tFloat:
		return expr{t: t, f: func(r int) (float64, bool) {
			var best float64
			have := false
			for _, a := range args {
				if v, ok := a.f(r); ok && (!have || better(cmpFloat(v, best))) {
					best, have = v, true
				}
			}
			return best, have
		}}, nil
	case tString:
		return expr{t: t, s: func(r int) (string, bool) {
			var best string
			have := false
			for _, a := range args {
				if v, ok := a.s(r); ok && (!have || better(strings.Compare(v, best))) {
					best, have = v, true
				}
			}
			return best, have
		}}, nil
	case tBool:
		return expr{t: t, b: func(r int) (bool, bool) {
			var best, have bool
			for _, a := range args {
				if v, ok := a.b(r); ok && (!have || (greatest && v && !best) || (!greatest && !v && best)) {
					best, have = v, true
				}
			}
			return best, have
		}}, nil
	}
	return expr{t: tNull}, nil
}

// like matches s against a LIKE pattern: % matches any run of characters,
// _ one character, and the escape character (if >= 0) makes the next
// pattern character literal.
func like(s, p string, escape rune) bool {
	sr, pr := []rune(s), []rune(p)
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(sr) {
		if pi < len(pr) {
			c := pr[pi]
			switch {
			case c == escape && pi+1 < len(pr):
				if pr[pi+1] == sr[si] {
					si, pi = si+1, pi+2
					continue
				}
			case c == '%':
				starP, starS = pi, si
				pi++
				continue
			case c == '_' || c == sr[si]:
				si, pi = si+1, pi+1
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		si, pi = starS, starP+1
	}
	for pi < len(pr) && pr[pi] == '%' {
		pi++
	}
	return pi == len(pr)
}
