package drift

import (
	"fmt"
	"math"
)

// validate checks the structure Update relies on in a decoded detector:
// at least one bucket row, no row fuller than max_buckets (the next insert
// would run past it), a non-empty last row above the first (deleting from
// it must leave a valid count), and a width equal to the number of
// elements the buckets hold (the cut loop ends by deleting them).
func (a *ADWIN) validate() error {
	if len(a.rows) == 0 {
		return fmt.Errorf("adwin: no bucket row")
	}
	held := 0.0
	for i, r := range a.rows {
		if r.n < 0 || r.n > a.cfg.MaxBuckets {
			return fmt.Errorf("adwin: row %d: %d buckets out of range [0,%d]", i, r.n, a.cfg.MaxBuckets)
		}
		held += float64(r.n) * bucketSize(i)
	}
	if last := len(a.rows) - 1; last > 0 && a.rows[last].n == 0 {
		return fmt.Errorf("adwin: last row %d is empty", last)
	}
	if a.width != held {
		return fmt.Errorf("adwin: width %v but the buckets hold %v elements", a.width, held)
	}
	return nil
}

// validate checks that the decoded sample count is a finite count.
func (p *PageHinkley) validate() error {
	if !(p.n >= 0) || math.IsInf(p.n, 1) {
		return fmt.Errorf("pagehinkley: sample count %v must be finite and >= 0", p.n)
	}
	return nil
}
