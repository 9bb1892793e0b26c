package api

import (
	"context"
	"encoding/json"
	"github.com/minwon/minwon/internal/portal/portaltest"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/verification"
)

type fakeHealth []linkage.AgencyStatus

func (f fakeHealth) Status() []linkage.AgencyStatus { return f }

func newTestServer(t *testing.T, health fakeHealth) http.Handler {
	t.Helper()
	cat, err := form.Builtin(linkage.DefaultSchema())
	if err != nil {
		t.Fatal(err)
	}
	return (&Server{Catalog: cat, Agencies: health}).Handler()
}

func get(t *testing.T, h http.Handler, path string, v any) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%s: Content-Type %q", path, ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("%s: %v in %s", path, err, rec.Body)
	}
	return rec.Code
}

func TestServices(t *testing.T) {
	h := newTestServer(t, nil)
	var list []map[string]any
	if code := get(t, h, "/api/v1/services", &list); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if len(list) < 10 {
		t.Fatalf("%d services, want at least 10", len(list))
	}
	for _, s := range list {
		for _, k := range []string{"id", "kind", "title", "title_ko", "agency", "requesters"} {
			if _, ok := s[k]; !ok {
				t.Fatalf("service %v lacks %q", s["id"], k)
			}
		}
	}
}

func TestStatusDegradesOnlyDependentServices(t *testing.T) {
	h := newTestServer(t, fakeHealth{
		{Agency: "education", State: linkage.Open, Failures: 5},
		{Agency: "registry", State: linkage.Closed},
		{Agency: "tax", State: linkage.Closed},
	})
	var st struct {
		Status   string   `json:"status"`
		Degraded []string `json:"degraded_services"`
	}
	get(t, h, "/api/v1/status", &st)
	if st.Status != "degraded" || len(st.Degraded) != 2 {
		t.Fatalf("status = %+v, want degraded with the two education services", st)
	}
	for _, id := range st.Degraded {
		if id != "graduation-certificate" && id != "grade-certificate" {
			t.Fatalf("%s degraded by an education outage", id)
		}
	}
}

func TestUnknownEndpointIsJSONError(t *testing.T) {
	h := newTestServer(t, nil)
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if code := get(t, h, "/api/v1/nope", &e); code != http.StatusNotFound || e.Error.Code != "not_found" || e.Error.Message == "" {
		t.Fatalf("got %d %+v", code, e)
	}
}

func TestWrongMethodIs405WithAllow(t *testing.T) {
	h := newTestServer(t, nil)
	cases := []struct{ method, path, allow string }{
		{"POST", "/api/v1/me", "GET, HEAD"},
		{"DELETE", "/api/v1/issuances", "GET, HEAD, POST"},
		{"GET", "/api/v1/logout", "POST"},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != tc.allow || !strings.Contains(rec.Body.String(), `"code":"method_not_allowed"`) {
			t.Errorf("%s %s: %d Allow %q %s", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/nope", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("POST to an unknown path: %d, want 404", rec.Code)
	}
}

// A browser attaches the session cookie to another site's request; the
// API must not act on it. Bearer calls carry no ambient authority.
func TestCrossOriginCookieCallsAreRefused(t *testing.T) {
	cat, err := form.Builtin(linkage.DefaultSchema())
	if err != nil {
		t.Fatal(err)
	}
	sessions := &countingSessions{}
	h := (&Server{Catalog: cat, Sessions: sessions}).Handler()
	cases := []struct {
		name   string
		header map[string]string
		cookie bool
		status int
	}{
		{"cookie, foreign Origin", map[string]string{"Origin": "https://evil.example"}, true, http.StatusForbidden},
		{"cookie, cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, true, http.StatusForbidden},
		{"cookie, same origin", map[string]string{"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}, true, http.StatusOK},
		{"cookie, no browser headers (a script)", nil, true, http.StatusOK},
		{"bearer, foreign Origin", map[string]string{"Origin": "https://evil.example", "Authorization": "Bearer tok"}, false, http.StatusOK},
	}
	for _, tc := range cases {
		sessions.logouts = 0
		r := httptest.NewRequest("POST", "http://example.com/api/v1/logout", strings.NewReader("x"))
		r.Header.Set("Content-Type", "text/plain")
		for k, v := range tc.header {
			r.Header.Set(k, v)
		}
		if tc.cookie {
			r.AddCookie(&http.Cookie{Name: SessionCookie, Value: "tok"})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, rec.Code, rec.Body, tc.status)
		}
		if acted := sessions.logouts > 0; acted != (tc.status == http.StatusOK) {
			t.Errorf("%s: logout acted %v", tc.name, acted)
		}
	}
}

type countingSessions struct {
	portaltest.OneSession
	logouts int
}

func (c *countingSessions) Logout(context.Context, string) error { c.logouts++; return nil }

// An upload announced larger than MaxUpload is refused before a byte is read.
func TestVerifyUploadTooLarge(t *testing.T) {
	h := newTestServer(t, nil)
	r := httptest.NewRequest("POST", "/api/v1/verify", strings.NewReader("%PDF"))
	r.Header.Set("Content-Type", "application/pdf")
	r.ContentLength = verification.MaxUpload + 1
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"code":"too_large"`) {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}
