package app_test

import (
	"github.com/minwon/minwon/internal/audit"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/counter"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/store"
)

type counterError struct {
	Error struct{ Code, Message string } `json:"error"`
}

func counterRequest(service, rrn, brn string) map[string]any {
	body := map[string]any{
		"service":        service,
		"identity_check": map[string]any{"method": "resident_card", "verified": true},
		"purpose":        "은행 제출용",
	}
	if rrn != "" {
		body["subject_rrn"] = ident.FormatRRN(rrn)
	}
	if brn != "" {
		body["business_number"] = ident.FormatBusinessNumber(brn)
	}
	return body
}

// A counter clerk issues a citizen's certificate by RRN: the same signed,
// logged document as the portal's, downloadable by that clerk only, valid
// on the public verification API, and audited with official and office.
func TestCounterIssuance(t *testing.T) {
	env := apptest.Start(t, 60, 41)
	c := env.StartCounter(t, pki.DefaultGrace)
	clerk, _, cl := c.Official(t, pki.CounterClerk)
	_, _, other := c.Official(t, pki.CounterClerk)
	p := env.World.People[3]

	var st counter.StatusJSON
	if code := cl.Do("GET", "/counter/v1/status", nil, nil, &st); code != http.StatusOK || st.Official != clerk.ID || st.Office != clerk.Office || st.Credential != "fresh" {
		t.Fatalf("status: %d %+v", code, st)
	}

	key := newKey()
	var is counter.IssuedJSON
	if code := cl.Do("POST", "/counter/v1/issuances", counterRequest("resident-registration-copy", p.RRN, ""), key, &is); code != http.StatusCreated {
		t.Fatalf("issue: %d", code)
	}
	if is.Subject != p.Subject || is.Service != "resident-registration-copy" || !strings.HasPrefix(is.Document, "/counter/v1/issuances/") {
		t.Fatalf("issued %+v", is)
	}
	resp, pdf := cl.Raw("GET", is.Document, nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("document: %d", resp.StatusCode)
	}
	text := apptest.PDFText(t, pdf)
	if !strings.Contains(text, p.Name) || strings.Contains(text, ident.FormatRRN(p.RRN)) {
		t.Errorf("the PDF lacks the name or shows the whole RRN:\n%s", text)
	}
	// Another official, even at a counter, does not see it.
	if code := other.Do("GET", is.Document, nil, nil, nil); code != http.StatusNotFound {
		t.Errorf("another official fetched the document: %d", code)
	}
	// The same request again returns the same document.
	var again counter.IssuedJSON
	if code := cl.Do("POST", "/counter/v1/issuances", counterRequest("resident-registration-copy", p.RRN, ""), key, &again); code != http.StatusCreated || again.Number != is.Number {
		t.Errorf("retry: %d %s, want %s", code, again.Number, is.Number)
	}
	var ce counterError
	if code := cl.Do("POST", "/counter/v1/issuances", counterRequest("resident-registration-abstract", p.RRN, ""), key, &ce); code != http.StatusConflict {
		t.Errorf("same key, other request: %d %+v", code, ce)
	}
	// Anyone can verify it.
	var v struct{ Status string }
	env.Anonymous(t).Do("POST", "/api/v1/verify", apiwire.VerifyRequest{Number: is.Number}, nil, &v)
	if v.Status != "valid" {
		t.Errorf("verify: %q", v.Status)
	}
	// The audit says who, where, how the identity was checked and why.
	events, err := env.DB.AuditEvents(t.Context(), store.AuditQuery{Subject: p.Subject})
	if err != nil || len(events) == 0 {
		t.Fatalf("audit: %v %v", events, err)
	}
	// One issuance record (the retry wrote none), the official's download
	// of the PDF, and the look-up that the conflicting request made.
	byAction := map[string][]audit.Event{}
	for _, e := range events {
		byAction[e.Action] = append(byAction[e.Action], e)
	}
	if iss := byAction[audit.ActCounterIssuance]; len(iss) != 1 {
		t.Errorf("counter issuance records: %+v", iss)
	} else if e := iss[0]; e.Actor != clerk.ID || e.Office != clerk.Office || e.Role != "counter_clerk" || e.Number != is.Number || e.From == "" ||
		!strings.Contains(e.Detail, "identity_check=resident_card") || e.Purpose != "은행 제출용" {
		t.Errorf("audit event %+v", e)
	}
	if d := byAction[audit.ActDownload]; len(d) != 1 || d[0].Actor != clerk.ID || d[0].Number != is.Number {
		t.Errorf("download records: %+v", d)
	}
	if l := byAction[audit.ActCounterLookup]; len(l) != 1 || l[0].Service != "resident-registration-abstract" {
		t.Errorf("look-up records: %+v", l)
	}

	// The citizen at the counter may ask for their RRN's back digits.
	full := counterRequest("resident-registration-abstract", p.RRN, "")
	full["options"] = map[string]any{"show_rrn_back": true}
	var fis counter.IssuedJSON
	if code := cl.Do("POST", "/counter/v1/issuances", full, newKey(), &fis); code != http.StatusCreated {
		t.Fatalf("show_rrn_back at the counter: %d", code)
	}
	_, fpdf := cl.Raw("GET", fis.Document, nil, nil)
	if text := apptest.PDFText(t, fpdf); !strings.Contains(text, ident.FormatRRN(p.RRN)) {
		t.Errorf("asked for the back digits, the PDF does not show them:\n%s", text)
	}

	// A corporation by business number.
	corp := env.World.Corporations[0]
	var cis counter.IssuedJSON
	if code := cl.Do("POST", "/counter/v1/issuances", counterRequest("business-registration-certificate", "", corp.BusinessNumber), newKey(), &cis); code != http.StatusCreated || cis.Subject != corp.Subject {
		t.Errorf("corporation: %d %+v", code, cis)
	}
}

func TestCounterRefusals(t *testing.T) {
	env := apptest.Start(t, 40, 42)
	c := env.StartCounter(t, pki.DefaultGrace)
	_, _, clerk := c.Official(t, pki.CounterClerk)
	_, _, operator := c.Official(t, pki.Operator)
	p := env.World.People[2]
	// A valid RRN that belongs to nobody in this population.
	nobody := "900101100000"
	nobody += string(ident.RRNCheckDigit(nobody))

	with := func(f func(map[string]any)) map[string]any {
		b := counterRequest("resident-registration-copy", p.RRN, "")
		f(b)
		return b
	}
	cases := []struct {
		name   string
		client *apptest.Client
		body   any
		key    bool
		status int
		code   string
	}{
		{"operator does not issue at the counter", operator, counterRequest("resident-registration-copy", p.RRN, ""), true, 403, "role_not_allowed"},
		{"no identity check", clerk, with(func(b map[string]any) {
			b["identity_check"] = map[string]any{"method": "resident_card", "verified": false}
		}), true, 400, "identity_not_checked"},
		{"unknown identity document", clerk, with(func(b map[string]any) {
			b["identity_check"] = map[string]any{"method": "library_card", "verified": true}
		}), true, 400, "identity_not_checked"},
		{"purpose holding an RRN", clerk, with(func(b map[string]any) { b["purpose"] = "제출 " + ident.FormatRRN(p.RRN) }), true, 400, "purpose_has_rrn"},
		{"no purpose", clerk, with(func(b map[string]any) { b["purpose"] = " " }), true, 400, "bad_request"},
		{"malformed RRN", clerk, with(func(b map[string]any) { b["subject_rrn"] = "12345" }), true, 400, "bad_request"},
		{"nobody has this RRN", clerk, counterRequest("resident-registration-copy", nobody, ""), true, 404, "unknown_citizen"},
		{"business number for a person's certificate", clerk, counterRequest("resident-registration-copy", "", env.World.Corporations[0].BusinessNumber), true, 400, "bad_request"},
		{"not a certificate", clerk, counterRequest("childcare-allowance", p.RRN, ""), true, 400, "not_a_certificate"},
		{"unknown service", clerk, counterRequest("no-such-service", p.RRN, ""), true, 404, "unknown_service"},
		{"unknown field", clerk, with(func(b map[string]any) { b["subject"] = p.Subject }), true, 400, "bad_json"},
		{"no idempotency key", clerk, counterRequest("resident-registration-copy", p.RRN, ""), false, 400, "bad_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h map[string]string
			if tc.key {
				h = newKey()
			}
			var ce counterError
			resp, body := tc.client.Raw("POST", "/counter/v1/issuances", tc.body, h)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			decodeJSON(t, body, &ce)
			if ce.Error.Code != tc.code {
				t.Errorf("code %q, want %q (%s)", ce.Error.Code, tc.code, ce.Error.Message)
			}
			if strings.Contains(string(body), p.RRN[:6]+"-") || strings.Contains(string(body), p.RRN) {
				t.Errorf("the answer echoes the RRN: %s", body)
			}
		})
	}
	// No issuance is recorded; the one refusal that came after the
	// citizen was found (no idempotency key) records the look-up.
	events, _ := env.DB.AuditEvents(t.Context(), store.AuditQuery{Subject: p.Subject})
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != audit.ActCounterLookup {
		t.Errorf("refused requests left audit events %v, want one counter_lookup", actions)
	}
}

// The counter keeps issuing while the validation service is down or drops
// large answers, for the whole grace period, and then locks; a revocation
// locks at once. The portal does not notice any of it.
func TestCounterDuringValidationOutage(t *testing.T) {
	env := apptest.Start(t, 40, 43)
	const grace = 4 * time.Hour
	c := env.StartCounter(t, grace)
	_, cred, clerk := c.Official(t, pki.CounterClerk)
	p := env.World.People[1]
	issue := func(name string, want int) counterError {
		t.Helper()
		var ce counterError
		resp, body := clerk.Raw("POST", "/counter/v1/issuances", counterRequest("resident-registration-abstract", p.RRN, ""), newKey())
		if resp.StatusCode != want {
			t.Fatalf("%s: status %d, want %d: %s", name, resp.StatusCode, want, body)
		}
		if want != http.StatusCreated {
			decodeJSON(t, body, &ce)
		}
		return ce
	}
	state := func(name string, want string) {
		t.Helper()
		var st counter.StatusJSON
		if code := clerk.Do("GET", "/counter/v1/status", nil, nil, &st); code != http.StatusOK || st.Credential != want {
			t.Fatalf("%s: status %d, credential %q, want %q", name, code, st.Credential, want)
		}
	}
	issue("before the outage", http.StatusCreated)

	c.Validation.SetFaults(pki.Faults{Down: true})
	if err := c.Checker.Refresh(t.Context()); err == nil {
		t.Fatal("refresh succeeded while the validation service is down")
	}
	c.Clock.Advance(time.Hour)
	state("down for an hour", "grace")
	issue("down for an hour", http.StatusCreated)

	c.Validation.SetFaults(pki.Faults{DropOverBytes: 1500})
	if err := c.Checker.Refresh(t.Context()); err == nil {
		t.Fatal("refresh succeeded while large answers are dropped")
	}
	c.Clock.Advance(2*time.Hour + 58*time.Minute)
	state("3h58m without validation", "grace")
	issue("3h58m without validation", http.StatusCreated)

	// The portal never depended on the validation service.
	acct := env.AccountOf(t, p.Subject)
	if code := env.Login(t, acct).Do("POST", "/api/v1/issuances", apiwire.IssuanceRequest{Service: "resident-registration-abstract"}, newKey(), nil); code != http.StatusCreated {
		t.Errorf("portal issuance during the outage: %d", code)
	}

	c.Clock.Advance(3 * time.Minute)
	state("grace over", "locked")
	if ce := issue("grace over", http.StatusForbidden); ce.Error.Code != "credential_locked" {
		t.Errorf("code %q", ce.Error.Code)
	}

	// Healed: fresh again. Then revoked: locked at the next refresh, with
	// no grace, although the service answers.
	c.Validation.SetFaults(pki.Faults{})
	if err := c.Checker.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	state("healed", "fresh")
	issue("healed", http.StatusCreated)
	leaf, err := pki.ReadCerts(cred.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := pki.OfficialOf(leaf[0])
	if _, err := c.Validation.Validation.Authority().RevokeOfficial(o.ID, "left the office"); err != nil {
		t.Fatal(err)
	}
	if err := c.Checker.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	state("revoked", "locked")
	if ce := issue("revoked", http.StatusForbidden); ce.Error.Code != "credential_locked" {
		t.Errorf("code %q", ce.Error.Code)
	}
}
