package loadtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minwon/minwon/internal/counter"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/render"
)

// CounterOfficial is a counter clerk whose certificate the harness
// presents.
type CounterOfficial struct {
	ID   string
	Cred pki.Credential
}

// CounterPerson is a citizen at the counter: the RRN the official types
// in, and what the document must show.
type CounterPerson struct {
	RRN     string
	Subject Subject
}

// CounterOptions configure a counter run.
type CounterOptions struct {
	URL           string            // the counter's base URL (https)
	ValidationURL string            // the validation service's base URL, for /_faults and /_stats
	Roots         *x509.CertPool    // the CA the counter's server certificate chains to
	Officials     []CounterOfficial // counter clerks; client i presents Officials[i % len]
	People        []CounterPerson
	Services      []string      // default: the resident registration copy and abstract, which every person can get
	Clients       int           // concurrent counter clients; default 8
	Phase         time.Duration // length of each phase; default 20 s
	// Revoke revokes an official's certificate where the validation
	// service reads revocations from (pki.Authority.RevokeOfficial). Nil
	// skips the revocation phase.
	Revoke func(id, reason string) error
	// LockWait bounds the wait for the counter to refuse the revoked
	// official; default 60 s.
	LockWait time.Duration
	// Portal is the portal's logged-in harness: PortalClients of its
	// clients issue during every phase but the flood, FloodClients during
	// the flood. Nil: no portal load and no flood phase.
	Portal        *Harness
	PortalClients int
	FloodClients  int
	Check         string // per document, as Options.Check: all, data or none
	Pdftotext     int
	Server        Server // for the server's pid: CPU and RSS; may be a Target without one
	Progress      io.Writer
}

// The phases of a counter run, in order.
const (
	PhaseBaseline   = "baseline"
	PhaseDown       = "validation_down"
	PhaseDrop       = "validation_drop_1500"
	PhaseHealed     = "healed"
	PhaseFlood      = "portal_flood"
	PhaseRevocation = "revocation"
)

// CounterPhase is what one phase of a counter run measured.
type CounterPhase struct {
	Name    string  `json:"name"`
	Faults  string  `json:"validation_faults"` // the body PUT to the validation service's /_faults
	Seconds float64 `json:"seconds"`
	// Counter issuance requests (after retries with the same key) and
	// documents; the revoked official's requests are counted here too,
	// and again in Revocation.
	Requests  int64            `json:"requests"`
	Issued    int64            `json:"issued"`
	PerSec    float64          `json:"issuances_per_sec"`
	P50ms     float64          `json:"p50_ms"` // latency of POST /counter/v1/issuances that issued
	P95ms     float64          `json:"p95_ms"`
	P99ms     float64          `json:"p99_ms"`
	Maxms     float64          `json:"max_ms"`
	Errors    map[string]int64 `json:"errors"` // by error code, officials not revoked: every one is a failure
	Retries   int64            `json:"retries"`
	SuccessPc float64          `json:"success_percent"` // of the requests of officials not revoked
	// Credentials is each official's credential state at the end of the
	// phase (GET /counter/v1/status), with the reason when locked.
	Credentials  map[string]string   `json:"credentials"`
	Validation   pki.ValidationStats `json:"validation"` // the validation service's counters over the phase
	Checked      Checked             `json:"checked"`
	NotChecked   int64               `json:"not_checked_locked"` // issued just before the lock, download refused since
	MisIssuances []MisIssuance       `json:"mis_issuances"`
	// ServerCPUms is the server's CPU per document, counter and portal
	// documents together (the same pipeline issues both).
	ServerCPUms float64           `json:"server_cpu_ms_per_doc"`
	RSSMB       float64           `json:"rss_mb"`
	PeakRSSMB   float64           `json:"peak_rss_mb"`
	Portal      *Result           `json:"portal,omitempty"`
	Revocation  *RevocationResult `json:"revocation,omitempty"`
}

// RevocationResult is what the counter did with the revoked official.
type RevocationResult struct {
	Official  string    `json:"official"`
	Clients   int       `json:"clients"` // counter clients presenting its certificate
	RevokedAt time.Time `json:"revoked_at"`
	Known     bool      `json:"known"` // the counter refused it (or said locked) within LockWait
	// Milliseconds from the revocation to the first issuance refused
	// with credential_locked, and to the first status answering locked
	// (-1: never).
	FirstRefusalMs float64 `json:"first_refusal_ms"`
	StatusLockedMs float64 `json:"status_locked_ms"`
	// Issued between the revocation and the counter knowing it (its
	// next CRL refresh): allowed.
	AcceptedBeforeKnown int64 `json:"accepted_before_known"`
	Refused             int64 `json:"refused_credential_locked"`
	// Requests sent after the counter had refused the official or said
	// locked, and issued all the same: must be 0.
	AcceptedAfterKnown int64            `json:"accepted_after_known"`
	OtherErrors        map[string]int64 `json:"other_errors"`
}

// CounterSummary is everything a counter run measured.
type CounterSummary struct {
	Command   string          `json:"command"`
	Machine   string          `json:"machine"`
	Clients   int             `json:"clients"`
	Officials []string        `json:"officials"`
	Phases    []*CounterPhase `json:"phases"`
	// RenderSignMs is the CPU that rendering and signing one certificate
	// alone costs on this machine, measured in process after the phases:
	// the reference the server's CPU per document is compared with.
	RenderSignMs float64      `json:"render_sign_cpu_ms_per_doc"`
	Failures     []string     `json:"failures"`
	Final        *FinalResult `json:"final"`
}

// OK reports whether every counter check passed and the end-of-run checks
// found nothing.
func (s *CounterSummary) OK() bool {
	return len(s.Failures) == 0 && (&Summary{Final: s.Final}).OK()
}

// counterClient is one counter terminal: an official's mutual-TLS client.
type counterClient struct {
	official string
	c        *client
}

// CounterRun drives the counter through its phases.
type CounterRun struct {
	opt     CounterOptions
	clients []*counterClient
	runID   string
	plain   *client // for the validation service
	revoked string  // the revoked official, once revoked
	known   atomic.Int64

	revMu sync.Mutex
	rev   *RevocationResult // once revoked
}

// NewCounterRun prepares the counter clients.
func NewCounterRun(opt CounterOptions) (*CounterRun, error) {
	if opt.Clients <= 0 {
		opt.Clients = 8
	}
	if opt.Phase <= 0 {
		opt.Phase = 20 * time.Second
	}
	if opt.LockWait <= 0 {
		opt.LockWait = time.Minute
	}
	if len(opt.Services) == 0 {
		opt.Services = []string{"resident-registration-abstract", "resident-registration-copy"}
	}
	if opt.Progress == nil {
		opt.Progress = io.Discard
	}
	if opt.Check == "" {
		opt.Check = "all"
	}
	if opt.Server == nil {
		opt.Server = &Target{}
	}
	if len(opt.Officials) == 0 || len(opt.People) == 0 || opt.URL == "" || opt.ValidationURL == "" {
		return nil, errors.New("counter: the counter and validation URLs, officials and people are required")
	}
	r := &CounterRun{opt: opt, runID: strconv.FormatInt(time.Now().UnixNano(), 36), plain: newClient("", 4)}
	for i := range opt.Clients {
		o := opt.Officials[i%len(opt.Officials)]
		cfg, err := pki.ClientTLS(o.Cred, opt.Roots)
		if err != nil {
			return nil, fmt.Errorf("counter: official %s: %w", o.ID, err)
		}
		c := newClient(opt.URL, 4)
		c.hc.Transport.(*http.Transport).TLSClientConfig = cfg
		r.clients = append(r.clients, &counterClient{official: o.ID, c: c})
	}
	return r, nil
}

// Run runs every phase and returns the summary (without the end-of-run
// checks, which the caller runs on the portal harness).
func (r *CounterRun) Run(ctx context.Context) (*CounterSummary, error) {
	sum := &CounterSummary{Machine: DescribeMachine(), Clients: len(r.clients), Failures: []string{}}
	for _, o := range r.opt.Officials[:min(len(r.opt.Officials), len(r.clients))] {
		sum.Officials = append(sum.Officials, o.ID)
	}
	type step struct {
		name   string
		faults string
	}
	steps := []step{{PhaseBaseline, `{}`}, {PhaseDown, `{"down":1}`}, {PhaseDrop, `{"drop_over_bytes":1500}`}, {PhaseHealed, `{}`}}
	if r.opt.Portal != nil && r.opt.FloodClients > 0 {
		steps = append(steps, step{PhaseFlood, `{}`})
	}
	if r.opt.Revoke != nil {
		steps = append(steps, step{PhaseRevocation, `{}`})
	}
	// Leave the validation service healed whatever happens.
	defer r.setFaults(context.WithoutCancel(ctx), `{}`)
	for _, s := range steps {
		if err := r.setFaults(ctx, s.faults); err != nil {
			return nil, err
		}
		ph, err := r.phase(ctx, s.name, s.faults)
		if err != nil {
			return nil, err
		}
		PrintCounterPhase(r.opt.Progress, ph)
		sum.Phases = append(sum.Phases, ph)
		sum.Failures = append(sum.Failures, phaseFailures(ph)...)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	ms, err := RenderSignCPU(400)
	if err != nil {
		fmt.Fprintf(r.opt.Progress, "render+sign reference not measured: %v\n", err)
	}
	sum.RenderSignMs = ms
	return sum, nil
}

// phaseFailures says what in a phase breaks the counter's promise.
func phaseFailures(ph *CounterPhase) []string {
	var out []string
	if n := sumCounts(ph.Errors); n > 0 {
		out = append(out, fmt.Sprintf("%s: %d counter requests of officials not revoked failed (%s)", ph.Name, n, formatCounts(ph.Errors)))
	}
	if len(ph.MisIssuances) > 0 || ph.Checked.Unverifiable > 0 {
		out = append(out, fmt.Sprintf("%s: %d counter documents failed their check, %d could not be checked", ph.Name, len(ph.MisIssuances), ph.Checked.Unverifiable))
	}
	if p := ph.Portal; p != nil && (len(p.MisIssuances) > 0 || p.Checked.Unverifiable > 0) {
		out = append(out, fmt.Sprintf("%s: %d portal documents failed their check, %d could not be checked", ph.Name, len(p.MisIssuances), p.Checked.Unverifiable))
	}
	if rv := ph.Revocation; rv != nil {
		if !rv.Known {
			out = append(out, fmt.Sprintf("%s: the counter never refused revoked official %s", ph.Name, rv.Official))
		}
		if rv.AcceptedAfterKnown > 0 {
			out = append(out, fmt.Sprintf("%s: %d issuances accepted for revoked official %s after the counter knew of the revocation", ph.Name, rv.AcceptedAfterKnown, rv.Official))
		}
	}
	return out
}

func sumCounts(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func (r *CounterRun) setFaults(ctx context.Context, body string) error {
	if _, _, err := r.plain.do(ctx, "PUT", strings.TrimRight(r.opt.ValidationURL, "/")+"/_faults", "", json.RawMessage(body), nil); err != nil {
		return fmt.Errorf("validation faults %s: %w", body, err)
	}
	return nil
}

func (r *CounterRun) validationStats(ctx context.Context) pki.ValidationStats {
	var st pki.ValidationStats
	if data, _, err := r.plain.do(ctx, "GET", strings.TrimRight(r.opt.ValidationURL, "/")+"/_stats", "", nil, nil); err == nil {
		json.Unmarshal(data, &st)
	}
	return st
}

// counterPhase is one phase's running state.
type counterPhase struct {
	r   *CounterRun
	res *CounterPhase
	lat Histogram

	issued, requests, retries, failed atomic.Int64

	mu sync.Mutex
}

func (p *counterPhase) count(f func(c *Checked)) {
	p.mu.Lock()
	f(&p.res.Checked)
	p.mu.Unlock()
}

func (r *CounterRun) phase(ctx context.Context, name, faults string) (*CounterPhase, error) {
	res := &CounterPhase{Name: name, Faults: faults, Errors: map[string]int64{}, MisIssuances: []MisIssuance{}}
	p := &counterPhase{r: r, res: res}
	fmt.Fprintf(r.opt.Progress, "\n-- counter phase %s: validation faults %s, %d counter clients for %s --\n", name, faults, len(r.clients), r.opt.Phase)
	val0 := r.validationStats(ctx)
	pid := r.opt.Server.PID()
	cpu0, cpuErr := cpuTime(pid)
	start := time.Now()
	if name == PhaseRevocation {
		if err := r.revoke(ctx, start); err != nil {
			return nil, err
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The portal's own load, beside the counter's.
	var portal *Result
	portalDone := make(chan error, 1)
	portalClients := r.opt.PortalClients
	if name == PhaseFlood {
		portalClients = r.opt.FloodClients
	}
	if r.opt.Portal != nil && portalClients > 0 {
		go func() {
			var err error
			portal, err = r.opt.Portal.Run(runCtx, Phase{Concurrency: portalClients, Duration: r.opt.Phase})
			portalDone <- err
		}()
	} else {
		portalDone <- nil
	}

	var wg sync.WaitGroup
	for w, cl := range r.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.worker(runCtx, w, cl)
		}()
	}
	if name == PhaseRevocation {
		go r.pollLocked(runCtx)
	}
	// The phase ends after its length; a revocation phase not before the
	// counter knows (bounded by LockWait), and then runs a few seconds
	// more to show every later request refused.
	end := start.Add(r.opt.Phase)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastPrint, lastIssued := start, int64(0)
	for now := range tick.C {
		if ctx.Err() != nil {
			break
		}
		if now.Sub(lastPrint) >= time.Second {
			n := p.issued.Load()
			rss, _, _ := readRSS(pid)
			res.RSSMB, res.PeakRSSMB = rss, max(res.PeakRSSMB, rss)
			fmt.Fprintf(r.opt.Progress, "[counter %s %4.0fs] issued %d  %.0f/s now  failed %d  retries %d\n",
				name, now.Sub(start).Seconds(), n, float64(n-lastIssued)/now.Sub(lastPrint).Seconds(), p.failed.Load(), p.retries.Load())
			lastPrint, lastIssued = now, n
		}
		if r.rev != nil && name == PhaseRevocation {
			if k := r.known.Load(); k == 0 {
				if now.Sub(start) < r.opt.LockWait {
					continue
				}
			} else if now.Before(time.Unix(0, k).Add(min(r.opt.Phase/4, 5*time.Second))) {
				continue
			}
		}
		if !now.Before(end) {
			break
		}
	}
	cancel()
	wg.Wait()
	if err := <-portalDone; err != nil {
		return nil, fmt.Errorf("portal load during %s: %w", name, err)
	}
	elapsed := time.Since(start)
	res.Seconds = elapsed.Seconds()
	res.Requests, res.Issued, res.Retries = p.requests.Load(), p.issued.Load(), p.retries.Load()
	res.PerSec = float64(res.Issued) / res.Seconds
	if r.rev != nil {
		r.revMu.Lock()
		rv := *r.rev
		rv.OtherErrors = maps.Clone(rv.OtherErrors)
		r.revMu.Unlock()
		res.Revocation = &rv
	}
	res.P50ms, res.P95ms, res.P99ms, res.Maxms = msf(p.lat.Quantile(0.5)), msf(p.lat.Quantile(0.95)), msf(p.lat.Quantile(0.99)), msf(p.lat.Max())
	if mine := res.Requests - r.revokedRequests(res); mine > 0 {
		res.SuccessPc = 100 * float64(mine-sumCounts(res.Errors)) / float64(mine)
	}
	res.Validation = r.validationStats(ctx)
	res.Validation.Requests -= val0.Requests
	res.Validation.Refused -= val0.Refused
	res.Validation.Dropped -= val0.Dropped
	res.Credentials = r.credentials(ctx)
	docs := res.Issued
	if portal != nil {
		docs += portal.Documents
		// The server's CPU in the portal's result would be shared with
		// the counter's documents: it is reported once, here.
		portal.ServerCPUms = 0
		res.Portal = portal
	}
	if cpu1, err := cpuTime(pid); err == nil && cpuErr == nil && docs > 0 {
		res.ServerCPUms = msf(cpu1-cpu0) / float64(docs)
	}
	if rss, _, err := readRSS(pid); err == nil {
		res.RSSMB, res.PeakRSSMB = rss, max(res.PeakRSSMB, rss)
	}
	return res, nil
}

// revokedRequests is how many of a phase's requests the revoked official
// made (they may be refused).
func (r *CounterRun) revokedRequests(res *CounterPhase) int64 {
	if res.Revocation == nil {
		return 0
	}
	rv := res.Revocation
	return rv.AcceptedBeforeKnown + rv.Refused + rv.AcceptedAfterKnown + sumCounts(rv.OtherErrors)
}

// revoke revokes the official of the first client.
func (r *CounterRun) revoke(ctx context.Context, at time.Time) error {
	id := r.clients[0].official
	n := 0
	for _, c := range r.clients {
		if c.official == id {
			n++
		}
	}
	if err := r.opt.Revoke(id, "loadtest: revoked under load"); err != nil {
		return fmt.Errorf("revoke %s: %w", id, err)
	}
	r.revoked = id
	r.revMu.Lock()
	defer r.revMu.Unlock()
	r.rev = &RevocationResult{Official: id, Clients: n, RevokedAt: at.UTC(), FirstRefusalMs: -1, StatusLockedMs: -1, OtherErrors: map[string]int64{}}
	fmt.Fprintf(r.opt.Progress, "revoked official %s (presented by %d of %d counter clients) at %s\n", id, n, len(r.clients), at.UTC().Format("15:04:05.000"))
	return nil
}

// markKnown records that the counter showed at t that it knows of the
// revocation; the earliest time wins.
func (r *CounterRun) markKnown(t time.Time) {
	for {
		old := r.known.Load()
		if old != 0 && old <= t.UnixNano() {
			return
		}
		if r.known.CompareAndSwap(old, t.UnixNano()) {
			return
		}
	}
}

// pollLocked asks the counter for the revoked official's credential state
// until it says locked.
func (r *CounterRun) pollLocked(ctx context.Context) {
	var cl *counterClient
	for _, c := range r.clients {
		if c.official == r.revoked {
			cl = c
			break
		}
	}
	for ctx.Err() == nil {
		st, err := cl.status(ctx)
		if now := time.Now(); err == nil && st.Credential == string(pki.Locked) {
			r.markKnown(now)
			r.revMu.Lock()
			r.rev.StatusLockedMs = msf(now.Sub(r.rev.RevokedAt))
			r.rev.Known = true
			fmt.Fprintf(r.opt.Progress, "the counter says %s is locked (%s) %.0f ms after the revocation\n", r.revoked, st.Reason, r.rev.StatusLockedMs)
			r.revMu.Unlock()
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *counterClient) status(ctx context.Context) (counter.StatusJSON, error) {
	var st counter.StatusJSON
	data, _, err := c.c.do(ctx, "GET", "/counter/v1/status", "", nil, nil)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(data, &st)
}

// credentials asks the counter for every official's credential state.
func (r *CounterRun) credentials(ctx context.Context) map[string]string {
	out := map[string]string{}
	for _, c := range r.clients {
		if _, done := out[c.official]; done {
			continue
		}
		st, err := c.status(ctx)
		switch {
		case err != nil:
			out[c.official] = "unknown: " + err.Error()
		case st.Reason != "":
			out[c.official] = st.Credential + " (" + st.Reason + ")"
		default:
			out[c.official] = st.Credential
		}
	}
	return out
}

func (p *counterPhase) worker(ctx context.Context, w int, cl *counterClient) {
	r := p.r
	rng := mrand.New(mrand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	for seq := 0; ctx.Err() == nil; seq++ {
		person := r.opt.People[rng.IntN(len(r.opt.People))]
		svc := r.opt.Services[rng.IntN(len(r.opt.Services))]
		var body counter.IssueRequest
		body.Service, body.SubjectRRN, body.Purpose = svc, ident.FormatRRN(person.RRN), "loadtest 제출용"
		body.IdentityCheck.Method, body.IdentityCheck.Verified = "resident_card", true
		key := fmt.Sprintf("ct-%s-%s-%d-%d", r.runID, p.res.Name, w, seq)
		revoked := cl.official == r.revoked
		sent := time.Now()
		var is issued
		var err error
		// A lost answer is retried with the same key, as a terminal would;
		// the end of the phase does not cut a request short.
		for attempt := 0; ; attempt++ {
			var data []byte
			data, _, err = cl.c.do(context.WithoutCancel(ctx), "POST", "/counter/v1/issuances", "", body, map[string]string{"Idempotency-Key": key})
			if err == nil {
				err = json.Unmarshal(data, &is)
			}
			var ae *apiError
			if !errors.As(err, &ae) || ae.Status != 0 || attempt == 4 {
				break
			}
			p.retries.Add(1)
			time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
		}
		answered := time.Now()
		p.requests.Add(1)
		var ae *apiError
		errors.As(err, &ae)
		if revoked {
			p.revokedAnswer(err, ae, sent, answered)
		}
		if err != nil {
			if !revoked {
				p.failed.Add(1)
				reason := "bad_answer"
				if ae != nil {
					reason = ae.reason()
				}
				p.mu.Lock()
				p.res.Errors[reason]++
				p.mu.Unlock()
				fmt.Fprintf(r.opt.Progress, "counter %s: %s for %s: %v\n", cl.official, svc, person.Subject.ID, err)
			}
			continue
		}
		p.lat.Record(answered.Sub(sent))
		n := p.issued.Add(1)
		if r.opt.Portal != nil {
			r.opt.Portal.addRecord(record{Key: key, Login: "official:" + cl.official, Number: is.Number, SHA256: is.SHA256, LogIndex: is.LogIndex, Service: svc, Subject: person.Subject.ID})
		}
		p.checkDocument(ctx, cl, is, Expect{Subject: person.Subject, Service: svc, Number: is.Number}, n, revoked)
	}
}

// revokedAnswer files an answer to the revoked official.
func (p *counterPhase) revokedAnswer(err error, ae *apiError, sent, answered time.Time) {
	r := p.r
	r.revMu.Lock()
	defer r.revMu.Unlock()
	rv := r.rev
	switch {
	case err == nil:
		if k := r.known.Load(); k != 0 && sent.UnixNano() > k {
			rv.AcceptedAfterKnown++
			fmt.Fprintf(r.opt.Progress, "ACCEPTED AFTER REVOCATION: official %s issued a document although the counter had refused it %s earlier\n", r.revoked, sent.Sub(time.Unix(0, k)))
		} else {
			rv.AcceptedBeforeKnown++
		}
	case ae != nil && ae.Status == http.StatusForbidden && ae.Code == "credential_locked":
		rv.Refused++
		if rv.FirstRefusalMs < 0 {
			rv.FirstRefusalMs = msf(answered.Sub(rv.RevokedAt))
			fmt.Fprintf(r.opt.Progress, "first refusal of %s (credential_locked) %.0f ms after the revocation\n", r.revoked, rv.FirstRefusalMs)
		}
		r.markKnown(answered)
	default:
		reason := "bad_answer"
		if ae != nil {
			reason = ae.reason()
		}
		rv.OtherErrors[reason]++
	}
	rv.Known = r.known.Load() != 0
}

// checkDocument downloads a counter document from the counter, as the
// official who issued it, and checks it like a portal document.
func (p *counterPhase) checkDocument(ctx context.Context, cl *counterClient, is issued, e Expect, n int64, revoked bool) {
	ctx = context.WithoutCancel(ctx)
	locked := false
	fetch := func(path string) ([]byte, error) {
		data, _, err := cl.c.do(ctx, "GET", path, "", nil, nil)
		var ae *apiError
		if revoked && errors.As(err, &ae) && ae.Code == "credential_locked" {
			locked = true
		}
		return data, err
	}
	var unverifiable int64
	count := func(f func(c *Checked)) {
		var c Checked
		f(&c)
		unverifiable += c.Unverifiable
		p.count(f)
	}
	dc := docCheck{Mode: p.r.opt.Check, Pdftotext: p.r.opt.Pdftotext, Progress: p.r.opt.Progress}
	problems := dc.check(is, e, n, fetch, count)
	p.mu.Lock()
	defer p.mu.Unlock()
	if locked && unverifiable > 0 {
		// Issued in the instant before the lock: the revoked official
		// may no longer download it. Not checked, and not passed.
		p.res.Checked.Unverifiable -= unverifiable
		p.res.NotChecked++
	}
	if len(problems) > 0 {
		m := MisIssuance{Number: is.Number, Service: e.Service, Subject: e.Subject.ID, Problems: problems}
		p.res.MisIssuances = append(p.res.MisIssuances, m)
		fmt.Fprintf(p.r.opt.Progress, "MIS-ISSUANCE at the counter %s (%s for %s): %s\n", m.Number, m.Service, m.Subject, strings.Join(problems, "; "))
	}
}

// RenderSignCPU renders and signs n certificates in process on every core
// and returns the CPU this process spent per document, in ms: what the
// server's CPU per document compares with.
func RenderSignCPU(n int) (float64, error) {
	docs, err := sampleDocuments(n)
	if err != nil {
		return 0, err
	}
	rd, err := render.New()
	if err != nil {
		return 0, err
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return 0, err
	}
	cert, err := docsig.SelfSignedCertificate("minwon-loadtest document signing")
	if err != nil {
		return 0, err
	}
	signer := docsig.Signer{KeyID: docsig.KeyID(key.Public().(ed25519.PublicKey)), Key: key, Cert: cert}
	cpu0, err := cpuTime(os.Getpid())
	if err != nil {
		return 0, err
	}
	if _, err := parallel(n, runtime.NumCPU(), func(_, i int) error {
		out, err := rd.Render(docs[i])
		if err == nil {
			_, err = signer.SignPDF(docs[i].Number, out.PDF)
		}
		return err
	}); err != nil {
		return 0, err
	}
	cpu1, err := cpuTime(os.Getpid())
	if err != nil {
		return 0, err
	}
	return msf(cpu1-cpu0) / float64(n), nil
}

// DemoCounter reads what a counter run needs from a demo's data
// directory: urls.json, the counter clerks of demo-officials.csv whose
// certificates are not revoked, the CA, and the people of the population
// regenerated from world, with what their documents must show from
// subjects (the accounts file). Revoke revokes in the demo's register
// (DIR/pki), which its validation service rereads on every request.
func DemoCounter(dir string, world *population.World, subjects map[string]Subject) (CounterOptions, error) {
	var opt CounterOptions
	raw, err := os.ReadFile(datadir.Dir(dir).URLs())
	if err != nil {
		return opt, err
	}
	var urls demo.URLs
	if err := json.Unmarshal(raw, &urls); err != nil {
		return opt, fmt.Errorf("urls.json: %w", err)
	}
	if urls.Counter == "" || urls.Validation == "" {
		return opt, errors.New("urls.json names no counter or validation service (a demo older than the counter?)")
	}
	opt.URL, opt.ValidationURL = urls.Counter, urls.Validation
	if opt.Roots, err = pki.RootPool(filepath.Join(datadir.Dir(dir).PKI(), pki.RootCertFile)); err != nil {
		return opt, err
	}
	ca, err := pki.Open(datadir.Dir(dir).PKI())
	if err != nil {
		return opt, err
	}
	// An official revoked by an earlier run stays revoked: leave them out.
	usable := map[string]bool{}
	for _, e := range ca.Entries() {
		if e.Official != nil && e.RevokedAt.IsZero() {
			usable[e.Official.ID] = true
		}
	}
	opt.Revoke = func(id, reason string) error {
		_, err := ca.RevokeOfficial(id, reason)
		return err
	}
	rows, err := demo.ReadOfficials(dir)
	if err != nil {
		return opt, err
	}
	for _, row := range rows {
		if row.Role == pki.CounterClerk && usable[row.ID] {
			opt.Officials = append(opt.Officials, CounterOfficial{ID: row.ID, Cred: pki.Credential{CertFile: filepath.Join(dir, row.Cert), KeyFile: filepath.Join(dir, row.Key)}})
		}
	}
	opt.People = CounterPeople(world, subjects)
	if len(opt.Officials) == 0 || len(opt.People) == 0 {
		return opt, fmt.Errorf("%s has no counter clerk or no person with an account", dir)
	}
	return opt, nil
}

// CounterPeople lists the persons of world whom the accounts file
// describes, so that their documents can be checked independently.
func CounterPeople(world *population.World, subjects map[string]Subject) []CounterPerson {
	var out []CounterPerson
	for i := range world.People {
		p := &world.People[i]
		if s, ok := subjects[p.Subject]; ok && s.Kind == "person" {
			out = append(out, CounterPerson{RRN: p.RRN, Subject: s})
		}
	}
	return out
}

// PrintCounterPhase writes one counter phase's figures.
func PrintCounterPhase(w io.Writer, ph *CounterPhase) {
	fmt.Fprintf(w, "\n== counter: %s (validation faults %s), %.1fs ==\n", ph.Name, ph.Faults, ph.Seconds)
	fmt.Fprintf(w, "counter        %d issued of %d requests (%.1f issuances/s); officials not revoked: %.2f%% success; %d retries\n", ph.Issued, ph.Requests, ph.PerSec, ph.SuccessPc, ph.Retries)
	fmt.Fprintf(w, "latency        p50 %.1fms  p95 %.1fms  p99 %.1fms  max %.1fms\n", ph.P50ms, ph.P95ms, ph.P99ms, ph.Maxms)
	fmt.Fprintf(w, "errors         %s\n", formatCounts(ph.Errors))
	var creds []string
	for _, id := range sortedKeys(ph.Credentials) {
		creds = append(creds, id+" "+ph.Credentials[id])
	}
	fmt.Fprintf(w, "credentials    %s\n", strings.Join(creds, ", "))
	fmt.Fprintf(w, "validation     %d requests, %d refused (down), %d answers dropped (over the size limit)\n", ph.Validation.Requests, ph.Validation.Refused, ph.Validation.Dropped)
	fmt.Fprintf(w, "checked        data.json %d, PDF text %d, pdftotext %d, unverifiable %d, not checked (issued just before the lock) %d; mis-issuances %d\n",
		ph.Checked.Data, ph.Checked.PDFText, ph.Checked.Pdftotext, ph.Checked.Unverifiable, ph.NotChecked, len(ph.MisIssuances))
	if rv := ph.Revocation; rv != nil {
		fmt.Fprintf(w, "revocation     %s (%d clients) revoked at %s: first refusal after %.0f ms, status locked after %.0f ms\n",
			rv.Official, rv.Clients, rv.RevokedAt.Format("15:04:05.000"), rv.FirstRefusalMs, rv.StatusLockedMs)
		fmt.Fprintf(w, "               issued before the counter knew %d, refused credential_locked %d, ACCEPTED AFTER KNOWN %d, other errors %s\n",
			rv.AcceptedBeforeKnown, rv.Refused, rv.AcceptedAfterKnown, formatCounts(rv.OtherErrors))
	}
	if ph.ServerCPUms > 0 {
		fmt.Fprintf(w, "server         %.2f ms CPU per document (counter and portal), RSS %.0f MB, peak %.0f MB\n", ph.ServerCPUms, ph.RSSMB, ph.PeakRSSMB)
	}
	if p := ph.Portal; p != nil {
		fmt.Fprintf(w, "portal         %d clients: %d documents of %d requests (%.1f docs/s), p99 %.1fms; refusals %s; mis-issuances %d, unverifiable %d\n",
			p.Concurrency, p.Documents, p.Requests, p.DocsPerSec, p.P99ms, formatCounts(p.Refusals), len(p.MisIssuances), p.Checked.Unverifiable)
	}
}

// PrintCounterSummary writes the run's verdict lines.
func PrintCounterSummary(w io.Writer, s *CounterSummary) {
	fmt.Fprintf(w, "\n== counter during a validation outage: %d clients, officials %s ==\n", s.Clients, strings.Join(s.Officials, ", "))
	fmt.Fprintf(w, "%-22s %9s %8s %8s %8s %9s %8s %s\n", "phase", "issued/s", "p50 ms", "p99 ms", "success", "cpu ms/doc", "portal/s", "credentials")
	for _, ph := range s.Phases {
		portal := "-"
		if ph.Portal != nil {
			portal = fmt.Sprintf("%.1f", ph.Portal.DocsPerSec)
		}
		states := map[string]bool{}
		for _, v := range ph.Credentials {
			states[v] = true
		}
		fmt.Fprintf(w, "%-22s %9.1f %8.1f %8.1f %7.2f%% %9.2f %8s %s\n", ph.Name, ph.PerSec, ph.P50ms, ph.P99ms, ph.SuccessPc, ph.ServerCPUms, portal, strings.Join(slices.Sorted(maps.Keys(states)), ", "))
	}
	if s.RenderSignMs > 0 {
		fmt.Fprintf(w, "render+sign alone: %.2f ms CPU per document in process", s.RenderSignMs)
		for _, ph := range s.Phases {
			if ph.Name == PhaseBaseline && ph.ServerCPUms > 0 {
				fmt.Fprintf(w, "; the server's CPU per document at baseline is %.1f× that", ph.ServerCPUms/s.RenderSignMs)
			}
		}
		fmt.Fprintln(w)
	}
	for _, f := range s.Failures {
		fmt.Fprintf(w, "FAILED: %s\n", f)
	}
}
