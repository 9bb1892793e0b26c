package main

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/population"
)

// The officials' clients against a running demo: a clerk issues at the
// counter, an operator revokes it, the auditor sees who did what, and each
// refusal or misuse has its exit class.
func TestCounterAndAdminCommands(t *testing.T) {
	dir, urls, _ := startDemo(t, 40, 5)
	w, err := population.Generate(population.Config{People: 40, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	p := w.People[4]
	ctx := t.Context()
	counterCmd := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := counterCommand(ctx, append([]string{"--data", dir.Path()}, args...), strings.NewReader(stdin), &out)
		return out.String(), err
	}
	adminCmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := adminCommand(ctx, append([]string{"--data", dir.Path()}, args...), &out)
		return out.String(), err
	}

	out, err := counterCmd("", "--as", "c0001", "status")
	if err != nil || !strings.Contains(out, "c0001") || !strings.Contains(out, "credential fresh") {
		t.Fatalf("status: %q %v", out, err)
	}
	pdf := filepath.Join(t.TempDir(), "copy.pdf")
	// The RRN from standard input, so it stays out of the shell history.
	out, err = counterCmd(ident.FormatRRN(p.RRN)+"\n", "--as", "c0001", "issue", "resident-registration-copy", "--rrn", "-", "--id-check", "resident_card", "--purpose", "관공서 제출용", "--out", pdf)
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	if strings.Contains(out, p.RRN) || strings.Contains(out, p.RRN[6:]) {
		t.Errorf("the output shows the RRN: %q", out)
	}
	fields := strings.Fields(out)
	if len(fields) < 2 || fields[0] != "issued" {
		t.Fatalf("issue output %q", out)
	}
	number := strings.TrimSuffix(fields[1], ":")
	if raw, err := os.ReadFile(pdf); err != nil || !bytes.HasPrefix(raw, []byte("%PDF-")) {
		t.Fatalf("saved PDF: %v", err)
	}
	if _, err := counterCmd("", "--as", "c0003", "document", number, "--out", filepath.Join(t.TempDir(), "x.pdf")); err == nil || errors.As(err, new(usageError)) {
		t.Errorf("another clerk downloaded the document: %v", err)
	}
	// An operator may not issue at the counter: refused (exit 1), not usage.
	if _, err := counterCmd("", "--as", "op001", "issue", "resident-registration-copy", "--rrn", p.RRN, "--id-check", "resident_card", "--purpose", "x"); err == nil || !strings.Contains(err.Error(), "role_not_allowed") || errors.As(err, new(usageError)) {
		t.Errorf("operator at the counter: %v", err)
	}

	out, err = adminCmd("--as", "op001", "revoke", number, "--reason", "issued in error")
	if err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %q %v", out, err)
	}
	if _, err := adminCmd("--as", "op001", "revoke", number, "--reason", "again"); err == nil || !strings.Contains(err.Error(), "already_revoked") {
		t.Errorf("second revoke: %v", err)
	}
	if _, err := adminCmd("--as", "c0001", "keys", "list"); err == nil || !strings.Contains(err.Error(), "role_not_allowed") {
		t.Errorf("clerk on the admin API: %v", err)
	}
	out, err = adminCmd("--as", "au001", "audit", "--subject", p.Subject)
	if err != nil || !strings.Contains(out, "official:c0001") || !strings.Contains(out, "counter_issuance") {
		t.Errorf("audit: %q %v", out, err)
	}
	out, err = adminCmd("--as", "op002", "--json", "whoami")
	if err != nil || !strings.Contains(out, `"role": "operator"`) {
		t.Errorf("whoami: %q %v", out, err)
	}

	// The health of the path to the validation service, at realistic sizes:
	// a router dropping answers over 1,500 bytes fails it.
	out, err = adminCmd("--as", "op001", "validation")
	if err != nil || strings.Count(out, ": ok") != 2 {
		t.Errorf("validation while healthy: %q %v", out, err)
	}
	setFaults(t, urls.Validation, `{"drop_over_bytes":1500}`)
	out, err = adminCmd("--as", "op001", "--timeout", "20s", "validation")
	setFaults(t, urls.Validation, `{}`)
	if err != nil || strings.Count(out, "FAILING") != 2 {
		t.Errorf("validation while large answers are dropped: %q %v", out, err)
	}

	for _, args := range [][]string{
		{"--as", "op001"},
		{"--as", "op001", "forms", "publish"},
		{"--as", "op001", "forms", "approve", "x", "two"},
		{"--as", "op001", "forms", "reject", "x", "2"},
		{"--as", "op001", "revoke", number},
		{"keys", "list"},
		{"--as", "op001", "--url", "https://x", "keys", "list"},
	} {
		if _, err := adminCmd(args...); !errors.As(err, new(usageError)) {
			t.Errorf("admin %v: %v, want a usage error", args, err)
		}
	}
	for _, args := range [][]string{
		{"--as", "c0001", "issue", "resident-registration-copy", "--id-check", "resident_card", "--purpose", "x"},
		{"--as", "c0001", "issue", "resident-registration-copy", "--rrn", p.RRN, "--business-number", "1", "--id-check", "resident_card", "--purpose", "x"},
		{"--as", "c0001", "document", number},
		{"--as", "nobody", "status"},
	} {
		_, err := counterCmd("", args...)
		if args[1] == "nobody" {
			if err == nil || errors.As(err, new(usageError)) {
				t.Errorf("counter %v: %v, want a refusal", args, err)
			}
			continue
		}
		if !errors.As(err, new(usageError)) {
			t.Errorf("counter %v: %v, want a usage error", args, err)
		}
	}
}

func setFaults(t *testing.T, base, body string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", base+"/_faults", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s/_faults %s: %d", base, body, resp.StatusCode)
	}
}
