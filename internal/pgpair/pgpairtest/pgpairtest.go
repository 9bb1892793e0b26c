// Package pgpairtest is the test helper for tests that run PostgreSQL
// clusters of their own (package pgpair): they need the server programs.
package pgpairtest

import (
	"os"
	"testing"

	"github.com/minwon/minwon/internal/pgpair"
)

// Require skips t when PostgreSQL's server programs are not on this
// machine, or fails it under CI=true: CI has them, and must not pass by
// silently skipping the drill.
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts PostgreSQL clusters of its own")
	}
	if _, err := pgpair.FindBin(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v: under CI=true the tests that run their own clusters must run", err)
		}
		t.Skip(err)
	}
}
