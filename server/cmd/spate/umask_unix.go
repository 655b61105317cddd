//go:build unix

package main

import "golang.org/x/sys/unix"

// restrictUmask makes every file and directory the process creates private
// to its user (0600 / 0700): the data dir holds the registry with key
// hashes, the token secret and all ingested rows.
func restrictUmask() { unix.Umask(0o077) }
