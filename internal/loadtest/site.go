package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/minwon/minwon/internal/config"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/pgpair"
	"github.com/minwon/minwon/internal/population"
)

// SiteOptions configure the alternate-site drill.
type SiteOptions struct {
	Minwon string   // the minwon executable
	Env    []string // added to its environment (tests run themselves as minwon)
	People int      // population of the agencies; default 2000
	Seed   int64    // default 1
	// Logins is the accounts the clients log in; default 1000. The nodes
	// run with the production bulk-access limits (40 issuances a minute
	// per account block it), so the load must be spread as citizens'
	// is: about Concurrency×rate/20 accounts or more.
	Logins int
	// Concurrency is the clients issuing at once; default 32.
	Concurrency int
	// KillAfter: site A is lost once clients hold this many documents;
	// default 500.
	KillAfter int64
	// Duration is the whole load, before and after the loss; default 60s.
	Duration time.Duration
	Check    string // per document, as Options.Check; default "data"
	// VerifyCLI: documents (half from each site) downloaded and checked
	// with `minwon verify FILE.pdf --log URL`; default 10.
	VerifyCLI         int
	SynchronousCommit string // "on" (default) or "remote_apply"
	PrimaryPort       int    // 0: any free port
	StandbyPort       int    // 0: any free port
	Keep              bool   // keep the data directory (the clusters are always removed)
	// UnsafeAsynchronous replicates asynchronously and cuts the link
	// between the sites before the load, so that site B misses all site
	// A issued: never how minwon runs, only to show the checks fail then.
	UnsafeAsynchronous bool
	Progress           io.Writer
}

// SiteResult is what the drill measured and checked.
type SiteResult struct {
	Command string `json:"command,omitempty"`
	Machine string `json:"machine"`
	// Seconds from the kill of site A to: site B's database accepting
	// writes, site B's node ready, the first document a client received
	// from site B (the time to resume).
	PromotedSeconds float64 `json:"promoted_seconds"`
	NodeReadySec    float64 `json:"node_ready_seconds"`
	ResumeSeconds   float64 `json:"resume_seconds"`
	DocsBefore      int     `json:"documents_before"` // received before the kill (from site A)
	DocsAfter       int     `json:"documents_after"`  // received after it (from site B)
	RateBefore      float64 `json:"docs_per_sec_before"`
	RateAfter       float64 `json:"docs_per_sec_after"`
	// CPU of the site's minwon node per document received, from the start
	// of the load (A) or its readiness (B) to the kill (A) or the end of
	// the load (B); the agencies and PostgreSQL run in other processes.
	CPUmsBefore float64 `json:"node_cpu_ms_per_doc_before"`
	CPUmsAfter  float64 `json:"node_cpu_ms_per_doc_after"`
	// Lost: numbers a client received a 201 for that site B does not have
	// at their log index or does not verify as valid.
	Lost int64 `json:"lost"`
	// Reused: numbers handed out twice, or one key answered with two numbers.
	Reused int64 `json:"reused"`
	// LogSizeAtPromotion is site B's log when its node first started;
	// LastSizeSeenOnA the largest checkpoint a client saw from site A.
	LogSizeAtPromotion int64 `json:"log_size_at_promotion"`
	LastSizeSeenOnA    int64 `json:"last_size_seen_on_a"`
	MaxIndexBefore     int64 `json:"max_index_before"` // the largest log index a client was told before the kill
	// Checkpoints seen from site A during the load, each proven a prefix
	// of site B's final tree by a consistency proof.
	CheckpointsSeen   int          `json:"checkpoints_seen_on_a"`
	ConsistencyProofs int          `json:"consistency_proofs_ok"`
	VerifyCLIChecked  int          `json:"verify_cli_checked"`
	VerifyCLIValid    int          `json:"verify_cli_valid"`
	Problems          []string     `json:"problems"`
	Phase             *Result      `json:"phase"`
	Final             *FinalResult `json:"final"`
}

// OK reports whether the drill passed every check.
func (r *SiteResult) OK() bool {
	s := Summary{Phases: []*Result{r.Phase}, Final: r.Final}
	return len(r.Problems) == 0 && s.OK()
}

// Print writes the drill's figures.
func (r *SiteResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\n== alternate-site drill\n")
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	fmt.Fprintf(w, "kill -> site B database writable: %.2fs; -> site B node ready: %.2fs; -> first document from site B (time to resume): %.2fs\n",
		r.PromotedSeconds, r.NodeReadySec, r.ResumeSeconds)
	fmt.Fprintf(w, "documents before: %d (%.0f/s on site A, node CPU %.2f ms/doc); after: %d (%.0f/s on site B, node CPU %.2f ms/doc)\n",
		r.DocsBefore, r.RateBefore, r.CPUmsBefore, r.DocsAfter, r.RateAfter, r.CPUmsAfter)
	fmt.Fprintf(w, "log: largest index a client held before the kill %d, largest checkpoint seen on A %d, B's log at promotion %d, B's log at the end %d\n",
		r.MaxIndexBefore, r.LastSizeSeenOnA, r.LogSizeAtPromotion, r.Final.Log.Size)
	fmt.Fprintf(w, "checkpoints seen on site A: %d, each proven a prefix of site B's tree: %d\n", r.CheckpointsSeen, r.ConsistencyProofs)
	fmt.Fprintf(w, "minwon verify on site B's log: %d of %d valid\n", r.VerifyCLIValid, r.VerifyCLIChecked)
	fmt.Fprintf(w, "lost = %d, reused = %d\n", r.Lost, r.Reused)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "PROBLEM: %s\n", p)
	}
	if r.OK() {
		fmt.Fprintln(w, "alternate-site drill: PASSED")
	} else {
		fmt.Fprintln(w, "alternate-site drill: FAILED")
	}
}

// RunSiteDrill runs the alternate-site drill: two PostgreSQL clusters on
// this machine (site A primary, site B its synchronous standby), the
// simulated agencies, and one `minwon serve` node on site A behind a
// switch that stands for the public address. Under load it kills site A's
// node with SIGKILL and stops A's cluster immediately, promotes B, starts
// B's node (sharing A's keys and log origin) and points the switch at it.
// Then it checks that every number a client received is on B and
// verifies, that none was handed out twice, that B's log extends every
// checkpoint a client saw on A, and that documents verify with
// `minwon verify`. Everything it started is stopped and removed at the
// end, also on failure.
func RunSiteDrill(ctx context.Context, opt SiteOptions) (res *SiteResult, err error) {
	opt = opt.withDefaults()
	out := opt.Progress
	pair, err := pgpair.Start(ctx, pgpair.Options{PrimaryPort: opt.PrimaryPort, StandbyPort: opt.StandbyPort, SynchronousCommit: opt.SynchronousCommit, Asynchronous: opt.UnsafeAsynchronous, Log: out})
	if err != nil {
		return nil, err
	}
	defer pair.Close()
	if err := pair.CreateDatabase(ctx, "minwon"); err != nil {
		return nil, err
	}
	data, err := os.MkdirTemp("", "minwon-drill-")
	if err != nil {
		return nil, err
	}
	if opt.Keep {
		fmt.Fprintf(out, "data directory (kept): %s\n", data)
	} else {
		defer os.RemoveAll(data)
	}
	dir := datadir.Dir(data)

	sw, err := newSwitch()
	if err != nil {
		return nil, err
	}
	defer sw.Close()
	free, err := freeAddrs(2)
	if err != nil {
		return nil, err
	}
	addrA, addrB := free[0], free[1]

	// The agencies are outside both sites (other ministries' systems):
	// they outlive site A.
	agencies := &process{name: "agencies", cmd: opt.command("agencies", "--data", data, "--people", fmt.Sprint(opt.People), "--seed", fmt.Sprint(opt.Seed),
		"--postgres", pair.DSN(false, "minwon"), "--addr-base", "127.0.0.1:0", "--listen", addrA,
		"--counter-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"), log: filepath.Join(data, "agencies.log")}
	fmt.Fprintf(out, "starting the simulated agencies and seeding %d people into site A...\n", opt.People)
	if err := agencies.start(); err != nil {
		return nil, err
	}
	defer agencies.stop()
	var cfg *config.Config
	if err := agencies.waitFor(ctx, 5*time.Minute, func() bool {
		var err error
		cfg, err = config.Load(dir.ServeConfig())
		return err == nil
	}); err != nil {
		return nil, err
	}
	nodes := [2]*process{}
	for i, site := range []struct {
		name, addr string
		standby    bool
	}{{"site-a", addrA, false}, {"site-b", addrB, true}} {
		c := *cfg
		c.Database = config.Database{Postgres: pair.DSN(site.standby, "minwon"), MaxConns: 8}
		c.Listen = site.addr
		// Both sites answer under one public address, the switch's.
		c.PublicURL = sw.URL()
		raw, err := json.MarshalIndent(&c, "", "  ")
		if err != nil {
			return nil, err
		}
		path := filepath.Join(data, site.name+".json")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return nil, err
		}
		nodes[i] = &process{name: site.name, cmd: opt.command("serve", "--config", path, "--node", site.name), log: filepath.Join(data, site.name+".log"), ready: "http://" + site.addr + readyPath}
		defer nodes[i].stop()
	}
	s := &alternateSite{pair: pair, sw: sw, a: nodes[0], b: nodes[1], out: out}
	fmt.Fprintf(out, "starting site A's node on %s (site B's node starts at promotion, on %s)...\n", addrA, addrB)
	if err := s.a.start(); err != nil {
		return nil, err
	}
	if err := s.a.waitReady(ctx); err != nil {
		return nil, err
	}
	sw.Switch(addrA)

	accts, err := ReadAccounts(dir.Accounts())
	if err != nil {
		return nil, err
	}
	world, err := population.Generate(population.Config{People: opt.People, Seed: opt.Seed})
	if err != nil {
		return nil, err
	}
	h, err := New(ctx, Options{Accounts: accts, Subjects: Subjects(accts, world), Logins: opt.Logins, Check: opt.Check, Progress: out, Server: s})
	if err != nil {
		return nil, err
	}
	if opt.UnsafeAsynchronous {
		if err := pair.CutStandby(ctx); err != nil {
			return nil, err
		}
	}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go s.sampleCheckpoints(sampleCtx, "http://"+addrA)
	s.cpuA0, _ = cpuTime(s.a.pid())
	started := time.Now()
	phase, err := h.Run(ctx, Phase{Concurrency: opt.Concurrency, Duration: opt.Duration, CrashAfter: opt.KillAfter, Crashes: 1})
	ended := started.Add(opt.Duration)
	if err != nil {
		return nil, err
	}
	s.cpuB1, _ = cpuTime(s.b.pid()) // before the final checks ask B to verify everything
	if phase.Crash == nil || phase.Crash.Kills != 1 {
		return nil, fmt.Errorf("drill: site A was not lost: only %d documents within %s (KillAfter %d)", phase.Documents, opt.Duration, opt.KillAfter)
	}
	res = &SiteResult{Machine: DescribeMachine(), Phase: phase, Problems: []string{}}
	verifier, _ := h.resolveVerifier(ctx, data)
	if verifier == nil {
		return nil, errors.New("drill: no log key in the data directory")
	}
	fopt := FinalOptions{Verify: "all", Log: true, DataDir: data, LogVerifier: verifier}
	if res.Final, err = h.Final(ctx, fopt); err != nil {
		return nil, err
	}
	s.judge(ctx, h, res, fopt, started, ended)
	s.verifyWithCLI(ctx, h, res, opt)
	return res, nil
}

func (o SiteOptions) withDefaults() SiteOptions {
	if o.People <= 0 {
		o.People = 2000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Logins <= 0 {
		o.Logins = 1000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.KillAfter <= 0 {
		o.KillAfter = 500
	}
	if o.Duration <= 0 {
		o.Duration = 60 * time.Second
	}
	if o.Check == "" {
		o.Check = "data"
	}
	if o.VerifyCLI == 0 {
		o.VerifyCLI = 10
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

func (o SiteOptions) command(args ...string) *exec.Cmd {
	cmd := exec.Command(o.Minwon, args...)
	cmd.Env = append(os.Environ(), o.Env...)
	return cmd
}

// alternateSite is the server the harness talks to: the switch, in front
// of site A's node and, after the loss, site B's. The harness's crash mode
// calls Kill (site A is lost) and Start (fail over to site B).
type alternateSite struct {
	pair *pgpair.Pair
	sw   *switchProxy
	a, b *process
	out  io.Writer

	mu                  sync.Mutex
	lost                bool
	sizeAtPromotion     int64    // site B's log when its node first answered
	seen                [][]byte // distinct checkpoints clients read on site A
	killed              time.Time
	promoted, nodeReady time.Time
	// each node's CPU time where its share of the load began and ended
	cpuA0, cpuA1, cpuB0, cpuB1 time.Duration
}

func (s *alternateSite) URL() string                 { return s.sw.URL() }
func (s *alternateSite) Agencies() map[string]string { return nil }

func (s *alternateSite) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost {
		return s.b.pid()
	}
	return s.a.pid()
}

// sampleCheckpoints reads site A's checkpoint as a monitor (or a citizen
// checking a proof) would, until site A is lost.
func (s *alternateSite) sampleCheckpoints(ctx context.Context, base string) {
	c := &http.Client{Timeout: time.Second}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		s.readCheckpoint(c, base)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *alternateSite) readCheckpoint(c *http.Client, base string) {
	resp, err := c.Get(base + "/log/checkpoint")
	if err != nil {
		return
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil || resp.StatusCode != http.StatusOK {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost {
		return
	}
	if n := len(s.seen); n == 0 || !bytes.Equal(s.seen[n-1], raw) {
		s.seen = append(s.seen, raw)
	}
}

// Kill loses site A: its node dies with SIGKILL and its cluster stops
// without a shutdown; the switch turns to site B, which does not answer
// yet.
func (s *alternateSite) Kill() error {
	s.readCheckpoint(&http.Client{Timeout: time.Second}, "http://"+s.a.addr())
	s.mu.Lock()
	s.lost, s.killed = true, time.Now()
	s.mu.Unlock()
	s.cpuA1, _ = cpuTime(s.a.pid())
	fmt.Fprintf(s.out, "SITE A LOST: kill -9 its node (pid %d), stop its database immediately\n", s.a.pid())
	if err := s.a.kill(); err != nil {
		return err
	}
	if err := s.pair.LosePrimary(context.Background()); err != nil {
		return err
	}
	s.sw.Switch(s.b.addr())
	return nil
}

// Start fails over: promote site B's database, start site B's node.
func (s *alternateSite) Start(ctx context.Context) error {
	if err := s.pair.Promote(ctx); err != nil {
		return err
	}
	promoted := time.Now()
	if err := s.b.start(); err != nil {
		return err
	}
	if err := s.b.waitReady(ctx); err != nil {
		return err
	}
	ready := time.Now()
	cpu, _ := cpuTime(s.b.pid())
	size, err := logSize(ctx, "http://"+s.b.addr())
	if err != nil {
		return fmt.Errorf("site B's checkpoint: %w", err)
	}
	s.mu.Lock()
	s.promoted, s.nodeReady, s.sizeAtPromotion, s.cpuB0 = promoted, ready, size, cpu
	s.mu.Unlock()
	fmt.Fprintf(s.out, "SITE B UP: database promoted %s after the kill, node ready after %s\n",
		promoted.Sub(s.killed).Round(time.Millisecond), s.nodeReady.Sub(s.killed).Round(time.Millisecond))
	return nil
}

// judge fills in the figures and the checks that need both sites' view.
func (s *alternateSite) judge(ctx context.Context, h *Harness, res *SiteResult, fopt FinalOptions, started, ended time.Time) {
	s.mu.Lock()
	killed, promoted, ready, seen := s.killed, s.promoted, s.nodeReady, s.seen
	s.mu.Unlock()
	problem := func(format string, args ...any) { res.Problems = append(res.Problems, fmt.Sprintf(format, args...)) }
	res.PromotedSeconds = promoted.Sub(killed).Seconds()
	res.NodeReadySec = ready.Sub(killed).Seconds()
	res.MaxIndexBefore = -1
	var resumed time.Time
	for _, r := range h.Records() {
		switch {
		case r.At.Before(killed), r.At.Before(ready) && !r.At.IsZero():
			// Before site B's node was ready every answer came from site
			// A: one that arrived just after the kill was sent by A's
			// node before it died.
			res.DocsBefore++
			res.MaxIndexBefore = max(res.MaxIndexBefore, r.LogIndex)
		case r.At.IsZero():
			// resent after the phase: neither before nor after
		default:
			res.DocsAfter++
			if resumed.IsZero() || r.At.Before(resumed) {
				resumed = r.At
			}
		}
	}
	if resumed.IsZero() {
		problem("no client received a document from site B")
	} else {
		res.ResumeSeconds = resumed.Sub(killed).Seconds()
		res.RateAfter = float64(res.DocsAfter) / ended.Sub(resumed).Seconds()
	}
	res.RateBefore = float64(res.DocsBefore) / killed.Sub(started).Seconds()
	if res.DocsBefore > 0 {
		res.CPUmsBefore = msf(s.cpuA1-s.cpuA0) / float64(res.DocsBefore)
	}
	if s.cpuB1 > 0 && res.DocsAfter > 0 {
		res.CPUmsAfter = msf(s.cpuB1-s.cpuB0) / float64(res.DocsAfter)
	}

	f := res.Final
	res.Reused = int64(len(f.DuplicateKeys) + len(f.DuplicateNums))
	for _, p := range f.Log.Problems {
		if strings.Contains(p, "issued twice") || strings.Contains(p, "a client was told") {
			res.Reused++
		}
	}
	// Every received number is verified on B: not valid there (unknown,
	// or at another index than its client was told) is lost. The log
	// check's Missing counts the same numbers again from the tiles' side.
	res.Lost = f.Verify.Checked - f.Verify.Valid
	if !f.Log.Checked || f.Verify.Checked != int64(f.Documents) {
		problem("site B's log or verification could not be checked (%s %s)", f.Log.Note, f.Verify.Note)
	}

	// Every checkpoint a client saw on site A is a prefix of site B's tree.
	raw, err := h.c.get(ctx, "", "/log/checkpoint")
	if err != nil {
		problem("site B's checkpoint: %v", err)
		return
	}
	end, _, err := openCheckpoint(raw, fopt)
	if err != nil {
		problem("site B's checkpoint: %v", err)
		return
	}
	thr := tlog.TileHashReader(tlog.Tree{N: end.Size, Hash: end.Root}, &tileReader{h: h})
	res.CheckpointsSeen = len(seen)
	for _, r := range seen {
		cp, _, err := openCheckpoint(r, fopt)
		if err != nil {
			problem("a checkpoint seen on site A: %v", err)
			continue
		}
		res.LastSizeSeenOnA = max(res.LastSizeSeenOnA, cp.Size)
		if cp.Size == 0 {
			res.ConsistencyProofs++ // the empty tree is a prefix of every tree
			continue
		}
		proof, err := tlog.ProveTree(end.Size, cp.Size, thr)
		if err == nil {
			err = tlog.CheckTree(proof, end.Size, end.Root, cp.Size, cp.Root)
		}
		if err != nil {
			problem("site B's tree of %d does not extend site A's checkpoint of %d: %v", end.Size, cp.Size, err)
			continue
		}
		res.ConsistencyProofs++
	}
	if res.CheckpointsSeen == 0 {
		problem("no checkpoint was read on site A")
	}
	// B's log when its node started holds everything a client was told
	// and every checkpoint a client saw, so B's own entries come after.
	s.mu.Lock()
	res.LogSizeAtPromotion = s.sizeAtPromotion
	s.mu.Unlock()
	if res.LogSizeAtPromotion <= res.MaxIndexBefore || res.LogSizeAtPromotion < res.LastSizeSeenOnA {
		problem("site B's log at promotion (%d entries) lacks entries clients held from site A (index %d, checkpoint %d)",
			res.LogSizeAtPromotion, res.MaxIndexBefore, res.LastSizeSeenOnA)
	}
}

// logSize is the size in the checkpoint a node serves (its second line).
func logSize(ctx context.Context, base string) (int64, error) {
	raw, err := newClient(base, 1).get(ctx, "", "/log/checkpoint")
	if err != nil {
		return 0, err
	}
	lines := strings.SplitN(string(raw), "\n", 3)
	if len(lines) < 3 {
		return 0, errors.New("not a checkpoint")
	}
	return strconv.ParseInt(lines[1], 10, 64)
}

// verifyWithCLI downloads documents from site B, half issued on each site,
// and checks each with `minwon verify FILE.pdf --log URL` as a bank would.
func (s *alternateSite) verifyWithCLI(ctx context.Context, h *Harness, res *SiteResult, opt SiteOptions) {
	sess := map[string]*session{}
	for _, se := range h.sessions {
		sess[se.acct.Login] = se
	}
	var before, after []record
	for _, r := range h.Records() {
		if r.At.Before(s.killed) {
			before = append(before, r)
		} else if !r.At.IsZero() {
			after = append(after, r)
		}
	}
	pick := func(rs []record, n int) []record {
		if len(rs) <= n {
			return rs
		}
		out := make([]record, 0, n)
		for i := range n {
			out = append(out, rs[i*len(rs)/n])
		}
		return out
	}
	half := opt.VerifyCLI / 2
	dir, err := os.MkdirTemp("", "minwon-drill-verify-")
	if err != nil {
		res.Problems = append(res.Problems, "verify: "+err.Error())
		return
	}
	defer os.RemoveAll(dir)
	for _, r := range append(pick(before, half), pick(after, opt.VerifyCLI-half)...) {
		res.VerifyCLIChecked++
		se := sess[r.Login]
		pdf, err := h.c.get(ctx, se.getToken(), "/api/v1/issuances/"+r.Number+"/document.pdf")
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("download %s from site B: %v", r.Number, err))
			continue
		}
		path := filepath.Join(dir, r.Number+".pdf")
		if err := os.WriteFile(path, pdf, 0o600); err != nil {
			res.Problems = append(res.Problems, err.Error())
			continue
		}
		out, err := opt.command("verify", path, "--log", s.sw.URL()).CombinedOutput()
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("minwon verify %s: %v: %s", r.Number, err, strings.TrimSpace(string(out))))
			continue
		}
		res.VerifyCLIValid++
	}
}

// readyPath answers 200 once a node serves the API (as in Spawned.Start).
const readyPath = "/api/v1/services"

// process is one child: minwon's agencies or a site's node.
type process struct {
	name  string
	cmd   *exec.Cmd
	log   string
	ready string // URL that answers 200 once it serves; "" if none

	mu     sync.Mutex
	exited chan struct{}
	err    error
}

func (p *process) addr() string {
	return strings.TrimSuffix(strings.TrimPrefix(p.ready, "http://"), readyPath)
}

func (p *process) start() error {
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	p.cmd.Stdout, p.cmd.Stderr = f, f
	// Its own process group: a Ctrl-C reaches the drill, which then stops
	// its children itself.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	p.exited = make(chan struct{})
	go func() {
		err := p.cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.exited)
	}()
	return nil
}

func (p *process) pid() int {
	if p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// waitFor polls ok until it holds, the process exits or timeout passes.
func (p *process) waitFor(ctx context.Context, timeout time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ok() {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited (%v): %s", p.name, p.err, tail(p.log))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %s: %s", p.name, timeout, tail(p.log))
		}
	}
	return nil
}

func (p *process) waitReady(ctx context.Context) error {
	c := &http.Client{Timeout: time.Second}
	return p.waitFor(ctx, 2*time.Minute, func() bool {
		resp, err := c.Get(p.ready)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// kill sends SIGKILL and waits until the process is gone.
func (p *process) kill() error {
	if p.exited == nil {
		return fmt.Errorf("%s is not running", p.name)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) did not die", p.name, p.pid())
	}
}

// stop ends the process (SIGTERM, then SIGKILL), if it runs.
func (p *process) stop() {
	if p.exited == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

// tail is the end of a log file, for an error message.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// freeAddrs are n distinct loopback addresses nothing listens on right now.
func freeAddrs(n int) ([]string, error) {
	ports, err := pgpair.FreePorts(n)
	var addrs []string
	for _, p := range ports {
		addrs = append(addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	}
	return addrs, err
}

// switchProxy stands for the public address in front of both sites (a
// global load balancer or a DNS change in a real fail-over): it passes
// TCP connections to the current site, and a switch cuts every open one.
type switchProxy struct {
	l net.Listener

	mu       sync.Mutex
	upstream string
	conns    map[net.Conn]struct{}
}

func newSwitch() (*switchProxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &switchProxy{l: l, conns: map[net.Conn]struct{}{}}
	go p.serve()
	return p, nil
}

func (p *switchProxy) URL() string { return "http://" + p.l.Addr().String() }

// Switch sends new connections to addr and closes the open ones.
func (p *switchProxy) Switch(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.upstream = addr
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *switchProxy) Close() error {
	err := p.l.Close()
	p.Switch("")
	return err
}

func (p *switchProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		go p.pipe(c)
	}
}

func (p *switchProxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
}

func (p *switchProxy) pipe(c net.Conn) {
	defer c.Close()
	p.mu.Lock()
	up := p.upstream
	p.mu.Unlock()
	if up == "" {
		return
	}
	u, err := net.DialTimeout("tcp", up, 2*time.Second)
	if err != nil {
		return
	}
	defer u.Close()
	p.track(c, u)
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		delete(p.conns, u)
		p.mu.Unlock()
	}()
	done := make(chan struct{})
	go func() {
		io.Copy(u, c)
		u.Close()
		close(done)
	}()
	io.Copy(c, u)
	c.Close()
	<-done
}
