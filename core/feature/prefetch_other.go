//go:build !amd64 && !arm64

package feature

// prefetch is a no-op where no prefetch instruction is wired.
func prefetch(addr uintptr) {}
