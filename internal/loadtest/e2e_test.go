package loadtest

import (
	"crypto/tls"
	"github.com/minwon/minwon/internal/guard"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/pkitest"
)

// operatorTLS is an operator's client for the agencies' fault switches.
func operatorTLS(t *testing.T) *tls.Config {
	t.Helper()
	_, cred := pkitest.Official(t, pki.Operator)
	cfg, err := pki.ClientTLS(cred, pkitest.CA(t).Pool())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A few hundred issuances at 32 clients with every agency fault on, swaps
// at 5%: no document may show another subject, every swap must end in a
// refusal, and every number must be in the log at its index.
func TestHarnessEndToEndWithFaults(t *testing.T) {
	env := startE2E(t, 300, 21)
	base := env.Server.URL
	agencies := map[string]string{}
	for _, ep := range env.Endpoints {
		agencies[ep.Agency] = ep.BaseURL
	}
	accts := accountsOf(env)
	pdftotext := 0
	if _, err := exec.LookPath("pdftotext"); err == nil {
		pdftotext = 25
	}
	var progress strings.Builder
	h, err := New(t.Context(), Options{
		Accounts: accts, Subjects: Subjects(accts, env.World), Logins: 30,
		Pdftotext: pdftotext, Progress: &progress,
		Faults:    Faults{DelayMS: 1, JitterMS: 3, Drop: 0.01, Error: 0.01, Swap: 0.05},
		Server:    &Target{BaseURL: base, AgencyURLs: agencies},
		AgencyTLS: operatorTLS(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Run(t.Context(), Phase{Concurrency: 32, Requests: 200, Duration: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	PrintResult(&progress, res)
	defer func() { t.Log(progress.String()) }()
	if res.Documents < 100 {
		t.Errorf("only %d documents of %d requests", res.Documents, res.Requests)
	}
	if len(res.MisIssuances) > 0 || res.Checked.Unverifiable > 0 {
		t.Errorf("mis-issuances %v, unverifiable %d", res.MisIssuances, res.Checked.Unverifiable)
	}
	if res.Checked.PDFText != res.Documents || res.Checked.Data != res.Documents {
		t.Errorf("checked %+v of %d documents", res.Checked, res.Documents)
	}
	var swapped int64
	for _, a := range res.Agencies {
		swapped += a.Swapped
	}
	refusedSwaps := res.Refusals["pre_issuance_refused:subject_mismatch"]
	if swapped == 0 || refusedSwaps == 0 {
		t.Errorf("%d swaps injected, %d refused as subject_mismatch: the faults did not bite", swapped, refusedSwaps)
	}
	if refusedSwaps > swapped {
		t.Errorf("%d subject_mismatch refusals for %d swaps", refusedSwaps, swapped)
	}
	f, err := h.Final(t.Context(), FinalOptions{Verify: "all", Log: true, LogVerifier: env.App.Log.Verifier()})
	if err != nil {
		t.Fatal(err)
	}
	PrintFinal(&progress, f)
	if !f.Log.Checked || !f.Log.SignatureVerified || f.Log.Missing > 0 || f.Log.Unclaimed > 0 || len(f.Log.Problems) > 0 || !f.Log.ConsistentWithStart {
		t.Errorf("log check: %+v", f.Log)
	}
	if f.Log.Entries < res.Documents {
		t.Errorf("log holds %d entries for %d documents", f.Log.Entries, res.Documents)
	}
	if f.Verify.Available && (f.Verify.Valid != f.Verify.Checked || len(f.Verify.NotValid) > 0) {
		t.Errorf("verify: %+v", f.Verify)
	}
	if len(f.DuplicateKeys)+len(f.DuplicateNums) > 0 {
		t.Errorf("duplicates: %v %v", f.DuplicateKeys, f.DuplicateNums)
	}

	// A number no document has, claimed at an index another document
	// holds, must fail both checks.
	h.records = append(h.records, record{Key: "forged", Login: "nobody", Number: "1234567890123452", SHA256: h.records[0].SHA256, LogIndex: h.records[0].LogIndex})
	f, err = h.Final(t.Context(), FinalOptions{Verify: "all", Log: true, LogVerifier: env.App.Log.Verifier()})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Log.Problems) == 0 || len(f.Verify.NotValid) != 1 || (&Summary{Final: f}).OK() {
		t.Errorf("a forged number passed: log %+v, verify %+v", f.Log, f.Verify)
	}
}

// A proxy that lets the server issue but loses some answers: the harness
// must resend those keys after the phase, get the same documents back, and
// the log check must find no document that no client received.
func TestHarnessResolvesLostAnswers(t *testing.T) {
	env := startE2E(t, 200, 23)
	target, _ := url.Parse(env.Server.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	// Every 10th key loses its answer on its first four sends (the
	// harness's four attempts within the phase; the harness's client does
	// not let net/http resend on its own), then is answered.
	var (
		mu    sync.Mutex
		sends = map[string]int{}
		n     int
	)
	lossy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && r.URL.Path == "/api/v1/issuances" {
			key := r.Header.Get("Idempotency-Key")
			mu.Lock()
			if _, seen := sends[key]; !seen {
				n++
				if n%10 != 0 {
					sends[key] = 99 // never lossy
				}
			}
			sends[key]++
			drop := sends[key] <= 4
			mu.Unlock()
			if drop {
				// Let the issuance complete, then drop the connection.
				proxy.ServeHTTP(httptest.NewRecorder(), r)
				panic(http.ErrAbortHandler)
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(lossy.Close)
	accts := accountsOf(env)
	var out strings.Builder
	progress := &syncWriter{w: &out}
	defer func() { t.Log(out.String()) }()
	h, err := New(t.Context(), Options{Accounts: accts, Subjects: Subjects(accts, env.World), Logins: 20, Progress: progress,
		Server: &Target{BaseURL: lossy.URL}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Run(t.Context(), Phase{Concurrency: 8, Requests: 100, Duration: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	PrintResult(progress, res)
	u := res.Unanswered
	if u.Keys == 0 || u.Documents+u.NotIssuable != u.Keys || u.Unresolved != 0 {
		t.Errorf("lost answers: %+v, want every lost key resolved to its document (or to not_issuable)", u)
	}
	f, err := h.Final(t.Context(), FinalOptions{Verify: "none", Log: true, LogVerifier: env.App.Log.Verifier()})
	if err != nil {
		t.Fatal(err)
	}
	PrintFinal(progress, f)
	if f.Log.Unclaimed != 0 || f.Log.Missing != 0 || len(f.Log.Problems) != 0 || len(f.DuplicateKeys) != 0 {
		t.Errorf("log after lost answers: %+v, duplicate keys %v", f.Log, f.DuplicateKeys)
	}
}

// startE2E starts a small minwon for an end-to-end harness test; -short
// skips it.
func startE2E(t *testing.T, people int, seed int64) *apptest.Env {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end load")
	}
	// The harness's clients are bulk access by design, as in spawn.go.
	off := guard.Off()
	return apptest.StartOpts(t, people, seed, apptest.Options{Limits: &off})
}

// accountsOf returns the accounts of a test minwon as the harness reads
// them from demo-accounts.csv.
func accountsOf(env *apptest.Env) []Account {
	var out []Account
	for _, a := range env.Accounts {
		out = append(out, Account(a))
	}
	return out
}

// syncWriter lets many clients report at once; when a report contains
// seen (if set), it calls then.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
