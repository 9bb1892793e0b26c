package admin

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/incident"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/pkitest"
)

// fakeIncidents records what it was asked and refuses self-approval as
// the real service does.
type fakeIncidents struct {
	created, opened string
	filter          incident.Filter
}

func (f *fakeIncidents) List(context.Context, int) ([]incident.Summary, error) {
	return []incident.Summary{{Incident: incident.Incident{ID: "inc-1", Grade: 2}}}, nil
}
func (f *fakeIncidents) Show(_ context.Context, id string, _ int) (*incident.Detail, error) {
	if id != "inc-1" {
		return nil, incident.ErrNotFound
	}
	return &incident.Detail{Incident: incident.Incident{ID: id}, Subjects: make([]incident.Subject, 80)}, nil
}
func (f *fakeIncidents) ReportPDF(*incident.Detail) ([]byte, error) { return []byte("%PDF-1.7"), nil }
func (f *fakeIncidents) OpenByHand(context.Context, string, int, string) (string, error) {
	return "inc-2", nil
}
func (f *fakeIncidents) AddNote(context.Context, string, string, string) error { return nil }
func (f *fakeIncidents) MarkReported(context.Context, string, string) error    { return nil }
func (f *fakeIncidents) OpenKeyIncident(_ context.Context, _, keyID, _ string) (string, error) {
	f.opened = keyID
	return "inc-key", nil
}
func (f *fakeIncidents) DryRun(_ context.Context, fl incident.Filter, reason string, _ int) (*incident.Preview, error) {
	f.filter = fl
	return &incident.Preview{Count: 3, Reason: reason}, nil
}
func (f *fakeIncidents) CreateRecall(_ context.Context, actor string, fl incident.Filter, reason string, _ int) (*incident.Recall, error) {
	f.created, f.filter = actor, fl
	return &incident.Recall{ID: "rc-1", IncidentID: "inc-3", State: incident.Pending, CreatedBy: actor, Total: 3}, nil
}
func (f *fakeIncidents) Approve(_ context.Context, actor, id string) (*incident.Recall, error) {
	if actor == f.created {
		return nil, incident.ErrSameOperator
	}
	return &incident.Recall{ID: id, IncidentID: "inc-3", State: incident.Approved, ApprovedBy: actor}, nil
}
func (f *fakeIncidents) RecallStatus(_ context.Context, id string) (*incident.Recall, error) {
	return &incident.Recall{ID: id}, nil
}

func TestIncidentRoutes(t *testing.T) {
	mem := &memAudit{}
	inc := &fakeIncidents{}
	s := &Server{Credentials: fixed(pki.Fresh), Keys: fakeKeys{}, Revoker: fakeRevoker{}, Alerts: fakeAlerts{}, Audit: &audit.Log{Store: mem}, AuditEvents: mem, Incidents: inc, Log: slog.New(slog.DiscardHandler)}
	cases := []struct {
		role         pki.Role
		method, path string
		body         string
		status       int
		code         string
	}{
		{pki.Auditor, "GET", "/admin/v1/reasons", "", 200, ""},
		{pki.Auditor, "GET", "/admin/v1/incidents", "", 200, ""},
		{pki.Auditor, "GET", "/admin/v1/incidents/inc-1", "", 200, ""},
		{pki.Auditor, "GET", "/admin/v1/incidents/inc-9", "", 404, "not_found"},
		{pki.Auditor, "GET", "/admin/v1/incidents/inc-1/report.pdf", "", 200, ""},
		{pki.Auditor, "POST", "/admin/v1/recalls", `{"service":"grade-certificate","reason":"wrong_template"}`, 403, "role_not_allowed"},
		{pki.CounterClerk, "GET", "/admin/v1/incidents", "", 403, "role_not_allowed"},
		{pki.Operator, "POST", "/admin/v1/recalls", `{"from":"yesterday","reason":"wrong_template","dry_run":true}`, 400, "bad_request"},
		{pki.Operator, "POST", "/admin/v1/recalls", `{"agency":"education","from":"2026-11-20","reason":"wrong_template","dry_run":true}`, 200, ""},
		{pki.Operator, "POST", "/admin/v1/incidents", `{"grade":1,"title":"bulk access by one login"}`, 201, ""},
		{pki.PrivacyOfficer, "POST", "/admin/v1/incidents/inc-1/reported", "", 200, ""},
		{pki.PrivacyOfficer, "POST", "/admin/v1/incidents/inc-1/notes", `{"text":"x"}`, 403, "role_not_allowed"},
		{pki.Operator, "POST", "/admin/v1/keys/doc-1/revoke", `{"reason":"key_compromise"}`, 200, ""},
	}
	for _, c := range cases {
		code, body, raw := serve(s, as(t, c.role, c.method, c.path, c.body))
		if code != c.status || body.Error.Code != c.code {
			t.Errorf("%s %s %s: %d %s, want %d %s", c.role, c.method, c.path, code, raw, c.status, c.code)
		}
		if c.path == "/admin/v1/incidents/inc-1" && code == 200 && strings.Count(string(raw), `"subject":`) != showSubjects {
			t.Errorf("show lists %d subjects, want %d", strings.Count(string(raw), `"subject":`), showSubjects)
		}
	}
	if want := time.Date(2026, 11, 19, 15, 0, 0, 0, time.UTC); !inc.filter.From.Equal(want) || inc.filter.Agency != "education" {
		t.Errorf("dry run filter %+v: a bare date is a Korean day", inc.filter)
	}
	if inc.opened != "doc-1" {
		t.Errorf("a key revocation opened no incident")
	}

	// A recall is created by one operator and approved by another.
	_, creator := pkitest.Official(t, pki.Operator)
	if code, _, raw := serve(s, asCred(t, creator, "POST", "/admin/v1/recalls", `{"service":"grade-certificate","reason":"wrong_template"}`)); code != 201 {
		t.Fatalf("create: %d %s", code, raw)
	}
	if code, body, _ := serve(s, asCred(t, creator, "POST", "/admin/v1/recalls/rc-1/approve", "")); code != 403 || body.Error.Code != "second_operator_required" {
		t.Errorf("self-approval: %d %s", code, body.Error.Code)
	}
	if code, _, raw := serve(s, as(t, pki.Operator, "POST", "/admin/v1/recalls/rc-1/approve", "")); code != 202 {
		t.Errorf("approval by a second operator: %d %s", code, raw)
	}
	var actions []string
	for _, e := range mem.events {
		actions = append(actions, e.Action)
	}
	want := "incident_view,incident_report,incident_open,incident_reported,key_revoke,recall_create,recall_approve"
	if got := strings.Join(actions, ","); got != want {
		t.Errorf("audited %s, want %s", got, want)
	}
}
