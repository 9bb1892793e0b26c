package web

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/minwon/minwon/internal/portal/portaltest"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/httperr"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/portal"
)

type noAgencies struct{}

func (noAgencies) Status() []linkage.AgencyStatus { return nil }

// The request form reads the caller's relations; here that read fails with err.
func requestPage(t *testing.T, err error, log *slog.Logger, lang string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	cat, cerr := form.Builtin(linkage.DefaultSchema())
	if cerr != nil {
		t.Fatal(cerr)
	}
	type issuerStub struct{ portal.Issuer }
	type verifierStub struct{ portal.Verifier }
	type uploadsStub struct{ portal.Uploads }
	s, nerr := New(Server{Catalog: cat, Agencies: noAgencies{}, Sessions: portaltest.OneSession{}, Profiles: portaltest.FailingProfiles{Err: err},
		Issuer: issuerStub{}, Verifier: verifierStub{}, Uploads: uploadsStub{}, Log: log})
	if nerr != nil {
		t.Fatal(nerr)
	}
	req := httptest.NewRequest(http.MethodGet, "/request/resident-registration-copy?lang="+lang, nil)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: "tok"})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec, html.UnescapeString(rec.Body.String())
}

// Every row of the error table reaching a page gives that row's status,
// Retry-After and localized message (or, for an ended session, the way
// back to the login form).
func TestEveryErrorRowHasItsPage(t *testing.T) {
	for _, row := range httperr.Rows() {
		for _, lang := range []string{langKo, langEn} {
			err := fmt.Errorf("look up household: %w", row.Example)
			t.Run(row.Code+"/"+lang+"/"+row.Example.Error(), func(t *testing.T) {
				want := httperr.Of(err)
				rec, body := requestPage(t, err, slog.New(slog.DiscardHandler), lang)
				if got := rec.Header().Get("Retry-After"); got != want.RetryAfterHeader() {
					t.Fatalf("Retry-After %q, want %q", got, want.RetryAfterHeader())
				}
				if row.Status == http.StatusUnauthorized {
					if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login?reason=expired") {
						t.Fatalf("got %d to %q, want the login form", rec.Code, rec.Header().Get("Location"))
					}
					return
				}
				if rec.Code != row.Status {
					t.Fatalf("status %d, want %d", rec.Code, row.Status)
				}
				msg := messages[lang][row.Key]
				if want.AgencyFault {
					msg = fmt.Sprintf(msg, messages[lang]["agency."+want.Agency])
				}
				if msg == "" || !strings.Contains(body, msg) || !strings.Contains(body, messages[lang][row.Heading]) {
					t.Fatalf("page lacks %q or its heading %q:\n%s", msg, messages[lang][row.Heading], body)
				}
				if want.Rule != "" && !strings.Contains(body, messages[lang]["refused."+want.Rule]) {
					t.Fatalf("refusal page does not say why (%s)", want.Rule)
				}
			})
		}
	}
}

// An unmapped error is a 500 page with the generic message; the error
// itself goes only to the operators' log.
func TestUnknownErrorPage(t *testing.T) {
	var logged bytes.Buffer
	rec, body := requestPage(t, errors.New("pq: connection to 10.0.0.7 refused (login kim.minsu)"), slog.New(slog.NewTextHandler(&logged, nil)), langKo)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(body, messages[langKo]["err.internal"]) {
		t.Fatalf("got %d:\n%s", rec.Code, body)
	}
	for _, leak := range []string{"pq:", "10.0.0.7", "kim.minsu"} {
		if strings.Contains(body, leak) {
			t.Fatalf("the page leaks %q", leak)
		}
	}
	if !strings.Contains(logged.String(), "kim.minsu") {
		t.Fatalf("the operators' log lacks the error: %q", logged.String())
	}
}
