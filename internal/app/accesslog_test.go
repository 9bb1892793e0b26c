package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/issuance"
)

// A household member issues a document about the spouse: the spouse is
// told in the inbox (교부 사실 통보), sees who used their data and why in
// the access log, and the audit chain still verifies. The requester's own
// document tells nobody.
func TestWhoUsedMyDataAndIssuedToOtherNotice(t *testing.T) {
	env := apptest.Start(t, 400, 14)
	w := env.World
	f := findFamily(t, w)
	head, spouse := &w.People[f.head], &w.People[f.spouse]
	hc := env.Login(t, env.AccountOf(t, head.Subject))
	sc := env.Login(t, env.AccountOf(t, spouse.Subject))

	var own, about apiwire.Issued
	if code := hc.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy"}, newKey(), &own); code != http.StatusCreated {
		t.Fatalf("own: %d", code)
	}
	if code := hc.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy", "subject": spouse.Subject}, newKey(), &about); code != http.StatusCreated {
		t.Fatalf("about the spouse: %d", code)
	}
	hc.Raw("GET", about.Document, nil, nil) // a download by someone else is a use too

	var inbox []apiwire.Notice
	if code := sc.Do("GET", "/api/v1/notifications", nil, nil, &inbox); code != 200 || len(inbox) != 1 {
		t.Fatalf("spouse's inbox: %d %+v", code, inbox)
	}
	if n := inbox[0]; n.Kind != "issued_to_other" || n.Read || n.Number != about.Number || !strings.Contains(n.Body, "household") || strings.Contains(n.Body, spouse.RRN[:6]) {
		t.Errorf("notice %+v", n)
	}
	if code := sc.Do("POST", "/api/v1/notifications/"+inbox[0].ID+"/read", nil, nil, nil); code != http.StatusNoContent {
		t.Errorf("mark read: %d", code)
	}
	// The head cannot mark (or see) the spouse's notice.
	if code := hc.Do("POST", "/api/v1/notifications/"+inbox[0].ID+"/read", nil, nil, nil); code != http.StatusNotFound {
		t.Errorf("someone else's notice: %d", code)
	}
	var headInbox []apiwire.Notice
	if hc.Do("GET", "/api/v1/notifications", nil, nil, &headInbox); len(headInbox) != 0 {
		t.Errorf("the requester was told of their own document: %+v", headInbox)
	}

	var log []apiwire.AccessEntry
	if code := sc.Do("GET", "/api/v1/access-log", nil, nil, &log); code != 200 || len(log) != 2 {
		t.Fatalf("spouse's access log: %d %+v", code, log)
	}
	if e := log[0]; e.Action != audit.ActDownload || e.Number != about.Number {
		t.Errorf("newest entry %+v", e)
	}
	if e := log[1]; e.Action != audit.ActIssuance || e.ActorKind != audit.Citizen || e.Role != "household_member" || e.Number != about.Number || e.Service != "resident-registration-copy" {
		t.Errorf("issuance entry %+v", e)
	}
	var headLog []apiwire.AccessEntry
	if hc.Do("GET", "/api/v1/access-log", nil, nil, &headLog); len(headLog) != 1 || headLog[0].Role != "self" || headLog[0].Number != own.Number {
		t.Errorf("head's access log %+v", headLog)
	}
	if code := env.Anonymous(t).Do("GET", "/api/v1/access-log", nil, nil, nil); code != http.StatusUnauthorized {
		t.Errorf("anonymous access log: %d", code)
	}

	// The same, as pages, in both languages.
	page := func(path string) string {
		t.Helper()
		resp, body := sc.Raw("GET", path, nil, map[string]string{"Cookie": auth.SessionCookie + "=" + sc.Token})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return string(body)
	}
	for path, wants := range map[string][]string{
		"/access-log?lang=en":    {"Who used my personal data", "household member", "Issued online", "Document downloaded", issuance.Number(about.Number).Format()},
		"/access-log?lang=ko":    {"내 개인정보 이용 내역", "세대원", "인터넷 발급"},
		"/notifications?lang=ko": {"알림함", "교부 사실 통보"},
	} {
		body := page(path)
		for _, want := range wants {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
		if strings.Contains(body, "127.0.0.1") {
			t.Errorf("%s shows where the requests came from", path)
		}
	}

	if n, brk, err := audit.Verify(t.Context(), env.DB); brk != nil || err != nil || n < 3 {
		t.Errorf("audit chain: %d %v %v", n, brk, err)
	}
}
