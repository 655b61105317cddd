package stream

import (
	"testing"
	"time"
)

func TestRetentionTrimPoint(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	// Four segments of 100 rows and 1,000 bytes, written 9, 6, 3 and 0 days ago.
	segs := []Segment{
		{Base: 0, End: 100, Bytes: 1000, LastWrite: now.Add(-9 * day)},
		{Base: 100, End: 200, Bytes: 1000, LastWrite: now.Add(-6 * day)},
		{Base: 200, End: 300, Bytes: 1000, LastWrite: now.Add(-3 * day)},
		{Base: 300, End: 350, Bytes: 500, LastWrite: now},
	}
	for _, tc := range []struct {
		name  string
		r     Retention
		floor int64
		want  int64
	}{
		{"none", Retention{}, 1 << 62, 0},
		{"age 7d drops one", Retention{MaxAge: 7 * day}, 1 << 62, 100},
		{"age 1d drops all but the last", Retention{MaxAge: day}, 1 << 62, 300},
		{"age 1d floor inside second", Retention{MaxAge: day}, 150, 100},
		{"age 1d floor at a boundary", Retention{MaxAge: day}, 200, 200},
		{"bytes 3500 keeps all", Retention{MaxBytes: 3500}, 1 << 62, 0},
		{"bytes 2000 drops two", Retention{MaxBytes: 2000}, 1 << 62, 200},
		{"bytes 1 keeps the last", Retention{MaxBytes: 1}, 1 << 62, 300},
		{"age or bytes, whichever first", Retention{MaxAge: 8 * day, MaxBytes: 2500}, 1 << 62, 100},
		{"floor 0 keeps all", Retention{MaxAge: time.Nanosecond, MaxBytes: 1}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.TrimPoint(segs, now, tc.floor); got != tc.want {
				t.Fatalf("TrimPoint = %d, want %d", got, tc.want)
			}
		})
	}
	if got := (Retention{MaxAge: time.Second}).TrimPoint(nil, now, 10); got != 0 {
		t.Fatalf("TrimPoint of no segments = %d", got)
	}
	if got := (Retention{MaxAge: time.Second}).TrimPoint(segs[1:], now, 1<<62); got != 300 {
		t.Fatalf("TrimPoint of a trimmed log = %d, want 300", got)
	}
}
