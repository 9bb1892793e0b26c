package loadtest

import (
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/pkitest"
)

// The counter mode end to end on a small minwon: counter clerks keep
// issuing, every document checked, while the validation service is down
// and while it drops large answers, and while the portal is flooded; the
// portal keeps issuing during the outage; once the counter has refused a
// revoked official, it never issues for that official again.
func TestCounterModeEndToEnd(t *testing.T) {
	env := startE2E(t, 150, 31)
	c := env.StartCounter(t, pki.DefaultGrace)
	// The demo's checker refreshes in the background; here every 100 ms,
	// so a revocation is known within the phase.
	go func() {
		ctx := t.Context()
		for ctx.Err() == nil {
			c.Checker.Refresh(ctx)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	var officials []CounterOfficial
	for range 3 {
		o, cred, _ := c.Official(t, pki.CounterClerk)
		officials = append(officials, CounterOfficial{ID: o.ID, Cred: cred})
	}
	accts := accountsOf(env)
	subjects := Subjects(accts, env.World)
	var out strings.Builder
	progress := &syncWriter{w: &out}
	defer func() { t.Log(out.String()) }()
	portal, err := New(t.Context(), Options{Accounts: accts, Subjects: subjects, Logins: 12, Progress: progress,
		Server: &Target{BaseURL: env.Server.URL}, ConnsPerRun: 48})
	if err != nil {
		t.Fatal(err)
	}
	run, err := NewCounterRun(CounterOptions{
		URL: c.URL, ValidationURL: c.Validation.URL, Roots: pkitest.CA(t).Pool(),
		Officials: officials, People: CounterPeople(env.World, subjects), Clients: 4, Phase: 1500 * time.Millisecond,
		Revoke: func(id, reason string) error {
			_, err := c.Validation.Authority().RevokeOfficial(id, reason)
			return err
		},
		LockWait: 10 * time.Second, Portal: portal, PortalClients: 2, FloodClients: 32, Progress: progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := run.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	PrintCounterSummary(progress, sum)
	if len(sum.Failures) > 0 {
		t.Errorf("failures: %v", sum.Failures)
	}
	var names []string
	for _, ph := range sum.Phases {
		names = append(names, ph.Name)
	}
	if got, want := strings.Join(names, ","), strings.Join([]string{PhaseBaseline, PhaseDown, PhaseDrop, PhaseHealed, PhaseFlood, PhaseRevocation}, ","); got != want {
		t.Fatalf("phases %s, want %s", got, want)
	}
	for _, ph := range sum.Phases {
		if ph.Issued == 0 || len(ph.Errors) > 0 || ph.SuccessPc != 100 {
			t.Errorf("%s: %d issued, errors %v, %.2f%% success", ph.Name, ph.Issued, ph.Errors, ph.SuccessPc)
		}
		if ph.Checked.PDFText+ph.NotChecked != ph.Issued || len(ph.MisIssuances) > 0 {
			t.Errorf("%s: checked %+v (%d not checked) of %d documents, mis-issuances %v", ph.Name, ph.Checked, ph.NotChecked, ph.Issued, ph.MisIssuances)
		}
		if ph.Portal == nil || ph.Portal.Documents == 0 {
			t.Errorf("%s: the portal issued nothing beside the counter", ph.Name)
		}
	}
	if v := sum.Phases[1].Validation; v.Refused == 0 {
		t.Errorf("validation down: %+v, no refresh refused", v)
	}
	if v := sum.Phases[2].Validation; v.Dropped == 0 {
		t.Errorf("validation dropping large answers: %+v, nothing dropped", v)
	}
	if f := sum.Phases[4].Portal; f.Concurrency != 32 {
		t.Errorf("flood phase ran %d portal clients", f.Concurrency)
	}
	rv := sum.Phases[5].Revocation
	if rv == nil || !rv.Known || rv.Refused == 0 || rv.AcceptedAfterKnown != 0 || rv.Clients != 2 {
		t.Fatalf("revocation: %+v", rv)
	}
	if st := sum.Phases[5].Credentials[rv.Official]; !strings.HasPrefix(st, "locked") {
		t.Errorf("revoked official's credential at the end: %q", st)
	}
	if !sum.OK() {
		t.Errorf("summary not OK: %v", sum.Failures)
	}

	f, err := portal.Final(t.Context(), FinalOptions{Verify: "sample", Sample: 200, Log: true, LogVerifier: env.App.Log.Verifier()})
	if err != nil {
		t.Fatal(err)
	}
	PrintFinal(progress, f)
	if !f.Log.Checked || f.Log.Missing > 0 || f.Log.Unclaimed > 0 || len(f.Log.Problems) > 0 {
		t.Errorf("log check over portal and counter documents: %+v", f.Log)
	}
}
