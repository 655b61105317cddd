package registry

import (
	"slices"
	"testing"
	"time"
)

func TestThinPlan(t *testing.T) {
	vs := func(n int, pinned ...int64) []Version {
		out := make([]Version, n)
		for i := range out {
			out[i] = Version{ID: int64(i + 1), Pinned: slices.Contains(pinned, int64(i+1))}
		}
		return out
	}
	thinned := func(v []Version, ids ...int64) []Version {
		at := time.Now()
		for i := range v {
			if slices.Contains(ids, v[i].ID) {
				v[i].ThinnedAt = &at
			}
		}
		return v
	}
	for _, tc := range []struct {
		name    string
		vs      []Version
		current int64
		keep    int
		want    []int64
	}{
		{"fewer than keep", vs(4), 4, 5, nil},
		{"exactly keep", vs(5), 5, 5, nil},
		// 2 and 1 are 5 and 6 from the newest: one band, the oldest stays.
		{"one band", vs(7), 7, 5, []int64{2}},
		// Beyond the 2 newest: distances 2-3 (10, 9), 4-7 (8..5), 8-11
		// (4..1); the oldest of each band stays.
		{"bands", vs(12), 12, 2, []int64{2, 3, 4, 6, 7, 8, 10}},
		{"pinned never", vs(12, 2, 7), 12, 2, []int64{3, 4, 6, 8, 10}},
		{"current never", vs(12), 3, 2, []int64{2, 4, 6, 7, 8, 10}},
		{"already thinned skipped", thinned(vs(12), 2, 3), 12, 2, []int64{4, 6, 7, 8, 10}},
		{"keep zero", vs(4), 4, 0, []int64{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ThinPlan(tc.vs, tc.current, tc.keep); !slices.Equal(got, tc.want) {
				t.Fatalf("ThinPlan = %v, want %v", got, tc.want)
			}
		})
	}
}
