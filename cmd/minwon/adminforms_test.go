package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/formtest"
)

// TestFormsCommands walks a template change through `minwon admin forms`
// on a running demo, as operators would: the 2024 edit refused naming the
// slot, a relabel submitted, the four-eyes rule, the canary, the diff and
// a rollback.
func TestFormsCommands(t *testing.T) {
	dir, _, _ := startDemo(t, 40, 5)
	ctx := t.Context()
	adminCmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := adminCommand(ctx, append([]string{"--data", dir.Path()}, args...), &out)
		return out.String(), err
	}
	templates, _, err := form.BuiltinFiles()
	if err != nil {
		t.Fatal(err)
	}
	const id = "corporate-tax-payment-certificate"
	files := t.TempDir()
	replay := filepath.Join(files, "replay.json")
	os.WriteFile(replay, formtest.Replay2024(templates[id]), 0o600)
	relabel := filepath.Join(files, "relabel.json")
	os.WriteFile(relabel, []byte(strings.Replace(string(templates[id]), `"label_ko": "법인명(상호)"`, `"label_ko": "법인명"`, 1)), 0o600)

	_, err = adminCmd("--as", "op001", "forms", "submit", replay)
	if err == nil || errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "form_refused") || !strings.Contains(err.Error(), "slot company_name (법인명(상호)) must carry class company_name") {
		t.Fatalf("the 2024 edit: %v", err)
	}
	out, err := adminCmd("--as", "op001", "forms", "submit", relabel)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != id+" 2" {
		t.Fatalf("submit's last line %q, want %q", last, id+" 2")
	}
	if _, err := adminCmd("--as", "au001", "forms", "approve", id, "2"); err == nil || !strings.Contains(err.Error(), "role_not_allowed") {
		t.Fatalf("auditor approves: %v", err)
	}
	if _, err := adminCmd("--as", "op001", "forms", "approve", id, "2"); err == nil || !strings.Contains(err.Error(), "own_version") {
		t.Fatalf("author approves: %v", err)
	}
	if out, err := adminCmd("--as", "op002", "forms", "approve", id, "2"); err != nil || !strings.Contains(out, "waits for a second approval") {
		t.Fatalf("first approval: %q %v", out, err)
	}
	if _, err := adminCmd("--as", "op002", "forms", "approve", id, "2"); err == nil || !strings.Contains(err.Error(), "already_approved") {
		t.Fatalf("second approval by the same official: %v", err)
	}
	out, err = adminCmd("--as", "op003", "forms", "show", id)
	if err != nil || !strings.Contains(out, "- 법인명(상호)") || !strings.Contains(out, "+ 법인명") || !strings.Contains(out, "corporation in arrears") {
		t.Fatalf("show: %q %v", out, err)
	}
	if out, err := adminCmd("--as", "pr001", "forms", "approve", id, "2"); err != nil || !strings.Contains(out, "canary") {
		t.Fatalf("privacy officer's approval: %q %v", out, err)
	}
	out, err = adminCmd("--as", "au001", "forms", "list")
	if err != nil || !strings.Contains(out, "v2: 0/200 documents") {
		t.Fatalf("list: %q %v", out, err)
	}
	out, err = adminCmd("--as", "op003", "forms", "rollback", id, "--reason", "label to be checked against the form annex")
	if err != nil || !strings.Contains(out, "v2 rolled back; v1 serves now") {
		t.Fatalf("rollback: %q %v", out, err)
	}
	out, err = adminCmd("--as", "au001", "audit", "--actor", "pr001")
	if err != nil || !strings.Contains(out, "form_approve") {
		t.Fatalf("audit of the approval: %q %v", out, err)
	}
}
