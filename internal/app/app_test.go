package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"crypto/ed25519"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/storetest"
)

var keySeq struct {
	sync.Mutex
	n int
}

func newKey() map[string]string {
	keySeq.Lock()
	defer keySeq.Unlock()
	keySeq.n++
	return map[string]string{"Idempotency-Key": fmt.Sprintf("test-%d-%d", time.Now().UnixNano(), keySeq.n)}
}

// family finds a household with a head, a spouse, a minor child and an
// adult child, if the world has one.
type family struct {
	head, spouse, minor, adult int
}

func findFamily(t *testing.T, w *population.World) family {
	t.Helper()
	now := time.Now()
	for _, h := range w.Households {
		f := family{head: h.Head, spouse: -1, minor: -1, adult: -1}
		for _, m := range h.Members {
			p := &w.People[m]
			switch p.Relation {
			case population.Spouse:
				f.spouse = m
			case population.Child:
				// Minority as access decides it: 19 years from birth, today.
				if p.BirthDate.AddDate(19, 0, 0).After(now) {
					f.minor = m
				} else {
					f.adult = m
				}
			}
		}
		if f.spouse >= 0 && f.minor >= 0 && f.adult >= 0 {
			return f
		}
	}
	t.Fatal("no household with spouse, minor and adult child")
	return family{}
}

func unrelated(w *population.World, to int) int {
	for i := range w.People {
		if w.People[i].Household != w.People[to].Household && w.People[i].BirthDate.Year() < 1990 {
			return i
		}
	}
	return -1
}

func TestCitizenIssuesOwnCertificates(t *testing.T) {
	env := apptest.Start(t, 400, 11)
	w := env.World
	f := findFamily(t, w)
	head := &w.People[f.head]
	c := env.Login(t, env.AccountOf(t, head.Subject))

	for _, svc := range []string{"resident-registration-copy", "resident-registration-abstract", "graduation-certificate", "grade-certificate", "tax-payment-certificate"} {
		t.Run(svc, func(t *testing.T) {
			var got apiwire.Issued
			if code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": svc}, newKey(), &got); code != http.StatusCreated {
				t.Fatalf("issue: status %d", code)
			}
			if got.Subject != head.Subject || got.Service != svc || len(got.Number) != 16 {
				t.Fatalf("answer = %+v", got)
			}
			resp, pdf := c.Raw("GET", got.Document, nil, nil)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("pdf: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			text := apptest.PDFText(t, pdf)
			for _, want := range []string{head.Name, head.BirthDate.Format("2006-01-02"), got.Number[:4]} {
				if !strings.Contains(text, want) {
					t.Errorf("PDF text lacks %q", want)
				}
			}
			if strings.Contains(text, ident.FormatRRN(head.RRN)) || strings.Contains(text, head.RRN) {
				t.Error("PDF shows the full RRN without a request")
			}
			if _, err := docsig.VerifyPDF(pdf, keyMap(env)); err != nil {
				t.Errorf("PDF signature: %v", err)
			}
			_, data := c.Raw("GET", got.Data, nil, nil)
			if _, _, err := docsig.VerifyData(data, keyMap(env)); err != nil {
				t.Errorf("data.json signature: %v", err)
			}
		})
	}
}

func keyMap(env *apptest.Env) docsig.KeyMap {
	return docsig.KeyMap{env.Signer.KeyID: env.Signer.Key.Public().(ed25519.PublicKey)}
}

func TestShowRRNBackOnlyForSelf(t *testing.T) {
	env := apptest.Start(t, 400, 12)
	w := env.World
	f := findFamily(t, w)
	head := &w.People[f.head]
	c := env.Login(t, env.AccountOf(t, head.Subject))
	var got apiwire.Issued
	body := map[string]any{"service": "resident-registration-abstract", "options": map[string]bool{"show_rrn_back": true}}
	if code := c.Do("POST", "/api/v1/issuances", body, newKey(), &got); code != http.StatusCreated {
		t.Fatalf("issue with show_rrn_back: %d", code)
	}
	_, pdf := c.Raw("GET", got.Document, nil, nil)
	if text := apptest.PDFText(t, pdf); !strings.Contains(text, ident.FormatRRN(head.RRN)) {
		t.Fatal("requested RRN back digits are not shown")
	}
	// For the minor child, the parent may not unmask the child's RRN.
	minor := &w.People[f.minor]
	var e apiwire.ErrorBody
	body = map[string]any{"service": "resident-registration-abstract", "subject": minor.Subject, "options": map[string]bool{"show_rrn_back": true}}
	if code := c.Do("POST", "/api/v1/issuances", body, newKey(), &e); code != http.StatusBadRequest || e.Error.Code != "bad_request" {
		t.Fatalf("show_rrn_back for child: %d %+v", code, e)
	}
}

func TestRelationsDecideWhoMayRequest(t *testing.T) {
	env := apptest.Start(t, 400, 13)
	w := env.World
	f := findFamily(t, w)
	head, spouse, minor, adult := &w.People[f.head], &w.People[f.spouse], &w.People[f.minor], &w.People[f.adult]
	stranger := &w.People[unrelated(w, f.head)]
	c := env.Login(t, env.AccountOf(t, head.Subject))

	var me apiwire.Profile
	if code := c.Do("GET", "/api/v1/me", nil, nil, &me); code != 200 || me.Subject != head.Subject || me.Name != head.Name {
		t.Fatalf("me: %d %+v", code, me)
	}
	rel := map[string]string{}
	for _, r := range me.Relations {
		rel[r.Subject] = r.Relation
	}
	if rel[spouse.Subject] != "household_member" || rel[minor.Subject] != "child" || rel[stranger.Subject] != "" {
		t.Fatalf("relations = %v", rel)
	}

	cases := []struct {
		name, service, subject string
		want                   int
		wantName               string
	}{
		{"copy for spouse (household member)", "resident-registration-copy", spouse.Subject, 201, spouse.Name},
		{"grades of minor child", "grade-certificate", minor.Subject, 201, minor.Name},
		{"grades of adult child", "grade-certificate", adult.Subject, 403, ""},
		{"tax certificate of spouse", "tax-payment-certificate", spouse.Subject, 403, ""},
		{"copy for a stranger", "resident-registration-copy", stranger.Subject, 403, ""},
		{"unknown subject", "resident-registration-copy", "PNOBODY0000", 403, ""},
		{"unknown service", "driving-licence", "", 404, ""},
		{"application is not a certificate", "childcare-allowance", minor.Subject, 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got apiwire.Issued
			code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": tc.service, "subject": tc.subject}, newKey(), &got)
			if code != tc.want {
				t.Fatalf("status %d, want %d", code, tc.want)
			}
			if tc.want != 201 {
				return
			}
			_, pdf := c.Raw("GET", got.Document, nil, nil)
			if text := apptest.PDFText(t, pdf); !strings.Contains(text, tc.wantName) {
				t.Fatalf("PDF lacks the subject's name %q", tc.wantName)
			}
		})
	}
}

func TestCorporateCertificates(t *testing.T) {
	env := apptest.Start(t, 400, 14)
	w := env.World
	corp := &w.Corporations[0]
	c := env.Login(t, env.AccountOf(t, corp.Subject))
	rep := &w.People[corp.Representative]
	for _, svc := range []string{"corporate-tax-payment-certificate", "business-registration-certificate"} {
		var got apiwire.Issued
		if code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": svc}, newKey(), &got); code != 201 {
			t.Fatalf("%s: status %d", svc, code)
		}
		_, pdf := c.Raw("GET", got.Document, nil, nil)
		text := apptest.PDFText(t, pdf)
		if !strings.Contains(text, corp.Name) || !strings.Contains(text, ident.FormatBusinessNumber(corp.BusinessNumber)) {
			t.Fatalf("%s: PDF lacks company name or business number", svc)
		}
		if strings.Contains(text, rep.RRN[:6]+"-"+rep.RRN[6:7]) || strings.Contains(text, rep.RRN) {
			t.Fatalf("%s: the representative's RRN is on a corporate certificate", svc)
		}
	}
	// The corporate account may not request personal certificates.
	if code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": "tax-payment-certificate", "subject": rep.Subject}, newKey(), nil); code != 403 {
		t.Fatalf("corporate account got a personal certificate: %d", code)
	}
	// The representative's own person account may act for the corporation.
	rc := env.Login(t, env.AccountOf(t, rep.Subject))
	if code := rc.Do("POST", "/api/v1/issuances", map[string]any{"service": "business-registration-certificate", "subject": corp.Subject}, newKey(), nil); code != 201 {
		t.Fatalf("representative for corporation: %d", code)
	}
}

func TestObjectsAreScopedToTheCaller(t *testing.T) {
	storetest.Each(t, testObjectsAreScopedToTheCaller)
}

func testObjectsAreScopedToTheCaller(t *testing.T, b storetest.Backend) {
	env := apptest.StartOpts(t, 400, 15, apptest.Options{Backend: &b})
	w := env.World
	f := findFamily(t, w)
	head, spouse := &w.People[f.head], &w.People[f.spouse]
	stranger := &w.People[unrelated(w, f.head)]
	hc := env.Login(t, env.AccountOf(t, head.Subject))
	var doc apiwire.Issued
	if code := hc.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy", "subject": spouse.Subject}, newKey(), &doc); code != 201 {
		t.Fatalf("issue: %d", code)
	}
	sc := env.Login(t, env.AccountOf(t, stranger.Subject))
	for _, path := range []string{"/api/v1/issuances/" + doc.Number, doc.Document, doc.Data} {
		var e apiwire.ErrorBody
		if code := sc.Do("GET", path, nil, nil, &e); code != 404 || e.Error.Code != "not_found" {
			t.Errorf("stranger GET %s: %d %+v", path, code, e)
		}
	}
	var list []apiwire.Issued
	if sc.Do("GET", "/api/v1/issuances", nil, nil, &list); len(list) != 0 {
		t.Errorf("stranger lists %d documents", len(list))
	}
	// The subject (the spouse) may see a document about them.
	pc := env.Login(t, env.AccountOf(t, spouse.Subject))
	if code := pc.Do("GET", "/api/v1/issuances/"+doc.Number, nil, nil, nil); code != 200 {
		t.Errorf("subject GET: %d", code)
	}
	if hc.Do("GET", "/api/v1/issuances", nil, nil, &list); len(list) != 1 || list[0].Number != doc.Number {
		t.Errorf("requester's list = %+v", list)
	}
	// Garbage and ended sessions.
	bad := &apptest.Client{}
	*bad = *hc
	bad.Token = "mws_" + strings.Repeat("x", 43)
	if code := bad.Do("GET", "/api/v1/me", nil, nil, nil); code != 401 {
		t.Errorf("garbage token: %d", code)
	}
	if code := hc.Do("POST", "/api/v1/logout", nil, nil, nil); code != 200 {
		t.Errorf("logout: %d", code)
	}
	if code := hc.Do("GET", "/api/v1/issuances/"+doc.Number, nil, nil, nil); code != 401 {
		t.Errorf("after logout: %d", code)
	}
}

func TestIdempotency(t *testing.T) {
	storetest.Each(t, testIdempotency)
}

func testIdempotency(t *testing.T, b storetest.Backend) {
	env := apptest.StartOpts(t, 200, 16, apptest.Options{Backend: &b})
	p := &env.World.People[env.World.Households[0].Head]
	c := env.Login(t, env.AccountOf(t, p.Subject))
	key := newKey()
	body := map[string]any{"service": "resident-registration-abstract"}

	const n = 12
	numbers := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got apiwire.Issued
			if code := c.Do("POST", "/api/v1/issuances", body, key, &got); code != 201 {
				t.Errorf("retry %d: %d", i, code)
			}
			numbers[i] = got.Number
		}()
	}
	wg.Wait()
	for _, num := range numbers {
		if num != numbers[0] {
			t.Fatalf("one idempotency key gave numbers %v", numbers)
		}
	}
	var list []apiwire.Issued
	c.Do("GET", "/api/v1/issuances", nil, nil, &list)
	if len(list) != 1 {
		t.Fatalf("%d documents stored for one key", len(list))
	}
	var e apiwire.ErrorBody
	if code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy"}, key, &e); code != 409 || e.Error.Code != "idempotency_conflict" {
		t.Fatalf("key reused for another body: %d %+v", code, e)
	}
	if code := c.Do("POST", "/api/v1/issuances", body, nil, &e); code != 400 {
		t.Fatalf("missing key: %d", code)
	}
}

func TestSwappedAgencyAnswerIsRefused(t *testing.T) {
	env := apptest.Start(t, 200, 17)
	p := &env.World.People[env.World.Households[0].Head]
	c := env.Login(t, env.AccountOf(t, p.Subject))
	// Prime the agency's buffer with other people's answers.
	other := env.Login(t, env.AccountOf(t, env.World.People[env.World.Households[1].Head].Subject))
	other.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-abstract"}, newKey(), nil)
	env.Agencies["registry"].SetFaults(agency.Faults{Swap: 1})

	var e apiwire.ErrorBody
	code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-abstract"}, newKey(), &e)
	if code != 422 || e.Error.Code != "pre_issuance_refused" || e.Error.Rule != "subject_mismatch" {
		t.Fatalf("swapped answer: %d %+v", code, e)
	}
	var list []apiwire.Issued
	c.Do("GET", "/api/v1/issuances", nil, nil, &list)
	if len(list) != 0 {
		t.Fatal("a document was issued from a swapped answer")
	}
	alerts, err := env.DB.Alerts(context.Background(), 10)
	if err != nil || len(alerts) == 0 || !strings.Contains(alerts[0].Kind, "subject_mismatch") {
		t.Fatalf("alerts = %+v, %v", alerts, err)
	}
}

// A swapped registry answer while deciding whether the requester may act
// for a household member is refused like any other swap, not a 500.
func TestSwapDuringAuthorizationIsRefused(t *testing.T) {
	env := apptest.Start(t, 200, 19)
	var head, member string
	for _, h := range env.World.Households {
		if len(h.Members) > 1 {
			head, member = env.World.People[h.Members[0]].Subject, env.World.People[h.Members[1]].Subject
			break
		}
	}
	c := env.Login(t, env.AccountOf(t, head))
	other := env.Login(t, env.AccountOf(t, env.World.People[env.World.Households[1].Head].Subject))
	other.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-abstract"}, newKey(), nil)
	env.Agencies["registry"].SetFaults(agency.Faults{Swap: 1})

	var e apiwire.ErrorBody
	code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy", "subject": member}, newKey(), &e)
	if code != 422 || e.Error.Rule != "subject_mismatch" {
		t.Fatalf("swapped answer during authorisation: %d %+v", code, e)
	}
}

// A swapped registry answer outside issuance — reading the caller's own
// household for GET /api/v1/me — is discarded like any other, and the
// caller hears that the agency could not answer usably just now (503 with
// Retry-After), not a 500; nothing of the swapped answer reaches them.
func TestSwapDuringProfileIs503(t *testing.T) {
	env := apptest.Start(t, 200, 23)
	p := &env.World.People[env.World.Households[0].Head]
	c := env.Login(t, env.AccountOf(t, p.Subject))
	other := env.Login(t, env.AccountOf(t, env.World.People[env.World.Households[1].Head].Subject))
	if code := other.Do("GET", "/api/v1/me", nil, nil, nil); code != 200 {
		t.Fatalf("me before the swap: %d", code)
	}
	env.Agencies["registry"].SetFaults(agency.Faults{Swap: 1})

	resp, body := c.Raw("GET", "/api/v1/me", nil, nil)
	var e apiwire.ErrorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	if resp.StatusCode != 503 || e.Error.Code != "agency_answer_mismatch" || resp.Header.Get("Retry-After") == "" || !strings.Contains(e.Error.Message, "registry") {
		t.Fatalf("me while the registry swaps: %d %+v, Retry-After %q", resp.StatusCode, e, resp.Header.Get("Retry-After"))
	}
	other2 := &env.World.People[env.World.Households[1].Head]
	if strings.Contains(string(body), other2.Name) || strings.Contains(string(body), other2.Subject) {
		t.Fatalf("the answer names someone else: %s", body)
	}
	env.Agencies["registry"].SetFaults(agency.Faults{})
	var me apiwire.Profile
	if code := c.Do("GET", "/api/v1/me", nil, nil, &me); code != 200 || me.Subject != p.Subject {
		t.Fatalf("me after healing: %d %+v", code, me)
	}
}

func TestAgencyDownIs503WithRetryAfter(t *testing.T) {
	env := apptest.Start(t, 100, 18)
	p := &env.World.People[0]
	c := env.Login(t, env.AccountOf(t, p.Subject))
	env.Agencies["education"].SetFaults(agency.Faults{Error: 1})
	resp, _ := c.Raw("POST", "/api/v1/issuances", map[string]any{"service": "grade-certificate"}, newKey())
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("education down: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Services of other agencies still work.
	if code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-abstract"}, newKey(), nil); code != 201 {
		t.Fatalf("registry service during education outage: %d", code)
	}
}
