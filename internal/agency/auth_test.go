package agency_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/agencytest"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/pkitest"
)

// The agencies answer only mutual TLS: queries from minwon's system
// certificate, the fault switches and counters from an operator's.
func TestCallerAuthentication(t *testing.T) {
	env := agencytest.Start(t, 5, 12)
	ca := pkitest.CA(t)
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS13}}, Timeout: 30 * time.Second}
	_, operator := pkitest.Official(t, pki.Operator)
	_, clerk := pkitest.Official(t, pki.CounterClerk)
	clients := map[string]*http.Client{
		"none":     noCert,
		"system":   env.HTTPClient,
		"operator": pkitest.Client(t, operator),
		"clerk":    pkitest.Client(t, clerk),
	}
	query, _ := json.Marshal(linkage.Request{CorrelationID: linkage.NewCorrelationID(), Purpose: "resident-registration-copy", Subject: env.World.People[0].Subject, Dataset: "person", Fields: []string{"name", "rrn"}})
	base := env.URL(linkage.Registry)
	cases := []struct {
		name, client, method, path, body string
		status                           int // 0: the TLS handshake fails
		code                             string
	}{
		{"query without a certificate", "none", "POST", linkage.QueryPath, string(query), 0, ""},
		{"query with an official's certificate", "operator", "POST", linkage.QueryPath, string(query), http.StatusForbidden, "not_a_system"},
		{"query with minwon's certificate", "system", "POST", linkage.QueryPath, string(query), http.StatusOK, ""},
		{"faults without a certificate", "none", "PUT", "/_faults", `{"error":1}`, 0, ""},
		{"faults with minwon's certificate", "system", "PUT", "/_faults", `{"error":1}`, http.StatusForbidden, "not_operator"},
		{"faults with a clerk's certificate", "clerk", "PUT", "/_faults", `{"error":1}`, http.StatusForbidden, "not_operator"},
		{"fault state with a clerk's certificate", "clerk", "GET", "/_faults", "", http.StatusForbidden, "not_operator"},
		{"stats with minwon's certificate", "system", "GET", "/_stats", "", http.StatusForbidden, "not_operator"},
		{"stats with an operator's certificate", "operator", "GET", "/_stats", "", http.StatusOK, ""},
		{"faults with an operator's certificate", "operator", "PUT", "/_faults", `{}`, http.StatusOK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			resp, err := clients[tc.client].Do(req)
			if tc.status == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("answered %d without a client certificate", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error struct{ Code string } `json:"error"`
			}
			json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tc.status || e.Error.Code != tc.code {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, e.Error.Code, tc.status, tc.code)
			}
		})
	}
	if f := env.Agencies[linkage.Registry].Faults(); f.Error != 0 {
		t.Fatalf("a refused caller switched faults: %+v", f)
	}
}

// Served without TLS (a wiring mistake), the agency refuses everything
// rather than answering whoever asks.
func TestPlainHTTPIsRefused(t *testing.T) {
	env := agencytest.Start(t, 5, 13)
	srv := env.Agencies[linkage.Registry]
	rec := httptest.NewRecorder()
	body, _ := json.Marshal(linkage.Request{CorrelationID: linkage.NewCorrelationID(), Purpose: "resident-registration-copy", Subject: env.World.People[0].Subject, Dataset: "person", Fields: []string{"rrn"}})
	req, _ := http.NewRequest("POST", "http://agency"+linkage.QueryPath, bytes.NewReader(body))
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || bytes.Contains(rec.Body.Bytes(), []byte(env.World.People[0].RRN)) {
		t.Fatalf("plain HTTP query answered %d %s", rec.Code, rec.Body.String())
	}
}
