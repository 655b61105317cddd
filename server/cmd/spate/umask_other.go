//go:build !unix

package main

// restrictUmask does nothing where there is no umask; the server still
// tightens the data dir on start.
func restrictUmask() {}
