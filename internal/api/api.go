// Package api serves minwon's JSON API under /api/v1. Handlers are thin:
// decode, call one domain function, encode. Every error is
// {"error":{"code","message"}} (apiwire.ErrorBody) with the status and code
// the one error table (package httperr) gives it; never a stack trace, never
// another person's data.
package api

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/credential"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/httpjson"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/portal"
)

// Server holds the API's collaborators.
type Server struct {
	Catalog  *form.Catalog
	Agencies portal.AgencyHealth
	Sessions portal.Sessions
	Profiles portal.Profiles
	Issuer   portal.Issuer
	Verifier portal.Verifier
	Uploads  portal.Uploads
	// CheckCodes, if set, serves /api/v1/verify/{number}/document: the
	// document for its number and document-check code.
	CheckCodes portal.CheckCodes
	// Credentials, if set, serves each document as an SD-JWT VC and the
	// status list.
	Credentials portal.Credentials
	Keys        publicKeys
	Access      portal.AccessLog
	Inbox       portal.Inbox
	Casework    portal.Casework
	Log         *slog.Logger
	// SecureCookies marks the session cookie Secure (set when served over TLS).
	SecureCookies bool
}

// SessionCookie is the name of the session cookie.
const SessionCookie = auth.SessionCookie

// Handler returns the API routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/services", s.services)
	mux.HandleFunc("GET /api/v1/status", s.status)
	mux.HandleFunc("POST /api/v1/login", s.login)
	mux.HandleFunc("POST /api/v1/logout", s.logout)
	mux.HandleFunc("POST /api/v1/sessions/end-others", s.authed(s.endOthers))
	mux.HandleFunc("GET /api/v1/me", s.authed(s.me))
	mux.HandleFunc("POST /api/v1/issuances", s.authed(s.issue))
	mux.HandleFunc("GET /api/v1/issuances", s.authed(s.list))
	mux.HandleFunc("GET /api/v1/issuances/{number}", s.authed(s.get))
	mux.HandleFunc("GET /api/v1/issuances/{number}/document.pdf", s.authed(s.pdf))
	mux.HandleFunc("GET /api/v1/issuances/{number}/data.json", s.authed(s.data))
	if s.Credentials != nil {
		mux.HandleFunc("GET /api/v1/issuances/{number}/credential.sd-jwt", s.authed(s.credential))
		mux.HandleFunc("GET "+credential.StatusPath, s.statusList)
	}
	if s.Access != nil {
		mux.HandleFunc("GET /api/v1/access-log", s.authed(s.accessLog))
	}
	if s.Inbox != nil {
		mux.HandleFunc("GET /api/v1/notifications", s.authed(s.notifications))
		mux.HandleFunc("POST /api/v1/notifications/{id}/read", s.authed(s.readNotification))
	}
	if s.Casework != nil {
		mux.HandleFunc("POST /api/v1/applications", s.authed(s.submitApplication))
		mux.HandleFunc("GET /api/v1/applications", s.authed(s.listApplications))
		mux.HandleFunc("GET /api/v1/applications/{id}", s.authed(s.getApplication))
		mux.HandleFunc("GET /api/v1/lookups/{service}", s.authed(s.lookup))
	}
	mux.HandleFunc("POST /api/v1/verify", s.verify)
	if s.CheckCodes != nil {
		mux.HandleFunc("POST /api/v1/verify/{number}/document", s.checkedDocument)
		mux.HandleFunc("POST /api/v1/verify/{number}/document.pdf", s.checkedPDF)
	}
	mux.HandleFunc("GET /api/v1/keys", s.keys)
	const catchAll = "/api/v1/"
	mux.HandleFunc(catchAll, func(w http.ResponseWriter, r *http.Request) {
		// The catch-all matches every method, so the mux never answers
		// 405 itself: a known path asked with another method says so.
		if allow := httpjson.Allowed(mux, r, catchAll); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			httpjson.Error(w, http.StatusMethodNotAllowed, "method_not_allowed", "this endpoint answers only "+strings.Join(allow, ", "))
			return
		}
		httpjson.Error(w, http.StatusNotFound, "not_found", "no such API endpoint")
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpjson.Error(w, http.StatusForbidden, "cross_origin", "cross-origin requests may not act with the session cookie; send the token as Authorization: Bearer TOKEN")
	}))
	return httpjson.NoStore(cookieOrigin(cop, mux))
}

// cookieOrigin refuses cross-site unsafe requests that ride the session
// cookie, with the same check the pages use (http.CrossOriginProtection:
// Sec-Fetch-Site, then Origin against Host). A browser attaches the cookie
// to any site's request; it never attaches an Authorization header, so
// bearer-token calls, and calls with no cookie at all, pass unchecked.
func cookieOrigin(cop *http.CrossOriginProtection, h http.Handler) http.Handler {
	checked := cop.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
				checked.ServeHTTP(w, r)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) services(w http.ResponseWriter, r *http.Request) {
	list := s.Catalog.Services()
	out := make([]apiwire.Service, len(list))
	for i, svc := range list {
		req := make([]string, len(svc.Requesters))
		for j, r := range svc.Requesters {
			req[j] = string(r)
		}
		out[i] = apiwire.Service{ID: svc.ID, Kind: string(svc.Kind), Title: svc.Title, TitleKo: svc.TitleKo, Agency: svc.Agency, Requesters: req, Version: svc.Version}
	}
	httpjson.Write(w, http.StatusOK, out)
}

type statusJSON struct {
	Status   string                 `json:"status"` // "ok" or "degraded"
	Agencies []linkage.AgencyStatus `json:"agencies"`
	Degraded []string               `json:"degraded_services,omitempty"`
	// Waiting counts, per agency, the submitted applications and reports
	// that wait for it (tried and failed at least once).
	Waiting map[string]int `json:"waiting_submissions,omitempty"`
}

// status reports each agency's health and the services it degrades.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ps := portal.Status(s.Catalog, s.Agencies)
	st := statusJSON{Status: "ok", Agencies: ps.Agencies}
	if !ps.OK {
		st.Status = "degraded"
	}
	for _, svc := range ps.Degraded {
		st.Degraded = append(st.Degraded, svc.ID)
	}
	if s.Casework != nil {
		if n, err := s.Casework.Waiting(r.Context()); err == nil && len(n) > 0 {
			st.Waiting = n
		}
	}
	httpjson.Write(w, http.StatusOK, st)
}

// decode reads a JSON body of at most 64 KiB into v, refusing other
// content types (which also stops cross-site form posts riding a cookie).

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in apiwire.LoginRequest
	if !httpjson.Decode(w, r, &in) {
		return
	}
	if in.Login == "" || in.Password == "" || len(in.Login) > 128 || len(in.Password) > 1024 {
		httpjson.Error(w, http.StatusBadRequest, "bad_request", "login and password are required")
		return
	}
	// The client's address is the connection's: a proxy header is
	// anyone's to forge.
	token, expires, _, err := s.Sessions.Login(r.Context(), in.Login, in.Password, r.RemoteAddr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode,
	})
	out := apiwire.LoginResponse{Token: token, ExpiresAt: expires.UTC().Format(time.RFC3339)}
	if n, err := s.Sessions.OtherSessions(r.Context(), token); err == nil {
		out.OtherSessions = &n
	} else if s.Log != nil {
		s.Log.WarnContext(r.Context(), "count other sessions", "err", err)
	}
	httpjson.Write(w, http.StatusOK, out)
}

// endOthers ends the caller's other sessions (say, on a lost phone).
func (s *Server) endOthers(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	n, err := s.Sessions.EndOtherSessions(r.Context(), token(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, apiwire.EndOthersResponse{Ended: n})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if tok := token(r); tok != "" {
		if err := s.Sessions.Logout(r.Context(), tok); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
	httpjson.Write(w, http.StatusOK, apiwire.LogoutResponse{Status: "logged_out"})
}

// token returns the session token from the Authorization header or cookie.
func token(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

func (s *Server) authed(h func(http.ResponseWriter, *http.Request, auth.Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := token(r)
		if tok == "" {
			httpjson.Error(w, http.StatusUnauthorized, "unauthenticated", "log in first (POST /api/v1/login) and send the token as Authorization: Bearer TOKEN")
			return
		}
		p, err := s.Sessions.Authenticate(r.Context(), tok)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r.WithContext(audit.WithOrigin(r.Context(), r.RemoteAddr)), p)
	}
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	prof, err := s.Profiles.Profile(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := apiwire.Profile{Subject: prof.Subject, Name: prof.Name}
	for _, rel := range prof.Relations {
		out.Relations = append(out.Relations, apiwire.Relation{Subject: rel.Subject, Name: rel.Name, Relation: rel.Relation, Minor: rel.Minor, Role: rel.Role})
	}
	httpjson.Write(w, http.StatusOK, out)
}

func toJSON(is *issuance.Issued) apiwire.Issued {
	base := "/api/v1/issuances/" + string(is.Number)
	return apiwire.Issued{
		Number: string(is.Number), Service: is.Service, Subject: is.Subject,
		IssuedAt: is.IssuedAt.UTC().Format(time.RFC3339Nano), SHA256: is.SHA256, LogIndex: is.LogIndex,
		Document: base + "/document.pdf", Data: base + "/data.json", Verify: "/verify/" + string(is.Number),
		Credential: base + "/credential.sd-jwt",
	}
}

func (s *Server) issue(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var in apiwire.IssuanceRequest
	if !httpjson.Decode(w, r, &in) {
		return
	}
	is, err := s.Issuer.Issue(r.Context(), issuance.Request{
		Principal: p, Service: in.Service, Subject: in.Subject,
		ShowRRNBack: in.Options.ShowRRNBack, ShowRelations: in.Options.ShowRelations,
		ShowMemberRRNBack: in.Options.ShowMemberRRNBack, ShowAddressHistory: in.Options.ShowAddressHistory,
		SchoolLevel: in.Options.SchoolLevel, Purpose: in.Options.Purpose,
		IdempotencyKey: r.Header.Get("Idempotency-Key"),
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, toJSON(is))
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	list, err := s.Issuer.List(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]apiwire.Issued, len(list))
	for i, is := range list {
		out[i] = toJSON(is)
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	is, err := s.Issuer.Get(r.Context(), p, r.PathValue("number"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, toJSON(is))
}

func (s *Server) pdf(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	pdf, _, err := s.Issuer.Files(r.Context(), p, r.PathValue("number"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="minwon-`+r.PathValue("number")+`.pdf"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(pdf)
}

func (s *Server) data(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	_, data, err := s.Issuer.Files(r.Context(), p, r.PathValue("number"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(data)
}

// credential answers a fresh SD-JWT VC of the document.
func (s *Server) credential(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	cred, err := s.Credentials.Credential(r.Context(), p, r.PathValue("number"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/dc+sd-jwt")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	io.WriteString(w, cred)
}

// statusList answers the status list token: public, cacheable for its ttl.
func (s *Server) statusList(w http.ResponseWriter, r *http.Request) {
	tok, err := s.Credentials.StatusList(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/statuslist+jwt")
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(credential.StatusTTL/time.Second)))
	io.WriteString(w, tok)
}

// accessLog answers who used the caller's personal data, newest first.
func (s *Server) accessLog(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	events, err := s.Access.AccessLog(r.Context(), p.Subject)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]apiwire.AccessEntry, len(events))
	for i, e := range events {
		out[i] = AccessEntry(e)
	}
	httpjson.Write(w, http.StatusOK, out)
}

// AccessEntry is what a citizen is shown of an audit event: not where the
// request came from (another person's address is not theirs to see).
func AccessEntry(e audit.Event) apiwire.AccessEntry {
	return apiwire.AccessEntry{
		At: e.At.UTC().Format(time.RFC3339Nano), ActorKind: e.ActorKind, Actor: e.Actor, Role: e.Role, Office: e.Office,
		Action: e.Action, Service: e.Service, Number: e.Number, Purpose: e.Purpose,
	}
}

// notifications answers the caller's inbox, newest first.
func (s *Server) notifications(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	list, err := s.Inbox.Inbox(r.Context(), p.Subject)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]apiwire.Notice, len(list))
	for i, n := range list {
		out[i] = apiwire.Notice{ID: n.ID, At: n.At.UTC().Format(time.RFC3339Nano), Kind: n.Kind, Title: n.Title, Body: n.Body, Number: n.Number, Read: n.Read}
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (s *Server) readNotification(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := s.Inbox.MarkRead(r.Context(), p.Subject, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// fail answers err from the one error table (package httperr).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpjson.Fail(w, r, s.Log, err)
}
