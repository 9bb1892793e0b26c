package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/app"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/casework"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/storetest"
)

var kst = time.FixedZone("KST", 9*60*60)

func day(offset int) string { return time.Now().In(kst).AddDate(0, 0, offset).Format("2006-01-02") }

// waitStatus polls an application until it reaches one of want.
func waitStatus(t *testing.T, c *apptest.Client, id string, want ...string) apiwire.Application {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var a apiwire.Application
		if code := c.Do("GET", "/api/v1/applications/"+id, nil, nil, &a); code != http.StatusOK {
			t.Fatalf("get %s: %d", id, code)
		}
		if slices.Contains(want, a.Status) {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("application %s is %s, want %v: %+v", id, a.Status, want, a)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statuses(a apiwire.Application) []string {
	var out []string
	for _, e := range a.History {
		out = append(out, e.Status)
	}
	return out
}

// registryPerson reads a person's record as minwon would for an abstract.
func registryPerson(t *testing.T, env *apptest.Env, subject string) *linkage.Person {
	t.Helper()
	rec, err := env.App.Links.Fetch(context.Background(), "resident-registration-copy", linkage.Registry, "person", subject, []string{"address", "household"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rec.Person()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func submit(t *testing.T, c *apptest.Client, body map[string]any, key map[string]string) (int, apiwire.ApplicationAccepted, apiwire.ErrorBody) {
	t.Helper()
	resp, raw := c.Raw("POST", "/api/v1/applications", body, key)
	var ok apiwire.ApplicationAccepted
	var bad apiwire.ErrorBody
	if resp.StatusCode == http.StatusAccepted {
		json.Unmarshal(raw, &ok)
	} else {
		json.Unmarshal(raw, &bad)
	}
	return resp.StatusCode, ok, bad
}

// A head of household reports a move with the spouse and the minor
// child; the adult child stays. The registry records it once; the 등본
// shows the new address, 전입일 and 변동사유 and the new household; the
// adult child, now heading the household left behind, is told.
func TestMoveInReport(t *testing.T) {
	env := apptest.Start(t, 400, 14)
	w := env.World
	f := findFamily(t, w)
	head, spouse, minor, adult := &w.People[f.head], &w.People[f.spouse], &w.People[f.minor], &w.People[f.adult]
	hc := env.Login(t, env.AccountOf(t, head.Subject))
	const addr = "서울특별시 관악구 행운로 12, 101동 1203호"
	moved := day(-2)
	body := map[string]any{"service": "move-in-report", "payload": map[string]any{"new_address": "  " + addr, "moved_in": moved, "members": []string{spouse.Subject, minor.Subject}}}
	key := newKey()
	code, acc, _ := submit(t, hc, body, key)
	if code != http.StatusAccepted || acc.Status != casework.Queued || acc.ID == "" {
		t.Fatalf("submit: %d %+v", code, acc)
	}
	// The same key and body is the same submission; another body is a conflict.
	if code, again, _ := submit(t, hc, body, key); code != http.StatusAccepted || again.ID != acc.ID {
		t.Errorf("repeat: %d %+v", code, again)
	}
	other := map[string]any{"service": "move-in-report", "payload": map[string]any{"new_address": addr, "moved_in": day(-3)}}
	if code, _, e := submit(t, hc, other, key); code != http.StatusConflict || e.Error.Code != "idempotency_conflict" {
		t.Errorf("conflict: %d %+v", code, e)
	}
	a := waitStatus(t, hc, acc.ID, casework.Completed, casework.Failed)
	if got := statuses(a); !slices.Equal(got, []string{"received", "queued", "completed"}) || a.Status != casework.Completed {
		t.Fatalf("history %v: %+v", got, a)
	}

	rec := registryPerson(t, env, head.Subject)
	if rec.Address != addr || len(rec.Household) != 3 {
		t.Fatalf("registry after the move: %q, %d members", rec.Address, len(rec.Household))
	}
	for _, m := range rec.Household {
		if m.MovedIn != moved || m.Change != "전입" {
			t.Errorf("member %s: moved_in %s change %s", m.Subject, m.MovedIn, m.Change)
		}
	}
	// The 등본 shows it.
	var is apiwire.Issued
	if code := hc.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy"}, newKey(), &is); code != http.StatusCreated {
		t.Fatalf("copy after the move: %d", code)
	}
	_, pdf := hc.Raw("GET", is.Document, nil, nil)
	text := apptest.PDFText(t, pdf)
	for _, want := range []string{"행운로 12", moved, "전입", spouse.Name, minor.Name} {
		if !strings.Contains(text, want) {
			t.Errorf("the copy lacks %q", want)
		}
	}
	if strings.Contains(text, adult.Name) {
		t.Errorf("the copy still lists the member who stayed")
	}
	left := registryPerson(t, env, adult.Subject)
	stayed := len(w.Households[head.Household].Members) - 3
	if left.Address == addr || len(left.Household) != stayed || left.Household[0].Subject != adult.Subject || left.Household[0].Relation != "head" {
		t.Errorf("household left behind: %+v", left.Household)
	}

	// Notices: the reporter, and the new head of the household left behind.
	var inbox []apiwire.Notice
	if hc.Do("GET", "/api/v1/notifications", nil, nil, &inbox); len(inbox) != 1 || inbox[0].Kind != "report_completed" {
		t.Errorf("reporter's inbox %+v", inbox)
	}
	ac := env.Login(t, env.AccountOf(t, adult.Subject))
	var adultInbox []apiwire.Notice
	if ac.Do("GET", "/api/v1/notifications", nil, nil, &adultInbox); len(adultInbox) != 1 || adultInbox[0].Kind != "household_member_moved" {
		t.Errorf("old household's head's inbox %+v", adultInbox)
	}
	// The spouse sees the change of their record in their access log.
	sc := env.Login(t, env.AccountOf(t, spouse.Subject))
	var log []apiwire.AccessEntry
	if sc.Do("GET", "/api/v1/access-log", nil, nil, &log); len(log) == 0 || log[0].Action != casework.ActMoveIn {
		t.Errorf("spouse's access log %+v", log)
	}
	// Nobody else sees the application.
	if code := ac.Do("GET", "/api/v1/applications/"+acc.ID, nil, nil, nil); code != http.StatusNotFound {
		t.Errorf("someone else's application: %d", code)
	}
	var list []apiwire.Application
	if hc.Do("GET", "/api/v1/applications", nil, nil, &list); len(list) != 1 || list[0].ID != acc.ID {
		t.Errorf("list %+v", list)
	}
}

// Bad input is refused at once with a clear message; what only the
// registry can decide fails with its reason, and nothing is half-applied.
func TestMoveInRefusals(t *testing.T) {
	env := apptest.Start(t, 400, 14)
	w := env.World
	f := findFamily(t, w)
	head, adult := &w.People[f.head], &w.People[f.adult]
	stranger := &w.People[unrelated(w, f.head)]
	hc := env.Login(t, env.AccountOf(t, head.Subject))
	ac := env.Login(t, env.AccountOf(t, adult.Subject))
	const addr = "부산광역시 해운대구 해오름로 7"
	for _, tc := range []struct {
		name    string
		payload map[string]any
		code    string
		msg     string
	}{
		{"unknown address format", map[string]any{"new_address": "Haeundae Beach 7", "moved_in": day(-1)}, "bad_payload", "province"},
		{"road without a number", map[string]any{"new_address": "부산광역시 해운대구 해오름로", "moved_in": day(-1)}, "bad_payload", "new_address"},
		{"date in the future", map[string]any{"new_address": addr, "moved_in": day(2)}, "bad_payload", "future"},
		{"not a date", map[string]any{"new_address": addr, "moved_in": "2026/01/01"}, "bad_payload", "YYYY-MM-DD"},
		{"missing date", map[string]any{"new_address": addr}, "bad_payload", "moved_in"},
		{"unknown field", map[string]any{"new_address": addr, "moved_in": day(-1), "rrn": "x"}, "bad_payload", "unknown payload field"},
	} {
		code, _, e := submit(t, hc, map[string]any{"service": "move-in-report", "payload": tc.payload}, newKey())
		if code != http.StatusBadRequest || e.Error.Code != tc.code || !strings.Contains(e.Error.Message, tc.msg) {
			t.Errorf("%s: %d %+v", tc.name, code, e)
		}
	}
	if code, _, e := submit(t, hc, map[string]any{"service": "resident-registration-copy", "payload": map[string]any{}}, newKey()); code != http.StatusBadRequest || e.Error.Code != "not_an_application" {
		t.Errorf("a certificate as an application: %d %+v", code, e)
	}
	if code, _, e := submit(t, hc, map[string]any{"service": "move-in-report", "subject": stranger.Subject, "payload": map[string]any{"new_address": addr, "moved_in": day(-1)}}, newKey()); code != http.StatusForbidden {
		t.Errorf("someone else's move: %d %+v", code, e)
	}

	before := registryPerson(t, env, head.Subject)
	// Moving someone outside your household, or (not being head or
	// spouse) moving another member: the registry refuses, nothing moves.
	for _, tc := range []struct {
		name string
		c    *apptest.Client
		body map[string]any
		why  string
	}{
		{"a stranger", hc, map[string]any{"new_address": addr, "moved_in": day(-1), "members": []string{stranger.Subject}}, "only members of your own household"},
		{"the head, by a child", ac, map[string]any{"new_address": addr, "moved_in": day(-1), "members": []string{head.Subject}}, "only the head of the household or their spouse"},
	} {
		code, acc, e := submit(t, tc.c, map[string]any{"service": "move-in-report", "payload": tc.body}, newKey())
		if code != http.StatusAccepted {
			t.Fatalf("%s: %d %+v", tc.name, code, e)
		}
		a := waitStatus(t, tc.c, acc.ID, casework.Completed, casework.Failed)
		if a.Status != casework.Failed || !strings.Contains(a.History[len(a.History)-1].Note, tc.why) {
			t.Errorf("%s: %+v", tc.name, a)
		}
	}
	after := registryPerson(t, env, head.Subject)
	if after.Address != before.Address || len(after.Household) != len(before.Household) {
		t.Errorf("a refused report changed the registry: %q → %q", before.Address, after.Address)
	}
}

// findYoungChild finds a head of household with a child under the
// allowance's age limit and one over it (but still a minor).
func findYoungChild(t *testing.T, w *population.World) (parent, young, older int) {
	t.Helper()
	now := time.Now()
	for _, h := range w.Households {
		young, older = -1, -1
		for _, m := range h.Members {
			p := &w.People[m]
			if p.Relation != population.Child {
				continue
			}
			switch {
			case p.BirthDate.AddDate(0, casework.ChildcareMaxMonths-1, 0).After(now):
				young = m
			case p.BirthDate.AddDate(0, casework.ChildcareMaxMonths+1, 0).Before(now) && p.BirthDate.AddDate(18, 0, 0).After(now):
				older = m
			}
		}
		if young >= 0 && older >= 0 {
			return h.Head, young, older
		}
	}
	t.Skip("no household with a child under 86 months and an older minor")
	return
}

// A parent applies for the childcare allowance: a young child's goes to
// an official's review and is approved with a reason that reaches the
// inbox; an older child's is rejected by the eligibility rule; a child
// not one's own is refused at once.
func TestChildcareAllowance(t *testing.T) {
	env := apptest.Start(t, 1500, 3)
	w := env.World
	parent, young, older := findYoungChild(t, w)
	pc := env.Login(t, env.AccountOf(t, w.People[parent].Subject))
	pay := map[string]any{"bank": "국민은행", "account_number": "123-456-7890"}
	code, acc, e := submit(t, pc, map[string]any{"service": "childcare-allowance", "subject": w.People[young].Subject, "payload": pay}, newKey())
	if code != http.StatusAccepted {
		t.Fatalf("apply: %d %+v", code, e)
	}
	a := waitStatus(t, pc, acc.ID, casework.InReview, casework.Rejected)
	if a.Status != casework.InReview || !strings.Contains(a.History[len(a.History)-1].Note, "months old") {
		t.Fatalf("young child: %+v", a)
	}
	code, acc2, _ := submit(t, pc, map[string]any{"service": "childcare-allowance", "subject": w.People[older].Subject, "payload": pay}, newKey())
	if code != http.StatusAccepted {
		t.Fatalf("apply older: %d", code)
	}
	if b := waitStatus(t, pc, acc2.ID, casework.InReview, casework.Rejected); b.Status != casework.Rejected || !strings.Contains(b.History[len(b.History)-1].Note, "under 86 months") {
		t.Errorf("older child: %+v", b)
	}
	if code, _, e := submit(t, pc, map[string]any{"service": "childcare-allowance", "subject": w.People[unrelated(w, parent)].Subject, "payload": pay}, newKey()); code != http.StatusForbidden {
		t.Errorf("a stranger's child: %d %+v", code, e)
	}
	if code, _, e := submit(t, pc, map[string]any{"service": "childcare-allowance", "subject": w.People[young].Subject, "payload": map[string]any{"bank": "국민은행", "account_number": "12ab"}}, newKey()); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "digits") {
		t.Errorf("bad account number: %d %+v", code, e)
	}

	c := env.StartCounter(t, pki.DefaultGrace)
	clerk, _, cl := c.Official(t, pki.CounterClerk)
	var queue []apiwire.Application
	if code := cl.Do("GET", "/counter/v1/applications", nil, nil, &queue); code != http.StatusOK || len(queue) != 1 || queue[0].ID != acc.ID || queue[0].Payload != nil {
		t.Fatalf("review queue: %d %+v", code, queue)
	}
	var one apiwire.Application
	if code := cl.Do("GET", "/counter/v1/applications/"+acc.ID, nil, nil, &one); code != http.StatusOK || !strings.Contains(string(one.Payload), "1234567890") {
		t.Errorf("review one: %d %+v", code, one)
	}
	var resp struct{ Error apiwire.Error }
	if code := cl.Do("POST", "/counter/v1/applications/"+acc.ID+"/reject", map[string]any{"reason": ""}, nil, &resp); code != http.StatusBadRequest {
		t.Errorf("reject without a reason: %d", code)
	}
	var decided apiwire.Application
	if code := cl.Do("POST", "/counter/v1/applications/"+acc.ID+"/approve", map[string]any{"reason": "서류 확인 완료"}, nil, &decided); code != http.StatusOK || decided.Status != casework.Approved {
		t.Fatalf("approve: %d %+v", code, decided)
	}
	if code := cl.Do("POST", "/counter/v1/applications/"+acc.ID+"/reject", map[string]any{"reason": "again"}, nil, &resp); code != http.StatusConflict {
		t.Errorf("decide twice: %d", code)
	}
	if got := statuses(decided); !slices.Equal(got, []string{"received", "queued", "in_review", "approved"}) {
		t.Errorf("history %v", got)
	}
	var inbox []apiwire.Notice
	pc.Do("GET", "/api/v1/notifications", nil, nil, &inbox)
	approved := 0
	for _, n := range inbox {
		if n.Kind == "application_decision" && strings.Contains(n.Body, "서류 확인 완료") {
			approved++
		}
	}
	if approved != 1 {
		t.Errorf("inbox %+v", inbox)
	}
	// The child's access log shows the eligibility check and the
	// official's view and decision.
	events, err := env.DB.AuditOfSubject(context.Background(), w.People[young].Subject, 20)
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range events {
		acts = append(acts, e.Action)
		if e.Action == casework.ActDecision && e.Actor != clerk.ID {
			t.Errorf("decision by %s", e.Actor)
		}
	}
	for _, want := range []string{casework.ActEligibility, "application_view", casework.ActDecision} {
		if !slices.Contains(acts, want) {
			t.Errorf("audit of the child lacks %s: %v", want, acts)
		}
	}
}

// A lookup shows the data as JSON, issues nothing, and is in the
// citizen's access log.
func TestTaxArrearsLookup(t *testing.T) {
	env := apptest.Start(t, 200, 5)
	p := &env.World.People[4]
	c := env.Login(t, env.AccountOf(t, p.Subject))
	var l apiwire.Lookup
	if code := c.Do("GET", "/api/v1/lookups/tax-arrears-lookup", nil, nil, &l); code != http.StatusOK {
		t.Fatalf("lookup: %d", code)
	}
	var name string
	var arrears int64
	json.Unmarshal(l.Data["name"], &name)
	json.Unmarshal(l.Data["arrears"], &arrears)
	if name != p.Name || arrears != p.Tax.Arrears || len(l.Fields) != 2 {
		t.Errorf("lookup %+v", l)
	}
	var docs []apiwire.Issued
	if c.Do("GET", "/api/v1/issuances", nil, nil, &docs); len(docs) != 0 {
		t.Errorf("a lookup issued %d documents", len(docs))
	}
	var log []apiwire.AccessEntry
	if c.Do("GET", "/api/v1/access-log", nil, nil, &log); len(log) != 1 || log[0].Action != casework.ActLookup || log[0].Service != "tax-arrears-lookup" {
		t.Errorf("access log %+v", log)
	}
	other := &env.World.People[unrelated(env.World, 4)]
	for path, want := range map[string]int{
		"/api/v1/lookups/tax-arrears-lookup?subject=" + other.Subject: http.StatusForbidden,
		"/api/v1/lookups/resident-registration-copy":                  http.StatusBadRequest,
		"/api/v1/lookups/nope":                                        http.StatusNotFound,
	} {
		if code := c.Do("GET", path, nil, nil, nil); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
}

// With the registry down, move-in reports are accepted and wait, their
// status saying for whom; healed, every one completes exactly once.
func TestAgencyDownReportsCompleteOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) { agencyDownReports(t, b, app.CaseworkOptions{}) })
}

// The same on SQLite with River's SQLite driver instead of the table queue.
func TestAgencyDownReportsCompleteOnceRiverSQLite(t *testing.T) {
	agencyDownReports(t, storetest.SQLite(t), app.CaseworkOptions{RiverOnSQLite: true})
}

func agencyDownReports(t *testing.T, b storetest.Backend, cw app.CaseworkOptions) {
	env := apptest.StartOpts(t, 300, 9, apptest.Options{Backend: &b, Casework: cw})
	reg := env.Agencies[linkage.Registry]
	reg.SetFaults(agency.Faults{Error: 1})
	w := env.World
	type sub struct {
		c  *apptest.Client
		id string
		p  *population.Person
	}
	var subs []sub
	for i := 0; len(subs) < 12 && i < len(w.People); i++ {
		p := &w.People[i]
		if p.BirthDate.AddDate(19, 0, 0).After(time.Now()) {
			continue
		}
		c := env.Login(t, env.AccountOf(t, p.Subject))
		code, acc, e := submit(t, c, map[string]any{"service": "move-in-report", "payload": map[string]any{"new_address": "대전광역시 유성구 대학로 99", "moved_in": day(-1)}}, newKey())
		if code != http.StatusAccepted {
			t.Fatalf("submit while down: %d %+v", code, e)
		}
		subs = append(subs, sub{c, acc.ID, p})
	}
	// Waiting, and saying for whom.
	deadline := time.Now().Add(10 * time.Second)
	for _, s := range subs {
		for {
			var a apiwire.Application
			s.c.Do("GET", "/api/v1/applications/"+s.id, nil, nil, &a)
			if a.Status != casework.Queued {
				t.Fatalf("completed while the registry was down: %+v", a)
			}
			if a.WaitingFor == linkage.Registry && a.NextAttemptAt != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not waiting for the registry: %+v", a)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The status answer counts them (counts only, for anyone).
	var st struct {
		Waiting map[string]int `json:"waiting_submissions"`
	}
	if code := env.Anonymous(t).Do("GET", "/api/v1/status", nil, nil, &st); code != http.StatusOK || st.Waiting[linkage.Registry] != len(subs) {
		t.Errorf("status: %d %+v, want %d waiting for the registry", code, st, len(subs))
	}
	reg.SetFaults(agency.Faults{})
	for _, s := range subs {
		a := waitStatus(t, s.c, s.id, casework.Completed, casework.Failed)
		if got := statuses(a); !slices.Equal(got, []string{"received", "queued", "completed"}) {
			t.Errorf("%s: %v", s.id, got)
		}
		rec, err := env.App.Links.Fetch(context.Background(), "resident-registration-abstract", linkage.Registry, "person", s.p.Subject, []string{"address_history"})
		if err != nil {
			t.Fatal(err)
		}
		hist, _ := rec.Person()
		n := 0
		for _, h := range hist.AddressHistory {
			if h.Address == "대전광역시 유성구 대학로 99" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s moved in %d times", s.p.Subject, n)
		}
	}
	counts, err := env.DB.JobCounts(context.Background())
	if err != nil || counts["pending"] != 0 || counts["done"] != len(subs) {
		t.Errorf("jobs %v %v", counts, err)
	}
}

// A worker that dies after the registry applied its write (its lease
// runs out, the job has not been marked done) is replaced by another,
// whose write with the same request id gets the registry's first answer:
// the report completes once and the registry moved the person once.
func TestJobRetriedAfterWorkerDiedAppliesOnce(t *testing.T) {
	env := apptest.Start(t, 100, 2)
	p := &env.World.People[0]
	c := env.Login(t, env.AccountOf(t, p.Subject))
	// Hold the queue: the test plays the worker that dies.
	env.Agencies[linkage.Registry].SetFaults(agency.Faults{Error: 1})
	code, acc, _ := submit(t, c, map[string]any{"service": "move-in-report", "payload": map[string]any{"new_address": "광주광역시 북구 누리로 5", "moved_in": day(0)}}, newKey())
	if code != http.StatusAccepted {
		t.Fatalf("submit: %d", code)
	}
	ctx := context.Background()
	a, err := env.DB.Application(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	env.Agencies[linkage.Registry].SetFaults(agency.Faults{})
	// The dying worker's write reached the registry.
	req := linkage.WriteRequest{RequestID: casework.RequestID(a.ID), Purpose: "move-in-report", Subject: p.Subject, Operation: linkage.OpMoveIn, Payload: a.Payload}
	first, err := env.App.Links.Write(ctx, linkage.Registry, req)
	if err != nil {
		t.Fatal(err)
	}
	got := waitStatus(t, c, acc.ID, casework.Completed, casework.Failed)
	if got.Status != casework.Completed {
		t.Fatalf("%+v", got)
	}
	again, err := env.App.Links.Write(ctx, linkage.Registry, req)
	if err != nil || string(again.Result) != string(first.Result) || !again.AnsweredAt.Equal(first.AnsweredAt) {
		t.Errorf("a repeated request id got another answer: %v", err)
	}
	rec := registryPerson(t, env, p.Subject)
	hist, _ := env.App.Links.Fetch(ctx, "resident-registration-abstract", linkage.Registry, "person", p.Subject, []string{"address_history"})
	ph, _ := hist.Person()
	if rec.Address != "광주광역시 북구 누리로 5" || ph.AddressHistory[len(ph.AddressHistory)-2].Address == rec.Address {
		t.Errorf("moved twice or not at all: %+v", ph.AddressHistory)
	}
}

// Paper work from an outage is entered by an official with its original
// date: processed like any report, marked retroactive in the history and
// the audit record.
func TestRetroactiveEntry(t *testing.T) {
	env := apptest.Start(t, 100, 4)
	p := &env.World.People[1]
	c := env.StartCounter(t, pki.DefaultGrace)
	clerk, _, cl := c.Official(t, pki.CounterClerk)
	on := day(-3)
	body := counterRequest("move-in-report", p.RRN, "")
	delete(body, "identity_check")
	delete(body, "purpose")
	body["payload"] = map[string]any{"new_address": "제주특별자치도 제주시 별빛로 3", "moved_in": on}
	body["retroactive_on"] = on
	var acc apiwire.ApplicationAccepted
	if code := cl.Do("POST", "/counter/v1/applications", body, newKey(), &acc); code != http.StatusAccepted {
		t.Fatalf("retroactive entry: %d", code)
	}
	body["retroactive_on"] = day(1)
	if code := cl.Do("POST", "/counter/v1/applications", body, newKey(), nil); code != http.StatusBadRequest {
		t.Errorf("a retroactive date in the future: %d", code)
	}
	pc := env.Login(t, env.AccountOf(t, p.Subject))
	a := waitStatus(t, pc, acc.ID, casework.Completed, casework.Failed)
	if a.Status != casework.Completed || !a.Retroactive || !a.History[0].Retroactive || !strings.HasPrefix(a.CreatedAt, on) && !strings.Contains(a.History[0].Note, on) {
		t.Errorf("retroactive application %+v", a)
	}
	events, _ := env.DB.AuditOfSubject(context.Background(), p.Subject, 20)
	found := false
	for _, e := range events {
		if e.Action == casework.ActRetroactiveCase && e.Actor == clerk.ID && strings.Contains(e.Detail, "retroactive=true") && strings.Contains(e.Detail, on) {
			found = true
		}
	}
	if !found {
		t.Errorf("no retroactive audit record: %+v", events)
	}
	if rec := registryPerson(t, env, p.Subject); rec.Address != "제주특별자치도 제주시 별빛로 3" {
		t.Errorf("registry %q", rec.Address)
	}
}
