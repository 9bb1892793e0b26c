package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/access"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/httperr"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/portal"
	"github.com/minwon/minwon/internal/verification"
)

// ---- home

type serviceGroup struct {
	Kind  form.Kind
	Items []*form.Service
}

type homeView struct {
	Query   string
	Groups  []serviceGroup
	Matches int
}

func matches(svc *form.Service, q string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	for _, s := range []string{svc.TitleKo, svc.Title, svc.ID} {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	// "등본" finds "주민등록표 등본" with or without spaces.
	return strings.Contains(strings.ReplaceAll(svc.TitleKo, " ", ""), strings.ReplaceAll(q, " ", ""))
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 100 {
		q = q[:100]
	}
	hv := &homeView{Query: q}
	for _, kind := range []form.Kind{form.Certificate, form.Application, form.Report, form.Lookup} {
		g := serviceGroup{Kind: kind}
		for _, svc := range s.Catalog.Services() {
			if svc.Kind == kind && matches(svc, q) {
				g.Items = append(g.Items, svc)
			}
		}
		hv.Matches += len(g.Items)
		hv.Groups = append(hv.Groups, g)
	}
	v := s.newView(w, r, s.optionalUser(r), "home.title")
	v.Data = hv
	s.render(w, r, http.StatusOK, "home", v)
}

// ---- login

type loginView struct {
	Next    string
	Login   string
	Notice  string // expired, needed, logged out
	Error   string
	Invalid bool
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"), "/documents")
	if s.optionalUser(r) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	v := s.newView(w, r, nil, "login.title")
	lv := &loginView{Next: next}
	switch {
	case r.URL.Query().Get("reason") == "expired":
		lv.Notice = v.T("login.expired")
	case r.URL.Query().Get("reason") == "logout":
		lv.Notice = v.T("login.loggedout")
	case r.URL.Query().Has("next"):
		lv.Notice = v.T("login.needed")
	}
	v.Data = lv
	s.render(w, r, http.StatusOK, "login", v)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if !checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "err.csrf", "/login")
		return
	}
	login, password := strings.TrimSpace(r.PostFormValue("login")), r.PostFormValue("password")
	next := localPath(r.PostFormValue("next"), "/documents")
	fail := func(status int, key string) {
		v := s.newView(w, r, nil, "login.title")
		v.Data = &loginView{Next: next, Login: login, Error: v.T(key), Invalid: true}
		s.render(w, r, status, "login", v)
	}
	if login == "" || password == "" || len(login) > 128 || len(password) > 1024 {
		fail(http.StatusBadRequest, "login.missing")
		return
	}
	// The client's address is the connection's: a proxy header is
	// anyone's to forge.
	token, expires, _, err := s.Sessions.Login(r.Context(), login, password, r.RemoteAddr)
	if err != nil {
		// Wrong credentials and rate limits are said on the form itself.
		if a := httperr.Of(err); a.Status == http.StatusUnauthorized || a.Status == http.StatusTooManyRequests {
			if ra := a.RetryAfterHeader(); ra != "" {
				w.Header().Set("Retry-After", ra)
			}
			if a.Status == http.StatusTooManyRequests {
				v := s.newView(w, r, nil, "login.title")
				v.Data = &loginView{Next: next, Login: login, Error: v.Tf("login.wait", a.RetryAfter), Invalid: true}
				s.render(w, r, a.Status, "login", v)
				return
			}
			fail(a.Status, a.Key)
			return
		}
		s.fail(w, r, err, "/login")
		return
	}
	s.setSessionCookie(w, token, int(time.Until(expires).Seconds()))
	// The next page offers to end the account's other sessions.
	if n, err := s.Sessions.OtherSessions(r.Context(), token); err == nil && n > 0 {
		s.setSessionsNote(w, "n"+strconv.Itoa(n))
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// sessionsNote is a one-time cookie for the next page's line about other
// sessions: "n3" (3 others live) or "e3" (3 just ended). It only chooses
// words; the count is the server's at the time it was set.
const sessionsNote = "minwon_sessions"

func (s *Server) setSessionsNote(w http.ResponseWriter, v string) {
	http.SetCookie(w, &http.Cookie{Name: sessionsNote, Value: v, Path: "/", MaxAge: 300, HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
}

// sessionsLine is the page's line about other sessions, shown once.
type sessionsLine struct {
	Others int // other live sessions, with a button to end them
	Ended  int // sessions just ended
}

// takeSessionsNote reads and clears the one-time note.
func (s *Server) takeSessionsNote(w http.ResponseWriter, r *http.Request) *sessionsLine {
	c, err := r.Cookie(sessionsNote)
	if err != nil || len(c.Value) < 2 {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: sessionsNote, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
	n, err := strconv.Atoi(c.Value[1:])
	if err != nil || n <= 0 || n > 1_000_000 {
		return nil
	}
	switch c.Value[0] {
	case 'n':
		return &sessionsLine{Others: n}
	case 'e':
		return &sessionsLine{Ended: n}
	}
	return nil
}

// endOthers logs out the caller's other sessions and goes back to the
// page the button was on.
func (s *Server) endOthers(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	c, _ := r.Cookie(auth.SessionCookie) // authed saw it
	n, err := s.Sessions.EndOtherSessions(r.Context(), c.Value)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	if n > 0 {
		s.setSessionsNote(w, "e"+strconv.Itoa(n))
	}
	http.Redirect(w, r, localPath(r.PostFormValue("next"), "/documents"), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if !checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "err.csrf", "")
		return
	}
	if c, err := r.Cookie(auth.SessionCookie); err == nil && c.Value != "" {
		if err := s.Sessions.Logout(r.Context(), c.Value); err != nil {
			s.fail(w, r, err, "")
			return
		}
	}
	s.setSessionCookie(w, "", -1)
	http.Redirect(w, r, "/login?reason=logout", http.StatusSeeOther)
}

// ---- wallet

type docRow struct {
	*issuance.Issued
	Service *form.Service
	For     string // whom the document is about, in words
	Status  string // verification status: valid, revoked, unknown, mismatch, or "" if it could not be checked
}

type walletView struct {
	Docs  []docRow
	Fresh string // the number just issued
}

// subjectNames maps the caller's own and related subjects to display names.
// It is best effort: the wallet works while the registry is down.
func (s *Server) subjectNames(r *http.Request, p auth.Principal, v *view) map[string]string {
	names := map[string]string{}
	prof, err := s.Profiles.Profile(r.Context(), p)
	if err != nil {
		return names
	}
	names[p.Subject] = v.T("docs.mine") + " · " + prof.Name
	for _, rel := range prof.Relations {
		names[rel.Subject] = rel.Name + " (" + v.T("rel."+rel.Relation) + ")"
	}
	return names
}

func (s *Server) row(r *http.Request, is *issuance.Issued, names map[string]string, v *view) docRow {
	d := s.listRow(is, names, v)
	if res, err := s.Verifier.ByNumber(r.Context(), string(is.Number), is.SHA256); err == nil {
		d.Status = string(res.Status)
	}
	return d
}

// listRow is a row without its status: a list page asks for all of them at
// once.
func (s *Server) listRow(is *issuance.Issued, names map[string]string, v *view) docRow {
	d := docRow{Issued: is, Service: s.Catalog.Service(is.Service), For: names[is.Subject]}
	if d.For == "" {
		d.For = v.T("docs.unknown")
	}
	return d
}

func (s *Server) wallet(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	list, err := s.Issuer.List(r.Context(), p)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	v := s.newView(w, r, &p, "docs.title")
	wv := &walletView{}
	if len(list) > 0 {
		names := s.subjectNames(r, p, v)
		docs := make([]verification.Doc, len(list))
		for i, is := range list {
			docs[i] = verification.Doc{Number: string(is.Number), SHA256: is.SHA256}
		}
		statuses, _ := s.Verifier.Statuses(r.Context(), docs) // no status shown if it fails, as before
		for _, is := range list {
			d := s.listRow(is, names, v)
			d.Status = string(statuses[string(is.Number)])
			wv.Docs = append(wv.Docs, d)
		}
	}
	v.Data = wv
	s.render(w, r, http.StatusOK, "wallet", v)
}

type documentView struct {
	docRow
	Fresh     bool
	VerifyURL string
	Wallet    bool // the document can be downloaded as an SD-JWT VC
}

func (s *Server) document(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	is, err := s.Issuer.Get(r.Context(), p, r.PathValue("number"))
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	v := s.newView(w, r, &p, "doc.title")
	v.Data = &documentView{
		docRow:    s.row(r, is, s.subjectNames(r, p, v), v),
		Fresh:     r.URL.Query().Get("issued") == "1",
		VerifyURL: "/verify/" + string(is.Number),
		Wallet:    s.Credentials != nil,
	}
	s.render(w, r, http.StatusOK, "document", v)
}

func (s *Server) documentPDF(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	pdf, _, err := s.Issuer.Files(r.Context(), p, r.PathValue("number"))
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	n, _ := issuance.ParseNumber(r.PathValue("number"))
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="minwon-`+string(n)+`.pdf"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.Write(pdf)
}

// documentCredential downloads the document as an SD-JWT VC, for a wallet.
func (s *Server) documentCredential(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	cred, err := s.Credentials.Credential(r.Context(), p, r.PathValue("number"))
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	n, _ := issuance.ParseNumber(r.PathValue("number"))
	w.Header().Set("Content-Type", "application/dc+sd-jwt")
	w.Header().Set("Content-Disposition", `attachment; filename="minwon-`+string(n)+`.sd-jwt"`)
	w.Write([]byte(cred))
}

// ---- request

type requestView struct {
	Service *form.Service
	Choices []access.Choice
	RRNBack bool // the service may show RRN back digits on one's own document
	// Options are the other choices the service offers (form.Offers):
	// relations, the members' back digits, past addresses.
	Options []string
	// Questions are the service's choices (form.Choices): which school,
	// what purpose.
	Questions []form.Choice
	Key       string // idempotency key: a double submit issues once
	Agencies  []string
}

func newKey() string {
	var b [16]byte
	rand.Read(b[:])
	return "web-" + hex.EncodeToString(b[:])
}

func (s *Server) requestForm(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	svc := s.Catalog.Service(r.PathValue("service"))
	if svc == nil {
		s.errorPage(w, r, http.StatusNotFound, "err.notfound", "")
		return
	}
	if svc.Kind != form.Certificate {
		// Applications, reports and lookups have their own pages.
		to := "/apply/"
		if svc.Kind == form.Lookup {
			to = "/lookup/"
		}
		http.Redirect(w, r, to+url.PathEscape(svc.ID), http.StatusSeeOther)
		return
	}
	rv := &requestView{Service: svc, Key: newKey()}
	for _, n := range svc.Needs() {
		if len(rv.Agencies) == 0 || rv.Agencies[len(rv.Agencies)-1] != n.Agency {
			rv.Agencies = append(rv.Agencies, n.Agency)
		}
	}
	if svc.Kind == form.Certificate {
		prof, err := s.Profiles.Profile(r.Context(), p)
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		rv.Choices = access.Choices(p, prof, svc)
		forSelf := len(rv.Choices) > 0 && rv.Choices[0].Self
		rv.RRNBack = forSelf && svc.OffersRRNBack(true)
		for _, o := range svc.Offers(forSelf) {
			if o != form.OptionRRNBack {
				rv.Options = append(rv.Options, o)
			}
		}
		rv.Questions = svc.Choices()
	}
	v := s.newView(w, r, &p, "")
	v.Title = v.Tf("req.title", v.Pick(svc.TitleKo, svc.Title))
	v.Data = rv
	s.render(w, r, http.StatusOK, "request", v)
}

func (s *Server) request(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	svcID := r.PathValue("service")
	back := "/request/" + url.PathEscape(svcID)
	subject := r.PostFormValue("subject")
	if subject == p.Subject {
		subject = ""
	}
	is, err := s.Issuer.Issue(r.Context(), issuance.Request{
		Principal: p, Service: svcID, Subject: subject,
		ShowRRNBack:        r.PostFormValue("show_rrn_back") == "1",
		ShowRelations:      r.PostFormValue(form.OptionRelations) == "1",
		ShowMemberRRNBack:  r.PostFormValue(form.OptionMemberRRNBack) == "1",
		ShowAddressHistory: r.PostFormValue(form.OptionAddressHistory) == "1",
		SchoolLevel:        r.PostFormValue(form.ChoiceSchoolLevel),
		Purpose:            r.PostFormValue(form.ChoicePurpose),
		IdempotencyKey:     r.PostFormValue("key"),
	})
	if err != nil {
		if errors.Is(err, issuance.ErrBadRequest) && r.PostFormValue("show_rrn_back") == "1" && subject != "" {
			s.errorPage(w, r, http.StatusBadRequest, "err.rrnback", back)
			return
		}
		s.fail(w, r, err, back)
		return
	}
	http.Redirect(w, r, "/documents/"+string(is.Number)+"?issued=1", http.StatusSeeOther)
}

// fail answers err with its page, from the same table (package httperr)
// the API answers from: a refusal says plainly that nothing was issued and
// why, an agency problem says when to retry, an expired session goes back to
// the login form.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, back string) {
	a := httperr.Of(err)
	if a.Internal {
		// Errors carry no personal data by construction; log for operators.
		s.Log.ErrorContext(r.Context(), "page request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if ra := a.RetryAfterHeader(); ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	if a.Status == http.StatusUnauthorized {
		s.setSessionCookie(w, "", -1)
		next := back
		if next == "" {
			next = r.URL.EscapedPath()
		}
		http.Redirect(w, r, "/login?reason=expired&next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	v := s.newView(w, r, s.optionalUser(r), a.Heading)
	ev := &errorView{Status: a.Status, Heading: v.T(a.Heading), Message: v.T(a.Key), BackURL: back}
	switch {
	case a.Rule != "":
		why := messages[v.Lang]["refused."+a.Rule]
		if why == "" {
			why = v.T("refused.other")
		}
		ev.Detail, ev.Refused = why, true
	case a.Reason != "":
		ev.Detail = messages[v.Lang]["notissuable."+a.Reason]
	case a.AgencyFault:
		at := time.Now().Add(time.Duration(a.RetryAfter) * time.Second).In(kst).Format("15:04:05 KST")
		ev.Message = v.Tf(a.Key, v.Agency(a.Agency))
		ev.Retry = v.Tf("down.retry", a.RetryAfter, at)
		ev.ShowStatus = true
	case payloadDetail(a) != "":
		ev.Detail = payloadDetail(a)
	case a.Key == "err.notfound" || a.Key == "err.notcert":
		// The thing asked for does not exist (or has no form): there is
		// nothing to go back to.
		ev.BackURL = ""
	}
	v.Data = ev
	s.render(w, r, a.Status, "error", v)
}

// ---- status

type statusView struct {
	OK       bool
	Agencies []linkage.AgencyStatus
	Degraded []*form.Service
	Checked  time.Time
	Waiting  map[string]int // agency → submissions waiting for it
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ps := portal.Status(s.Catalog, s.Agencies)
	sv := &statusView{OK: ps.OK, Agencies: ps.Agencies, Degraded: ps.Degraded, Checked: time.Now()}
	if s.Casework != nil {
		// Counts only: how many submissions wait for each agency.
		if n, err := s.Casework.Waiting(r.Context()); err == nil && len(n) > 0 {
			sv.Waiting = n
		}
	}
	v := s.newView(w, r, s.optionalUser(r), "status.title")
	v.Data = sv
	s.render(w, r, http.StatusOK, "status", v)
}
