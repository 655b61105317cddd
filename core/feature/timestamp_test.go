package feature

import (
	"testing"
	"time"

	"github.com/spate-ml/spate/core/schema"
)

func TestParseTimestamp(t *testing.T) {
	us := func(s string) int64 {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UnixMicro()
	}
	cases := []struct {
		format string
		in     any
		want   int64
		err    bool
	}{
		{FormatEpochSeconds, int64(1_700_000_000), 1_700_000_000_000_000, false},
		{FormatEpochSeconds, 1_700_000_000.25, 1_700_000_000_250_000, false},
		{FormatEpochSeconds, "1700000000", 1_700_000_000_000_000, false},
		{FormatEpochMilliseconds, int64(1_700_000_000_123), 1_700_000_000_123_000, false},
		{FormatEpochMilliseconds, "1700000000123.5", 1_700_000_000_123_500, false},
		{FormatEpochSeconds, "soon", 0, true},
		{"YYYY MM DD", "2024 02 29", us("2024-02-29T00:00:00Z"), false},
		{"YYYY MM DD", "2024-02-29", 0, true},
		{"YYYY-MM-DD HH24:MI:SS.US", "2024-03-01 23:59:58.123456", us("2024-03-01T23:59:58.123456Z"), false},
		{"YYYY-MM-DD HH24:MI:SS.US", "2024-03-01 23:59:58", us("2024-03-01T23:59:58Z"), false},
		{"YYYY-MM-DD HH24:MI:SS.MS", "2024-03-01 07:00:00.5", us("2024-03-01T07:00:00.5Z"), false},
		{"YYYY-MM-DD HH12:MI:SS.MS", "2024-03-01 12:30:00.250", us("2024-03-01T12:30:00.25Z"), false},
		{"YYYY-MM-DD HH12:MI:SS.US", "2024-03-01 07:30:00.000001 PM", us("2024-03-01T19:30:00.000001Z"), false},
		{"YYYY-MM-DD HH12:MI:SS.US", "2024-03-01 12:30:00 AM", us("2024-03-01T00:30:00Z"), false},
		{"YYYY-MM-DD HH24:MI:SSTZH:TZM", "2024-03-01 10:00:00+02:00", us("2024-03-01T08:00:00Z"), false},
		{"YYYY-MM-DD HH12:MI:SSTZH:TZM", "2024-03-01 10:00:00-05:30", us("2024-03-01T15:30:00Z"), false},
		{"YYYY-MM-DD HH24:MI:SSTZH:TZM", "2024-03-01 10:00:00", 0, true},
		{"YYYY-MM-DD HH24:MI:SS.US", "2024-13-01 10:00:00", 0, true},
		{"DD/MM/YYYY", "01/02/2024", 0, true},
	}
	for _, c := range cases {
		got, err := ParseTimestamp(c.format, c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseTimestamp(%q, %v) = %d, %v; want %d, error %v", c.format, c.in, got, err, c.want, c.err)
		}
	}
	if got := TimestampFormats(); len(got) != 9 || got[0] != "YYYY MM DD" || got[8] != FormatEpochMilliseconds {
		t.Errorf("TimestampFormats() = %v", got)
	}
}

// TestStringTimestampAggregate checks that a string timestamp column drives
// windows and that NULL or unparsable timestamps give NULL values.
func TestStringTimestampAggregate(t *testing.T) {
	s, err := schema.New([]schema.Field{{Name: "id", Type: schema.Int64}, {Name: "k", Type: schema.String}, {Name: "when", Type: schema.String}, {Name: "v", Type: schema.Double}}, "id")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(s, []Timestamp{{Column: "when", Format: "YYYY-MM-DD HH24:MI:SS.US"}},
		[]Def{{Name: "n", Kind: KindAggregate, Column: "v", Op: OpCount, GroupBy: "k", Timestamp: "when", Window: "1 hours"},
			{Name: "tot", Kind: KindAggregate, Column: "v", Op: OpSum, GroupBy: "k", Timestamp: "when", Window: "1 hours"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := buildBatch(t, s, [][]cell{
		{int64(1), "a", "2024-01-01 10:00:00", 1.0},
		{int64(2), "a", "2024-01-01 10:30:00.5", 2.0},
		{int64(3), "a", nil, 4.0},
		{int64(4), "a", "garbage", 8.0},
		{int64(5), "a", "2024-01-01 11:00:00.5", 16.0},
		{int64(6), "a", "2024-01-01 11:00:00.500001", 32.0},
	})
	defer rec.Release()
	got := runPipeline(t, p, rec, 10)
	wantN := []cell{int64(1), int64(2), nil, nil, int64(2), int64(3)}
	wantS := []cell{1.0, 3.0, nil, nil, 18.0, 50.0}
	for i := range wantN {
		if got[0][i] != wantN[i] || got[1][i] != wantS[i] {
			t.Errorf("row %d: count %v sum %v, want %v %v", i, got[0][i], got[1][i], wantN[i], wantS[i])
		}
	}
	if st := p.Stats(); st.BadTimestamps != 2 || st.Rows != 6 {
		t.Errorf("stats %+v", st)
	}
}

func TestParseInterval(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"24 hours", 24 * time.Hour, false},
		{"1 day", 24 * time.Hour, false},
		{"1.5 days", 36 * time.Hour, false},
		{"2 weeks", 14 * 24 * time.Hour, false},
		{"1 months", 30 * 24 * time.Hour, false},
		{"1 years", 365 * 24 * time.Hour, false},
		{"30 Minutes", 30 * time.Minute, false},
		{"10 seconds", 10 * time.Second, false},
		{"90m", 90 * time.Minute, false},
		{"-1 hours", 0, true},
		{"3 fortnights", 0, true},
		{"", 0, true},
	}
	for _, c := range cases {
		got, err := ParseInterval(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.err)
		}
	}
}
