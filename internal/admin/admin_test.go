package admin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/keyring"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/pkitest"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/verification"
)

type fakeKeys struct{ err error }

func (f fakeKeys) KeySet(context.Context) (verification.KeySetJSON, error) {
	return verification.KeySetJSON{}, f.err
}
func (f fakeKeys) Rotate(context.Context) (string, error)       { return "k2", f.err }
func (f fakeKeys) Revoke(context.Context, string, string) error { return f.err }

type fakeRevoker struct{ err error }

func (f fakeRevoker) Revoke(_ context.Context, number, reason string) (*issuance.Revocation, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &issuance.Revocation{Number: number, Reason: reason, At: time.Now()}, nil
}

type fakeAlerts struct{}

func (fakeAlerts) Alerts(context.Context, int) ([]issuance.Alert, error) { return nil, nil }

type memAudit struct{ events []audit.Event }

func (m *memAudit) InsertAudit(_ context.Context, e audit.Event) error {
	e.Seq = int64(len(m.events)) + 1
	if len(m.events) > 0 {
		e.PrevHash = m.events[len(m.events)-1].Hash
	}
	e.Hash = audit.ChainHash(e.PrevHash, e.Seq, e)
	m.events = append(m.events, e)
	return nil
}

func (m *memAudit) AuditChain(_ context.Context, after int64, limit int) ([]audit.Event, error) {
	return m.events[min(int(after), len(m.events)):min(int(after)+limit, len(m.events))], nil
}

func (m *memAudit) AuditRows(context.Context) (int64, error) { return int64(len(m.events)), nil }

func (m *memAudit) AuditHead(context.Context) (int64, string, error) {
	if len(m.events) == 0 {
		return 0, "", nil
	}
	return int64(len(m.events)), m.events[len(m.events)-1].Hash, nil
}

func (m *memAudit) AuditEvents(context.Context, store.AuditQuery) ([]audit.Event, error) {
	return m.events, nil
}

// fixed says every certificate is in the given state.
type fixed pki.State

func (f fixed) Status(*x509.Certificate) pki.Status {
	return pki.Status{State: pki.State(f), Reason: "revoked"}
}

// as returns a request carrying a verified certificate of a new official
// with role, as the TLS layer hands it to the handler.
func as(t *testing.T, role pki.Role, method, path, body string) *http.Request {
	t.Helper()
	_, cred := pkitest.Official(t, role)
	return asCred(t, cred, method, path, body)
}

// asCred is as for a given official's credential.
func asCred(t *testing.T, cred pki.Credential, method, path, body string) *http.Request {
	t.Helper()
	certs, err := pki.ReadCerts(cred.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{certs}}
	return r
}

func serve(s *Server, r *http.Request) (int, apiwire.ErrorBody, []byte) {
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, r)
	raw, _ := io.ReadAll(rec.Body)
	var body apiwire.ErrorBody
	json.Unmarshal(raw, &body)
	return rec.Code, body, raw
}

// The admin API answers from the same table as the portal's API.
func TestAdminErrorsComeFromTheTable(t *testing.T) {
	for _, c := range []struct {
		path   string
		body   string
		err    error
		status int
		code   string
	}{
		{"/admin/v1/keys/k1/revoke", `{"reason":"lost"}`, keyring.ErrUnknownKey, 404, "unknown_key"},
		{"/admin/v1/keys/k1/revoke", `{"reason":"lost"}`, keyring.ErrAlreadyRevoked, 409, "already_revoked"},
		{"/admin/v1/keys/k1/revoke", `{"reason":""}`, keyring.ErrBadReason, 400, "bad_reason"},
		{"/admin/v1/keys/k1/revoke", `{"reason":"leaked by 900101-1234568"}`, nil, 400, "reason_has_rrn"},
		{"/admin/v1/revocations", `{"number":"1","reason":"x"}`, issuance.ErrAlreadyRevoked, 409, "already_revoked"},
		{"/admin/v1/revocations", `{"number":"1","reason":"x"}`, issuance.ErrNotFound, 404, "not_found"},
		{"/admin/v1/revocations", `{"number":"1","reason":"x"}`, fmt.Errorf("%w: %w", issuance.ErrBadRequest, issuance.ErrReasonHasPII), 400, "bad_request"},
		{"/admin/v1/revocations", `{"number":"1","reason":"x"}`, errors.New("disk on fire"), 500, "internal"},
	} {
		s := &Server{Credentials: fixed(pki.Fresh), Keys: fakeKeys{c.err}, Revoker: fakeRevoker{c.err}, Audit: &audit.Log{Store: &memAudit{}}, Log: slog.New(slog.DiscardHandler)}
		code, body, raw := serve(s, as(t, pki.Operator, http.MethodPost, c.path, c.body))
		if code != c.status || body.Error.Code != c.code {
			t.Errorf("%s with %v: %d %s, want %d %s", c.path, c.err, code, raw, c.status, c.code)
		}
	}
}

// Who may do what, and every change is attributed.
func TestAdminRolesAndAudit(t *testing.T) {
	mem := &memAudit{}
	s := &Server{Credentials: fixed(pki.Fresh), Keys: fakeKeys{}, Revoker: fakeRevoker{}, Alerts: fakeAlerts{}, Audit: &audit.Log{Store: mem}, AuditEvents: mem, Log: slog.New(slog.DiscardHandler)}
	cases := []struct {
		role         pki.Role
		method, path string
		body         string
		status       int
	}{
		{pki.Operator, "POST", "/admin/v1/keys/rotate", "", 201},
		{pki.Operator, "POST", "/admin/v1/revocations", `{"number":"1234567890123452","reason":"issued in error"}`, 201},
		{pki.Operator, "GET", "/admin/v1/keys", "", 200},
		{pki.Operator, "GET", "/admin/v1/audit", "", 403},
		{pki.Auditor, "GET", "/admin/v1/audit?subject=P123", "", 200},
		{pki.Auditor, "GET", "/admin/v1/alerts", "", 200},
		{pki.Auditor, "POST", "/admin/v1/keys/rotate", "", 403},
		{pki.PrivacyOfficer, "POST", "/admin/v1/revocations", `{"number":"1","reason":"x"}`, 403},
		{pki.PrivacyOfficer, "GET", "/admin/v1/audit?limit=5000", "", 400},
		{pki.CounterClerk, "GET", "/admin/v1/keys", "", 403},
		{pki.CounterClerk, "GET", "/admin/v1/whoami", "", 403},
		{pki.Operator, "GET", "/admin/v1/whoami", "", 200},
		{pki.Operator, "GET", "/admin/v1/audit/verify", "", 403},
		{pki.Auditor, "GET", "/admin/v1/audit/verify", "", 200},
	}
	for _, c := range cases {
		code, _, raw := serve(s, as(t, c.role, c.method, c.path, c.body))
		if code != c.status {
			t.Errorf("%s %s %s: %d %s, want %d", c.role, c.method, c.path, code, raw, c.status)
		}
	}
	var actions []string
	for _, e := range mem.events {
		if e.ActorKind != audit.Operator || e.Actor == "" || e.Office == "" {
			t.Errorf("unattributed event %+v", e)
		}
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "key_rotate,document_revoke,audit_view,audit_verify" {
		t.Errorf("audited actions %s", got)
	}

	if n, brk, err := audit.Verify(t.Context(), mem); n != int64(len(mem.events)) || brk != nil || err != nil {
		t.Errorf("chain of the admin's records: %d, %v, %v", n, brk, err)
	}

	// No certificate, or a locked credential: refused before any handler.
	r := httptest.NewRequest("GET", "/admin/v1/keys", nil)
	if code, body, _ := serve(s, r); code != 401 || body.Error.Code != "official_certificate_required" {
		t.Errorf("no certificate: %d %s", code, body.Error.Code)
	}
	s.Credentials = fixed(pki.Locked)
	if code, body, _ := serve(s, as(t, pki.Operator, "GET", "/admin/v1/keys", "")); code != 403 || body.Error.Code != "credential_locked" {
		t.Errorf("locked: %d %s", code, body.Error.Code)
	}
}
