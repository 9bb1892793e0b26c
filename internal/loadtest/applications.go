package loadtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/casework"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
	"github.com/minwon/minwon/internal/population"
)

// AppOptions configure the applications mode: citizens submit move-in
// reports and childcare-allowance applications while the registry is
// healthy, down, and healed (and the server is killed with SIGKILL), and
// every submission is checked to have reached a final state exactly once.
type AppOptions struct {
	Server    Server // a Restarter for CrashAfter
	DataDir   string // the demo's data directory: the registry's journal is in DIR/agencies
	Accounts  []Account
	AgencyTLS *tls.Config // an operator's client certificate, for the registry's /_faults
	Clients   int
	// Phase is the length of the healthy and of the healed phase, Outage
	// how long the registry answers 503 in between.
	Phase, Outage time.Duration
	// CrashAfter kills the server with SIGKILL once the registry's journal
	// holds this many writes after healing, and starts it again (0: never).
	CrashAfter   int
	DrainTimeout time.Duration // how long to wait for the queue to drain (default 5 min)
	Sample       int           // movers whose 등본 is issued to check the new address
	Progress     io.Writer
}

// AppResult is what the applications mode measured and found.
type AppResult struct {
	Machine      string         `json:"machine"`
	Command      string         `json:"command,omitempty"`
	Clients      int            `json:"clients"`
	Submitted    int            `json:"submitted"` // answered 202
	PerPhase     map[string]int `json:"submitted_per_phase"`
	Refused      map[string]int `json:"refused"` // not 202, by reason
	SubmitPerSec float64        `json:"submissions_per_second"`
	Statuses     map[string]int `json:"statuses"`
	// Notes holds one note of each final status (per service), for the reader.
	Notes map[string]string `json:"notes"`
	// DrainSeconds is the time from healing the registry to the last
	// submission's final state; CompletionsPerSec the final states reached
	// in that time per second.
	DrainSeconds      float64  `json:"drain_seconds"`
	CompletionsPerSec float64  `json:"completions_per_second"`
	Kills             int      `json:"kills"`
	JournalWrites     int      `json:"journal_writes"`
	CopiesChecked     int      `json:"copies_checked"`
	Problems          []string `json:"problems"`
}

// OK reports whether every check passed.
func (r *AppResult) OK() bool { return len(r.Problems) == 0 && r.Submitted > 0 }

// appSub is one submission the harness made and remembers.
type appSub struct {
	login, key, service, subject, address string
	phase                                 string
	childMonths                           int
	id                                    string
	final                                 *apiwire.Application
}

type appClient struct {
	acct    Account
	mu      sync.Mutex
	token   string
	service string // casework.MoveInReport or casework.ChildcareAllowance
	child   string // the minor child applied for
	// childMonths is the child's age in months at the start, -1 if unknown.
	childMonths int
}

type appRun struct {
	opt       AppOptions
	c         *client
	mu        sync.Mutex
	subs      []*appSub
	refused   map[string]int
	phase     atomic.Value // string
	addrSeq   atomic.Int64
	res       *AppResult
	journal   string
	journal0  int // journal lines before the run
	baseline  map[string]map[string]bool
	clients   []*appClient
	movedInOn string
	births    map[string]time.Time // subject → birth date, from the population the demo's seed regenerates
}

func (r *appRun) progress(format string, a ...any) {
	fmt.Fprintf(r.opt.Progress, format+"\n", a...)
}

// RunApplications runs the applications mode.
func RunApplications(ctx context.Context, opt AppOptions) (*AppResult, error) {
	if opt.Progress == nil {
		opt.Progress = io.Discard
	}
	if opt.DrainTimeout <= 0 {
		opt.DrainTimeout = 5 * time.Minute
	}
	if opt.Clients < 1 || opt.Phase <= 0 || opt.Outage <= 0 {
		return nil, errors.New("applications: clients, phase and outage must be positive")
	}
	if _, ok := opt.Server.(Restarter); opt.CrashAfter > 0 && !ok {
		return nil, errors.New("applications: --crash-after needs a server the harness spawned")
	}
	if opt.Server.Agencies()["registry"] == "" {
		return nil, errors.New("applications: the registry's URL is unknown (use --spawn or --data DIR of a running demo)")
	}
	r := &appRun{
		opt: opt, c: newClient(opt.Server.URL(), opt.Clients+16), refused: map[string]int{},
		journal:   filepath.Join(datadir.Dir(opt.DataDir).Agencies(), "registry-journal.jsonl"),
		baseline:  map[string]map[string]bool{},
		movedInOn: time.Now().Add(-24 * time.Hour).Format("2006-01-02"),
		res:       &AppResult{Machine: DescribeMachine(), Clients: opt.Clients, PerPhase: map[string]int{}, Statuses: map[string]int{}, Notes: map[string]string{}},
	}
	r.journal0 = len(readJournal(r.journal))
	if info, err := demo.ReadInfo(opt.DataDir); err == nil && info.People > 0 {
		w, err := population.Generate(population.Config{People: info.People, Seed: info.Seed})
		if err != nil {
			return nil, err
		}
		r.births = make(map[string]time.Time, len(w.People))
		for _, p := range w.People {
			r.births[p.Subject] = p.BirthDate
		}
	}
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	if err := r.run(ctx); err != nil {
		return nil, err
	}
	r.check(context.WithoutCancel(ctx))
	return r.res, nil
}

// setup logs the clients in and gives each its part: parents of a minor
// child apply for the allowance, one person per household reports moves.
func (r *appRun) setup(ctx context.Context) error {
	households := map[string]bool{} // subjects already taken, with their relations
	for _, a := range r.opt.Accounts {
		if len(r.clients) >= r.opt.Clients {
			break
		}
		if a.Kind != "person" || households[a.Subject] {
			continue
		}
		tok, _, err := r.c.login(ctx, a)
		if err != nil {
			return err
		}
		p, err := r.c.me(ctx, tok)
		if err != nil {
			return fmt.Errorf("applications: /me of %s: %w", a.Login, err)
		}
		taken := false
		for _, rel := range p.Relations {
			taken = taken || households[rel.Subject]
		}
		if taken {
			continue
		}
		// Every other parent applies for their youngest minor child.
		cl := &appClient{acct: a, token: tok, service: casework.MoveInReport, childMonths: -1}
		for _, rel := range p.Relations {
			if rel.Relation != "child" || !rel.Minor || len(r.clients)%2 == 0 {
				continue
			}
			b, known := r.births[rel.Subject]
			if cl.child == "" || known && b.After(r.births[cl.child]) {
				cl.service, cl.child, cl.childMonths = casework.ChildcareAllowance, rel.Subject, -1
				if known {
					cl.childMonths = monthsSince(b, time.Now())
				}
			}
		}
		households[a.Subject] = true
		for _, rel := range p.Relations {
			households[rel.Subject] = true
		}
		r.clients = append(r.clients, cl)
		// What the account had before the run is not the run's.
		list, err := r.list(ctx, cl)
		if err != nil {
			return err
		}
		r.baseline[a.Login] = map[string]bool{}
		for _, x := range list {
			r.baseline[a.Login][x.ID] = true
		}
	}
	if len(r.clients) == 0 {
		return errors.New("applications: no person accounts to log in")
	}
	r.opt.Clients = len(r.clients)
	r.res.Clients = len(r.clients)
	return nil
}

func (r *appRun) list(ctx context.Context, cl *appClient) ([]apiwire.Application, error) {
	data, err := r.authed(ctx, cl, "GET", "/api/v1/applications", nil, nil)
	var out []apiwire.Application
	if err == nil {
		err = json.Unmarshal(data, &out)
	}
	return out, err
}

// authed makes a request as cl, logging in again when the token is
// refused and waiting while the server is down or restarting (up to two
// minutes): transport failures and 5xx are retried with the same body and
// headers, so a submission keeps its Idempotency-Key.
func (r *appRun) authed(ctx context.Context, cl *appClient, method, path string, body any, hdr map[string]string) ([]byte, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		cl.mu.Lock()
		tok := cl.token
		cl.mu.Unlock()
		data, _, err := r.c.do(ctx, method, path, tok, body, hdr)
		var ae *apiError
		if !errors.As(err, &ae) || ctx.Err() != nil || time.Now().After(deadline) {
			return data, err
		}
		switch {
		case ae.Status == 401:
			if tok, _, lerr := r.c.login(ctx, cl.acct); lerr == nil {
				cl.mu.Lock()
				cl.token = tok
				cl.mu.Unlock()
			}
		case ae.Status == 0 || ae.Status >= 500:
			time.Sleep(100 * time.Millisecond)
		default:
			return data, err
		}
	}
}

// run drives the three phases, with the crash in the healed one.
func (r *appRun) run(ctx context.Context) error {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	r.phase.Store("healthy")
	t0 := time.Now()
	for _, cl := range r.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-ctx.Done():
					return
				default:
				}
				if !r.submit(ctx, cl, n) {
					time.Sleep(50 * time.Millisecond) // not on a refusal's heels
				}
			}
		}()
	}
	reg := strings.TrimRight(r.opt.Server.Agencies()["registry"], "/")
	sleep := func(d time.Duration) {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	sleep(r.opt.Phase)
	r.progress("applications: %d submitted while the registry was healthy; registry down for %s", r.count(), r.opt.Outage)
	if err := r.setRegistry(ctx, reg, Faults{Error: 1}); err != nil {
		close(stop)
		wg.Wait()
		return err
	}
	r.phase.Store("registry_down")
	sleep(r.opt.Outage)
	if err := r.setRegistry(ctx, reg, Faults{}); err != nil {
		close(stop)
		wg.Wait()
		return err
	}
	healed := time.Now()
	r.phase.Store("healed")
	r.progress("applications: registry healed after %s; %d submitted so far", r.opt.Outage, r.count())
	crashDone := make(chan error, 1)
	if r.opt.CrashAfter > 0 {
		go func() { crashDone <- r.crashWhenJournalHolds(ctx) }()
	} else {
		crashDone <- nil
	}
	sleep(r.opt.Phase)
	close(stop)
	wg.Wait()
	submitted := time.Since(t0)
	r.res.Submitted = r.count()
	r.res.SubmitPerSec = float64(r.res.Submitted) / submitted.Seconds()
	r.progress("applications: %d submissions in %s (%.1f/s); waiting for the queue to drain", r.res.Submitted, submitted.Round(time.Millisecond), r.res.SubmitPerSec)
	// The kill may come while the backlog drains; if the registry never
	// reaches CrashAfter writes, the watcher gives up when the drain ends.
	err := r.drain(ctx, healed)
	if cerr := <-crashDone; err == nil {
		err = cerr
	}
	return err
}

func (r *appRun) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.subs)
}

// setRegistry switches the registry's faults as an operator.
func (r *appRun) setRegistry(ctx context.Context, reg string, f Faults) error {
	if _, _, err := operatorClient(r.opt.AgencyTLS).do(ctx, "PUT", reg+"/_faults", "", f, nil); err != nil {
		return fmt.Errorf("applications: registry faults: %w", err)
	}
	return nil
}

// submit makes one submission as cl with a fresh Idempotency-Key, and
// resends it with the same key until it is answered; false if it was not
// accepted.
func (r *appRun) submit(ctx context.Context, cl *appClient, n int) bool {
	sub := &appSub{login: cl.acct.Login, key: fmt.Sprintf("apps-%s-%d-%d", cl.acct.Login, time.Now().UnixNano(), n), service: cl.service}
	req := apiwire.ApplicationRequest{Service: cl.service}
	if cl.service == casework.MoveInReport {
		sub.subject = cl.acct.Subject
		sub.address = fmt.Sprintf("서울특별시 관악구 행운로 %d", r.addrSeq.Add(1))
		req.Payload, _ = json.Marshal(map[string]string{"new_address": sub.address, "moved_in": r.movedInOn})
	} else {
		sub.subject, req.Subject = cl.child, cl.child
		req.Payload = json.RawMessage(`{"bank":"국민은행","account_number":"123456-01-234567"}`)
	}
	sub.childMonths = cl.childMonths
	sub.phase = r.phase.Load().(string)
	data, err := r.authed(ctx, cl, "POST", "/api/v1/applications", req, map[string]string{"Idempotency-Key": sub.key})
	r.mu.Lock()
	defer r.mu.Unlock()
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		r.refused[ae.reason()]++
		if ae.Status == 0 || ae.Status >= 500 {
			r.res.Problems = append(r.res.Problems, fmt.Sprintf("submission %s never answered: %v", sub.key, err))
		}
		return false
	case err != nil:
		r.res.Problems = append(r.res.Problems, fmt.Sprintf("submission %s: %v", sub.key, err))
		return false
	}
	var acc apiwire.ApplicationAccepted
	if json.Unmarshal(data, &acc) != nil || acc.ID == "" {
		r.res.Problems = append(r.res.Problems, fmt.Sprintf("submission %s: 202 without an id", sub.key))
		return false
	}
	sub.id = acc.ID
	r.subs = append(r.subs, sub)
	r.res.PerPhase[sub.phase]++
	return true
}

// crashWhenJournalHolds kills the server with SIGKILL once the registry
// has applied CrashAfter writes since the run began, and starts it again.
func (r *appRun) crashWhenJournalHolds(ctx context.Context) error {
	srv := r.opt.Server.(Restarter)
	var lc lineCounter
	for lc.count(r.journal)-r.journal0 < r.opt.CrashAfter {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if r.phase.Load() == "drained" {
			r.mu.Lock()
			r.res.Problems = append(r.res.Problems, fmt.Sprintf("the registry never reached %d writes: no kill -9 (lower --crash-after)", r.opt.CrashAfter))
			r.mu.Unlock()
			return nil
		}
	}
	if err := srv.Kill(); err != nil {
		return fmt.Errorf("applications: kill: %w", err)
	}
	killed := time.Now()
	r.progress("applications: server killed with SIGKILL with %d writes in the registry's journal; restarting", len(readJournal(r.journal))-r.journal0)
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("applications: restart: %w", err)
	}
	r.mu.Lock()
	r.res.Kills++
	r.mu.Unlock()
	r.progress("applications: server back after %s (pid %d)", time.Since(killed).Round(time.Millisecond), srv.PID())
	return nil
}

// lineCounter counts the lines of a growing file, reading only what was
// added since the last call.
type lineCounter struct {
	off   int64
	lines int
}

func (c *lineCounter) count(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return c.lines
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := f.ReadAt(buf, c.off)
		for _, b := range buf[:n] {
			c.off++
			if b == '\n' {
				c.lines++
			}
		}
		if err != nil || n == 0 {
			return c.lines
		}
	}
}

// finalStatus: a submission in one of these has left the queue.
var finalStatus = map[string]bool{"completed": true, "failed": true, "rejected": true, "approved": true, "in_review": true}

// drain reads the submissions (GET /api/v1/applications/{id}) until every
// one is final or the drain times out. A round reads at most 256 pending
// ones, going on where the last round stopped, so that polling a large
// backlog does not take the machine from the queue it measures, whatever
// order the queue completes them in.
func (r *appRun) drain(ctx context.Context, healed time.Time) error {
	byLogin := map[string]*appClient{}
	for _, cl := range r.clients {
		byLogin[cl.acct.Login] = cl
	}
	deadline := time.Now().Add(r.opt.DrainTimeout)
	cursor := 0
	for len(r.subs) > 0 {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for read, seen := 0, 0; read < 256 && seen < len(r.subs); seen++ {
			s := r.subs[cursor]
			cursor = (cursor + 1) % len(r.subs)
			if s.final != nil {
				continue
			}
			read++
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				data, err := r.authed(ctx, byLogin[s.login], "GET", "/api/v1/applications/"+s.id, nil, nil)
				var a apiwire.Application
				if err == nil && json.Unmarshal(data, &a) == nil && finalStatus[a.Status] {
					s.final = &a
				}
			}()
		}
		wg.Wait()
		done := 0
		for _, s := range r.subs {
			if s.final != nil {
				done++
			}
		}
		if done == len(r.subs) {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.res.Problems = append(r.res.Problems, fmt.Sprintf("%d of %d submissions not final after the drain timeout %s", len(r.subs)-done, len(r.subs), r.opt.DrainTimeout))
			break
		}
		r.progress("applications: %d of %d final", done, len(r.subs))
		time.Sleep(250 * time.Millisecond)
	}
	r.phase.Store("drained")
	// The drain ends at the last final state the server recorded.
	var last time.Time
	after := 0
	for _, s := range r.subs {
		if s.final == nil {
			continue
		}
		if at, ok := finalAt(s.final); ok {
			if at.After(last) {
				last = at
			}
			if at.After(healed) {
				after++
			}
		}
	}
	if d := last.Sub(healed); d > 0 {
		r.res.DrainSeconds = d.Seconds()
		r.res.CompletionsPerSec = float64(after) / d.Seconds()
	}
	return nil
}

// finalAt is when a submission reached its final state.
func finalAt(a *apiwire.Application) (time.Time, bool) {
	for _, h := range a.History {
		if finalStatus[h.Status] {
			t, err := time.Parse(time.RFC3339Nano, h.At)
			return t, err == nil
		}
	}
	return time.Time{}, false
}

// journalLine is what the harness reads of a line of the registry's journal.
type journalLine struct {
	Request struct {
		RequestID string          `json:"request_id"`
		Subject   string          `json:"subject"`
		Payload   json.RawMessage `json:"payload"`
	} `json:"request"`
	Body []byte `json:"body"`
}

// readJournal reads the registry's journal; a line cut by a crash ends it.
func readJournal(path string) []journalLine {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []journalLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l journalLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			break
		}
		out = append(out, l)
	}
	return out
}

// check makes the end-of-run checks: every submission final exactly once
// and as its service ends, none lost or duplicated, one registry write per
// move-in report, and the movers' 등본 at their last new address.
func (r *appRun) check(ctx context.Context) {
	res := r.res
	problem := func(format string, a ...any) { res.Problems = append(res.Problems, fmt.Sprintf(format, a...)) }
	res.Refused = r.refused
	ids := map[string]*appSub{}
	for _, s := range r.subs {
		if prev := ids[s.id]; prev != nil {
			problem("keys %s and %s got the same application %s", prev.key, s.key, s.id)
		}
		ids[s.id] = s
		if s.final == nil {
			res.Statuses["not_final"]++
			continue
		}
		res.Statuses[s.final.Status]++
		res.Notes[s.service+" "+s.final.Status] = lastNote(s.final)
		finals := 0
		for _, h := range s.final.History {
			if finalStatus[h.Status] {
				finals++
			}
		}
		if finals != 1 {
			problem("%s (%s) reached a final state %d times", s.id, s.service, finals)
		}
		want := map[string]bool{"completed": true}
		if s.service == casework.ChildcareAllowance {
			// Under the limit to review, over it rejected; a child
			// about the limit's age may be either.
			want = map[string]bool{"in_review": s.childMonths < casework.ChildcareMaxMonths+1, "rejected": s.childMonths < 0 || s.childMonths >= casework.ChildcareMaxMonths-1}
		}
		if !want[s.final.Status] {
			problem("%s (%s) ended %s: %s", s.id, s.service, s.final.Status, lastNote(s.final))
		}
	}
	// None made twice: each account lists nothing it was not answered
	// with (the list holds an account's newest 200; older duplicates of a
	// report would show in the registry's journal below).
	for _, cl := range r.clients {
		list, err := r.list(ctx, cl)
		if err != nil {
			problem("list of %s: %v", cl.acct.Login, err)
			continue
		}
		for _, a := range list {
			if !r.baseline[cl.acct.Login][a.ID] && ids[a.ID] == nil {
				problem("%s holds application %s no submission was answered with (a duplicate)", cl.acct.Login, a.ID)
			}
		}
	}
	// The registry: exactly one write per move-in report.
	lines := readJournal(r.journal)
	if r.journal0 <= len(lines) {
		lines = lines[r.journal0:]
	}
	res.JournalWrites = len(lines)
	var reports []string
	for _, s := range r.subs {
		if s.service == casework.MoveInReport {
			reports = append(reports, s.id)
		}
	}
	jp, lastAddr := checkJournal(lines, reports)
	res.Problems = append(res.Problems, jp...)
	// The 등본 of a sample of movers shows their last new address.
	var movers []*appClient
	for _, cl := range r.clients {
		if cl.service == casework.MoveInReport && lastAddr[cl.acct.Subject] != "" {
			movers = append(movers, cl)
		}
	}
	sort.Slice(movers, func(i, j int) bool { return movers[i].acct.Login < movers[j].acct.Login })
	for i, cl := range movers {
		if i >= r.opt.Sample {
			break
		}
		addr := lastAddr[cl.acct.Subject]
		data, err := r.authed(ctx, cl, "POST", "/api/v1/issuances", apiwire.IssuanceRequest{Service: "resident-registration-copy"},
			map[string]string{"Idempotency-Key": fmt.Sprintf("apps-copy-%s-%d", cl.acct.Login, time.Now().UnixNano())})
		var is issued
		if err == nil {
			err = json.Unmarshal(data, &is)
		}
		if err == nil {
			data, err = r.authed(ctx, cl, "GET", is.Data, nil, nil)
		}
		if err != nil {
			problem("등본 of %s: %v", cl.acct.Login, err)
			continue
		}
		res.CopiesChecked++
		if !strings.Contains(string(data), addr) {
			problem("등본 %s of %s does not show the new address %q", is.Number, cl.acct.Login, addr)
		}
	}
	if len(res.Problems) > 50 {
		res.Problems = append(res.Problems[:50], fmt.Sprintf("... and %d more", len(res.Problems)-50))
	}
}

// monthsSince is the age in whole months on day now of someone born on b.
func monthsSince(b, now time.Time) int {
	m := (now.Year()-b.Year())*12 + int(now.Month()-b.Month())
	if now.Day() < b.Day() {
		m--
	}
	return m
}

// checkJournal checks the registry's journal against the move-in reports
// that were accepted (their application ids): exactly one write each and
// none that no report made. It returns the problems and each subject's
// address of its last write.
func checkJournal(lines []journalLine, reports []string) (problems []string, lastAddr map[string]string) {
	byReq := map[string]int{}
	lastAddr = map[string]string{}
	for _, l := range lines {
		byReq[l.Request.RequestID]++
		var p struct {
			NewAddress string `json:"new_address"`
		}
		if json.Unmarshal(l.Request.Payload, &p) == nil {
			lastAddr[l.Request.Subject] = p.NewAddress
		}
	}
	want := map[string]bool{}
	for _, id := range reports {
		rid := casework.RequestID(id)
		want[rid] = true
		if n := byReq[rid]; n != 1 {
			problems = append(problems, fmt.Sprintf("move-in report %s: %d writes in the registry's journal", id, n))
		}
	}
	for rid, n := range byReq {
		if !want[rid] {
			problems = append(problems, fmt.Sprintf("the registry's journal holds %d writes of request %s no submission made", n, rid))
		}
	}
	return problems, lastAddr
}

func lastNote(a *apiwire.Application) string {
	if len(a.History) == 0 {
		return ""
	}
	return a.History[len(a.History)-1].Note
}

// PrintApplications prints the applications mode's figures and findings.
func PrintApplications(w io.Writer, r *AppResult) {
	fmt.Fprintf(w, "applications: %d clients, %d submissions answered 202 (%v), %.1f submissions/s\n", r.Clients, r.Submitted, r.PerPhase, r.SubmitPerSec)
	if len(r.Refused) > 0 {
		fmt.Fprintf(w, "  refused: %v\n", r.Refused)
	}
	fmt.Fprintf(w, "  final states: %v\n", r.Statuses)
	for k, n := range r.Notes {
		fmt.Fprintf(w, "    %s, e.g.: %s\n", k, n)
	}
	fmt.Fprintf(w, "  drained %.2f s after healing the registry, %.1f completions/s; kill -9: %d\n", r.DrainSeconds, r.CompletionsPerSec, r.Kills)
	fmt.Fprintf(w, "  registry journal: %d writes; 등본 checked: %d\n", r.JournalWrites, r.CopiesChecked)
	if r.OK() {
		fmt.Fprintln(w, "  every submission reached a final state exactly once; none lost, none duplicated; one registry write per report")
		return
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  PROBLEM: %s\n", p)
	}
}
