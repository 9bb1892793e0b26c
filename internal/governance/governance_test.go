package governance_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/access"
	"github.com/minwon/minwon/internal/agencytest"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/formtest"
	"github.com/minwon/minwon/internal/governance"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/pkitest"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/render"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
)

const corpTax = "corporate-tax-payment-certificate"

var (
	op1 = governance.Official{ID: "op001", Role: governance.Operator}
	op2 = governance.Official{ID: "op002", Role: governance.Operator}
	op3 = governance.Official{ID: "op003", Role: governance.Operator}
	po1 = governance.Official{ID: "pr001", Role: governance.PrivacyOfficer}
)

// incidents records the incidents opened.
type incidents struct {
	mu     sync.Mutex
	opened []string
	docs   [][]string
}

func (in *incidents) OpenIncident(_ context.Context, kind string, grade int, summary string, numbers []string) (string, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.opened = append(in.opened, fmt.Sprintf("%s/%d: %s", kind, grade, summary))
	in.docs = append(in.docs, numbers)
	return fmt.Sprintf("INC-%d", len(in.opened)), nil
}

var (
	goldenOnce sync.Once
	golden     *governance.Golden
	goldenErr  error
)

func sharedGolden(t *testing.T) *governance.Golden {
	goldenOnce.Do(func() {
		r, err := render.New()
		if err != nil {
			goldenErr = err
			return
		}
		golden, goldenErr = governance.NewGolden(r)
	})
	if goldenErr != nil {
		t.Fatal(goldenErr)
	}
	return golden
}

type fixture struct {
	db  *store.DB
	gov *governance.Governor
	in  *incidents
}

func newGovernor(t *testing.T, db *store.DB, policy governance.Policy) *fixture {
	t.Helper()
	f := &fixture{db: db, in: &incidents{}}
	f.gov = &governance.Governor{Store: db, Agencies: linkage.DefaultSchema(), Golden: sharedGolden(t), Incidents: f.in, Policy: policy}
	if err := f.gov.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

func shipped(t *testing.T, id string) []byte {
	t.Helper()
	templates, _, err := form.BuiltinFiles()
	if err != nil {
		t.Fatal(err)
	}
	return templates[id]
}

// relabelled is a harmless layout change: a new label for the company name.
func relabelled(t *testing.T) []byte {
	s := strings.Replace(string(shipped(t, corpTax)), `"label_ko": "법인명(상호)"`, `"label_ko": "법인명"`, 1)
	if !strings.Contains(s, `"label_ko": "법인명"`) {
		t.Fatal("relabel did not apply")
	}
	return []byte(s)
}

func summary(t *testing.T, g *governance.Governor, id string) governance.ServiceSummary {
	t.Helper()
	list, err := g.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Service == id {
			return s
		}
	}
	t.Fatalf("no %s in %+v", id, list)
	return governance.ServiceSummary{}
}

func TestStartSeedsShippedVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		f := newGovernor(t, db, governance.Policy{})
		list, err := f.gov.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		templates, _, _ := form.BuiltinFiles()
		if len(list) != len(templates) {
			t.Fatalf("%d services listed, %d shipped", len(list), len(templates))
		}
		for _, s := range list {
			if s.Active != 1 || s.Schema != 1 || s.Canary != nil || len(s.Pending) != 0 {
				t.Errorf("%s: %+v, want version 1 of template and schema active", s.Service, s)
			}
		}
		// A second start (a restart, another node) seeds nothing twice.
		if err := f.gov.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		versions, _ := db.FormVersions(context.Background())
		if len(versions) != 2*len(templates) {
			t.Fatalf("%d versions after a restart, want %d", len(versions), 2*len(templates))
		}
		if s, ok := f.gov.Serving(corpTax, "x"); !ok || s.Service.Version != 1 || s.Canary || s.Schema == nil {
			t.Fatalf("serving %+v %v", s, ok)
		}
	})
}

func TestSubmitRefuses2024Replay(t *testing.T) {
	f := newGovernor(t, storetest.Open(t), governance.Policy{})
	_, err := f.gov.Submit(context.Background(), op1, formtest.Replay2024(shipped(t, corpTax)))
	if !errors.Is(err, governance.ErrRefused) {
		t.Fatalf("Submit = %v, want ErrRefused", err)
	}
	for _, want := range []string{"slot company_name (법인명(상호)) must carry class company_name", "slot business_number (사업자등록번호) must carry class business_number", "of class rrn"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if s := summary(t, f.gov, corpTax); len(s.Pending) != 0 {
		t.Fatalf("a refused submission was stored: %+v", s)
	}
}

func TestSubmitRunsGoldenRendersAndDiff(t *testing.T) {
	f := newGovernor(t, storetest.Open(t), governance.Policy{})
	ctx := context.Background()
	v, err := f.gov.Submit(ctx, op1, relabelled(t))
	if err != nil {
		t.Fatal(err)
	}
	if v.Number != 2 || v.State != governance.Submitted {
		t.Fatalf("submitted %d %s", v.Number, v.State)
	}
	view, err := f.gov.Show(ctx, corpTax)
	if err != nil {
		t.Fatal(err)
	}
	got := view.Versions[0]
	if got.Version != 2 || got.Checks == nil {
		t.Fatalf("show: %+v", got)
	}
	cases := map[string]bool{}
	for _, g := range got.Checks.Goldens {
		cases[g.Case] = true
	}
	if !cases["corporation in arrears"] || !cases["corporation"] {
		t.Fatalf("golden cases %v, want both corporations", cases)
	}
	if !strings.Contains(got.Checks.Diff, "- 법인명(상호)") || !strings.Contains(got.Checks.Diff, "+ 법인명") {
		t.Fatalf("diff does not show the relabel:\n%s", got.Checks.Diff)
	}
	// The same file again is no change against the active version... but
	// the active one is still version 1, so it is a new submission; the
	// shipped file itself is no change.
	if _, err := f.gov.Submit(ctx, op1, shipped(t, corpTax)); !errors.Is(err, governance.ErrNoChange) {
		t.Fatalf("resubmitting the active version: %v", err)
	}
	// A person's certificate is rendered for the edge cases.
	reg := strings.Replace(string(shipped(t, "resident-registration-copy")), `"label_ko": "주소"`, `"label_ko": "주소(도로명)"`, 1)
	v, err = f.gov.Submit(ctx, op1, []byte(reg))
	if err != nil {
		t.Fatal(err)
	}
	view, _ = f.gov.Show(ctx, "resident-registration-copy")
	cases = map[string]bool{}
	for _, g := range view.Versions[0].Checks.Goldens {
		cases[g.Case] = true
	}
	for _, want := range []string{"cohabitant (동거인)", "child with a post-2020 RRN without check digit", "very long name", "household head, every option ticked (relations, RRN back digits, past addresses)"} {
		if !cases[want] {
			t.Errorf("no golden render for %q: %v", want, cases)
		}
	}
	if !strings.Contains(view.Versions[0].Checks.Diff, "동거인") && !strings.Contains(view.Versions[0].Checks.Diff, "주소(도로명)") {
		t.Errorf("diff: %s", view.Versions[0].Checks.Diff)
	}
}

func TestFourEyes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newGovernor(t, b.Open(t), governance.Policy{})
		ctx := context.Background()
		v, err := f.gov.Submit(ctx, op1, relabelled(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.gov.Approve(ctx, op1, corpTax, governance.TemplateKind, v.Number); !errors.Is(err, governance.ErrOwnVersion) {
			t.Fatalf("author approves: %v", err)
		}
		if _, err := f.gov.Approve(ctx, governance.Official{ID: "au001", Role: "auditor"}, corpTax, governance.TemplateKind, v.Number); !errors.Is(err, governance.ErrNotAllowed) {
			t.Fatalf("auditor approves: %v", err)
		}
		if got, err := f.gov.Approve(ctx, op2, corpTax, governance.TemplateKind, v.Number); err != nil || got.State != governance.Submitted {
			t.Fatalf("first approval: %v %v", got.State, err)
		}
		if _, err := f.gov.Approve(ctx, op2, corpTax, governance.TemplateKind, v.Number); !errors.Is(err, governance.ErrApprovedTwice) {
			t.Fatalf("one person approves twice: %v", err)
		}
		if _, err := f.gov.Approve(ctx, op3, corpTax, governance.TemplateKind, v.Number); !errors.Is(err, governance.ErrNotAllowed) {
			t.Fatalf("two operators, no privacy officer: %v", err)
		}
		if s := summary(t, f.gov, corpTax); s.Canary != nil {
			t.Fatalf("canary started without a privacy officer: %+v", s)
		}
		got, err := f.gov.Approve(ctx, po1, corpTax, governance.TemplateKind, v.Number)
		if err != nil || got.State != governance.Canary {
			t.Fatalf("privacy officer's approval: %v %v", got.State, err)
		}
		if s := summary(t, f.gov, corpTax); s.Canary == nil || s.Canary.Version != 2 || s.Active != 1 {
			t.Fatalf("after approvals: %+v", s)
		}
		view, _ := f.gov.Show(ctx, corpTax)
		var actions []string
		for _, e := range view.History {
			actions = append(actions, e.Actor+":"+e.Action)
		}
		want := "minwon:seeded minwon:seeded op001:submitted op002:approved pr001:approved pr001:canary_started"
		if strings.Join(actions, " ") != want {
			t.Fatalf("history %v, want %s", actions, want)
		}
	})
}

func TestRejectAndWithdraw(t *testing.T) {
	f := newGovernor(t, storetest.Open(t), governance.Policy{})
	ctx := context.Background()
	v, err := f.gov.Submit(ctx, op1, relabelled(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.gov.Reject(ctx, po1, corpTax, governance.TemplateKind, v.Number, ""); !errors.Is(err, governance.ErrRefused) {
		t.Fatalf("reject without reason: %v", err)
	}
	if err := f.gov.Reject(ctx, po1, corpTax, governance.TemplateKind, v.Number, "label must stay 법인명(상호) per the form annex"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.gov.Approve(ctx, op2, corpTax, governance.TemplateKind, v.Number); !errors.Is(err, governance.ErrWrongState) {
		t.Fatalf("approve a rejected version: %v", err)
	}
	if err := f.gov.Reject(ctx, po1, corpTax, governance.TemplateKind, v.Number, "again"); !errors.Is(err, governance.ErrWrongState) {
		t.Fatalf("reject twice: %v", err)
	}
	if _, err := f.gov.Approve(ctx, op2, corpTax, governance.TemplateKind, 99); !errors.Is(err, governance.ErrNotFound) {
		t.Fatalf("approve unknown: %v", err)
	}
}

// pipeline issues documents over env's agencies with gov choosing the
// template version.
func pipeline(t *testing.T, env *agencytest.Env, db *store.DB, gov issuance.Templates) *issuance.Pipeline {
	t.Helper()
	ctx := agencytest.Ctx(t)
	links := env.Client(t, linkage.Options{BreakerThreshold: 1 << 20})
	catalog, err := form.Builtin(linkage.DefaultSchema())
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := render.New()
	if err != nil {
		t.Fatal(err)
	}
	_, logKey, _ := ed25519.GenerateKey(rand.Reader)
	log, err := doclog.Open(ctx, db, "governance.test/log", logKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(log.Close)
	_, docKey, _ := ed25519.GenerateKey(rand.Reader)
	docCred := pkitest.DocumentSigner(t)
	docCert, err := docsig.LoadCertificate(docCred.CertFile, docCred.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &issuance.Pipeline{
		DocumentCert: docCert,
		Catalog:      catalog, Templates: gov, Links: links, Access: access.NewResolver(links), Renderer: renderer,
		Keys:  fixedKeys{docsig.Signer{KeyID: docsig.KeyID(docKey.Public().(ed25519.PublicKey)), Key: docKey}},
		Store: db, Log: log, VerifyURL: "https://minwon.example/verify",
	}
}

type fixedKeys struct{ s docsig.Signer }

func (k fixedKeys) Signer() docsig.Signer { return k.s }

// issueCorporate issues the corporate tax certificate to each corporation
// of env in turn, n requests in all (n at most the number of corporations,
// so that every request differs: the canary's share is by request); it returns the documents issued and
// the errors.
func issueCorporate(t *testing.T, p *issuance.Pipeline, env *agencytest.Env, n int, tag string) (issued []*issuance.Issued, errs []error) {
	t.Helper()
	// Corporations in arrears are not issued a tax certificate at all.
	var corps []population.Corporation
	for _, c := range env.World.Corporations {
		if c.Tax.Arrears == 0 {
			corps = append(corps, c)
		}
	}
	if n > len(corps) {
		t.Fatalf("%d requests for %d corporations", n, len(corps))
	}
	for i := 0; i < n; i++ {
		c := corps[i%len(corps)]
		done, err := p.Issue(context.Background(), issuance.Request{
			Principal: auth.Principal{Login: "login-" + c.Subject, Subject: c.Subject, Kind: "corporate"},
			Service:   corpTax, IdempotencyKey: fmt.Sprintf("%s-%d", tag, i),
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		issued = append(issued, done)
	}
	return issued, errs
}

func revoked(t *testing.T, db *store.DB, number string) bool {
	t.Helper()
	entries, err := db.LogEntriesFor(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Kind == doclog.KindRevoked {
			return true
		}
	}
	return false
}

func TestCanaryPromotes(t *testing.T) {
	env := agencytest.Start(t, 2000, 41)
	db := storetest.Protect(t, storetest.Open(t))
	f := newGovernor(t, db, governance.Policy{Share: 0.5, Documents: 8})
	p := pipeline(t, env, db, f.gov)
	ctx := context.Background()
	v, err := f.gov.Submit(ctx, op1, relabelled(t))
	if err != nil {
		t.Fatal(err)
	}
	f.gov.Approve(ctx, op2, corpTax, governance.TemplateKind, v.Number)
	if _, err := f.gov.Approve(ctx, po1, corpTax, governance.TemplateKind, v.Number); err != nil {
		t.Fatal(err)
	}
	issued, errs := issueCorporate(t, p, env, 30, "promote")
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	s := summary(t, f.gov, corpTax)
	if s.Active != 2 || s.Canary != nil {
		t.Fatalf("after 30 requests at a half share with a target of 8: %+v %+v", s, s.Canary)
	}
	byVersion := map[int]int{}
	if len(issued) != 30 {
		t.Fatalf("%d issued", len(issued))
	}
	versions, _ := db.FormVersions(ctx)
	for _, v := range versions {
		if v.Service == corpTax && v.Kind == governance.TemplateKind {
			n, _ := db.IssuancesOfTemplate(ctx, corpTax, v.Number, v.Digest)
			byVersion[v.Number] = len(n)
			if v.Number == 1 && v.State != governance.Retired {
				t.Errorf("version 1 is %s, want retired", v.State)
			}
		}
	}
	if byVersion[2] < 8 || byVersion[1] == 0 || byVersion[1]+byVersion[2] != 30 {
		t.Fatalf("documents by version %v", byVersion)
	}
	// Rolling back the active version brings version 1 back, without
	// revoking anything unless asked.
	rep, err := f.gov.Rollback(ctx, op2, corpTax, "labels to be reviewed with the tax office", false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Serving != 1 || rep.Revoked != 0 || len(rep.Documents) != byVersion[2] || rep.Incident == "" {
		t.Fatalf("rollback report %+v", rep)
	}
	if s, _ := f.gov.Serving(corpTax, "any"); s.Service.Version != 1 {
		t.Fatalf("serving version %d after rollback", s.Service.Version)
	}
}

// TestReplay2024ForcedPastTheChecks is the 2024 incident with the checks
// at submission bypassed: the edited template is written straight into the
// database as a canary. It is refused on its first canary request, before
// any agency is asked, rolled back at once, an incident is opened, and no
// document with it exists.
func TestReplay2024ForcedPastTheChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		env := agencytest.Start(t, 2000, 41)
		db := storetest.Protect(t, b.Open(t))
		f := newGovernor(t, db, governance.Policy{Share: 0.25})
		p := pipeline(t, env, db, f.gov)
		ctx := context.Background()

		body := formtest.Replay2024(shipped(t, corpTax))
		body = []byte(strings.Replace(string(body), `"version": 1`, `"version": 2`, 1))
		svc, err := form.Parse(body, linkage.DefaultSchema())
		if err != nil {
			t.Fatal(err)
		}
		forced := governance.Version{Service: corpTax, Kind: governance.TemplateKind, Number: 2, State: governance.Submitted, Digest: svc.Digest, Body: body, Author: "intruder"}
		if err := db.InsertFormVersion(ctx, forced, governance.Event{Service: corpTax, Kind: governance.TemplateKind, Number: 2, Actor: "intruder", Action: "forced"}); err != nil {
			t.Fatal(err)
		}
		if err := db.ChangeFormStates(ctx, []governance.Change{{Service: corpTax, Kind: governance.TemplateKind, Number: 2, From: governance.Submitted, To: governance.Canary}}, governance.Event{Service: corpTax, Actor: "intruder", Action: "forced"}); err != nil {
			t.Fatal(err)
		}
		if err := f.gov.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		issued, errs := issueCorporate(t, p, env, 30, "replay")
		var refusals int
		for _, err := range errs {
			var re *issuance.RefusedError
			if !errors.As(err, &re) || re.Rule != issuance.RuleSchema {
				t.Fatalf("unexpected error %v", err)
			}
			refusals++
		}
		if refusals != 1 {
			t.Fatalf("%d canary requests refused, want exactly the first", refusals)
		}
		if len(issued) != 29 {
			t.Fatalf("%d issued after the rollback, want 29", len(issued))
		}
		s := summary(t, f.gov, corpTax)
		if s.Canary != nil || s.Active != 1 {
			t.Fatalf("after the replay: %+v", s)
		}
		docs, _ := db.IssuancesOfTemplate(ctx, corpTax, 2, svc.Digest)
		if len(docs) != 0 {
			t.Fatalf("%d documents issued with the forced version", len(docs))
		}
		if len(f.in.opened) != 1 || !strings.Contains(f.in.opened[0], "form_rollback/2") {
			t.Fatalf("incidents %v", f.in.opened)
		}
		view, _ := f.gov.Show(ctx, corpTax)
		last := view.History[len(view.History)-1]
		if last.Actor != "minwon canary" || last.Action != "rollback_documents" || !strings.Contains(last.Note, "incident INC-1") {
			t.Fatalf("last event %+v", last)
		}
	})
}

// TestPrivacyRefusalRevokesCanaryDocuments: a canary that issued documents
// and then draws a privacy refusal is rolled back and every document it
// issued is revoked in the log.
func TestPrivacyRefusalRevokesCanaryDocuments(t *testing.T) {
	env := agencytest.Start(t, 2000, 41)
	db := storetest.Protect(t, storetest.Open(t))
	f := newGovernor(t, db, governance.Policy{Share: 0.5, Documents: 1000})
	p := pipeline(t, env, db, f.gov)
	f.gov.Revoker = p
	ctx := context.Background()
	v, err := f.gov.Submit(ctx, op1, relabelled(t))
	if err != nil {
		t.Fatal(err)
	}
	f.gov.Approve(ctx, po1, corpTax, governance.TemplateKind, v.Number)
	f.gov.Approve(ctx, op2, corpTax, governance.TemplateKind, v.Number)
	if _, errs := issueCorporate(t, p, env, 30, "before"); len(errs) != 0 {
		t.Fatal(errs)
	}
	versions, _ := db.FormVersions(ctx)
	var digest string
	for _, x := range versions {
		if x.Service == corpTax && x.Number == 2 {
			digest = x.Digest
		}
	}
	canaryDocs, _ := db.IssuancesOfTemplate(ctx, corpTax, 2, digest)
	if len(canaryDocs) == 0 {
		t.Fatal("the canary issued nothing")
	}
	served, ok := f.gov.Serving(corpTax, findCanaryHash(t, f.gov))
	if !ok || !served.Canary {
		t.Fatal("no canary request found")
	}
	f.gov.Outcome(ctx, served, "", &issuance.RefusedError{Rule: issuance.RuleRRNExposed, Message: "test"})
	for _, n := range canaryDocs {
		if !revoked(t, db, n) {
			t.Errorf("canary document %s not revoked", n)
		}
	}
	if len(f.in.docs) != 1 || len(f.in.docs[0]) != len(canaryDocs) {
		t.Fatalf("incident documents %v, want %d", f.in.docs, len(canaryDocs))
	}
	if s := summary(t, f.gov, corpTax); s.Canary != nil || s.Active != 1 {
		t.Fatalf("after the refusal: %+v", s)
	}
}

func findCanaryHash(t *testing.T, g *governance.Governor) string {
	for i := 0; i < 1000; i++ {
		h := fmt.Sprint("probe-", i)
		if s, _ := g.Serving(corpTax, h); s.Canary {
			return h
		}
	}
	t.Fatal("no request hash lands in the canary")
	return ""
}

// TestRefusalRateRollsBack: refusals that are not the template's privacy
// doing still roll back once they pass the threshold, without revoking.
func TestRefusalRateRollsBack(t *testing.T) {
	f := newGovernor(t, storetest.Open(t), governance.Policy{Share: 1, MinSample: 10, MaxRefusalRate: 0.2, Documents: 1000})
	ctx := context.Background()
	v, _ := f.gov.Submit(ctx, op1, relabelled(t))
	f.gov.Approve(ctx, op2, corpTax, governance.TemplateKind, v.Number)
	f.gov.Approve(ctx, po1, corpTax, governance.TemplateKind, v.Number)
	served, ok := f.gov.Serving(corpTax, "h")
	if !ok || !served.Canary {
		t.Fatal("share 1 serves no canary")
	}
	for i := 0; i < 7; i++ {
		f.gov.Outcome(ctx, served, fmt.Sprint(i), nil)
	}
	// Not the template's doing, and not counted: an agency down.
	for i := 0; i < 5; i++ {
		f.gov.Outcome(ctx, served, "", linkage.ErrUnavailable)
	}
	for i := 0; i < 2; i++ {
		f.gov.Outcome(ctx, served, "", &issuance.RefusedError{Rule: issuance.RuleSubject})
	}
	if s := summary(t, f.gov, corpTax); s.Canary == nil || s.Canary.Issued != 7 || s.Canary.Refused != 2 {
		t.Fatalf("2 of 9 below the sample: %+v", s.Canary)
	}
	f.gov.Outcome(ctx, served, "", &issuance.RefusedError{Rule: issuance.RuleSubject})
	if s := summary(t, f.gov, corpTax); s.Canary != nil {
		t.Fatalf("3 refusals of 10 above 20%% did not roll back: %+v", s.Canary)
	}
	if len(f.in.opened) != 1 || !strings.Contains(f.in.opened[0], "form_rollback/3") {
		t.Fatalf("incidents %v", f.in.opened)
	}
}

func TestSchemaChangeNeedsPrivacyOfficer(t *testing.T) {
	f := newGovernor(t, storetest.Open(t), governance.Policy{})
	ctx := context.Background()
	_, schemas, _ := form.BuiltinFiles()
	// Dropping a slot the active template shows strands it: refused.
	drop := strings.Replace(string(schemas[corpTax]), `    {"key": "address", "source": "tax.corporation.address", "class": "address"},
`, "", 1)
	if _, err := f.gov.Submit(ctx, op1, []byte(drop)); !errors.Is(err, governance.ErrRefused) || !strings.Contains(err.Error(), "address") {
		t.Fatalf("a schema stranding the active template: %v", err)
	}
	// Allowing an RRN on a corporation's certificate: refused.
	rrn := strings.Replace(string(schemas[corpTax]), `"allowed_classes": [`, `"allowed_classes": ["rrn", `, 1)
	if _, err := f.gov.Submit(ctx, op1, []byte(rrn)); !errors.Is(err, governance.ErrRefused) || !strings.Contains(err.Error(), "identifies a person") {
		t.Fatalf("rrn on a corporation: %v", err)
	}
	// Adding the opening date as a slot is a schema change.
	add := strings.Replace(string(schemas[corpTax]), `"tax_status"]`, `"tax_status", "date"]`, 1)
	add = strings.Replace(add, `    {"key": "arrears"`, `    {"key": "opened", "source": "tax.corporation.opened", "class": "date"},
    {"key": "arrears"`, 1)
	v, err := f.gov.Submit(ctx, op1, []byte(add))
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != governance.SchemaKind || v.Number != 2 {
		t.Fatalf("submitted %s v%d", v.Kind, v.Number)
	}
	f.gov.Approve(ctx, op2, corpTax, governance.SchemaKind, 2)
	if _, err := f.gov.Approve(ctx, op3, corpTax, governance.SchemaKind, 2); !errors.Is(err, governance.ErrNotAllowed) {
		t.Fatalf("schema approved by two operators: %v", err)
	}
	got, err := f.gov.Approve(ctx, po1, corpTax, governance.SchemaKind, 2)
	if err != nil || got.State != governance.Active {
		t.Fatalf("schema approval: %v %v", got.State, err)
	}
	if s := summary(t, f.gov, corpTax); s.Schema != 2 {
		t.Fatalf("schema %d active", s.Schema)
	}
	// Now a template may show the new slot.
	tpl := strings.Replace(string(shipped(t, corpTax)), `"tax_status"]`, `"tax_status", "date"]`, 1)
	tpl = strings.Replace(tpl, `    {"key": "arrears"`, `    {"key": "opened", "label": "Opened", "label_ko": "개업일", "source": "tax.corporation.opened", "class": "date"},
    {"key": "arrears"`, 1)
	if _, err := f.gov.Submit(ctx, op1, []byte(tpl)); err != nil {
		t.Fatalf("template using the new slot: %v", err)
	}
}

func TestOneCanaryAtATimeAndRollbackLimits(t *testing.T) {
	f := newGovernor(t, storetest.Open(t), governance.Policy{})
	ctx := context.Background()
	// The only version a service has had cannot be rolled back.
	if _, err := f.gov.Rollback(ctx, op1, corpTax, "no reason to", false); !errors.Is(err, governance.ErrWrongState) {
		t.Fatalf("rollback of version 1: %v", err)
	}
	if _, err := f.gov.Rollback(ctx, op1, corpTax, "주민번호 900101-1234568 노출", false); !errors.Is(err, governance.ErrRefused) {
		t.Fatalf("a reason with an RRN: %v", err)
	}
	if _, err := f.gov.Rollback(ctx, op1, "no-such-service", "x", false); !errors.Is(err, governance.ErrNotFound) {
		t.Fatalf("unknown service: %v", err)
	}
	v2, err := f.gov.Submit(ctx, op1, relabelled(t))
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(shipped(t, corpTax)), `"label_ko": "대표자"`, `"label_ko": "대표자 성명"`, 1)
	v3, err := f.gov.Submit(ctx, op1, []byte(other))
	if err != nil {
		t.Fatal(err)
	}
	f.gov.Approve(ctx, op2, corpTax, governance.TemplateKind, v2.Number)
	if _, err := f.gov.Approve(ctx, po1, corpTax, governance.TemplateKind, v2.Number); err != nil {
		t.Fatal(err)
	}
	f.gov.Approve(ctx, op2, corpTax, governance.TemplateKind, v3.Number)
	if _, err := f.gov.Approve(ctx, po1, corpTax, governance.TemplateKind, v3.Number); !errors.Is(err, governance.ErrBusy) {
		t.Fatalf("a second canary for one service: %v", err)
	}
	// Once the first canary is withdrawn, the waiting approval completes.
	if _, err := f.gov.Rollback(ctx, op2, corpTax, "superseded by v3", false); err != nil {
		t.Fatal(err)
	}
	if got, err := f.gov.Approve(ctx, po1, corpTax, governance.TemplateKind, v3.Number); err != nil || got.State != governance.Canary {
		t.Fatalf("approval after the rollback: %v %v", got.State, err)
	}
}

// TestCanaryPromotesByTime: a canary that served at least MinSample
// documents becomes active once its time is up, even short of Documents.
func TestCanaryPromotesByTime(t *testing.T) {
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	db := storetest.Open(t)
	f := &fixture{db: db, in: &incidents{}}
	f.gov = &governance.Governor{Store: db, Agencies: linkage.DefaultSchema(), Golden: sharedGolden(t), Incidents: f.in, Now: now,
		Policy: governance.Policy{Share: 1, MinSample: 3, For: time.Hour, Documents: 1000}}
	ctx := context.Background()
	if err := f.gov.Start(ctx); err != nil {
		t.Fatal(err)
	}
	v, _ := f.gov.Submit(ctx, op1, relabelled(t))
	f.gov.Approve(ctx, op2, corpTax, governance.TemplateKind, v.Number)
	f.gov.Approve(ctx, po1, corpTax, governance.TemplateKind, v.Number)
	served, _ := f.gov.Serving(corpTax, "h")
	for i := 0; i < 5; i++ {
		f.gov.Outcome(ctx, served, fmt.Sprint(i), nil)
	}
	if s := summary(t, f.gov, corpTax); s.Active != 1 {
		t.Fatalf("promoted before its time: %+v", s)
	}
	mu.Lock()
	clock = clock.Add(61 * time.Minute)
	mu.Unlock()
	f.gov.Outcome(ctx, served, "6", nil)
	if s := summary(t, f.gov, corpTax); s.Active != 2 || s.Canary != nil {
		t.Fatalf("not promoted after its time: %+v", s)
	}
	if len(f.in.opened) != 0 {
		t.Fatalf("a promotion opened incidents: %v", f.in.opened)
	}
}
