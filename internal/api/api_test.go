package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/linkage"
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
