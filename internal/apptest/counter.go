package apptest

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/pkitest"
)

// Counter is an officials' listener (the counter or the admin API) of a
// test minwon, with the validation service and the checker it refreshes
// from.
type Counter struct {
	URL        string
	Validation *pkitest.Validation
	Checker    *pki.Checker
	Clock      *Clock
}

// Clock is an adjustable clock for the checker's grace period.
type Clock struct{ offset atomicDuration }

// Now is the wall clock plus the offset.
func (c *Clock) Now() time.Time { return time.Now().Add(c.offset.Load()) }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(d) }

// StartCounter serves the counter of the first node on a mutual-TLS
// loopback listener, with a checker refreshed from a fresh validation
// service (once now; call Checker.Refresh to refresh again).
func (e *Env) StartCounter(t testing.TB, grace time.Duration) *Counter {
	t.Helper()
	return e.startOfficials(t, grace, "counter", e.App.Counter)
}

// StartAdmin serves the operators' API of the first node the same way.
func (e *Env) StartAdmin(t testing.TB) *Counter {
	t.Helper()
	return e.startOfficials(t, pki.DefaultGrace, "admin", e.App.Admin)
}

// Admin serves the operators' API and returns a client with a new
// operator's certificate.
func (e *Env) Admin(t testing.TB) *Client {
	t.Helper()
	_, _, c := e.StartAdmin(t).Official(t, pki.Operator)
	return c
}

func (e *Env) startOfficials(t testing.TB, grace time.Duration, name string, handler func(pki.CredentialChecker) http.Handler) *Counter {
	t.Helper()
	v := pkitest.StartValidation(t)
	clock := &Clock{}
	checker, err := pki.NewChecker(pki.CheckerConfig{
		ValidationURL: v.URL, Issuer: pkitest.CA(t).Ministry, Grace: grace, Refresh: time.Minute,
		Timeout: time.Second, CachePath: filepath.Join(t.TempDir(), "crl-cache.json"), Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := checker.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(handler(checker))
	srv.TLS = pkitest.ServerTLS(t, name)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &Counter{URL: srv.URL, Validation: v, Checker: checker, Clock: clock}
}

// Official issues a certificate for a new official with role and returns
// a client of the counter that presents it.
func (c *Counter) Official(t testing.TB, role pki.Role) (pki.Official, pki.Credential, *Client) {
	t.Helper()
	o, cred := pkitest.Official(t, role)
	return o, cred, c.As(t, cred)
}

// As returns a client of the counter presenting cred.
func (c *Counter) As(t testing.TB, cred pki.Credential) *Client {
	return &Client{t: t, base: c.URL, http: pkitest.Client(t, cred)}
}

type atomicDuration struct{ v atomic.Int64 }

func (a *atomicDuration) Load() time.Duration { return time.Duration(a.v.Load()) }
func (a *atomicDuration) Add(d time.Duration) { a.v.Add(int64(d)) }
