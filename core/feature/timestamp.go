package feature

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/spate-ml/spate/core/schema"
)

// Timestamp registers a column as event time in one of TimestampFormats.
type Timestamp struct {
	Column string `json:"column"`
	Format string `json:"format"`
}

// The timestamp formats, as TurboML names them.
const (
	FormatEpochSeconds      = "epoch_seconds"
	FormatEpochMilliseconds = "epoch_milliseconds"
)

var timestampFormats = []string{
	"YYYY MM DD",
	"YYYY-MM-DD HH24:MI:SS.US",
	"YYYY-MM-DD HH12:MI:SS.US",
	"YYYY-MM-DD HH12:MI:SS.MS",
	"YYYY-MM-DD HH24:MI:SS.MS",
	"YYYY-MM-DD HH24:MI:SSTZH:TZM",
	"YYYY-MM-DD HH12:MI:SSTZH:TZM",
	FormatEpochSeconds,
	FormatEpochMilliseconds,
}

// TimestampFormats returns the accepted timestamp formats, in TurboML's
// order (a fresh slice).
func TimestampFormats() []string { return slices.Clone(timestampFormats) }

// tsParser turns one value of a column into event time (microseconds since
// the epoch, UTC).
type tsParser struct {
	format string
	epoch  int64 // microseconds per unit for epoch formats, 0 for strings
	date   bool  // "YYYY MM DD"
	zone   bool  // ends with TZH:TZM
}

func newTSParser(format string) (tsParser, error) {
	switch format {
	case FormatEpochSeconds:
		return tsParser{format: format, epoch: 1_000_000}, nil
	case FormatEpochMilliseconds:
		return tsParser{format: format, epoch: 1_000}, nil
	case "YYYY MM DD":
		return tsParser{format: format, date: true}, nil
	}
	if !slices.Contains(timestampFormats, format) {
		return tsParser{}, fmt.Errorf("unknown timestamp format %q (want one of %s)", format, strings.Join(timestampFormats, ", "))
	}
	return tsParser{format: format, zone: strings.HasSuffix(format, "TZH:TZM")}, nil
}

// ParseTimestamp parses one textual or numeric timestamp value in format
// and returns microseconds since the Unix epoch (UTC).
func ParseTimestamp(format string, v any) (int64, error) {
	p, err := newTSParser(format)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case string:
		return p.parseString(x)
	case int64:
		return p.fromInt(x)
	case int:
		return p.fromInt(int64(x))
	case int32:
		return p.fromInt(int64(x))
	case float64:
		return p.fromFloat(x)
	case float32:
		return p.fromFloat(float64(x))
	case time.Time:
		return x.UnixMicro(), nil
	}
	return 0, fmt.Errorf("timestamp value of type %T is not supported", v)
}

func (p tsParser) fromInt(v int64) (int64, error) {
	if p.epoch == 0 {
		return 0, fmt.Errorf("format %q needs a string column", p.format)
	}
	r := v * p.epoch
	if r/p.epoch != v {
		return 0, fmt.Errorf("timestamp %d out of range", v)
	}
	return r, nil
}

func (p tsParser) fromFloat(v float64) (int64, error) {
	if p.epoch == 0 {
		return 0, fmt.Errorf("format %q needs a string column", p.format)
	}
	r := math.Round(v * float64(p.epoch))
	if math.IsNaN(r) || r < -(1<<62) || r > 1<<62 {
		return 0, fmt.Errorf("timestamp %v out of range", v)
	}
	return int64(r), nil
}

func (p tsParser) parseString(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if p.epoch != 0 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("timestamp %q is not a number of %s", s, p.format)
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return p.fromInt(i)
		}
		return p.fromFloat(f)
	}
	if p.date {
		t, err := time.Parse("2006 01 02", s)
		if err != nil {
			return 0, fmt.Errorf("timestamp %q does not match %q", s, p.format)
		}
		return t.UnixMicro(), nil
	}
	// Date and time; fractional seconds are optional and of any precision.
	pm := 0
	if len(s) > 3 {
		switch strings.ToUpper(s[len(s)-3:]) {
		case " AM":
			pm, s = 1, s[:len(s)-3]
		case " PM":
			pm, s = 2, s[:len(s)-3]
		}
	}
	layout := "2006-01-02 15:04:05"
	if p.zone {
		layout = "2006-01-02 15:04:05Z07:00"
	}
	t, err := time.Parse(layout, strings.Replace(s, "T", " ", 1))
	if err != nil {
		return 0, fmt.Errorf("timestamp %q does not match %q", s, p.format)
	}
	if pm != 0 {
		h := t.Hour()
		if h < 1 || h > 12 {
			return 0, fmt.Errorf("timestamp %q: hour %d with AM/PM", s, h)
		}
		if pm == 2 && h < 12 {
			t = t.Add(12 * time.Hour)
		} else if pm == 1 && h == 12 {
			t = t.Add(-12 * time.Hour)
		}
	}
	return t.UnixMicro(), nil
}

// checkTimestampType says whether a column of type t can hold timestamps in
// the parser's format.
func (p tsParser) checkType(t schema.Type) error {
	switch t {
	case schema.String:
		return nil
	case schema.Int32, schema.Int64, schema.Float, schema.Double:
		if p.epoch != 0 {
			return nil
		}
	}
	return fmt.Errorf("a %s column cannot hold %q timestamps", t, p.format)
}

// column converts a whole column into event times; valid[i] is false for
// NULL or unparsable values. dst and valid are reused.
func (p tsParser) column(col arrow.Array, dst []int64, valid []bool) ([]int64, []bool) {
	n := col.Len()
	dst = slices.Grow(dst[:0], n)[:n]
	valid = slices.Grow(valid[:0], n)[:n]
	if _, isStr := col.(*array.String); p.epoch == 0 && !isStr {
		clear(valid) // string formats need string columns (Compile checks)
		return dst, valid
	}
	switch c := col.(type) {
	case *array.Int64:
		vs := c.Int64Values()
		lim := math.MaxInt64 / p.epoch
		for i := range n {
			v := vs[i]
			dst[i], valid[i] = v*p.epoch, c.IsValid(i) && v <= lim && v >= -lim
		}
	case *array.Int32:
		vs := c.Int32Values()
		for i := range n {
			dst[i], valid[i] = int64(vs[i])*p.epoch, c.IsValid(i)
		}
	case *array.Float64:
		vs := c.Float64Values()
		for i := range n {
			v, err := p.fromFloat(vs[i])
			dst[i], valid[i] = v, err == nil && c.IsValid(i)
		}
	case *array.Float32:
		vs := c.Float32Values()
		for i := range n {
			v, err := p.fromFloat(float64(vs[i]))
			dst[i], valid[i] = v, err == nil && c.IsValid(i)
		}
	case *array.String:
		for i := range n {
			if c.IsNull(i) {
				dst[i], valid[i] = 0, false
				continue
			}
			v, err := p.parseString(c.Value(i))
			dst[i], valid[i] = v, err == nil
		}
	default:
		for i := range n {
			dst[i], valid[i] = 0, false
		}
	}
	return dst, valid
}
