package web_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/webtest"
)

// household finds a head of household with a spouse and a minor child.
func household(t *testing.T, w *population.World) (head, spouse, minor *population.Person) {
	t.Helper()
	now := time.Now()
	for _, h := range w.Households {
		spouse, minor = nil, nil
		for _, m := range h.Members {
			p := &w.People[m]
			switch {
			case p.Relation == population.Spouse:
				spouse = p
			case p.Relation == population.Child && p.BirthDate.AddDate(19, 0, 0).After(now):
				minor = p
			}
		}
		if spouse != nil && minor != nil && len(w.People[h.Head].Schools) > 0 {
			return &w.People[h.Head], spouse, minor
		}
	}
	t.Fatal("no household with a spouse and a minor child")
	return nil, nil, nil
}

// click clicks the element and waits for the page it leads to.
func click(sel string) chromedp.Action[chromedp.Void] {
	wait := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := wait(ctx, t)
		return chromedp.Void{}, err
	}
}

// press types keys into the focused element and waits for the page they lead to.
func press(keys string) chromedp.Action[chromedp.Void] {
	wait := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent(keys))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := wait(ctx, t)
		return chromedp.Void{}, err
	}
}

func path(t *testing.T, b *webtest.Browser) string {
	t.Helper()
	loc := webtest.Run(b, "location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

func TestBrowserJourney(t *testing.T) {
	b := webtest.Start(t, 1100, 900)
	env := apptest.StartWith(t, 300, 21, linkage.Options{BreakerThreshold: 3, BreakerCooldown: 30 * time.Second})
	base := env.Server.URL
	head, spouse, minor := household(t, env.World)
	acct := env.AccountOf(t, head.Subject)
	nav := func(p string) { t.Helper(); b.Do("open "+p, chromedp.Navigate(base+p)) }

	// A visitor asking for their documents is sent to the login form and
	// logs in with the keyboard alone: the login field has focus, Tab
	// moves to the password, Enter submits.
	nav("/documents")
	if got := path(t, b); got != "/login?next=%2Fdocuments" {
		t.Fatalf("not logged in: at %s, want the login form", got)
	}
	if got := webtest.Eval[string](b, `document.activeElement.id`); got != "login" {
		t.Fatalf("focus is on %q, want the login field", got)
	}
	b.Shot("login")
	b.Do("keyboard login",
		chromedp.KeyEvent(acct.Login),
		chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent(acct.Password),
		press(kb.Enter),
	)
	if got := path(t, b); got != "/documents" {
		t.Fatalf("after login at %s, want /documents", got)
	}
	if h1 := b.Text("h1"); h1 != "내 문서함" {
		t.Fatalf("wallet h1 = %q", h1)
	}

	// The home page groups the catalog by kind and searches it.
	nav("/")
	b.Shot("home")
	for _, want := range []string{"증명서 발급", "신청", "신고", "조회", "주민등록표 등본", "졸업증명서"} {
		if !strings.Contains(b.Text("main"), want) {
			t.Errorf("home lacks %q", want)
		}
	}
	b.Do("search", chromedp.SendKeys(chromedp.ID("q"), "등본"), press(kb.Enter))
	if got := b.Text("main"); !strings.Contains(got, "주민등록표 등본") || strings.Contains(got, "졸업증명서") {
		t.Errorf("search for 등본 shows:\n%s", got)
	}

	// The request form lists only whom the user may choose, and offers the
	// RRN back digits only while "yourself" is chosen.
	nav("/request/resident-registration-copy")
	choices := b.Text("fieldset")
	for _, p := range []*population.Person{head, spouse, minor} {
		if !strings.Contains(choices, p.Name) {
			t.Errorf("copy form lacks household member %s", p.Name)
		}
	}
	rrnShown := func() bool {
		return webtest.Eval[string](b, `getComputedStyle(document.querySelector('.rrnback')).display`) != "none"
	}
	if !rrnShown() {
		t.Error("RRN option hidden while yourself is chosen")
	}
	spouseLabel := `//label[contains(., "` + spouse.Name + `")]`
	b.Do("choose spouse", chromedp.Click(chromedp.Search(spouseLabel)))
	if rrnShown() {
		t.Error("RRN option shown for the spouse")
	}
	b.Do("choose self", chromedp.Click(chromedp.CSS(`label[for=subject-self]`)), chromedp.Click(chromedp.CSS(`label[for=show_rrn_back]`)))
	if !rrnShown() {
		t.Error("RRN option hidden after choosing yourself again")
	}
	b.Shot("request")
	b.Do("issue own copy", click(`form.panel button[type=submit]`))
	if got := b.Text(".success"); got == "" {
		t.Fatal("no success message after issuing")
	}
	own := strings.ReplaceAll(b.Text("#doc-number"), "-", "")
	b.Shot("document")
	pdf := b.Download(chromedp.Click(chromedp.ID("download")))
	text := apptest.PDFText(t, pdf)
	if !strings.Contains(text, head.Name) || !strings.Contains(text, ident.FormatRRN(head.RRN)) {
		t.Errorf("own copy lacks the name or the requested full RRN:\n%s", text)
	}
	if err := os.WriteFile(filepath.Join(b.DownloadDir, "own.pdf"), pdf, 0o600); err != nil {
		t.Fatal(err)
	}

	// A certificate for a related person: the spouse.
	nav("/request/resident-registration-copy")
	b.Do("issue spouse's copy", chromedp.Click(chromedp.Search(spouseLabel)), click(`form.panel button[type=submit]`))
	forSpouse := strings.ReplaceAll(b.Text("#doc-number"), "-", "")
	text = apptest.PDFText(t, b.Download(chromedp.Click(chromedp.ID("download"))))
	if !strings.Contains(text, spouse.Name) || strings.Contains(text, ident.FormatRRN(spouse.RRN)) {
		t.Errorf("spouse's copy lacks the name or shows the full RRN:\n%s", text)
	}

	// The wallet lists both.
	nav("/documents")
	for _, n := range []string{own, forSpouse} {
		if ok := webtest.Eval[bool](b, `!!document.getElementById("doc-`+n+`")`); !ok {
			t.Errorf("wallet lacks %s", n)
		}
	}
	b.Shot("wallet")

	// Verification, by number as a reader types it from paper.
	nav("/verify")
	b.Shot("verify")
	b.Do("verify by number", chromedp.SendKeys(chromedp.ID("number"), own[:4]+"-"+own[4:8]+"-"+own[8:12]+"-"+own[12:]), press(kb.Enter))
	if got := path(t, b); got != "/verify/"+own {
		t.Fatalf("verify by number went to %s", got)
	}
	verifyResult(t, b, own, false)

	// And by uploading the PDF.
	nav("/verify")
	b.Do("verify by upload",
		chromedp.SetUploadFiles(chromedp.ID("pdf"), []string{filepath.Join(b.DownloadDir, "own.pdf")}),
		click(`form[enctype] button[type=submit]`),
	)
	verifyResult(t, b, own, true)

	// The language switch, remembered across pages.
	nav("/status")
	b.Do("to English", click(`a.lang`))
	if lang := webtest.Eval[string](b, `document.documentElement.lang`); lang != "en" || b.Text("h1") != "Service status" {
		t.Fatalf("after switching: lang %q, h1 %q", lang, b.Text("h1"))
	}
	nav("/documents")
	if h1 := b.Text("h1"); h1 != "My documents" {
		t.Errorf("English not remembered: h1 %q", h1)
	}
	b.Shot("wallet-en")
	b.Do("to Korean", click(`a.lang`))
	if h1 := b.Text("h1"); h1 != "내 문서함" {
		t.Errorf("back to Korean: h1 %q", h1)
	}

	// A pre-issuance refusal: the education agency hands back another
	// request's answer. Nothing is issued; the page says so.
	nav("/request/grade-certificate")
	b.Do("issue grades", click(`form.panel button[type=submit]`))
	edu := env.Agencies[linkage.Education]
	edu.SetFaults(agency.Faults{Swap: 1})
	nav("/request/graduation-certificate")
	b.Do("request while answers are swapped", click(`form.panel button[type=submit]`))
	if h1 := b.Text("h1"); h1 != "발급되지 않았습니다" {
		t.Fatalf("refusal page h1 = %q", h1)
	}
	if got := b.Text("main"); !strings.Contains(got, "다른 사람의 정보") || strings.Contains(got, head.Name) {
		t.Errorf("refusal page does not explain, or shows personal data:\n%s", got)
	}
	b.Shot("refused")

	// An agency outage: the page says when to retry, the status page which
	// services suffer.
	edu.SetFaults(agency.Faults{Error: 1})
	nav("/request/graduation-certificate")
	b.Do("request while the agency is down", click(`form.panel button[type=submit]`))
	if got := b.Text(".retry"); !strings.Contains(got, "30초") {
		t.Errorf("outage page retry text = %q", got)
	}
	b.Shot("agency-down")
	edu.SetFaults(agency.Faults{})
	nav("/status")
	if got := b.Text(".state-open"); !strings.Contains(got, "교육행정정보시스템") {
		t.Errorf("status page does not show education down: %q", got)
	}
	if got := b.Text("main"); !strings.Contains(got, "졸업증명서") || strings.Contains(got, "주민등록표 등본\n") {
		t.Errorf("status page degraded services:\n%s", got)
	}
	b.Shot("status")

	// A form posted without its CSRF token is refused.
	nav("/request/resident-registration-copy")
	b.Do("drop the token", chromedp.Evaluate[chromedp.Void](`document.querySelector('form.panel input[name=csrf]').remove()`), click(`form.panel button[type=submit]`))
	if got := b.Text("main"); !strings.Contains(got, "보안 확인에 실패") {
		t.Errorf("token-less post answered:\n%s", got)
	}

	// An expired session: back to the login form with a message, then
	// back to where the user was.
	cookies, err := chromedp.Call(b.Ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
	if err != nil {
		t.Fatal(err)
	}
	var token string
	for _, c := range cookies.Cookies {
		if c.Name == "minwon_session" {
			token = c.Value
		}
	}
	if token == "" {
		t.Fatal("no session cookie in the browser")
	}
	if err := env.App.Sessions.Logout(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	nav("/documents/" + own)
	if got := b.Text(".notice"); !strings.Contains(got, "만료") {
		t.Errorf("expired session notice = %q", got)
	}
	b.Shot("expired")
	b.Do("log in again",
		chromedp.SendKeys(chromedp.ID("login"), acct.Login),
		chromedp.SendKeys(chromedp.ID("password"), acct.Password),
		click(`form.panel button[type=submit]`),
	)
	if got := path(t, b); got != "/documents/"+own {
		t.Errorf("after logging in again at %s, want the document page", got)
	}

	// Every page fits a 390px-wide phone without sideways scrolling.
	b.Do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	for _, p := range []string{"/", "/documents", "/documents/" + own, "/request/resident-registration-copy", "/verify", "/verify/" + own, "/status", "/login"} {
		nav(p)
		if w := webtest.Eval[int](b, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("%s is %dpx wide on a 390px phone", p, w)
		}
		switch p {
		case "/":
			b.ShotViewport("home-phone")
		case "/documents":
			b.ShotViewport("wallet-phone")
		}
	}
	if _, err := chromedp.Call(b.Ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}

	b.Do("log out", click(`header form button`))
	if got := b.Text(".notice"); !strings.Contains(got, "로그아웃") {
		t.Errorf("after logout: %q", got)
	}
}

// verifyResult checks the verification page's answer for a genuine document.
func verifyResult(t *testing.T, b *webtest.Browser, number string, byPDF bool) {
	t.Helper()
	if got := b.Text(".result h2"); got != "진본입니다" {
		t.Fatalf("verification result = %q", got)
	}
	if got := strings.ReplaceAll(b.Text("#verified-number"), "-", ""); got != number {
		t.Errorf("verified number %s, want %s", got, number)
	}
	if byPDF {
		b.Shot("verify-pdf")
	} else {
		b.Shot("verify-result")
	}
}
