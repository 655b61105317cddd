package forest

import "testing"

// TestPagedListKeepsSlots checks that slots keep their contents while the
// list grows (the first page by doubling, then page by page), that a
// decoded list (init) grows on from where it ends, and that a clone does
// not share slots.
func TestPagedListKeepsSlots(t *testing.T) {
	for _, tc := range []struct {
		name        string
		width, init int
		total       int
	}{
		{"empty, width 1", 1, 0, 3*pageSlots + 5},
		{"empty, width 3", 3, 0, 2*pageSlots + 1},
		{"init within the first page", 2, 5, pageSlots + 7},
		{"init of a full first page", 2, pageSlots, 2*pageSlots + 1},
		{"init across pages", 2, pageSlots + 3, 3 * pageSlots},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l pagedList[float64]
			l.init(tc.width, tc.init)
			put := func(i int32) {
				for j, s := 0, l.at(i); j < tc.width; j++ {
					s[j] = float64(int(i)*tc.width + j)
				}
			}
			for i := range int32(tc.init) {
				put(i)
			}
			for l.n < tc.total {
				i := l.add()
				for _, v := range l.at(i) {
					if v != 0 {
						t.Fatalf("slot %d added with %v", i, l.at(i))
					}
				}
				put(i)
			}
			c := l.clone()
			l.at(0)[0] = -1 // the clone must not see this
			for i := range int32(tc.total) {
				for j, v := range c.at(i) {
					if want := float64(int(i)*tc.width + j); v != want {
						t.Fatalf("slot %d element %d is %v, want %v", i, j, v, want)
					}
				}
			}
			if len(l.at(int32(tc.total-1))) != tc.width {
				t.Fatalf("slot of width %d", len(l.at(int32(tc.total-1))))
			}
		})
	}
}
