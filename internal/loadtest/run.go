// Package loadtest drives a running minwon like thousands of citizens at
// once and checks every document it gets back: it logs in many demo
// accounts, issues certificates for themselves and the people and
// corporations they may act for, downloads each PDF and data.json and
// compares the subject they show with what the accounts file (and the
// seeded population) says. It can switch the simulated agencies' faults on,
// kill -9 and restart a server it spawned, lose a whole site and fail over
// to the alternate one (RunSiteDrill), and at the end checks issued
// numbers through the verification API and the transparency log.
//
// Package loadtest only ever talks to minwon over HTTP, as a client would;
// a check it cannot make is reported as not made, never as passed.
package loadtest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the minwon under test, as the harness reaches it.
type Server interface {
	// URL is the base URL of the portal and API.
	URL() string
	// Agencies maps agency name to base URL (for /_faults and /_stats);
	// empty if unknown.
	Agencies() map[string]string
	// PID is the server's process id, 0 if unknown.
	PID() int
}

// Restarter is a server the harness can kill -9 and start again.
type Restarter interface {
	Server
	Kill() error
	Start(ctx context.Context) error
}

// Options configure a harness.
type Options struct {
	Accounts    []Account
	Subjects    map[string]Subject
	Logins      int    // accounts to log in; default 1000
	Check       string // "all" (default): data.json and in-process PDF text of every document; "data": data.json only; "none"
	Pdftotext   int    // also run pdftotext on every Nth document (0: never)
	Faults      Faults // applied after login, before the first phase
	Progress    io.Writer
	Server      Server
	ConnsPerRun int // HTTP connections; default max concurrency + 16
	// AgencyTLS presents an operator's certificate to the agencies, whose
	// fault switches and counters answer only operators (DemoOperatorTLS).
	AgencyTLS *tls.Config
}

// Phase is one measured run at one concurrency.
type Phase struct {
	Concurrency int
	Requests    int64         // stop after this many issuance requests (0: no limit)
	Duration    time.Duration // stop after this long (0: no limit)
	CrashAfter  int64         // crash mode: kill -9 after this many documents (0: never)
	Crashes     int           // crash mode: how many times (default 1 when CrashAfter > 0)
	Replay      int           // crash mode: successful keys to resend after each restart; default 500
}

// Harness holds logged-in sessions and what was issued.
type Harness struct {
	opt   Options
	c     *client
	runID string

	sessions []*session

	mu      sync.Mutex
	records []record // every document a client received, for verify and log checks

	startCheckpoint []byte       // the log's signed checkpoint before the first issuance
	runs            atomic.Int64 // phases run, so two phases at one concurrency never share a key
	loginRetries    atomic.Int64
	loginSem        chan struct{}

	statsMu    sync.Mutex
	agencyBase map[string]AgencyStats // agency stats of earlier server incarnations
	agencyLast map[string]AgencyStats
}

type session struct {
	acct    Account
	mu      sync.Mutex
	token   string
	expires time.Time
	jobs    []job
}

type job struct {
	service string
	subject string // "" = self
}

// record is one document a client received.
type record struct {
	Key      string
	Login    string
	Number   string
	SHA256   string
	LogIndex int64
	Service  string
	Subject  string
	At       time.Time // when the client received it; zero for keys resent after the phase
}

// New logs in accounts and learns what each may request. It prints its
// progress.
func New(ctx context.Context, opt Options) (*Harness, error) {
	if opt.Logins <= 0 {
		opt.Logins = 1000
	}
	if opt.Check == "" {
		opt.Check = "all"
	}
	if opt.Progress == nil {
		opt.Progress = io.Discard
	}
	conns := opt.ConnsPerRun
	if conns <= 0 {
		conns = 1024
	}
	h := &Harness{
		opt: opt, c: newClient(opt.Server.URL(), conns),
		runID:      strconv.FormatInt(time.Now().UnixNano(), 36),
		loginSem:   make(chan struct{}, loginSlots),
		agencyBase: map[string]AgencyStats{}, agencyLast: map[string]AgencyStats{},
	}
	svcs, err := h.c.services(ctx)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	// Clear faults from an earlier run while logging in: /me asks the
	// agencies too.
	if err := h.setFaults(ctx, Faults{}); err != nil {
		return nil, err
	}
	accts := pickAccounts(opt.Accounts, opt.Logins)
	fmt.Fprintf(opt.Progress, "logging in %d of %d accounts...\n", len(accts), len(opt.Accounts))
	start := time.Now()
	h.sessions = make([]*session, len(accts))
	var (
		wg       sync.WaitGroup
		next     atomic.Int64
		errMu    sync.Mutex
		firstErr error
	)
	for range loginSlots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(accts) || ctx.Err() != nil {
					return
				}
				if i > 0 && i%500 == 0 {
					fmt.Fprintf(opt.Progress, "  %d/%d logged in\n", i, len(accts))
				}
				s, err := h.prepare(ctx, accts[i], svcs)
				if err != nil {
					errMu.Lock()
					firstErr = cmpOr(firstErr, err)
					errMu.Unlock()
					return
				}
				h.sessions[i] = s
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var jobs, related int
	for _, s := range h.sessions {
		jobs += len(s.jobs)
		for _, j := range s.jobs {
			if j.subject != "" {
				related++
			}
		}
	}
	fmt.Fprintf(opt.Progress, "logged in %d accounts in %s: %d (service, subject) pairs, %d of them for a related subject\n",
		len(h.sessions), time.Since(start).Round(time.Millisecond), jobs, related)
	h.startLog(ctx)
	if err := h.setFaults(ctx, opt.Faults); err != nil {
		return nil, err
	}
	if opt.Faults.Any() {
		fmt.Fprintf(opt.Progress, "agency faults on: %s\n", opt.Faults)
	}
	return h, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// pickAccounts takes n accounts spread over the file: persons and
// corporations in their proportion, deterministic.
func pickAccounts(all []Account, n int) []Account {
	if n >= len(all) {
		return all
	}
	out := make([]Account, 0, n)
	step := float64(len(all)) / float64(n)
	for i := 0; i < n; i++ {
		out = append(out, all[int(float64(i)*step)])
	}
	return out
}

func (h *Harness) prepare(ctx context.Context, a Account, svcs []service) (*session, error) {
	tok, exp, err := h.loginRetry(ctx, a)
	if err != nil {
		return nil, err
	}
	s := &session{acct: a, token: tok, expires: exp}
	var prof profile
	for attempt := 0; ; attempt++ {
		prof, err = h.c.me(ctx, tok)
		if err == nil {
			break
		}
		if attempt == 3 {
			return nil, fmt.Errorf("me %s: %w", a.Login, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if prof.Subject != a.Subject {
		return nil, fmt.Errorf("me %s: the API says the account is %s, the accounts file %s", a.Login, prof.Subject, a.Subject)
	}
	allows := func(sv service, r string) bool { return slices.Contains(sv.Requesters, r) }
	corporate := func(sv service) bool {
		return allows(sv, "corporate_representative") || allows(sv, "corporate_employee")
	}
	for _, sv := range svcs {
		if sv.Kind != "certificate" {
			continue
		}
		if a.Kind == "corporate" {
			if corporate(sv) {
				s.jobs = append(s.jobs, job{service: sv.ID})
			}
			continue
		}
		if !corporate(sv) && allows(sv, "self") {
			s.jobs = append(s.jobs, job{service: sv.ID})
		}
		for _, r := range prof.Relations {
			if _, known := h.opt.Subjects[r.Subject]; !known {
				continue // nothing to check it against
			}
			ok := false
			switch r.Relation {
			case "corporation":
				ok = corporate(sv)
			case "household_member":
				ok = !corporate(sv) && allows(sv, "household_member")
			case "child":
				ok = !corporate(sv) && (allows(sv, "household_member") || r.Minor && allows(sv, "parent_of_minor"))
			}
			if ok {
				s.jobs = append(s.jobs, job{service: sv.ID, subject: r.Subject})
			}
		}
	}
	if len(s.jobs) == 0 {
		return nil, fmt.Errorf("account %s may request no certificate", a.Login)
	}
	return s, nil
}

func (s *session) getToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// relogin replaces an expired token (sessions end after 30 minutes).
func (h *Harness) relogin(ctx context.Context, s *session, old string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != old {
		return nil // another worker already did
	}
	tok, exp, err := h.loginRetry(ctx, s.acct)
	if err != nil {
		return err
	}
	s.token, s.expires = tok, exp
	return nil
}

// loginSlots bounds the logins in flight: each costs the server an
// argon2id hash with 19 MiB, and a few hundred at once (every session of a
// long run expiring together) took a demo to 4.7 GB and stalled it.
const loginSlots = 4

// loginRetry logs in, retrying server-side failures (a login can lose a
// race for SQLite's write lock to the transparency log's group commit).
func (h *Harness) loginRetry(ctx context.Context, a Account) (string, time.Time, error) {
	select {
	case h.loginSem <- struct{}{}:
	case <-ctx.Done():
		return "", time.Time{}, ctx.Err()
	}
	defer func() { <-h.loginSem }()
	for attempt := 0; ; attempt++ {
		tok, exp, err := h.c.login(ctx, a)
		var ae *apiError
		if err == nil || attempt == 10 || !errors.As(err, &ae) || ae.Status != 0 && ae.Status < 500 || ctx.Err() != nil {
			return tok, exp, err
		}
		h.loginRetries.Add(1)
		time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
	}
}

// refreshSessions logs sessions in again before they expire, one at a time
// and oldest first, so a long run never meets a wall of expired sessions.
func (h *Harness) refreshSessions(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range h.sessions {
			s.mu.Lock()
			due := time.Until(s.expires) < 10*time.Minute
			tok := s.token
			s.mu.Unlock()
			if !due {
				continue
			}
			if err := h.relogin(ctx, s, tok); err != nil && ctx.Err() == nil {
				fmt.Fprintf(h.opt.Progress, "refreshing the session of %s: %v\n", s.acct.Login, err)
			}
			if ctx.Err() != nil {
				return
			}
		}
	}
}

// Result is the outcome of one phase.
type Result struct {
	Concurrency  int                    `json:"concurrency"`
	Seconds      float64                `json:"seconds"`
	Requests     int64                  `json:"requests"`  // issuance requests answered or failed
	Documents    int64                  `json:"documents"` // 201s
	DocsPerSec   float64                `json:"docs_per_sec"`
	P50ms        float64                `json:"p50_ms"` // latency of POST /api/v1/issuances that issued a document
	P95ms        float64                `json:"p95_ms"`
	P99ms        float64                `json:"p99_ms"`
	Maxms        float64                `json:"max_ms"`
	AllP99ms     float64                `json:"all_p99_ms"` // every answered issuance request, refusals included
	Refusals     map[string]int64       `json:"refusals"`   // by reason: error code and rule
	Retries      int64                  `json:"retries"`
	Checked      Checked                `json:"checked"`
	MisIssuances []MisIssuance          `json:"mis_issuances"`
	ServerCPUms  float64                `json:"server_cpu_ms_per_doc"`  // server CPU time (user+system, agencies included) per document
	HarnessCPUms float64                `json:"harness_cpu_ms_per_doc"` // this harness's own CPU per document, on the same cores
	RSSMB        float64                `json:"rss_mb"`                 // server RSS at the end of the phase
	PeakRSSMB    float64                `json:"peak_rss_mb"`
	Agencies     map[string]AgencyStats `json:"agencies,omitempty"` // delta over the phase
	Unanswered   Unanswered             `json:"unanswered"`
	Crash        *CrashResult           `json:"crash,omitempty"`
}

// Checked counts the documents each check covered.
type Checked struct {
	Data         int64 `json:"data_json"`
	PDFText      int64 `json:"pdf_text"`
	Pdftotext    int64 `json:"pdftotext"`
	Unverifiable int64 `json:"unverifiable"` // downloads or extraction failed: not counted as passed
}

// MisIssuance is a document that shows something other than what was asked.
type MisIssuance struct {
	Number   string   `json:"number"`
	Service  string   `json:"service"`
	Subject  string   `json:"subject"`
	Problems []string `json:"problems"`
}

// CrashResult is what crash mode observed.
type CrashResult struct {
	Kills            int      `json:"kills"`
	Downtime         []string `json:"downtime"`          // kill → ready again, per kill
	InFlight         int64    `json:"in_flight_at_kill"` // requests without an answer when the server died
	Resolved         int64    `json:"resolved_by_retry"` // of those, answered after restart with the same key
	Replayed         int64    `json:"replayed_keys"`     // successful keys sent again after restart
	ReplayMismatches []string `json:"replay_mismatches"` // keys that answered with another number: duplicates
	Unresolved       int64    `json:"unresolved"`
}

type phaseState struct {
	h        *Harness
	p        Phase
	run      int64     // this phase's number in the harness
	lat      Histogram // 201s
	all      Histogram // every answer
	started  time.Time
	issued   atomic.Int64
	answered atomic.Int64
	retries  atomic.Int64
	issuedN  atomic.Int64 // request slots taken

	mu       sync.Mutex
	refusals map[string]int64
	mis      []MisIssuance
	misCount atomic.Int64
	checked  Checked
	peakRSS  float64
	lastRSS  float64

	// crash mode
	down       atomic.Bool
	upCh       chan struct{} // closed when the server is back
	inflight   atomic.Int64
	crash      CrashResult
	keyNumbers map[string]string // key → number, crash mode only
	recent     []record          // last successful keys, for replay

	pending    []pendingReq // sent, never answered: resent after the phase
	unanswered Unanswered
}

type pendingReq struct {
	s   *session
	j   job
	key string
}

// Unanswered counts requests whose answer was lost (timeouts, a dead
// server) and how resending their key after the phase settled them.
type Unanswered struct {
	Keys      int64 `json:"keys"`
	Documents int64 `json:"documents"` // the key had produced (or now produced) a document: it came back, checked
	Refused   int64 `json:"refused"`   // a definite refusal
	// NotIssuable: the certificate is not issued for that subject at all
	// (arrears, nothing to certify): a definite answer, as a document is.
	NotIssuable int64 `json:"not_issuable"`
	Unresolved  int64 `json:"unresolved"` // still no answer
}

// Run runs one phase.
func (h *Harness) Run(ctx context.Context, p Phase) (*Result, error) {
	if p.Concurrency <= 0 {
		return nil, errors.New("concurrency must be positive")
	}
	if p.Requests <= 0 && p.Duration <= 0 {
		return nil, errors.New("give a number of requests or a duration")
	}
	if p.CrashAfter > 0 {
		if _, ok := h.opt.Server.(Restarter); !ok {
			return nil, errors.New("crash mode needs a server the harness spawned (--spawn)")
		}
		if p.Crashes <= 0 {
			p.Crashes = 1
		}
		if p.Replay == 0 {
			p.Replay = 500
		}
	}
	st := &phaseState{h: h, p: p, run: h.runs.Add(1), refusals: map[string]int64{}, upCh: make(chan struct{}), keyNumbers: map[string]string{}}
	close(st.upCh)
	agencies0 := h.agencyStats(ctx)
	cpu0, _ := cpuTime(h.opt.Server.PID())
	self0, _ := cpuTime(os.Getpid())
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if p.Duration > 0 {
		var c2 context.CancelFunc
		runCtx, c2 = context.WithTimeout(runCtx, p.Duration)
		defer c2()
	}
	st.started = time.Now()
	go h.refreshSessions(runCtx)
	var wg sync.WaitGroup
	for w := range p.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.worker(runCtx, w)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var prevSnap *HistSnapshot
	prevIssued, prevT := int64(0), st.started
	kills := 0
loop:
	for {
		select {
		case <-done:
			break loop
		case now := <-tick.C:
			st.sampleRSS()
			h.agencyStats(ctx) // remember the latest, in case the server dies
			snap := st.lat.Snapshot()
			n := st.issued.Load()
			rate := float64(n-prevIssued) / now.Sub(prevT).Seconds()
			avg := float64(n) / now.Sub(st.started).Seconds()
			st.mu.Lock()
			var ref int64
			for _, v := range st.refusals {
				ref += v
			}
			rss := st.lastRSS
			st.mu.Unlock()
			fmt.Fprintf(h.opt.Progress, "[c=%d %5.0fs] docs %d  %.0f/s now, %.0f/s avg  p99 %s (1s) %s (run)  refusals %d  mis-issuances %d  retries %d  rss %.0f MB%s\n",
				p.Concurrency, now.Sub(st.started).Seconds(), n, rate, avg,
				ms(snap.QuantileSince(prevSnap, 0.99)), ms(st.lat.Quantile(0.99)), ref, st.misCount.Load(), st.retries.Load(), rss,
				map[bool]string{true: "  SERVER DOWN", false: ""}[st.down.Load()])
			prevSnap, prevIssued, prevT = snap, n, now
			if p.CrashAfter > 0 && kills < p.Crashes && n >= p.CrashAfter*int64(kills+1) {
				kills++
				if err := st.crashAndRestart(ctx); err != nil {
					cancel()
					<-done
					return nil, err
				}
			}
		}
	}
	elapsed := time.Since(st.started)
	st.sampleRSS()
	st.resolvePending(context.WithoutCancel(ctx))
	res := &Result{
		Concurrency: p.Concurrency, Seconds: elapsed.Seconds(),
		Requests: st.answered.Load(), Documents: st.issued.Load(),
		P50ms: msf(st.lat.Quantile(0.50)), P95ms: msf(st.lat.Quantile(0.95)), P99ms: msf(st.lat.Quantile(0.99)), Maxms: msf(st.lat.Max()),
		AllP99ms: msf(st.all.Quantile(0.99)),
		Refusals: st.refusals, Retries: st.retries.Load(), Checked: st.checked, MisIssuances: st.mis, Unanswered: st.unanswered,
		RSSMB: st.lastRSS, PeakRSSMB: st.peakRSS,
	}
	res.DocsPerSec = float64(res.Documents) / res.Seconds
	if cpu1, err := cpuTime(h.opt.Server.PID()); err == nil && p.CrashAfter == 0 && res.Documents > 0 {
		res.ServerCPUms = msf(cpu1-cpu0) / float64(res.Documents)
	}
	if self1, err := cpuTime(os.Getpid()); err == nil && res.Documents > 0 {
		res.HarnessCPUms = msf(self1-self0) / float64(res.Documents)
	}
	if res.MisIssuances == nil {
		res.MisIssuances = []MisIssuance{}
	}
	res.Agencies = diffStats(h.agencyStats(ctx), agencies0)
	if p.CrashAfter > 0 {
		c := st.crash
		if c.ReplayMismatches == nil {
			c.ReplayMismatches = []string{}
		}
		res.Crash = &c
	}
	return res, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", msf(d)) }
func msf(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

func (st *phaseState) sampleRSS() {
	pid := st.h.opt.Server.PID()
	if pid == 0 {
		return
	}
	rss, hwm, err := readRSS(pid)
	if err != nil {
		return
	}
	st.mu.Lock()
	st.lastRSS = rss
	st.peakRSS = max(st.peakRSS, rss)
	_ = hwm
	st.mu.Unlock()
}

// cpuTime returns the user+system CPU time a process has used (which
// includes the agencies: they run inside the demo process).
func cpuTime(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil // USER_HZ is 100 on Linux
}

// readRSS returns VmRSS and VmHWM of a process in MB.
func readRSS(pid int) (rss, hwm float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		}
	}
	return rss, hwm, nil
}

func (st *phaseState) refuse(reason string) {
	st.mu.Lock()
	st.refusals[reason]++
	st.mu.Unlock()
}

func (st *phaseState) worker(ctx context.Context, w int) {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	h := st.h
	for seq := 0; ; seq++ {
		if ctx.Err() != nil {
			return
		}
		if st.p.Requests > 0 && st.issuedN.Add(1) > st.p.Requests {
			return
		}
		s := h.sessions[rng.IntN(len(h.sessions))]
		j := s.jobs[rng.IntN(len(s.jobs))]
		key := fmt.Sprintf("lt-%s-%d-%d-%d-%d", h.runID, st.run, st.p.Concurrency, w, seq)
		st.one(ctx, s, j, key)
	}
}

// one sends one issuance request, retrying with the same idempotency key
// where a client would (transport failure, expired session, server down),
// and checks the document it gets.
func (st *phaseState) one(ctx context.Context, s *session, j job, key string) {
	h := st.h
	wasInFlight := false
	// sent: a request went out and its answer never came; got: a document
	// came back. A key that was sent but ends without an answer may have
	// produced a document: it is resent after the phase (resolvePending).
	sent, got := false, false
	defer func() {
		if sent && !got {
			st.mu.Lock()
			st.pending = append(st.pending, pendingReq{s: s, j: j, key: key})
			st.mu.Unlock()
		}
	}()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			st.retries.Add(1)
		}
		// Wait while the server is being restarted.
		st.mu.Lock()
		up := st.upCh
		st.mu.Unlock()
		select {
		case <-up:
		case <-ctx.Done():
			if wasInFlight {
				st.mu.Lock()
				st.crash.Unresolved++
				st.mu.Unlock()
			}
			return
		}
		tok := s.getToken()
		t0 := time.Now()
		// A request must not be cut short by the end of the phase: its
		// answer decides what the key produced.
		is, err := h.c.issue(context.WithoutCancel(ctx), tok, j.service, j.subject, key)
		lat := time.Since(t0)
		var ae *apiError
		errors.As(err, &ae)
		switch {
		case err == nil:
		case ae != nil && ae.Status == 0:
			sent = true
			if st.p.CrashAfter > 0 {
				// The server may have died with our request: keep the
				// key and retry it once the server is back.
				if !wasInFlight && st.down.Load() {
					wasInFlight = true
					st.inflight.Add(1)
				}
				if !st.down.Load() {
					time.Sleep(50 * time.Millisecond)
				}
				continue
			}
			if attempt < 3 && ctx.Err() == nil {
				time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
				continue
			}
			st.answered.Add(1)
			st.refuse(ae.reason())
			return
		case ae != nil && ae.Status == http.StatusUnauthorized && ae.Code == "unauthenticated" && attempt < 3:
			if err := h.relogin(ctx, s, tok); err != nil {
				st.answered.Add(1)
				st.refuse("relogin_failed")
				return
			}
			continue
		case ae != nil && ae.Status == http.StatusServiceUnavailable && st.down.Load():
			continue
		default:
			st.answered.Add(1)
			st.all.Record(lat)
			st.refuse(ae.reason())
			if wasInFlight {
				st.mu.Lock()
				st.crash.Resolved++
				st.mu.Unlock()
			}
			return
		}
		got = true
		st.answered.Add(1)
		st.all.Record(lat)
		st.lat.Record(lat)
		n := st.issued.Add(1)
		want := s.acct.Subject
		if j.subject != "" {
			want = j.subject
		}
		rec := record{Key: key, Login: s.acct.Login, Number: is.Number, SHA256: is.SHA256, LogIndex: is.LogIndex, Service: j.service, Subject: want, At: time.Now()}
		h.mu.Lock()
		h.records = append(h.records, rec)
		h.mu.Unlock()
		if st.p.CrashAfter > 0 {
			st.mu.Lock()
			if wasInFlight {
				st.crash.Resolved++
			}
			if prev, ok := st.keyNumbers[key]; ok && prev != is.Number {
				st.crash.ReplayMismatches = append(st.crash.ReplayMismatches, key)
			}
			st.keyNumbers[key] = is.Number
			st.recent = append(st.recent, rec)
			if len(st.recent) > 4*st.p.Replay {
				st.recent = append(st.recent[:0], st.recent[len(st.recent)-st.p.Replay:]...)
			}
			st.mu.Unlock()
		}
		st.checkDocument(ctx, s, j, is, want, n)
		return
	}
}

func (st *phaseState) reportMis(m MisIssuance) {
	st.misCount.Add(1)
	st.mu.Lock()
	if len(st.mis) < 1000 {
		st.mis = append(st.mis, m)
	}
	st.mu.Unlock()
	fmt.Fprintf(st.h.opt.Progress, "MIS-ISSUANCE %s (%s for %s): %s\n", m.Number, m.Service, m.Subject, strings.Join(m.Problems, "; "))
}

func (st *phaseState) count(f func(c *Checked)) {
	st.mu.Lock()
	f(&st.checked)
	st.mu.Unlock()
}

// checkDocument downloads and checks one issued document.
func (st *phaseState) checkDocument(ctx context.Context, s *session, j job, is issued, want string, n int64) {
	h := st.h
	e := Expect{Subject: h.opt.Subjects[want], Service: j.service, Number: is.Number}
	ctx = context.WithoutCancel(ctx)
	tok := s.getToken()
	fetch := func(path string) ([]byte, error) { return st.download(ctx, s, tok, path) }
	dc := docCheck{Mode: h.opt.Check, Pdftotext: h.opt.Pdftotext, Progress: h.opt.Progress}
	if problems := dc.check(is, e, n, fetch, st.count); len(problems) > 0 {
		st.reportMis(MisIssuance{Number: is.Number, Service: j.service, Subject: want, Problems: problems})
	}
}

// docCheck is how documents are checked: Mode "all" (data.json and the
// PDF's text in process), "data" (data.json only) or "none", and every
// Pdftotext-th document also with poppler's pdftotext.
type docCheck struct {
	Mode      string
	Pdftotext int
	Progress  io.Writer
}

// check compares an issuance answer with what was asked (e), downloads the
// document's files with fetch and checks them, and returns every problem:
// any is a mis-issuance. The n-th document checked is also read by
// pdftotext when due. A download or extraction that fails counts as
// unverifiable in count, never as passed.
func (dc docCheck) check(is issued, e Expect, n int64, fetch func(path string) ([]byte, error), count func(func(*Checked))) []string {
	var problems []string
	if is.Subject != e.Subject.ID {
		problems = append(problems, "the API answered for another subject than requested")
	}
	if is.Service != e.Service {
		problems = append(problems, "the API answered for another service than requested")
	}
	if dc.Mode == "none" {
		return problems
	}
	data, err := fetch(is.Data)
	if err != nil {
		count(func(c *Checked) { c.Unverifiable++ })
		fmt.Fprintf(dc.Progress, "cannot check %s: data.json: %v\n", is.Number, err)
		return problems
	}
	withPdftotext := dc.Pdftotext > 0 && n%int64(dc.Pdftotext) == 0
	var pdf []byte
	pdfSum := ""
	if dc.Mode == "all" || withPdftotext {
		pdf, err = fetch(is.Document)
		if err != nil {
			count(func(c *Checked) { c.Unverifiable++ })
			fmt.Fprintf(dc.Progress, "cannot check %s: PDF: %v\n", is.Number, err)
			return problems
		}
		sum := sha256.Sum256(pdf)
		pdfSum = hex.EncodeToString(sum[:])
		if is.SHA256 != "" && pdfSum != is.SHA256 {
			problems = append(problems, "the PDF's SHA-256 is not the one the API answered")
		}
	}
	problems = append(problems, CheckData(data, e, pdfSum)...)
	count(func(c *Checked) { c.Data++ })
	if dc.Mode == "all" {
		strs, err := PDFStrings(pdf)
		if err != nil {
			count(func(c *Checked) { c.Unverifiable++ })
			fmt.Fprintf(dc.Progress, "cannot read the text of %s: %v\n", is.Number, err)
		} else {
			problems = append(problems, CheckText(strings.Join(strs, "\n"), e)...)
			count(func(c *Checked) { c.PDFText++ })
		}
	}
	if withPdftotext {
		text, err := Pdftotext(pdf)
		if err != nil {
			count(func(c *Checked) { c.Unverifiable++ })
			fmt.Fprintf(dc.Progress, "pdftotext %s: %v\n", is.Number, err)
		} else {
			for _, p := range CheckText(text, e) {
				problems = append(problems, "pdftotext: "+p)
			}
			count(func(c *Checked) { c.Pdftotext++ })
		}
	}
	return problems
}

func (st *phaseState) download(ctx context.Context, s *session, tok, path string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		st.mu.Lock()
		up := st.upCh
		st.mu.Unlock()
		<-up
		b, err := st.h.c.get(ctx, tok, path)
		var ae *apiError
		if errors.As(err, &ae) && attempt < 20 {
			switch {
			case ae.Status == 0:
				time.Sleep(100 * time.Millisecond)
				continue
			case ae.Status == http.StatusUnauthorized:
				if st.h.relogin(ctx, s, tok) == nil {
					tok = s.getToken()
					continue
				}
			}
		}
		return b, err
	}
}

// Pdftotext extracts a PDF's text with poppler's pdftotext.
func Pdftotext(pdf []byte) (string, error) {
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = strings.NewReader(string(pdf))
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// addRecord adds a document another client (the counter's) received, so
// that the end-of-run checks cover it.
func (h *Harness) addRecord(r record) {
	h.mu.Lock()
	h.records = append(h.records, r)
	h.mu.Unlock()
}

// Records returns a copy of every document clients received so far.
func (h *Harness) Records() []record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.records)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// resolvePending resends, once the phase is over, every key whose request
// went out but whose answer was lost, as a client does after a timeout.
// A document that comes back is recorded and checked like any other, so
// the log check can tell a lost answer from a duplicate.
func (st *phaseState) resolvePending(ctx context.Context) {
	st.mu.Lock()
	todo := st.pending
	st.pending = nil
	st.mu.Unlock()
	if len(todo) == 0 {
		return
	}
	h := st.h
	fmt.Fprintf(h.opt.Progress, "resending %d keys whose answer was lost...\n", len(todo))
	st.unanswered.Keys = int64(len(todo))
	for _, pr := range todo {
		var is issued
		var err error
		for attempt := 0; attempt < 5; attempt++ {
			tok := pr.s.getToken()
			is, err = h.c.issue(ctx, tok, pr.j.service, pr.j.subject, pr.key)
			var ae *apiError
			if !errors.As(err, &ae) {
				break
			}
			if ae.Status == http.StatusUnauthorized {
				h.relogin(ctx, pr.s, tok)
				continue
			}
			if ae.Status != 0 && ae.Status != http.StatusServiceUnavailable {
				break
			}
			time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
		}
		var ae *apiError
		switch {
		case err == nil:
			st.unanswered.Documents++
			want := pr.s.acct.Subject
			if pr.j.subject != "" {
				want = pr.j.subject
			}
			h.mu.Lock()
			h.records = append(h.records, record{Key: pr.key, Login: pr.s.acct.Login, Number: is.Number, SHA256: is.SHA256, LogIndex: is.LogIndex, Service: pr.j.service, Subject: want})
			h.mu.Unlock()
			st.checkDocument(ctx, pr.s, pr.j, is, want, 0)
		case errors.As(err, &ae) && ae.Code == "not_issuable":
			st.unanswered.NotIssuable++
		case errors.As(err, &ae) && ae.Status != 0 && ae.Status != http.StatusServiceUnavailable:
			st.unanswered.Refused++
		default:
			st.unanswered.Unresolved++
		}
	}
}
