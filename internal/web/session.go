package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/auth"
)

// CSRF protection, in two layers:
//
//  1. http.CrossOriginProtection refuses any unsafe request a browser marks
//     as cross-site (Sec-Fetch-Site) or whose Origin is another host.
//  2. Every form carries a token: HMAC-SHA256 keyed with a secret cookie
//     the page cannot read (HttpOnly, SameSite=Strict) — the session token
//     once logged in, before that a random pre-session cookie (for the
//     login and verification forms). Another site can neither read the
//     cookie nor the page, so it cannot forge the token; no server-side
//     secret is needed, and a token dies with its session.

const csrfLabel = "minwon form token v1"

func tokenFor(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(csrfLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfToken returns the token for forms on this page, setting the
// pre-session cookie first if the browser has neither cookie.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(auth.SessionCookie); err == nil && c.Value != "" {
		return tokenFor(c.Value)
	}
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return tokenFor(c.Value)
	}
	var raw [32]byte
	rand.Read(raw[:])
	v := base64.RawURLEncoding.EncodeToString(raw[:])
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
	return tokenFor(v)
}

// checkCSRF reports whether the form's token matches the browser's secret
// cookie: the session's once there is one (a token from before login no
// longer counts), else the pre-session cookie.
func checkCSRF(r *http.Request) bool {
	return validCSRF(r, r.PostFormValue(csrfField))
}

// validCSRF reports whether got is the form token for r's browser.
func validCSRF(r *http.Request, got string) bool {
	if got == "" {
		return false
	}
	secret := ""
	if c, err := r.Cookie(auth.SessionCookie); err == nil && c.Value != "" {
		secret = c.Value
	} else if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		secret = c.Value
	}
	return secret != "" && hmac.Equal([]byte(got), []byte(tokenFor(secret)))
}

// optionalUser returns the logged-in principal, or nil.
func (s *Server) optionalUser(r *http.Request) *auth.Principal {
	c, err := r.Cookie(auth.SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	p, err := s.Sessions.Authenticate(r.Context(), c.Value)
	if err != nil {
		return nil
	}
	return &p
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: token, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
}

// authed runs h for a logged-in caller. Anyone else goes to the login form,
// told whether their session expired, and comes back here afterwards; a
// POST comes back to the form it was sent from.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, auth.Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		next := r.URL.EscapedPath()
		if r.Method == http.MethodGet && r.URL.RawQuery != "" {
			next += "?" + r.URL.RawQuery
		}
		c, err := r.Cookie(auth.SessionCookie)
		if err != nil || c.Value == "" {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		p, err := s.Sessions.Authenticate(r.Context(), c.Value)
		if errors.Is(err, auth.ErrNoSession) {
			s.setSessionCookie(w, "", -1)
			http.Redirect(w, r, "/login?reason=expired&next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		if r.Method == http.MethodPost && !checkCSRF(r) {
			s.errorPage(w, r, http.StatusForbidden, "err.csrf", "")
			return
		}
		h(w, r.WithContext(audit.WithOrigin(r.Context(), r.RemoteAddr)), p)
	}
}
