package registry

import "math/bits"

// ThinPlan chooses which automatic versions of a model to thin, given its
// versions in ID order (as ListVersions returns them) and its current
// version. It keeps
//
//   - every pinned version (made by a user) and the current version;
//   - the keepRecent most recent unpinned versions;
//   - a logarithmic spread of the older ones: of the unpinned versions
//     older than those, one per power-of-two distance from the newest
//     version (distance 1, 2–3, 4–7, 8–15, …), the oldest in each band.
//
// It returns the IDs to thin, oldest first; versions already thinned are
// not returned again. Applied after every new version, it leaves about
// keepRecent + log2(versions) unpinned snapshots, spread over the model's
// whole life.
func ThinPlan(vs []Version, current int64, keepRecent int) []int64 {
	if keepRecent < 0 {
		keepRecent = 0
	}
	var auto []Version // unpinned, not thinned, newest first
	for i := len(vs) - 1; i >= 0; i-- {
		if v := vs[i]; !v.Pinned && !v.Thinned() {
			auto = append(auto, v)
		}
	}
	if len(auto) <= keepRecent {
		return nil
	}
	newest := auto[0].ID
	older := auto[keepRecent:]
	// Walk from the oldest: the first version seen in a band is kept.
	kept := map[int]bool{}
	var thin []int64
	for i := len(older) - 1; i >= 0; i-- {
		v := older[i]
		band := bits.Len64(uint64(newest - v.ID))
		if v.ID == current || !kept[band] {
			kept[band] = kept[band] || v.ID != current
			continue
		}
		thin = append(thin, v.ID)
	}
	return thin
}
