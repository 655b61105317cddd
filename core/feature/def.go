package feature

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind says how a feature is computed.
type Kind string

// Feature kinds.
const (
	KindSQL       Kind = "sql"
	KindAggregate Kind = "aggregate"
)

// Op is an aggregate operation.
type Op string

// Aggregate operations.
const (
	OpSum   Op = "SUM"
	OpCount Op = "COUNT"
	OpAvg   Op = "AVG"
	OpMin   Op = "MIN"
	OpMax   Op = "MAX"
)

// Def defines one feature. It is what the SDK sends and what the registry
// stores.
//
// An SQL feature sets SQL. An aggregate feature sets Column, Op, GroupBy,
// Timestamp (a registered timestamp column) and Window, an interval such as
// "24 hours" or "1.5 days" (units seconds, minutes, hours, days, weeks =
// 7 days, months = 30 days, years = 365 days, singular or plural) or a Go
// duration such as "90m". AllowedLateness, in the same syntax, bounds how
// far behind a group's newest row a row may arrive and still get an exact
// value (see the package documentation); empty means 0.
type Def struct {
	Name            string `json:"name"`
	Kind            Kind   `json:"kind"`
	SQL             string `json:"sql,omitempty"`
	Column          string `json:"column,omitempty"`
	Op              Op     `json:"op,omitempty"`
	GroupBy         string `json:"group_by,omitempty"`
	Timestamp       string `json:"timestamp,omitempty"`
	Window          string `json:"window,omitempty"`
	AllowedLateness string `json:"allowed_lateness,omitempty"`
}

var unitSeconds = map[string]float64{
	"second": 1, "minute": 60, "hour": 3600, "day": 86400,
	"week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400,
}

// WindowDuration turns TurboML's (window_duration, window_unit) pair into a
// duration, normalizing years to 365 days, months to 30 days and weeks to 7
// days.
func WindowDuration(amount float64, unit string) (time.Duration, error) {
	u := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(unit)), "s")
	secs, ok := unitSeconds[u]
	if !ok {
		return 0, fmt.Errorf("unknown window unit %q (want seconds, minutes, hours, days, weeks, months or years)", unit)
	}
	us := amount * secs * 1e6
	if math.IsNaN(us) || us < 0 || us > float64(math.MaxInt64/1000) {
		return 0, fmt.Errorf("window %v %s is out of range", amount, unit)
	}
	return time.Duration(math.Round(us)) * time.Microsecond, nil
}

// ParseInterval reads "24 hours", "1.5 days", "30 minutes" or a Go duration
// ("36h"). The result must not be negative.
func ParseInterval(s string) (time.Duration, error) {
	f := strings.Fields(s)
	if len(f) == 2 {
		amount, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return 0, fmt.Errorf("interval %q: bad amount: %w", s, err)
		}
		return WindowDuration(amount, f[1])
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("interval %q: want \"<amount> <unit>\" (e.g. \"24 hours\") or a duration such as \"36h\"", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("interval %q is negative", s)
	}
	return d, nil
}

// ParseOp reads an aggregate operation case-insensitively.
func ParseOp(s string) (Op, error) {
	switch o := Op(strings.ToUpper(strings.TrimSpace(s))); o {
	case OpSum, OpCount, OpAvg, OpMin, OpMax:
		return o, nil
	}
	return "", fmt.Errorf("unknown aggregate operation %q (want SUM, COUNT, AVG, MIN or MAX)", s)
}
