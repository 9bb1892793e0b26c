package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/apptest"
)

// The verification page of a number offers the check-code form; the right
// code shows the document's fields and its PDF, a wrong one a refusal.
func TestVerifyPageWithCheckCode(t *testing.T) {
	env, head, _, _ := startEnv(t)
	c := env.Login(t, env.AccountOf(t, head.Subject))
	var is apiwire.Issued
	if st := c.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-abstract"}, map[string]string{"Idempotency-Key": "page-code"}, &is); st != http.StatusCreated {
		t.Fatalf("issue: %d", st)
	}
	_, pdf := c.Raw("GET", is.Document, nil, nil)
	m := regexp.MustCompile(`문서확인번호 \(Document check code\)\s+(\S{19})`).FindStringSubmatch(apptest.PDFText(t, pdf))
	if m == nil {
		t.Fatal("no check code printed")
	}
	code := m[1]

	// The owner's document page offers the wallet credential.
	owner := newBrowser(t, env)
	owner.login(env.AccountOf(t, head.Subject))
	if resp, page := owner.get("/documents/" + is.Number); resp.StatusCode != 200 || !strings.Contains(page, `href="/documents/`+is.Number+`/credential.sd-jwt"`) {
		t.Errorf("document page: %d, offers the credential: %t", resp.StatusCode, strings.Contains(page, "credential.sd-jwt"))
	}
	if resp, cred := owner.get("/documents/" + is.Number + "/credential.sd-jwt"); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/dc+sd-jwt" || strings.Count(cred, "~") < 2 {
		t.Errorf("credential download: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	b := newBrowser(t, env)
	resp, page := b.get("/verify/" + is.Number)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="code-form"`) {
		t.Fatalf("verify page: %d, form offered: %t", resp.StatusCode, strings.Contains(page, `id="code-form"`))
	}
	csrf := match(t, csrfRE, page)
	action := "/verify/" + is.Number + "/document"

	resp, page = b.post(action, url.Values{"csrf": {csrf}, "code": {"ABCD-EFGH-JKLM-NPQR"}}, nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, `id="verify-error"`) || strings.Contains(page, head.Name) {
		t.Errorf("wrong code: %d", resp.StatusCode)
	}
	if resp, _ := b.post(action, url.Values{"code": {code}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d", resp.StatusCode)
	}
	resp, page = b.post(action, url.Values{"csrf": {csrf}, "code": {code}}, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="checked"`) || !strings.Contains(page, head.Name) {
		t.Fatalf("right code: %d, shows the name: %t", resp.StatusCode, strings.Contains(page, head.Name))
	}
	resp, got := b.post(action, url.Values{"csrf": {match(t, csrfRE, page)}, "code": {code}, "format": {"pdf"}}, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.Equal([]byte(got), pdf) {
		t.Errorf("pdf: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
