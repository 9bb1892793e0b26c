package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/minwon/minwon/internal/reqid"
)

// family returns the gathered family name, or nil.
func family(t *testing.T, m *Metrics, name string) *dto.MetricFamily {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

func labels(mt *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range mt.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// TestMiddlewareRoutes: requests are counted by the innermost pattern,
// never by their raw path, and by status.
func TestMiddlewareRoutes(t *testing.T) {
	m := New(Known{})
	inner := http.NewServeMux()
	inner.HandleFunc("GET /api/v1/issuances/{number}", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusNotFound)
	})
	inner.HandleFunc("POST /api/v1/issuances", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	outer := http.NewServeMux()
	outer.Handle("/api/", inner)
	h := m.Middleware("portal", outer)
	for _, req := range []*http.Request{
		httptest.NewRequest("GET", "/api/v1/issuances/1234567890123456", nil),
		httptest.NewRequest("GET", "/api/v1/issuances/6543210987654321", nil),
		httptest.NewRequest("POST", "/api/v1/issuances", nil),
		httptest.NewRequest("GET", "/elsewhere/900101-1234568", nil),
	} {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	f := family(t, m, "minwon_http_request_duration_seconds")
	if f == nil {
		t.Fatal("no request histogram")
	}
	got := map[string]uint64{}
	for _, mt := range f.GetMetric() {
		l := labels(mt)
		if l["listener"] != "portal" {
			t.Errorf("listener %q", l["listener"])
		}
		got[l["route"]+" "+l["code"]] = mt.GetHistogram().GetSampleCount()
	}
	want := map[string]uint64{
		"GET /api/v1/issuances/{number} 404": 2,
		"POST /api/v1/issuances 201":         1,
		"unmatched 404":                      1,
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d requests, want %d (all: %v)", k, got[k], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}
}

func TestHandlerAndSources(t *testing.T) {
	m := New(Known{Services: []string{"graduation-certificate"}, Outcomes: []string{"issued", "refused"}, Rules: []string{"subject_mismatch"}, Agencies: []string{"education"}, LinkageOutcomes: []string{"ok"}})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m.Watch(Sources{
		Breakers:       func() map[string]string { return map[string]string{"education": "open"} },
		BreakerStates:  []string{"closed", "open", "half_open"},
		CheckpointTime: func() time.Time { return now.Add(-90 * time.Second) },
		PendingNotices: func(context.Context) (int64, error) { return 7, nil },
		Now:            func() time.Time { return now },
	})
	m.Issued("graduation-certificate", "issued", 30*time.Millisecond)
	m.Refused("subject_mismatch")
	m.AgencyCall("education", "ok", time.Millisecond)
	m.LogAppended(2 * time.Millisecond)
	m.LoginFailed()
	m.LoginThrottled()
	rec := httptest.NewRecorder()
	m.Handler(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`minwon_issuances_total{outcome="issued",service="graduation-certificate"} 1`,
		`minwon_issuances_total{outcome="refused",service="graduation-certificate"} 0`,
		`minwon_preissuance_refusals_total{rule="subject_mismatch"} 1`,
		`minwon_linkage_breaker_state{agency="education",state="open"} 1`,
		`minwon_linkage_breaker_state{agency="education",state="closed"} 0`,
		`minwon_doclog_checkpoint_age_seconds 90`,
		`minwon_notify_outbox_pending 7`,
		`minwon_login_failures_total 1`,
		`minwon_login_throttled_total 1`,
		`minwon_doclog_append_duration_seconds_count 1`,
		`minwon_linkage_request_duration_seconds_count{agency="education",outcome="ok"} 1`,
		`go_goroutines `,
		`process_`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// BenchmarkMiddleware is the cost the metrics middleware adds to one
// request (see docs/BENCHMARKS.md).
func BenchmarkMiddleware(b *testing.B) {
	m := New(Known{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/issuances/{number}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	req := httptest.NewRequest("GET", "/api/v1/issuances/1234567890123456", nil)
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", mux}, {"metrics", m.Middleware("portal", mux)}, {"metrics+reqid", reqid.Handler(m.Middleware("portal", mux))}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			w := httptest.NewRecorder()
			for b.Loop() {
				bc.h.ServeHTTP(w, req)
			}
		})
	}
}
