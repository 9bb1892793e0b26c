// Package admin is the operators' side of minwon: the admin API under
// /admin/v1 on its own mutual-TLS listener, and the client behind
// `minwon admin`. Every caller is an official of the government PKI whose
// certificate names the role (operator, privacy officer, auditor) and the
// office; every action is audited under that name. There is no shared
// token: a leaked one would act for everybody and be attributable to nobody
// (the 2025 leak ran for five months on one unrevoked signing key).
// Package admin never prints a certificate's key.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/guard"
	"github.com/minwon/minwon/internal/httpjson"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/keyring"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/verification"
)

type keyAdmin interface {
	KeySet(ctx context.Context) (verification.KeySetJSON, error)
	Rotate(ctx context.Context) (string, error)
	Revoke(ctx context.Context, id, reason string) error
}

type revoker interface {
	Revoke(ctx context.Context, number, reason string) (*issuance.Revocation, error)
}

type alerts interface {
	Alerts(ctx context.Context, limit int) ([]issuance.Alert, error)
}

type auditLog interface {
	Record(ctx context.Context, e audit.Event) error
}

type auditReader interface {
	AuditEvents(ctx context.Context, q store.AuditQuery) ([]audit.Event, error)
	audit.ChainReader
}

type bulkGuard interface {
	Limits() guard.Limits
	Blocked() []guard.Block
	Unblock(principal string) bool
}

// validation reports on the path to the validation service.
type validation interface {
	Info() pki.Info
	Health(ctx context.Context) []pki.Probe
}

// Server is the admin API with its collaborators.
type Server struct {
	Credentials pki.CredentialChecker
	// Validation, if set, backs GET /admin/v1/validation.
	Validation  validation
	Keys        keyAdmin
	Revoker     revoker
	Alerts      alerts
	Audit       auditLog
	AuditEvents auditReader
	// Forms, if set, backs /admin/v1/forms (form governance).
	Forms forms
	// Incidents, if set, backs incidents and recalls, and a revoked key
	// opens an incident.
	Incidents incidents
	// Guard, if set, backs GET /admin/v1/limits and the unblocking of a
	// principal blocked for bulk access.
	Guard bulkGuard
	// Metrics, if set, is served at GET /metrics to operators and
	// auditors (package metrics). Scrapes are not audited: metrics hold
	// no personal data, and a scrape every few seconds would drown the
	// audit log.
	Metrics http.Handler
	// Health, if set, adds GET /livez and GET /readyz (package health)
	// for any official the listener admits: a probe needs no role.
	Health interface{ Register(*http.ServeMux) }
	Log    *slog.Logger
}

// Who may do what. Reading is for every central role; changing keys and
// documents is for operators; the audit log (whose data was used, by whom)
// is for the auditor and the privacy officer.
var (
	readers  = []pki.Role{pki.Operator, pki.PrivacyOfficer, pki.Auditor}
	changers = []pki.Role{pki.Operator}
	auditors = []pki.Role{pki.Auditor, pki.PrivacyOfficer}
	// scrapers may read the metrics: the operators who run minwon and the
	// auditors who watch it.
	scrapers = []pki.Role{pki.Operator, pki.Auditor}
)

// Handler returns the admin routes. Serve it with a TLS config from
// pki.ServerTLS.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/v1/whoami", s.as(readers, s.whoami))
	mux.HandleFunc("GET /admin/v1/keys", s.as(readers, s.keys))
	mux.HandleFunc("POST /admin/v1/keys/rotate", s.as(changers, s.rotate))
	mux.HandleFunc("POST /admin/v1/keys/{id}/revoke", s.as(changers, s.revokeKey))
	mux.HandleFunc("POST /admin/v1/revocations", s.as(changers, s.revoke))
	mux.HandleFunc("GET /admin/v1/alerts", s.as(readers, s.alerts))
	mux.HandleFunc("GET /admin/v1/audit", s.as(auditors, s.audit))
	s.incidentRoutes(mux)
	mux.HandleFunc("GET /admin/v1/audit/verify", s.as(auditors, s.auditVerify))
	if s.Guard != nil {
		mux.HandleFunc("GET /admin/v1/limits", s.as(readers, s.limits))
		mux.HandleFunc("POST /admin/v1/limits/unblock", s.as(changers, s.unblock))
	}
	if s.Validation != nil {
		mux.HandleFunc("GET /admin/v1/validation", s.as(readers, s.validation))
	}
	s.formRoutes(mux)
	if s.Metrics != nil {
		mux.HandleFunc("GET /metrics", s.as(scrapers, func(w http.ResponseWriter, r *http.Request, _ pki.Caller) {
			s.Metrics.ServeHTTP(w, r)
		}))
	}
	if s.Health != nil {
		s.Health.Register(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Error(w, http.StatusNotFound, "not_found", "no such admin endpoint")
	})
	return httpjson.NoStore(mux)
}

// as admits a caller whose verified certificate names an official with
// one of roles and an unlocked credential.
func (s *Server) as(roles []pki.Role, h func(http.ResponseWriter, *http.Request, pki.Caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := pki.CallerOf(r.TLS, s.Credentials)
		if err == nil {
			err = c.Acting()
		}
		if err == nil {
			err = c.May(roles...)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r.WithContext(audit.WithOrigin(r.Context(), r.RemoteAddr)), c)
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpjson.Fail(w, r, s.Log, err)
}

// record audits an operator's action; an action that cannot be audited is
// answered as failed (it took effect: a retry is idempotent or refused as
// already done, and is audited then).
func (s *Server) record(ctx context.Context, c pki.Caller, action, number, detail string) error {
	return s.recordAbout(ctx, c, action, "", number, detail)
}

// recordAbout audits an operator's action on subject's data.
func (s *Server) recordAbout(ctx context.Context, c pki.Caller, action, subject, number, detail string) error {
	return s.Audit.Record(ctx, audit.Event{ActorKind: audit.Operator, Actor: c.ID, Role: string(c.Role), Office: c.Office, Action: action, Subject: subject, Number: number, Detail: detail})
}

// WhoAmI is the answer of GET /admin/v1/whoami.
type WhoAmI struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Office     string `json:"office"`
	Role       string `json:"role"`
	Credential string `json:"credential"`
	GraceUntil string `json:"grace_until,omitempty"`
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	out := WhoAmI{ID: c.ID, Name: c.Name, Office: c.Office, Role: string(c.Role), Credential: string(c.Status.State)}
	if !c.Status.GraceUntil.IsZero() {
		out.GraceUntil = c.Status.GraceUntil.UTC().Format(time.RFC3339)
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (s *Server) keys(w http.ResponseWriter, r *http.Request, _ pki.Caller) {
	ks, err := s.Keys.KeySet(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, ks)
}

// KeyState is the answer to a key rotation or revocation.
type KeyState struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Incident is the incident a revocation opened.
	Incident string `json:"incident,omitempty"`
}

func (s *Server) rotate(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	id, err := s.Keys.Rotate(r.Context())
	if err == nil {
		err = s.record(r.Context(), c, "key_rotate", "", "new document key "+id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, KeyState{ID: id, State: keyring.Active})
}

// ReasonRequest is the body of a revocation.
type ReasonRequest struct {
	Number string `json:"number,omitempty"`
	Reason string `json:"reason"`
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	var in ReasonRequest
	if !httpjson.Decode(w, r, &in) {
		return
	}
	id := r.PathValue("id")
	// The reason is published with the key set: refuse an RRN or a
	// name before anything is revoked.
	reason, err := issuance.PublicReason(in.Reason, nil)
	if err != nil {
		// Answered with the rule's own code, as before the check moved.
		for _, rule := range []error{keyring.ErrBadReason, issuance.ErrReasonHasPII, issuance.ErrReasonHasName} {
			if errors.Is(err, rule) {
				err = rule
				break
			}
		}
		s.fail(w, r, err)
		return
	}
	err = s.Keys.Revoke(r.Context(), id, reason)
	if err == nil {
		err = s.record(r.Context(), c, "key_revoke", "", "key "+id+" reason="+reason)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := KeyState{ID: id, State: keyring.Revoked}
	if s.Incidents != nil {
		// A lost key is an incident: everything it signed is affected.
		inc, err := s.Incidents.OpenKeyIncident(r.Context(), c.ID, id, reason)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out.Incident = inc
	}
	httpjson.Write(w, http.StatusOK, out)
}

// Revocation is the answer to a document revocation.
type Revocation struct {
	Number    string `json:"number"`
	Reason    string `json:"reason"`
	RevokedAt string `json:"revoked_at"`
	LogIndex  int64  `json:"log_index"`
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	var in ReasonRequest
	if !httpjson.Decode(w, r, &in) {
		return
	}
	rev, err := s.Revoker.Revoke(r.Context(), in.Number, in.Reason)
	if err == nil {
		err = s.recordAbout(r.Context(), c, audit.ActRevoke, rev.Subject, rev.Number, "reason="+rev.Reason)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, Revocation{Number: rev.Number, Reason: rev.Reason, RevokedAt: rev.At.Format(time.RFC3339Nano), LogIndex: rev.LogIndex})
}

// Alert is one pre-issuance refusal as listed.
type Alert struct {
	At        string `json:"at"`
	Kind      string `json:"kind"`
	Service   string `json:"service"`
	Requester string `json:"requester_login"`
	Detail    string `json:"detail"`
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request, _ pki.Caller) {
	list, err := s.Alerts.Alerts(r.Context(), 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]Alert, len(list))
	for i, al := range list {
		out[i] = Alert{al.At.Format(time.RFC3339Nano), al.Kind, al.Service, al.RequesterLogin, al.Detail}
	}
	httpjson.Write(w, http.StatusOK, out)
}

// AuditEvent is one audit record as listed.
type AuditEvent struct {
	At        string `json:"at"`
	ActorKind string `json:"actor_kind"`
	Actor     string `json:"actor"`
	Role      string `json:"role,omitempty"`
	Office    string `json:"office,omitempty"`
	From      string `json:"from,omitempty"`
	Action    string `json:"action"`
	Service   string `json:"service,omitempty"`
	Subject   string `json:"subject,omitempty"`
	Number    string `json:"number,omitempty"`
	Purpose   string `json:"purpose,omitempty"`
	Detail    string `json:"detail,omitempty"`
	Seq       int64  `json:"seq"`
	Hash      string `json:"hash"`
}

// audit lists audit records (?subject=, ?actor=, ?limit=); reading them is
// itself audited, since they say whose data was used.
func (s *Server) audit(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	q := store.AuditQuery{Subject: r.URL.Query().Get("subject"), Actor: r.URL.Query().Get("actor"), Limit: 100}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			httpjson.Error(w, http.StatusBadRequest, "bad_request", "limit must be between 1 and 1000")
			return
		}
		q.Limit = n
	}
	if err := s.Audit.Record(r.Context(), audit.Event{ActorKind: audit.Operator, Actor: c.ID, Role: string(c.Role), Office: c.Office, Action: audit.ActAuditView, Subject: q.Subject, Detail: suffixed("actor=", q.Actor)}); err != nil {
		s.fail(w, r, err)
		return
	}
	events, err := s.AuditEvents.AuditEvents(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]AuditEvent, len(events))
	for i, e := range events {
		out[i] = AuditEvent{At: e.At.Format(time.RFC3339Nano), ActorKind: e.ActorKind, Actor: e.Actor, Role: e.Role, Office: e.Office, From: e.From, Action: e.Action,
			Service: e.Service, Subject: e.Subject, Number: e.Number, Purpose: e.Purpose, Detail: e.Detail, Seq: e.Seq, Hash: e.Hash}
	}
	httpjson.Write(w, http.StatusOK, out)
}

// AuditVerifyJSON is the answer of GET /admin/v1/audit/verify.
type AuditVerifyJSON struct {
	Records int64        `json:"records"`
	OK      bool         `json:"ok"`
	Broken  *audit.Break `json:"first_broken,omitempty"`
}

// auditVerify walks the whole audit chain and reports its first broken
// link.
func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	n, brk, err := audit.Verify(r.Context(), s.AuditEvents)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.record(r.Context(), c, "audit_verify", "", fmt.Sprintf("records=%d ok=%t", n, brk == nil)); err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, AuditVerifyJSON{Records: n, OK: brk == nil, Broken: brk})
}

// LimitsJSON is the answer of GET /admin/v1/limits: the bulk-access limits
// in force (windows in seconds) and who is blocked now.
type LimitsJSON struct {
	Rules    map[string]RuleJSON `json:"rules"`
	BlockFor int64               `json:"block_for_seconds"`
	Blocked  []guard.Block       `json:"blocked"`
}

// RuleJSON is one limit.
type RuleJSON struct {
	WindowSeconds int64 `json:"window_seconds"`
	Alert         int   `json:"alert_above"`
	Block         int   `json:"block_above"`
	Distinct      bool  `json:"distinct_subjects"`
}

func (s *Server) limits(w http.ResponseWriter, r *http.Request, _ pki.Caller) {
	l := s.Guard.Limits()
	out := LimitsJSON{Rules: map[string]RuleJSON{}, BlockFor: int64(l.BlockFor / time.Second), Blocked: s.Guard.Blocked()}
	for a, rule := range l.Rules {
		out.Rules[a] = RuleJSON{int64(rule.Window / time.Second), rule.Alert, rule.Block, rule.Distinct}
	}
	if out.Blocked == nil {
		out.Blocked = []guard.Block{}
	}
	httpjson.Write(w, http.StatusOK, out)
}

// UnblockRequest is the body of POST /admin/v1/limits/unblock.
type UnblockRequest struct {
	Principal string `json:"principal"`
	Reason    string `json:"reason"`
}

// unblock lifts a bulk-access block, attributed and with a reason.
func (s *Server) unblock(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	var in UnblockRequest
	if !httpjson.Decode(w, r, &in) {
		return
	}
	if in.Principal == "" || strings.TrimSpace(in.Reason) == "" {
		httpjson.Error(w, http.StatusBadRequest, "bad_request", "principal and reason are required")
		return
	}
	if !s.Guard.Unblock(in.Principal) {
		httpjson.Error(w, http.StatusNotFound, "not_found", "that principal is not blocked")
		return
	}
	if err := s.record(r.Context(), c, "bulk_unblock", "", "principal="+in.Principal+" reason="+in.Reason); err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]string{"unblocked": in.Principal})
}

// suffixed is prefix+s, or "" for an empty s.
func suffixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// ValidationJSON is the answer of GET /admin/v1/validation: the revocation
// data the credentials are decided with, and a health check of the path
// to the validation service at realistic sizes.
type ValidationJSON struct {
	pki.Info
	Probes []pki.Probe `json:"probes"`
	OK     bool        `json:"ok"`
}

func (s *Server) validation(w http.ResponseWriter, r *http.Request, _ pki.Caller) {
	out := ValidationJSON{Info: s.Validation.Info(), Probes: s.Validation.Health(r.Context()), OK: true}
	for _, p := range out.Probes {
		out.OK = out.OK && p.OK
	}
	httpjson.Write(w, http.StatusOK, out)
}
