package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps minwon-verify small enough for a third party to
// audit: it must not pull in minwon's server side. The verification core
// itself must also do no network I/O.
func TestDependencies(t *testing.T) {
	forbidden := []string{
		"database/sql", "github.com/jackc/pgx", "modernc.org/sqlite", "sqlite",
		"golang.org/x/crypto/argon2", "rsc.io/qr",
		"github.com/minwon/minwon/internal/store", "github.com/minwon/minwon/internal/render",
		"github.com/minwon/minwon/internal/auth", "github.com/minwon/minwon/internal/issuance",
		"github.com/minwon/minwon/internal/doclog", "github.com/minwon/minwon/internal/verification",
	}
	for _, tc := range []struct {
		pkg   string
		extra []string
	}{
		{".", nil},
		{"github.com/minwon/minwon/internal/verify", []string{"net/http", "net", "os/exec"}},
		// crypto/x509 (the issuer's chain) brings in net and os for
		// names and system roots; the package itself does no I/O.
		{"github.com/minwon/minwon/internal/sdjwt", []string{"net/http", "os/exec"}},
	} {
		out, err := exec.Command("go", "list", "-deps", tc.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", tc.pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps %s listed only %q", tc.pkg, deps)
		}
		for _, d := range deps {
			for _, f := range append(forbidden, tc.extra...) {
				if d == f || strings.HasPrefix(d, f+"/") || (f == "sqlite" && strings.Contains(d, "sqlite")) {
					t.Errorf("%s depends on %s", tc.pkg, d)
				}
			}
		}
	}
}
