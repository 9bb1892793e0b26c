package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/population"
)

// browser is a cookie-keeping HTTP client that does not follow redirects,
// standing in for a browser in tests that need no rendering.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, env *apptest.Env) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: env.Server.URL, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

// post sends a form the way a browser does from this site's own page.
func (b *browser) post(path string, form url.Values, header map[string]string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.base)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
var keyRE = regexp.MustCompile(`name="key" value="([^"]+)"`)

func match(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("page has no %s:\n%s", re, body)
	}
	return m[1]
}

func (b *browser) login(a apptest.Account) {
	b.t.Helper()
	_, page := b.get("/login")
	resp, body := b.post("/login", url.Values{"csrf": {match(b.t, csrfRE, page)}, "login": {a.Login}, "password": {a.Password}, "next": {"/documents"}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/documents" {
		b.t.Fatalf("login: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// requestForm opens a request form and returns its token and key.
func (b *browser) requestForm(service string) (page, csrf, key string) {
	b.t.Helper()
	resp, page := b.get("/request/" + service)
	if resp.StatusCode != 200 {
		b.t.Fatalf("request form %s: %d", service, resp.StatusCode)
	}
	if m := keyRE.FindStringSubmatch(page); m != nil {
		key = m[1]
	}
	return page, match(b.t, csrfRE, page), key
}

func startEnv(t *testing.T) (*apptest.Env, *population.Person, *population.Person, *population.Person) {
	env := apptest.Start(t, 300, 21)
	head, spouse, minor := household(t, env.World)
	return env, head, spouse, minor
}

func TestSecurityHeaders(t *testing.T) {
	env, head, _, _ := startEnv(t)
	b := newBrowser(t, env)
	b.login(env.AccountOf(t, head.Subject))
	for _, p := range []string{"/", "/login", "/documents", "/request/resident-registration-copy", "/verify", "/status", "/nowhere"} {
		resp, _ := b.get(p)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP allows scripts: %q", p, csp)
		}
		for k, want := range map[string]string{
			"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
			"Referrer-Policy": "same-origin", "Cross-Origin-Opener-Policy": "same-origin",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", p, k, got, want)
			}
		}
	}
	if resp, _ := b.get("/static/style.css"); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("style sheet: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// Links built from the request's path stay on this site: the decoded path
// of /%2Fevil.example/x is //evil.example/x, a link to another host.
func TestLinksFromThePathStayOnSite(t *testing.T) {
	env, _, _, _ := startEnv(t)
	b := newBrowser(t, env)
	for _, p := range []string{"/%2Fevil.example/x", "/%2F%2Fevil.example/x", "/%5Cevil.example/x"} {
		_, page := b.get(p)
		href := match(t, regexp.MustCompile(`class="lang" href="([^"]*)"`), page)
		if strings.HasPrefix(href, "//") || strings.HasPrefix(href, "/\\") || strings.Contains(href, "://") {
			t.Errorf("%s: language link %q leaves the site", p, href)
		}
	}
	resp, _ := b.get("/documents/%2Fevil.example")
	if loc := resp.Header.Get("Location"); loc != "/login?next=%2Fdocuments%2F%252Fevil.example" {
		t.Errorf("login redirect for an encoded path: %q", loc)
	}
}

// A page asked with the wrong method is a 405 that says which it takes.
func TestWrongMethodIs405(t *testing.T) {
	env, _, _, _ := startEnv(t)
	b := newBrowser(t, env)
	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/login", "GET, HEAD, POST"},
		{"PUT", "/status", "GET, HEAD"},
	} {
		req, _ := http.NewRequest(tc.method, b.base+tc.path, nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, _ := b.do(req)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if resp, _ := b.get("/nowhere"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown page: %d", resp.StatusCode)
	}
}

// /static/ serves its files and lists nothing.
func TestStaticListsNoDirectory(t *testing.T) {
	env, _, _, _ := startEnv(t)
	b := newBrowser(t, env)
	for _, p := range []string{"/static/", "/static", "/static/.", "/static//"} {
		resp, body := b.get(p)
		if resp.StatusCode == http.StatusOK || strings.Contains(body, "style.css") {
			t.Errorf("%s: %d lists the directory: %.200s", p, resp.StatusCode, body)
		}
	}
	if resp, _ := b.get("/static/favicon.svg"); resp.StatusCode != http.StatusOK {
		t.Errorf("favicon: %d", resp.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	env, head, _, _ := startEnv(t)
	acct := env.AccountOf(t, head.Subject)
	b := newBrowser(t, env)
	_, page := b.get("/login")
	token := match(t, csrfRE, page)
	creds := func(tok string) url.Values {
		return url.Values{"csrf": {tok}, "login": {acct.Login}, "password": {acct.Password}}
	}
	noSession := func(resp *http.Response) bool {
		for _, c := range resp.Cookies() {
			if c.Name == "minwon_session" && c.Value != "" {
				return false
			}
		}
		return true
	}

	// Another browser's token does not fit this browser's cookie.
	other := newBrowser(t, env)
	_, otherPage := other.get("/login")
	for name, tc := range map[string]struct {
		form   url.Values
		header map[string]string
	}{
		"no token":            {creds(""), nil},
		"another's token":     {creds(match(t, csrfRE, otherPage)), nil},
		"cross-site fetch":    {creds(token), map[string]string{"Sec-Fetch-Site": "cross-site"}},
		"foreign origin":      {creds(token), map[string]string{"Sec-Fetch-Site": "", "Origin": "http://evil.example"}},
		"same-site subdomain": {creds(token), map[string]string{"Sec-Fetch-Site": "same-site"}},
	} {
		resp, body := b.post("/login", tc.form, tc.header)
		if resp.StatusCode != http.StatusForbidden || !noSession(resp) {
			t.Errorf("%s: login answered %d (session cookie set: %v)", name, resp.StatusCode, !noSession(resp))
		}
		if !strings.Contains(body, "<html") {
			t.Errorf("%s: refusal is not a page", name)
		}
	}
	b.login(acct)

	// Logged in, the token is bound to the session: the pre-login token no
	// longer issues documents, and no form is accepted without one.
	_, _, key := b.requestForm("resident-registration-copy")
	for _, tok := range []string{"", token, match(t, csrfRE, otherPage)} {
		resp, _ := b.post("/request/resident-registration-copy", url.Values{"csrf": {tok}, "key": {key}}, nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("request with token %q: %d", tok, resp.StatusCode)
		}
	}
	if list, err := env.App.Pipeline.List(t.Context(), sessionPrincipal(t, env, acct)); err != nil || len(list) != 0 {
		t.Fatalf("refused posts issued %d documents (%v)", len(list), err)
	}
	_, csrf, key := b.requestForm("resident-registration-copy")
	resp, _ := b.post("/request/resident-registration-copy", url.Values{"csrf": {csrf}, "key": {key}}, nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/documents/") {
		t.Fatalf("request with the token: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The same form sent twice issues once.
	again, _ := b.post("/request/resident-registration-copy", url.Values{"csrf": {csrf}, "key": {key}}, nil)
	if again.Header.Get("Location") != resp.Header.Get("Location") {
		t.Errorf("double submit issued twice: %s, %s", resp.Header.Get("Location"), again.Header.Get("Location"))
	}
	// Logout is a form too.
	if resp, _ := b.post("/logout", url.Values{}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout without token: %d", resp.StatusCode)
	}
}

func sessionPrincipal(t *testing.T, env *apptest.Env, a apptest.Account) auth.Principal {
	return auth.Principal{Login: a.Login, Subject: a.Subject, Kind: a.Kind}
}

func TestLoginAndSessions(t *testing.T) {
	env, head, _, _ := startEnv(t)
	acct := env.AccountOf(t, head.Subject)
	b := newBrowser(t, env)

	resp, _ := b.get("/documents")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fdocuments" {
		t.Fatalf("wallet without login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := b.get("/login?next=%2Fdocuments")
	if !strings.Contains(page, "로그인 후 이용할 수 있습니다") {
		t.Error("login form does not say why it is shown")
	}
	resp, body := b.post("/login", url.Values{"csrf": {match(t, csrfRE, page)}, "login": {acct.Login}, "password": {"wrong password"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "아이디 또는 비밀번호가 맞지 않습니다") || !strings.Contains(body, `value="`+acct.Login+`"`) {
		t.Errorf("wrong password: %d\n%s", resp.StatusCode, body)
	}
	// next never leads off the site.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "documents"} {
		nb := newBrowser(t, env)
		_, page := nb.get("/login")
		resp, _ := nb.post("/login", url.Values{"csrf": {match(t, csrfRE, page)}, "login": {acct.Login}, "password": {acct.Password}, "next": {next}}, nil)
		if got := resp.Header.Get("Location"); got != "/documents" {
			t.Errorf("next=%q redirected to %q", next, got)
		}
	}

	// An expired session goes back to the login form with a message, and
	// from there back to the page.
	b.login(acct)
	var token string
	u, _ := url.Parse(env.Server.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "minwon_session" {
			token = c.Value
		}
	}
	if err := env.App.Sessions.Logout(t.Context(), token); err != nil {
		t.Fatal(err)
	}
	resp, _ = b.get("/documents?x=1")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?reason=expired&next=%2Fdocuments%3Fx%3D1" {
		t.Fatalf("expired session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = b.get(resp.Header.Get("Location"))
	if !strings.Contains(page, "로그인 시간이 만료되어") || !strings.Contains(page, `name="next" value="/documents?x=1"`) {
		t.Errorf("expired login page:\n%s", page)
	}
}

func TestLanguage(t *testing.T) {
	env, head, _, _ := startEnv(t)
	b := newBrowser(t, env)
	_, page := b.get("/")
	if !strings.Contains(page, `<html lang="ko">`) || !strings.Contains(page, "증명서 발급") || !strings.Contains(page, `href="/?lang=en"`) {
		t.Error("home is not Korean by default, or has no switch")
	}
	resp, page := b.get("/status?lang=en")
	if !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, "Service status") {
		t.Error("?lang=en is not English")
	}
	if c := resp.Cookies(); len(c) == 0 {
		t.Error("language choice not remembered")
	}
	_, page = b.get("/verify")
	if !strings.Contains(page, "Verify a document") {
		t.Error("English not remembered on the next page")
	}
	b.login(env.AccountOf(t, head.Subject))
	_, page = b.get("/request/resident-registration-copy")
	if !strings.Contains(page, "Request: Resident Registration Copy") || !strings.Contains(page, "household member") {
		t.Error("request form not in English")
	}
	_, page = b.get("/?lang=ko")
	if !strings.Contains(page, `<html lang="ko">`) {
		t.Error("cannot switch back to Korean")
	}
}

func TestRequestFormsOfferOnlyAllowedChoices(t *testing.T) {
	env, head, spouse, minor := startEnv(t)
	b := newBrowser(t, env)
	b.login(env.AccountOf(t, head.Subject))
	offered := func(page string, p *population.Person) bool { return strings.Contains(page, `value="`+p.Subject+`"`) }

	page, _, _ := b.requestForm("resident-registration-copy")
	if !offered(page, head) || !offered(page, spouse) || !offered(page, minor) || !strings.Contains(page, `id="show_rrn_back"`) {
		t.Error("copy form: want self, spouse, child and the RRN option")
	}
	page, _, _ = b.requestForm("grade-certificate")
	if !offered(page, head) || offered(page, spouse) || !offered(page, minor) || strings.Contains(page, `show_rrn_back`) {
		t.Error("grade form: want self and the minor child only, no RRN option")
	}
	if !strings.Contains(page, `<select name="school_level"`) || !strings.Contains(page, `value="high"`) || strings.Contains(page, `value="elementary"`) {
		t.Error("grade form: want a school level choice without elementary school")
	}
	page, _, _ = b.requestForm("tax-payment-certificate")
	if !offered(page, head) || offered(page, spouse) || offered(page, minor) {
		t.Error("tax form: want self only")
	}
	if !strings.Contains(page, `<select name="purpose"`) || !strings.Contains(page, `value="emigration"`) || strings.Contains(page, `name="school_level"`) {
		t.Error("tax form: want a purpose choice and no school level")
	}
	page, _, _ = b.requestForm("resident-registration-copy")
	if strings.Contains(page, `<select`) {
		t.Error("copy form offers a school or a purpose")
	}
	page, _, _ = b.requestForm("business-registration-certificate")
	if offered(page, head) {
		t.Error("business form offers the person themself")
	}

	// Asking for the spouse's RRN back digits by hand is refused, plainly.
	_, csrf, key := b.requestForm("resident-registration-copy")
	resp, body := b.post("/request/resident-registration-copy", url.Values{"csrf": {csrf}, "key": {key}, "subject": {spouse.Subject}, "show_rrn_back": {"1"}}, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "본인 문서에만") {
		t.Errorf("RRN back digits for the spouse: %d", resp.StatusCode)
	}
	// A subject the user may not choose is refused without saying whether it exists.
	resp, body = b.post("/request/tax-payment-certificate", url.Values{"csrf": {csrf}, "key": {key + "x"}, "subject": {spouse.Subject}}, nil)
	if resp.StatusCode != http.StatusForbidden || strings.Contains(body, spouse.Name) {
		t.Errorf("tax certificate for the spouse: %d", resp.StatusCode)
	}

	// A corporate account sees its corporation's certificates only.
	corp := &env.World.Corporations[0]
	cb := newBrowser(t, env)
	cb.login(env.AccountOf(t, corp.Subject))
	page, _, _ = cb.requestForm("business-registration-certificate")
	if !strings.Contains(page, `value="`+corp.Subject+`"`) || !strings.Contains(page, corp.Name) {
		t.Error("corporate account not offered its corporation")
	}
	page, _, _ = cb.requestForm("resident-registration-copy")
	if strings.Contains(page, `name="subject"`) {
		t.Error("corporate account offered a personal certificate")
	}
}

func TestWalletAndDownload(t *testing.T) {
	env, head, spouse, _ := startEnv(t)
	b := newBrowser(t, env)
	b.login(env.AccountOf(t, head.Subject))
	_, page := b.get("/documents")
	if !strings.Contains(page, "아직 발급받은 문서가 없습니다") {
		t.Error("empty wallet does not say so")
	}
	_, csrf, key := b.requestForm("resident-registration-copy")
	resp, _ := b.post("/request/resident-registration-copy", url.Values{"csrf": {csrf}, "key": {key}, "subject": {spouse.Subject}}, nil)
	loc := resp.Header.Get("Location")
	number := strings.TrimSuffix(strings.TrimPrefix(loc, "/documents/"), "?issued=1")
	_, page = b.get(loc)
	if !strings.Contains(page, "문서가 발급되어") || !strings.Contains(page, spouse.Name) {
		t.Error("document page lacks the success message or the subject's name")
	}
	_, page = b.get("/documents")
	if !strings.Contains(page, `id="doc-`+number+`"`) || !strings.Contains(page, spouse.Name+" (세대원)") {
		t.Error("wallet lacks the document or whom it is for")
	}
	resp, pdf := b.get("/documents/" + number + "/document.pdf")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("pdf: %d %v", resp.StatusCode, resp.Header)
	}
	if text := apptest.PDFText(t, []byte(pdf)); !strings.Contains(text, spouse.Name) {
		t.Error("downloaded PDF lacks the subject's name")
	}
	// Another user cannot see it: not found, like a number never issued.
	stranger := newBrowser(t, env)
	for i := range env.World.People {
		if p := &env.World.People[i]; p.Household != head.Household {
			stranger.login(env.AccountOf(t, p.Subject))
			break
		}
	}
	for _, p := range []string{"/documents/" + number, "/documents/" + number + "/document.pdf"} {
		if resp, body := stranger.get(p); resp.StatusCode != http.StatusNotFound || strings.Contains(body, spouse.Name) {
			t.Errorf("stranger GET %s: %d", p, resp.StatusCode)
		}
	}
}

func TestOutagePageSaysWhenToRetry(t *testing.T) {
	env, head, _, _ := startEnv(t)
	b := newBrowser(t, env)
	b.login(env.AccountOf(t, head.Subject))
	env.Agencies[linkage.Education].SetFaults(agency.Faults{Error: 1})
	_, csrf, key := b.requestForm("graduation-certificate")
	resp, body := b.post("/request/graduation-certificate", url.Values{"csrf": {csrf}, "key": {key}}, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("outage: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for _, want := range []string{"교육행정정보시스템", "초 뒤", "아무 문서도 발급되지 않았습니다", `href="/request/graduation-certificate"`, `href="/status"`} {
		if !strings.Contains(body, want) {
			t.Errorf("outage page lacks %q", want)
		}
	}
}

// A request form reads the caller's household from the registry; while the
// registry hands out other requests' answers, the form says the agency's
// answer could not be used and when to retry (503), never a 500, and shows
// nothing of the swapped answer.
func TestRequestFormWhileRegistrySwaps(t *testing.T) {
	env, head, _, _ := startEnv(t)
	stranger := &env.World.People[env.World.Households[len(env.World.Households)-1].Head]
	other := newBrowser(t, env)
	other.login(env.AccountOf(t, stranger.Subject))
	other.requestForm("resident-registration-copy")
	b := newBrowser(t, env)
	b.login(env.AccountOf(t, head.Subject))
	env.Agencies[linkage.Registry].SetFaults(agency.Faults{Swap: 1})
	resp, body := b.get("/request/resident-registration-copy")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("request form while swapping: %d, Retry-After %q\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	for _, want := range []string{"기관 시스템의 응답을 사용할 수 없습니다", "주민등록", "초 뒤", "아무 문서도 발급되지 않았습니다", `href="/status"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, stranger.Name) {
		t.Errorf("page shows the swapped answer's name")
	}
	env.Agencies[linkage.Registry].SetFaults(agency.Faults{})
	if resp, _ := b.get("/request/resident-registration-copy"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after healing: %d", resp.StatusCode)
	}
}

// uploadPDF posts a file to the verification form as a browser does.
func (b *browser) uploadPDF(csrf string, pdf []byte) (*http.Response, string) {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("pdf", "document.pdf")
	fw.Write(pdf)
	mw.Close()
	req, _ := http.NewRequest("POST", b.base+"/verify", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func TestVerifyPages(t *testing.T) {
	env, head, _, _ := startEnv(t)
	owner := newBrowser(t, env)
	owner.login(env.AccountOf(t, head.Subject))
	_, csrf, key := owner.requestForm("resident-registration-abstract")
	resp, _ := owner.post("/request/resident-registration-abstract", url.Values{"csrf": {csrf}, "key": {key}}, nil)
	number := strings.TrimSuffix(strings.TrimPrefix(resp.Header.Get("Location"), "/documents/"), "?issued=1")
	_, pdf := owner.get("/documents/" + number + "/document.pdf")

	// Anyone, without logging in.
	b := newBrowser(t, env)
	_, page := b.get("/verify")
	token := match(t, csrfRE, page)
	check := func(name string, resp *http.Response, body string, status int, wants ...string) {
		t.Helper()
		if resp.StatusCode != status {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, status)
		}
		for _, w := range wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %q", name, w)
			}
		}
		if strings.Contains(body, head.Name) {
			t.Errorf("%s: page shows the subject's name", name)
		}
	}
	formatted := issuance.Number(number).Format()
	resp, _ = b.get("/verify?number=" + url.QueryEscape(formatted))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/verify/"+number {
		t.Fatalf("number form: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := b.get("/verify/" + number)
	check("by number", resp, body, 200, "진본입니다", formatted, "주민등록표 초본")
	resp, body = b.get("/verify?number=1234-5678-9012-3456")
	check("bad check digit", resp, body, 400, "발급번호가 올바르지 않습니다", `aria-invalid="true"`)
	resp, body = b.get("/verify/" + string(issuance.NewNumber()))
	check("never issued", resp, body, 200, "확인되지 않는 문서입니다")

	resp, body = b.uploadPDF(token, []byte(pdf))
	check("upload", resp, body, 200, "진본입니다", "발급 당시 그대로", formatted)
	altered := []byte(pdf)
	i := bytes.Index(altered, []byte("/Producer"))
	if i < 0 {
		i = len(altered) / 2
	}
	altered[i+1] ^= 0x20
	resp, body = b.uploadPDF(token, altered)
	check("altered upload", resp, body, 200, "내용이 바뀐 문서입니다")
	resp, body = b.uploadPDF(token, []byte("%PDF-1.4\nnot a minwon document\n"))
	check("unsigned upload", resp, body, 200, "전자서명이 없습니다")
	resp, body = b.uploadPDF("", []byte(pdf))
	check("upload without token", resp, body, 403, "보안 확인에 실패")

	if _, err := env.App.Pipeline.Revoke(t.Context(), number, "issued in error"); err != nil {
		t.Fatal(err)
	}
	resp, body = b.get("/verify/" + number)
	check("revoked", resp, body, 200, "취소된 문서입니다", "issued in error")
	_, page = owner.get("/documents")
	if !strings.Contains(page, `badge st-revoked`) {
		t.Error("wallet does not show the revocation")
	}
}

// TestLoginOffersToEndOtherSessions: the page after a login says the
// account is logged in elsewhere, once, with a button (CSRF-protected)
// that logs the other sessions out.
func TestLoginOffersToEndOtherSessions(t *testing.T) {
	env, head, _, _ := startEnv(t)
	acct := env.AccountOf(t, head.Subject)
	elsewhere, b := newBrowser(t, env), newBrowser(t, env)
	elsewhere.login(acct)
	b.login(acct)
	_, page := b.get("/documents")
	if !strings.Contains(page, "다른 곳에서도 로그인되어 있습니다(세션 1개)") || !strings.Contains(page, `action="/sessions/end-others"`) {
		t.Fatalf("the page after login does not offer to end the other session:\n%s", page)
	}
	if _, again := b.get("/documents"); strings.Contains(again, "/sessions/end-others") {
		t.Error("the offer is shown again on the next page")
	}
	if resp, _ := b.post("/sessions/end-others", url.Values{"next": {"/documents"}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("end-others without its CSRF token: %d, want 403", resp.StatusCode)
	}
	resp, _ := b.post("/sessions/end-others", url.Values{"csrf": {match(t, csrfRE, page)}, "next": {"/documents"}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/documents" {
		t.Fatalf("end-others: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := b.get("/documents"); !strings.Contains(page, "다른 세션 1개를 로그아웃했습니다") {
		t.Errorf("the page does not say the other session was ended:\n%s", page)
	}
	if resp, _ := elsewhere.get("/documents"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?reason=expired") {
		t.Errorf("the other session still works: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b.get("/documents"); resp.StatusCode != http.StatusOK {
		t.Errorf("the current session was ended: %d", resp.StatusCode)
	}
}

// TestLoginFormSaysHowLongToWait: a throttled login is a 429 with
// Retry-After, and the form says how many seconds to wait.
func TestLoginFormSaysHowLongToWait(t *testing.T) {
	env, head, _, _ := startEnv(t)
	acct := env.AccountOf(t, head.Subject)
	b := newBrowser(t, env)
	_, page := b.get("/login")
	csrf := match(t, csrfRE, page)
	var resp *http.Response
	var body string
	for range 6 {
		resp, body = b.post("/login", url.Values{"csrf": {csrf}, "login": {acct.Login}, "password": {"wrong password"}}, nil)
	}
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "초 뒤에 다시 시도하세요") {
		t.Fatalf("6th wrong password: %d, Retry-After %q\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}
