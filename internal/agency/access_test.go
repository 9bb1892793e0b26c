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
			status, code, err := call(clients[tc.client], tc.method, base+tc.path, tc.body)
			switch {
			case tc.status == 0 && err == nil:
				t.Fatalf("answered %d without a client certificate", status)
			case tc.status == 0:
			case err != nil:
				t.Fatal(err)
			case status != tc.status || code != tc.code:
				t.Fatalf("got %d %q, want %d %q", status, code, tc.status, tc.code)
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

// An agency answers only the fields the named purpose declares for its
// dataset, whoever asks: minimisation holds at the source too.
func TestQueryHeldToPurpose(t *testing.T) {
	env := agencytest.Start(t, 20, 11)
	subj := env.World.People[0].Subject
	cases := []struct {
		name, agency, purpose, dataset string
		fields                         []string
		status                         int
		code                           string
	}{
		{"declared fields", linkage.Registry, "resident-registration-copy", "person", []string{"name", "rrn"}, http.StatusOK, ""},
		{"access check", linkage.Registry, "access:relations", "person", []string{"relation", "members"}, http.StatusOK, ""},
		{"field outside the purpose", linkage.Registry, "move-in-report", "person", []string{"name", "rrn"}, http.StatusForbidden, "field_not_allowed"},
		{"access check asks for the RRN", linkage.Registry, "access:relations", "person", []string{"rrn"}, http.StatusForbidden, "field_not_allowed"},
		{"purpose of another agency", linkage.Registry, "graduation-certificate", "person", []string{"name"}, http.StatusForbidden, "field_not_allowed"},
		{"unknown purpose", linkage.Registry, "curiosity", "person", []string{"name"}, http.StatusForbidden, "unknown_purpose"},
		{"no purpose", linkage.Registry, "", "person", []string{"name"}, http.StatusForbidden, "unknown_purpose"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(linkage.Request{CorrelationID: linkage.NewCorrelationID(), Purpose: tc.purpose, Subject: subj, Dataset: tc.dataset, Fields: tc.fields})
			status, code, err := call(env.HTTPClient, "POST", env.URL(tc.agency)+linkage.QueryPath, string(body))
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.status || code != tc.code {
				t.Fatalf("got %d %q, want %d %q", status, code, tc.status, tc.code)
			}
		})
	}
}

// call sends one request and returns the status and the error code of the
// answer.
func call(c *http.Client, method, url, body string) (status int, code string, err error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error.Code, nil
}
