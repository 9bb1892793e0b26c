package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/webtest"
)

// A citizen reports a move in the browser while the registry is down: the
// report is accepted, its page says it waits for the registry, and it
// completes when the registry is back; in English too. A bad address is
// refused with what is wrong. A lookup shows the data and issues nothing.
func TestBrowserCasework(t *testing.T) {
	b := webtest.Start(t, 1100, 900)
	env := apptest.Start(t, 300, 21)
	base := env.Server.URL
	head, spouse, _ := household(t, env.World)
	acct := env.AccountOf(t, head.Subject)
	nav := func(p string) { t.Helper(); b.Do("open "+p, chromedp.Navigate(base+p)) }

	nav("/login")
	b.Do("log in", chromedp.SendKeys(chromedp.ID("login"), acct.Login), chromedp.SendKeys(chromedp.ID("password"), acct.Password), press(kb.Enter))
	nav("/")
	b.Do("open the move-in report", click(`a.btn[href="/apply/move-in-report"]`))
	if h1 := b.Text("h1"); h1 != "전입신고" {
		t.Fatalf("form h1 = %q", h1)
	}
	// Before submitting, the citizen sees what the report will read.
	if got := b.Text("#consent-fields"); !strings.Contains(got, "성명") || !strings.Contains(got, "현 주소") {
		t.Errorf("consent lists %q", got)
	}
	fill := func(addr string) {
		t.Helper()
		b.Do("fill the report",
			chromedp.SendKeys(chromedp.ID("f-new_address"), addr),
			chromedp.SetValue(chromedp.ID("f-moved_in"), time.Now().In(time.FixedZone("KST", 9*3600)).AddDate(0, 0, -1).Format("2006-01-02")),
		)
	}

	// Bad input: refused at once, saying what is wrong.
	fill("Gwanak-ro 12")
	b.Do("submit a bad address", click(`form.panel button[type=submit]`))
	if got := b.Text("main"); !strings.Contains(got, "province") {
		t.Errorf("bad address page:\n%s", got)
	}

	nav("/apply/move-in-report")
	fill("서울특별시 관악구 행운로 12, 101동 1203호")
	spouseLabel := `//label[contains(., "` + spouse.Name + `")][starts-with(@for, "member-")]`
	b.Do("move the spouse too", chromedp.Click(chromedp.Search(spouseLabel)))
	b.Shot("apply")
	env.Agencies[linkage.Registry].SetFaults(agency.Faults{Error: 1})
	b.Do("submit while the registry is down", click(`form.panel button[type=submit]`))
	at := path(t, b)
	if !strings.HasPrefix(at, "/applications/ap-") {
		t.Fatalf("after submitting at %s", at)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(at, "/applications/"), "?submitted=1")
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: page shows\n%s", what, b.Text("main"))
			}
			time.Sleep(100 * time.Millisecond)
			nav("/applications/" + id)
		}
	}
	waitFor("waiting for the registry", func() bool {
		return webtest.Eval[bool](b, `!!document.querySelector(".waiting")`) && strings.Contains(b.Text(".waiting"), "주민등록")
	})
	if got := b.Text("#app-status"); got != "처리 대기" {
		t.Errorf("status while down = %q", got)
	}
	b.Shot("application-waiting")
	nav("/status")
	if got := b.Text("#waiting"); !strings.Contains(got, "주민등록") || !strings.Contains(got, "1건") {
		t.Errorf("status page waiting: %q", got)
	}
	nav("/applications/" + id)
	env.Agencies[linkage.Registry].SetFaults(agency.Faults{})
	waitFor("completed", func() bool { return b.Text("#app-status") == "완료" })
	if got := b.Text("main"); !strings.Contains(got, "행운로 12") || !strings.Contains(got, "전입") {
		t.Errorf("completed report page:\n%s", got)
	}
	b.Shot("application")
	nav("/applications")
	if got := b.Text("main"); !strings.Contains(got, "전입신고") || !strings.Contains(got, "완료") {
		t.Errorf("applications list:\n%s", got)
	}
	b.Do("to English", click(`a.lang`))
	if got := b.Text("main"); b.Text("h1") != "My applications" || !strings.Contains(got, "Move-in Report") || !strings.Contains(got, "Completed") {
		t.Errorf("English list: %q\n%s", b.Text("h1"), got)
	}
	b.Shot("applications-en")
	b.Do("to Korean", click(`a.lang`))

	nav("/lookup/tax-arrears-lookup")
	if got := b.Text("#lookup-name"); got != head.Name {
		t.Errorf("lookup name = %q", got)
	}
	if got := b.Text("#lookup-arrears"); !strings.HasSuffix(got, "원") {
		t.Errorf("lookup arrears = %q", got)
	}
	b.Shot("lookup")
	nav("/documents")
	if strings.Contains(b.Text("main"), "체납") {
		t.Error("the lookup issued a document")
	}
}
