// Command minwon-verify checks a minwon document, online against the minwon
// that issued it or offline against a saved proof and trusted keys. It is
// `minwon verify` on its own: the same flags and exit codes, built only on
// package verify, so it carries no database driver, password hashing or
// PDF rendering, and anyone can build and audit it.
//
// Usage:
//
//	minwon-verify FILE.pdf|FILE.data.json --log URL [--key KEYS.json] [--save-proof PROOF.json] [--witness-key VKEY]
//	minwon-verify FILE.pdf|FILE.data.json --checkpoint PROOF.json --key KEYS.json
//
// Exit 0 only for a valid document; 1 not valid (or the check could not be
// made); 2 usage.
package main

import (
	"os"

	"github.com/minwon/minwon/internal/verify/verifycmd"
)

func main() {
	os.Exit(verifycmd.Main("minwon-verify", os.Args[1:], os.Stdout, os.Stderr))
}
