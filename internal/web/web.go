// Package web serves minwon's server-rendered pages: the citizen portal
// (catalog, login, request forms, the document wallet), the public
// verification page and the service status page.
//
// Pages work without JavaScript (they use none), in Korean by default and in
// English on request. Every page is rendered with html/template; every form
// POSTs with a CSRF token bound to the browser's session, and answers with a
// redirect (post/redirect/get). Handlers are thin: they call the same domain
// objects the JSON API calls (declared in package portal) and only choose
// words; a domain error's status and message key come from the same table
// the API answers from (package httperr).
// Pages hold no personal data unless the viewer is its owner, and personal
// pages are never cached.
package web

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/httpjson"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/portal"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Server holds the pages' collaborators: the same domain objects the JSON
// API uses.
type Server struct {
	Catalog  *form.Catalog
	Agencies portal.AgencyHealth
	Sessions portal.Sessions
	Profiles portal.Profiles
	Issuer   portal.Issuer
	Verifier portal.Verifier
	Uploads  portal.Uploads
	// CheckCodes, if set, lets the verification page show a document for
	// its number and document-check code.
	CheckCodes portal.CheckCodes
	// Credentials, if set, offers each document as an SD-JWT VC for a
	// wallet.
	Credentials portal.Credentials
	// Access and Inbox, if both set, serve "who used my data" and the
	// notices pages.
	Access portal.AccessLog
	Inbox  portal.Inbox
	// Casework, if set, serves applications, reports and lookups.
	Casework portal.Casework
	Log      *slog.Logger
	// SecureCookies marks cookies Secure and sends HSTS (set when served over TLS).
	SecureCookies bool

	pages map[string]*template.Template
	cop   *http.CrossOriginProtection
}

// New checks the configuration and parses the page templates.
func New(s Server) (*Server, error) {
	if s.Catalog == nil || s.Agencies == nil || s.Sessions == nil || s.Profiles == nil || s.Issuer == nil || s.Verifier == nil || s.Uploads == nil {
		return nil, fmt.Errorf("web: catalog, agencies, sessions, profiles, issuer, verifier and uploads are required")
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templates, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templates, "templates/*.html")
	if err != nil {
		return nil, err
	}
	s.pages = map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templates, n)
		if err != nil {
			return nil, err
		}
		s.pages[name] = t
	}
	s.cop = http.NewCrossOriginProtection()
	s.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusForbidden, "err.crossorigin", "")
	}))
	return &s, nil
}

// Handler returns the page routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("POST /sessions/end-others", s.authed(s.endOthers))
	mux.HandleFunc("GET /documents", s.authed(s.wallet))
	mux.HandleFunc("GET /documents/{number}", s.authed(s.document))
	mux.HandleFunc("GET /documents/{number}/document.pdf", s.authed(s.documentPDF))
	if s.Credentials != nil {
		mux.HandleFunc("GET /documents/{number}/credential.sd-jwt", s.authed(s.documentCredential))
	}
	if s.Access != nil && s.Inbox != nil {
		mux.HandleFunc("GET /access-log", s.authed(s.accessLog))
		mux.HandleFunc("GET /notifications", s.authed(s.notifications))
		mux.HandleFunc("POST /notifications/{id}/read", s.authed(s.readNotification))
	}
	s.caseRoutes(mux)
	mux.HandleFunc("GET /request/{service}", s.authed(s.requestForm))
	mux.HandleFunc("POST /request/{service}", s.authed(s.request))
	mux.HandleFunc("GET /verify", s.verifyForm)
	mux.HandleFunc("POST /verify", s.verifyPDF)
	mux.HandleFunc("GET /verify/{number}", s.verifyNumber)
	if s.CheckCodes != nil {
		mux.HandleFunc("POST /verify/{number}/document", s.verifyCode)
	}
	mux.HandleFunc("GET /status", s.status)
	sub, _ := fs.Sub(static, "static")
	files := http.FileServerFS(filesOnly{sub})
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// The catch-all matches every method: a page asked with another
		// method says so (405), as the mux would without it.
		if allow := httpjson.Allowed(mux, r, "/"); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.errorPage(w, r, http.StatusMethodNotAllowed, "err.method", "")
			return
		}
		s.errorPage(w, r, http.StatusNotFound, "err.notfound", "")
	})
	return s.headers(s.cop.Handler(mux))
}

// filesOnly hides fsys's directories, so that the file server lists none:
// what is served is named in the pages, not discovered.
type filesOnly struct{ fsys fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return file, nil
}

// csp allows nothing but this origin's style sheet, images and forms: no
// script at all, no framing.
const csp = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// headers sets the security headers every page carries. Pages may show
// personal data, so none is stored in any cache; static files override it.
func (s *Server) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		hd.Set("Cache-Control", "no-store")
		if s.SecureCookies {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}

// funcs are the templates' helpers; the page's own methods (T, Pick, Time)
// do the rest.
var funcs = template.FuncMap{
	// pair passes the page and one value to a sub-template.
	"pair": func(v *view, s string) struct {
		V *view
		S string
	} {
		return struct {
			V *view
			S string
		}{v, s}
	},
}

// kst is Korea Standard Time; pages show times as Koreans read them.
var kst = time.FixedZone("KST", 9*60*60)

// view is what every page template gets.
type view struct {
	Lang         string
	OtherLang    string
	OtherLangURL string
	Title        string
	User         *auth.Principal
	CSRF         string
	Path         string
	Data         any
	Sessions     *sessionsLine // once after login: the account's other sessions
	Privacy      bool          // the access log and the inbox are served
	Cases        bool          // applications are served
}

// Label is the message prefix+"."+key, or key itself if there is none (a
// role or action a newer minwon added).
func (v *view) Label(prefix, key string) string {
	if m, ok := messages[v.Lang][prefix+"."+key]; ok {
		return m
	}
	return key
}

// T returns the string key in the page's language.
func (v *view) T(key string) string {
	if m, ok := messages[v.Lang][key]; ok {
		return m
	}
	return "[" + key + "]"
}

// Tf formats the string key with args.
func (v *view) Tf(key string, args ...any) string { return fmt.Sprintf(v.T(key), args...) }

// Pick returns ko on Korean pages and en on English ones.
func (v *view) Pick(ko, en string) string {
	if v.Lang == langEn {
		return en
	}
	return ko
}

// Time formats t in Korea Standard Time.
func (v *view) Time(t time.Time) string { return t.In(kst).Format("2006-01-02 15:04:05") + " KST" }

// Agency names an agency in the page's language.
func (v *view) Agency(name string) string {
	if m, ok := messages[v.Lang]["agency."+name]; ok {
		return m
	}
	return name
}

// FormatNumber groups an issuance number in fours.
func (v *view) FormatNumber(n string) string { return issuance.Number(n).Format() }

const (
	langCookie = "minwon_lang"
	csrfCookie = "minwon_csrf"
	csrfField  = "csrf"
)

// lang picks the page language: ?lang= (remembered in a cookie), then the
// cookie, then Korean.
func (s *Server) lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == langKo || l == langEn {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == langKo || c.Value == langEn) {
		return c.Value
	}
	return langKo
}

// newView prepares the parts of a page every template needs. user may be nil.
func (s *Server) newView(w http.ResponseWriter, r *http.Request, user *auth.Principal, titleKey string) *view {
	v := &view{Lang: s.lang(w, r), User: user, Path: r.URL.Path, Privacy: user != nil && s.Access != nil && s.Inbox != nil, Cases: user != nil && s.Casework != nil}
	v.OtherLang = langEn
	if v.Lang == langEn {
		v.OtherLang = langKo
	}
	q := r.URL.Query()
	q.Set("lang", v.OtherLang)
	// The escaped path: the decoded one turns /%2Fevil.example/x into
	// //evil.example/x, a link to another site.
	v.OtherLangURL = localPath(r.URL.EscapedPath(), "/") + "?" + q.Encode()
	if titleKey != "" {
		v.Title = v.T(titleKey)
	}
	v.CSRF = s.csrfToken(w, r)
	if user != nil {
		v.Sessions = s.takeSessionsNote(w, r)
	}
	return v
}

// render writes a page with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	t, ok := s.pages[page]
	if !ok {
		panic("web: no page template " + page)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		s.Log.ErrorContext(r.Context(), "page render failed", "page", page, "err", err)
		http.Error(w, "page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprint(w, b.String())
}

// errorView is the data of the error page.
type errorView struct {
	Status     int
	Heading    string
	Message    string
	Detail     string
	Retry      string // when to retry, for agency outages
	BackURL    string // the form to go back to, if any
	ShowStatus bool   // link the status page
	Refused    bool   // a pre-issuance refusal
}

// errorPage renders a plain error page: msgKey says what happened.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msgKey, backURL string) {
	v := s.newView(w, r, s.optionalUser(r), "err.title")
	v.Data = &errorView{Status: status, Heading: v.T("err.title"), Message: v.T(msgKey), BackURL: backURL}
	s.render(w, r, status, "error", v)
}

// localPath returns next if it is a path on this site, else fallback: the
// login form never redirects anywhere else.
func localPath(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	return next
}
