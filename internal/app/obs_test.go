package app_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/health"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/reqid"
	"github.com/minwon/minwon/internal/store"
)

// alertRules is the part of a Prometheus rule file the test reads.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type dashboard struct {
	Title  string `json:"title"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// issueCopy has the first demo account issue its own resident
// registration copy, as the demo's first click does.
func issueCopy(t *testing.T, env *apptest.Env) (*apptest.Client, apiwire.Issued) {
	t.Helper()
	c := env.Login(t, env.Accounts[0])
	var got apiwire.Issued
	if code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy"}, newKey(), &got); code != http.StatusCreated {
		t.Fatalf("issue: %d", code)
	}
	return c, got
}

var metricName = regexp.MustCompile(`\b(?:minwon|go|process)_[a-z0-9_]+\b`)

// TestOpsFilesMatchMetrics loads docs/ops/alerts.yml and the Grafana
// dashboard and checks, after one issuance like the demo's, that every
// metric they name exists in the registry (histograms by their _bucket,
// _count and _sum series), and that every minwon metric is on the
// dashboard: neither file can drift from the code.
func TestOpsFilesMatchMetrics(t *testing.T) {
	env := apptest.Start(t, 50, 31)
	issueCopy(t, env)
	fams, err := env.App.Metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, f := range fams {
		kinds[f.GetName()] = f.GetType().String()
	}
	exists := func(name string) bool {
		if _, ok := kinds[name]; ok {
			return true
		}
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && kinds[base] == "HISTOGRAM" {
				return true
			}
		}
		return false
	}

	root := filepath.Join("..", "..", "docs", "ops")
	raw, err := os.ReadFile(filepath.Join(root, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	nRules := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			nRules++
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("alert %q: needs a name, an expr, a severity and a summary", r.Alert)
			}
			names := metricName.FindAllString(r.Expr, -1)
			if len(names) == 0 {
				t.Errorf("alert %s names no metric", r.Alert)
			}
			for _, n := range names {
				if !exists(n) {
					t.Errorf("alert %s: no metric %s in the registry", r.Alert, n)
				}
			}
		}
	}
	if nRules < 8 {
		t.Errorf("only %d alert rules", nRules)
	}

	raw, err = os.ReadFile(filepath.Join(root, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash dashboard
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	onDashboard := map[string]bool{}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, n := range metricName.FindAllString(tg.Expr, -1) {
				if !exists(n) {
					t.Errorf("panel %q: no metric %s in the registry", p.Title, n)
				}
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					n = strings.TrimSuffix(n, suffix)
				}
				onDashboard[n] = true
			}
		}
	}
	for name := range kinds {
		if strings.HasPrefix(name, "minwon_") && !onDashboard[name] {
			t.Errorf("metric %s is on no dashboard panel", name)
		}
	}
	// The issuance was counted where it happened.
	for _, want := range []string{"minwon_issuances_total", "minwon_issuance_duration_seconds", "minwon_doclog_append_duration_seconds",
		"minwon_linkage_request_duration_seconds", "minwon_http_request_duration_seconds", "minwon_linkage_breaker_state",
		"minwon_doclog_checkpoint_age_seconds", "minwon_notify_outbox_pending", "minwon_login_failures_total", "minwon_login_throttled_total",
		"minwon_preissuance_refusals_total"} {
		if _, ok := kinds[want]; !ok {
			t.Errorf("no %s after an issuance", want)
		}
	}
}

// TestMetricsOnAdminListener: operators and auditors read /metrics with
// their certificates; a counter clerk and a privacy officer cannot. Routes
// are patterns, never numbers.
func TestMetricsOnAdminListener(t *testing.T) {
	env := apptest.Start(t, 50, 32)
	c, got := issueCopy(t, env)
	if resp, _ := c.Raw("GET", got.Document, nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %d", resp.StatusCode)
	}
	adm := env.StartAdmin(t)
	for _, tc := range []struct {
		role pki.Role
		want int
	}{{pki.Operator, 200}, {pki.Auditor, 200}, {pki.CounterClerk, 403}, {pki.PrivacyOfficer, 403}} {
		_, _, cl := adm.Official(t, tc.role)
		resp, body := cl.Raw("GET", "/metrics", nil, nil)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: GET /metrics = %d, want %d", tc.role, resp.StatusCode, tc.want)
			continue
		}
		if tc.want != 200 {
			if strings.Contains(string(body), "minwon_") {
				t.Errorf("%s got metrics in a refusal", tc.role)
			}
			continue
		}
		text := string(body)
		for _, want := range []string{
			`minwon_issuances_total{outcome="issued",service="resident-registration-copy"} 1`,
			`route="POST /api/v1/issuances"`,
			`route="GET /api/v1/issuances/{number}/document.pdf"`,
			`listener="portal"`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(text, got.Number) {
			t.Error("an issuance number is in a metric label")
		}
	}
}

// TestReadyz: an agency down leaves the node ready (it degrades only its
// services); the database closed makes it not ready, with a short reason,
// and /livez still answers.
func TestReadyz(t *testing.T) {
	env := apptest.Start(t, 50, 33)
	anon := env.Anonymous(t)
	readyz := func() (int, health.Answer) {
		t.Helper()
		var a health.Answer
		code := anon.Do("GET", "/readyz", nil, nil, &a)
		return code, a
	}
	if code, a := readyz(); code != 200 || a.Status != "ok" {
		t.Fatalf("fresh node: %d %+v", code, a)
	}
	env.Agencies["registry"].SetFaults(agency.Faults{Error: 1})
	c := env.Login(t, env.Accounts[0])
	if code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy"}, newKey(), nil); code != http.StatusServiceUnavailable {
		t.Fatalf("issue with the registry down: %d, want 503", code)
	}
	if code, a := readyz(); code != 200 {
		t.Fatalf("an agency down made the node not ready: %d %+v", code, a)
	}
	env.Agencies["registry"].SetFaults(agency.Faults{})

	env.DB.Close()
	code, a := readyz()
	if code != http.StatusServiceUnavailable || a.Status != "not_ready" || !slices.ContainsFunc(a.Failed, func(f health.Failure) bool { return f.Check == "database" }) {
		t.Fatalf("database closed: %d %+v", code, a)
	}
	if code := anon.Do("GET", "/livez", nil, nil, nil); code != 200 {
		t.Errorf("livez with the database closed: %d", code)
	}
}

// TestRequestIDReachesAudit: the caller's X-Request-Id is echoed and lands
// in the issuance's audit record; a bad one is replaced.
func TestRequestIDReachesAudit(t *testing.T) {
	env := apptest.Start(t, 50, 34)
	c := env.Login(t, env.Accounts[0])
	h := newKey()
	h[reqid.Header] = "trace-42.a"
	resp, body := c.Raw("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy"}, h)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get(reqid.Header) != "trace-42.a" {
		t.Fatalf("issue: %d, request id %q", resp.StatusCode, resp.Header.Get(reqid.Header))
	}
	var got apiwire.Issued
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	evs, err := env.DB.AuditEvents(t.Context(), store.AuditQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(evs, func(e audit.Event) bool { return e.Number == got.Number })
	if i < 0 || evs[i].RequestID != "trace-42.a" {
		t.Fatalf("audit record of %s: %+v", got.Number, evs)
	}
	h = newKey()
	h[reqid.Header] = "bad id with spaces"
	resp, _ = c.Raw("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy"}, h)
	if id := resp.Header.Get(reqid.Header); id == "bad id with spaces" || !reqid.Valid(id) {
		t.Errorf("a bad request id came back as %q", id)
	}
}
