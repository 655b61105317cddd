//go:build amd64 || arm64

package feature

// prefetch hints the CPU to load the cache line at addr. It never faults
// and its result is not waited for, so the misses of upcoming rows overlap
// with the work on the current one.
//
//go:noescape
func prefetch(addr uintptr)
