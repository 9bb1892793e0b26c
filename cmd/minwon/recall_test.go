package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/population"
)

// A recall end to end against a running demo: dry run, creation, refused
// self-approval, a second operator's approval, the run, and the incident's
// report as JSON and PDF.
func TestRecallCommands(t *testing.T) {
	dir, _, _ := startDemo(t, 40, 7)
	w, err := population.Generate(population.Config{People: 40, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	adminCmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := adminCommand(ctx, append([]string{"--data", dir.Path()}, args...), &out)
		return out.String(), err
	}
	var numbers []string
	for _, p := range w.People[:3] {
		var out bytes.Buffer
		err := counterCommand(ctx, []string{"--data", dir.Path(), "--as", "c0001", "issue", "resident-registration-abstract", "--rrn", "-", "--id-check", "resident_card", "--purpose", "은행 제출용"}, strings.NewReader(ident.FormatRRN(p.RRN)+"\n"), &out)
		if err != nil {
			t.Fatalf("issue: %v", err)
		}
		numbers = append(numbers, strings.TrimSuffix(strings.Fields(out.String())[1], ":"))
	}

	if out, err := adminCmd("--as", "op001", "recall", "--service", "resident-registration-abstract", "--template-version", "1", "--reason", "wrong_template", "--dry-run"); err != nil || !strings.Contains(out, "3") {
		t.Errorf("template-version 1: %q %v", out, err)
	}
	if out, err := adminCmd("--as", "op001", "--json", "recall", "--service", "resident-registration-abstract", "--template-version", "2", "--reason", "wrong_template", "--dry-run"); err != nil || !strings.Contains(out, `"count": 0`) {
		t.Errorf("template-version 2: %q %v", out, err)
	}
	if _, err := adminCmd("--as", "op001", "recall", "--service", "resident-registration-abstract", "--reason", "issued to "+w.People[0].RRN[:6]+" "+w.People[0].RRN[6:]); err == nil || !strings.Contains(err.Error(), "resident registration number") {
		t.Errorf("reason with an RRN: %v", err)
	}
	if _, err := adminCmd("--as", "op001", "recall", "--service", "resident-registration-abstract", "--reason", w.People[1].Name+" 오발급"); err == nil || !strings.Contains(err.Error(), "the name of a data subject") {
		t.Errorf("reason with a subject's name: %v", err)
	}
	out, err := adminCmd("--as", "op001", "recall", "--service", "resident-registration-abstract", "--reason", "wrong_fields", "--dry-run")
	if err != nil || !strings.Contains(out, "dry run: 3 documents") || !strings.Contains(out, numbers[0]) {
		t.Fatalf("dry run: %q %v", out, err)
	}
	out, err = adminCmd("--as", "op001", "recall", "--service", "resident-registration-abstract", "--reason", "wrong_fields")
	if err != nil || !strings.Contains(out, "recall of 3 documents is pending") {
		t.Fatalf("recall: %q %v", out, err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	id := lines[len(lines)-1]
	if _, err := adminCmd("--as", "op001", "recall", "approve", id); err == nil || !strings.Contains(err.Error(), "second_operator_required") {
		t.Fatalf("self-approval: %v", err)
	}
	if _, err := adminCmd("--as", "op002", "recall", "approve", id); err != nil {
		t.Fatalf("approve: %v", err)
	}
	var rc struct {
		IncidentID string         `json:"incident_id"`
		State      string         `json:"state"`
		Items      map[string]int `json:"items"`
	}
	for deadline := time.Now().Add(30 * time.Second); rc.State != "done"; {
		if time.Now().After(deadline) {
			t.Fatalf("the recall did not finish: %+v", rc)
		}
		out, err := adminCmd("--as", "au001", "--json", "recall", "show", id)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(out), &rc); err != nil {
			t.Fatal(err)
		}
	}
	if rc.Items["revoked"] != 3 {
		t.Errorf("recall items %v", rc.Items)
	}
	if _, err := adminCmd("--as", "op001", "revoke", numbers[0], "--reason", "again"); err == nil || !strings.Contains(err.Error(), "already_revoked") {
		t.Errorf("a recalled document revoked again: %v", err)
	}
	out, err = adminCmd("--as", "pr001", "incidents", "show", rc.IncidentID)
	if err != nil || !strings.Contains(out, "3 affected documents, 3 affected subjects") || !strings.Contains(out, "official:c0001") || !strings.Contains(out, "notices queued for 3") {
		t.Errorf("incidents show: %q %v", out, err)
	}
	for _, name := range []string{"report.json", "report.pdf"} {
		path := filepath.Join(t.TempDir(), name)
		if _, err := adminCmd("--as", "pr001", "incidents", "show", rc.IncidentID, "--out", path); err != nil {
			t.Fatalf("report %s: %v", name, err)
		}
		raw, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(raw, []byte(map[string]string{"report.json": `"document_count":3`, "report.pdf": "%PDF-"}[name])) {
			t.Errorf("report %s: %.200q %v", name, raw, err)
		}
		for _, p := range w.People[:3] {
			if bytes.Contains(raw, []byte(p.Name)) || bytes.Contains(raw, []byte(p.RRN)) {
				t.Errorf("report %s holds personal data", name)
			}
		}
	}
	out, err = adminCmd("--as", "au001", "incidents", "list")
	if err != nil || !strings.Contains(out, rc.IncidentID) || !strings.Contains(out, "recall") {
		t.Errorf("incidents list: %q %v", out, err)
	}
	out, err = adminCmd("--as", "op001", "reasons")
	if err != nil || !strings.Contains(out, "wrong_template") {
		t.Errorf("reasons: %q %v", out, err)
	}
}
