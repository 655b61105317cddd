// Package drift owns the concept-drift detectors used by adaptive learners
// and by model monitoring. Each detector consumes one value per update and
// says whether the distribution of the values changed; its state encodes
// deterministically (MarshalBinary) so that models holding detectors
// snapshot bit for bit.
//
// ADWIN follows River 0.26.1's drift.ADWIN exactly (same buckets, same cut
// scan, same reset after a detection), so a Go model that embeds it
// reproduces River's adaptive trees.
package drift
