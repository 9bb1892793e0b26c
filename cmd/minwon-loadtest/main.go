// Command minwon-loadtest drives a minwon like many citizens at once and
// checks every document it issues: load, isolation under injected agency
// faults, crash safety, the counter through a validation outage, and the
// rendering cost against headless Chromium.
// It is a harness, not part of the product, so the minwon binary does not
// link it.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
	"github.com/minwon/minwon/internal/loadtest"
	"github.com/minwon/minwon/internal/population"
)

const usage = `minwon-loadtest drives minwon like thousands of citizens and checks every document it issues.

Usage:
  minwon-loadtest (--spawn | --target URL --data DIR) [--concurrency 1,4,64] [--requests N | --duration D]
        [--faults delay,drop,error,swap] [--crash-after N] [--verify all|sample|none] [--json FILE]
  minwon-loadtest --counter (--spawn | --target URL --data DIR) [--counter-clients 8] [--counter-phase 20s]
        [--counter-portal 4] [--counter-flood 256] [--crl-refresh 2s] [--json FILE]
        counter clerks issue through a validation outage (down, then dropping answers over 1,500 bytes),
        healed, a portal flood and a revocation; exits non-zero if the counter failed within its grace
  minwon-loadtest --alternate-site [--people 2000] [--logins 200] [--concurrency 32] [--crash-after 500]
        [--duration 60s] [--sync-commit on|remote_apply] [--pg-ports 55432,55433] [--verify-cli 10] [--json FILE]
        the alternate-site drill: two PostgreSQL clusters here (site A primary, site B synchronous standby),
        a minwon serve node per site; under load site A is lost (kill -9, pg_ctl stop -m immediate) after
        --crash-after documents, B is promoted and takes over; exits non-zero unless nothing was lost or reused
  minwon-loadtest --applications (--spawn | --target URL --data DIR) [--concurrency 16] [--app-phase 10s]
        [--app-outage 10s] [--crash-after N] [--drain-timeout 5m] [--app-sample 20] [--json FILE]
        citizens submit move-in reports and childcare-allowance applications while the registry is healthy,
        down (503) and healed; with --crash-after the demo is killed with SIGKILL once the registry has applied
        N writes, and restarted; exits non-zero unless every submission reached a final state exactly once,
        none was lost or duplicated, the registry applied one write per report and the 등본 show the new address
  minwon-loadtest --recheck RECORDS.csv --target URL --data DIR
  minwon-loadtest --compare-chromium N
        rendering cost of minwon's PDF writer against HTML printed by headless Chromium

Flags:
`

func main() {
	err := run(os.Args[1:])
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintf(os.Stderr, "minwon-loadtest: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("minwon-loadtest", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	var (
		minwonBin   = fs.String("minwon", "", "with --spawn: the minwon executable (default: minwon beside this program, then on PATH)")
		target      = fs.String("target", "", "base URL of a running minwon (e.g. http://127.0.0.1:8080)")
		spawn       = fs.Bool("spawn", false, "start `minwon demo` itself on --data (a temporary directory if not given); needed for --crash-after")
		data        = fs.String("data", "", "the demo's data directory: demo-accounts.csv, demo.json (agency URLs, server pid, population seed), log key")
		accounts    = fs.String("accounts", "", "accounts file (default DATA/demo-accounts.csv)")
		people      = fs.Int("people", 10000, "with --spawn: population of a fresh data directory")
		seed        = fs.Int64("seed", 1, "with --spawn: population seed")
		logins      = fs.Int("logins", 2000, "accounts to log in")
		conc        = fs.String("concurrency", "64", "concurrent clients; a list (1,4,16,64) runs a sweep, one phase each")
		requests    = fs.Int64("requests", 0, "issuance requests per phase")
		duration    = fs.Duration("duration", 0, "length of each phase (e.g. 30s)")
		faults      = fs.String("faults", "", "agency faults during the run: delay,drop,error,swap or swap=0.02,delay=2ms,jitter=10ms")
		check       = fs.String("check", "all", "per document: all (data.json + in-process PDF text), data (data.json only), none")
		pdftotext   = fs.Int("pdftotext", 200, "also check every Nth document's text with poppler's pdftotext (0: never)")
		verify      = fs.String("verify", "sample", "at the end, check issued numbers through POST /api/v1/verify: all, sample or none")
		sample      = fs.Int("verify-sample", 2000, "documents to verify with --verify sample")
		logCheck    = fs.Bool("log-check", true, "at the end, download the transparency log and check it against every number received")
		crashAfter  = fs.Int64("crash-after", 0, "crash mode: kill -9 the server after this many documents, restart it, and check nothing was lost or duplicated")
		crashes     = fs.Int("crashes", 1, "crash mode: number of kills, every --crash-after documents")
		serverPID   = fs.Int("server-pid", 0, "pid of the server, for its RSS (default: from demo.json)")
		jsonOut     = fs.String("json", "", "write the results as JSON to this file")
		tsvOut      = fs.String("tsv", "", "write one line per phase (concurrency, docs/s, p50, p95, p99 ms, server CPU ms/doc, RSS MB) to this file, for docs/loadtest.gp")
		pprof       = fs.String("pprof", "", "with --spawn: pass --pprof ADDR to the demo")
		recordsOut  = fs.String("records", "", "save every document received (key, number, sha256, log index) to this CSV file, and the starting log checkpoint beside it")
		logWasEmpty = fs.Bool("log-was-empty", false, "with --recheck and no saved start checkpoint: the log was empty when the run began, so every entry must belong to a saved record")
		recheck     = fs.String("recheck", "", "skip the load: run only the end-of-run checks (verify, log) on a --records file, against --target")
		compareChro = fs.Int("compare-chromium", 0, "instead of a load test: render N certificates with minwon and as HTML printed by headless Chromium, and report the ratio")
		counterMode = fs.Bool("counter", false, "counter mode: officials' clients issue on the counter (mutual TLS) while the validation service is down, drops large answers, heals, the portal is flooded, and one official is revoked; needs --data")
		ctrClients  = fs.Int("counter-clients", 8, "counter mode: concurrent counter clients (each presents a counter clerk's certificate; clerks are shared when there are fewer)")
		ctrPhase    = fs.Duration("counter-phase", 20*time.Second, "counter mode: length of each phase")
		ctrPortal   = fs.Int("counter-portal", 4, "counter mode: portal clients issuing beside the counter in every phase but the flood (0: none)")
		ctrFlood    = fs.Int("counter-flood", 256, "counter mode: portal clients in the flood phase (0: no flood phase)")
		crlRefresh  = fs.Duration("crl-refresh", 2*time.Second, "counter mode with --spawn: the demo's --crl-refresh, how often its counter fetches the CRL")
		altSite     = fs.Bool("alternate-site", false, "the alternate-site drill (see above); uses --people, --seed, --logins, --concurrency, --crash-after, --duration, --check, --minwon, --json")
		syncCommit  = fs.String("sync-commit", "on", "alternate-site: site A's synchronous_commit, on or remote_apply")
		pgPorts     = fs.String("pg-ports", "55432,55433", "alternate-site: the ports of site A's and site B's PostgreSQL clusters")
		verifyCLI   = fs.Int("verify-cli", 10, "alternate-site: documents, half from each site, checked with minwon verify FILE.pdf --log URL")
		appMode     = fs.Bool("applications", false, "applications mode (see above); uses --concurrency (one level), --crash-after, --spawn or --target with --data")
		appPhase    = fs.Duration("app-phase", 10*time.Second, "applications: length of the healthy and of the healed phase")
		appOutage   = fs.Duration("app-outage", 10*time.Second, "applications: how long the registry is down")
		appSample   = fs.Int("app-sample", 20, "applications: movers whose 등본 is issued at the end to check the new address")
		drainWait   = fs.Duration("drain-timeout", 5*time.Minute, "applications: how long to wait for every submission to reach a final state")
		keep        = fs.Bool("keep", false, "alternate-site: keep the data directory (logs of the agencies and both nodes)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *compareChro > 0 {
		res, err := loadtest.CompareChromium(ctx, *compareChro, os.Stdout)
		if err != nil {
			return err
		}
		return writeJSON(*jsonOut, res)
	}

	if *altSite {
		var ports [2]int
		if _, err := fmt.Sscanf(*pgPorts, "%d,%d", &ports[0], &ports[1]); err != nil || ports[0] == ports[1] {
			return fmt.Errorf("bad --pg-ports %q: two different ports", *pgPorts)
		}
		clients, err := strconv.Atoi(*conc)
		if err != nil || clients < 1 {
			return fmt.Errorf("--alternate-site takes one --concurrency, not %q", *conc)
		}
		exe, err := findMinwon(*minwonBin)
		if err != nil {
			return err
		}
		res, err := loadtest.RunSiteDrill(ctx, loadtest.SiteOptions{
			Minwon: exe, People: *people, Seed: *seed, Logins: *logins, Concurrency: clients,
			KillAfter: *crashAfter, Duration: *duration, Check: *check, VerifyCLI: *verifyCLI,
			SynchronousCommit: *syncCommit, PrimaryPort: ports[0], StandbyPort: ports[1], Keep: *keep, Progress: os.Stdout,
		})
		if err != nil {
			return err
		}
		res.Command = "minwon-loadtest " + strings.Join(args, " ")
		loadtest.PrintResult(os.Stdout, res.Phase)
		loadtest.PrintFinal(os.Stdout, res.Final)
		res.Print(os.Stdout)
		if err := writeJSON(*jsonOut, res); err != nil {
			return err
		}
		if !res.OK() {
			return errors.New("FAILED (see above)")
		}
		return nil
	}

	if *recheck != "" {
		if *target == "" {
			return errors.New("--recheck needs --target (and --data for the log key)")
		}
		recs, err := loadtest.LoadRecords(*recheck)
		if err != nil {
			return err
		}
		cp, _ := os.ReadFile(*recheck + ".checkpoint")
		h := loadtest.Recheck(&loadtest.Target{BaseURL: *target}, recs, cp, os.Stdout)
		final, err := h.Final(ctx, loadtest.FinalOptions{Verify: *verify, Sample: *sample, Log: *logCheck, DataDir: *data, LogWasEmpty: *logWasEmpty})
		if err != nil {
			return err
		}
		loadtest.PrintFinal(os.Stdout, final)
		out := loadtest.Summary{Machine: loadtest.DescribeMachine(), Command: "minwon-loadtest " + strings.Join(args, " "), Final: final}
		if err := writeJSON(*jsonOut, out); err != nil {
			return err
		}
		if !out.OK() {
			return errors.New("FAILED (see above)")
		}
		return nil
	}

	var levels []int
	for _, s := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 100000 {
			return fmt.Errorf("bad --concurrency %q", s)
		}
		levels = append(levels, n)
	}
	if *counterMode {
		switch {
		case *faults != "" || *crashAfter > 0:
			return errors.New("--counter runs without agency faults or crashes: the outage it injects is the validation service's")
		case *ctrClients < 1 || *ctrClients > 1000 || *ctrPhase < time.Second || *ctrPortal < 0 || *ctrFlood < 0:
			return errors.New("--counter-clients must be 1..1000, --counter-phase at least 1s, --counter-portal and --counter-flood not negative")
		}
		levels = []int{max(*ctrPortal, *ctrFlood, 1)}
	} else if *appMode {
		if len(levels) != 1 || *faults != "" || *crashes != 1 {
			return errors.New("--applications takes one --concurrency, no --faults (it switches the registry itself) and one crash")
		}
	} else if *requests <= 0 && *duration <= 0 {
		return errors.New("give --requests N or --duration D")
	}
	fl, err := loadtest.ParseFaults(*faults)
	if err != nil {
		return err
	}

	var server loadtest.Server
	var spawned *loadtest.Spawned
	switch {
	case *spawn && *target != "":
		return errors.New("--spawn and --target exclude each other")
	case *spawn:
		dir := *data
		if dir == "" {
			if dir, err = os.MkdirTemp("", "minwon-loadtest-"); err != nil {
				return err
			}
			fmt.Printf("data directory: %s\n", dir)
		}
		exe, err := findMinwon(*minwonBin)
		if err != nil {
			return err
		}
		extra := []string{"--people", strconv.Itoa(*people), "--seed", strconv.FormatInt(*seed, 10)}
		if *pprof != "" {
			extra = append(extra, "--pprof", *pprof)
		}
		if *counterMode {
			extra = append(extra, "--crl-refresh", crlRefresh.String())
		}
		spawned = &loadtest.Spawned{Binary: exe, Dir: dir, Args: extra}
		fmt.Printf("starting minwon demo (%d people) on %s...\n", *people, dir)
		t0 := time.Now()
		if err := spawned.Start(ctx); err != nil {
			return err
		}
		defer spawned.Stop()
		fmt.Printf("minwon demo up at %s (pid %d) in %s\n", spawned.URL(), spawned.PID(), time.Since(t0).Round(time.Millisecond))
		*data = dir
		server = spawned
	case *target != "":
		t := &loadtest.Target{BaseURL: *target, ServerPID: *serverPID}
		if *data != "" {
			if info, err := demo.ReadInfo(*data); err == nil {
				t.AgencyURLs = info.Agencies
				if t.ServerPID == 0 {
					t.ServerPID = info.PID
				}
			}
		}
		server = t
	default:
		return errors.New("give --target URL or --spawn")
	}
	if *accounts == "" {
		if *data == "" {
			return errors.New("give --accounts FILE or --data DIR")
		}
		*accounts = datadir.Dir(*data).Accounts()
	}
	accts, err := loadtest.ReadAccounts(*accounts)
	if err != nil {
		return err
	}
	if *appMode {
		opTLS, err := loadtest.DemoOperatorTLS(*data)
		if err != nil {
			return fmt.Errorf("--applications switches the registry with the demo's operator certificate: %w", err)
		}
		res, err := loadtest.RunApplications(ctx, loadtest.AppOptions{
			Server: server, DataDir: *data, Accounts: accts, AgencyTLS: opTLS, Clients: levels[0],
			Phase: *appPhase, Outage: *appOutage, CrashAfter: int(*crashAfter), DrainTimeout: *drainWait,
			Sample: *appSample, Progress: os.Stdout,
		})
		if err != nil {
			return err
		}
		res.Command = "minwon-loadtest " + strings.Join(args, " ")
		loadtest.PrintApplications(os.Stdout, res)
		if err := writeJSON(*jsonOut, res); err != nil {
			return err
		}
		if !res.OK() {
			return errors.New("FAILED (see above)")
		}
		return nil
	}
	// The accounts file has no business registration numbers: regenerate
	// the population from the seed the demo recorded to know them.
	var world *population.World
	if *data != "" {
		if info, err := demo.ReadInfo(*data); err == nil && info.People > 0 {
			world, err = population.Generate(population.Config{People: info.People, Seed: info.Seed})
			if err != nil {
				return err
			}
		}
	}
	if world == nil {
		fmt.Println("note: no demo.json with the population's seed; corporations are checked by name only")
	}

	// The agencies' fault switches and counters answer only an operator.
	var agencyTLS *tls.Config
	if *data != "" {
		if agencyTLS, err = loadtest.DemoOperatorTLS(*data); err != nil && fl.Any() {
			return fmt.Errorf("faults need the demo's operator certificate: %w", err)
		}
	}
	h, err := loadtest.New(ctx, loadtest.Options{
		Accounts: accts, Subjects: loadtest.Subjects(accts, world), Logins: *logins,
		Check: *check, Pdftotext: *pdftotext, Faults: fl, Progress: os.Stdout, Server: server,
		ConnsPerRun: levels[len(levels)-1] + 16, AgencyTLS: agencyTLS,
	})
	if err != nil {
		return err
	}
	command := "minwon-loadtest " + strings.Join(args, " ")
	if *counterMode {
		if world == nil {
			return errors.New("--counter needs the demo's demo.json (population seed) in --data, to know the citizens' RRNs")
		}
		copt, err := loadtest.DemoCounter(*data, world, loadtest.Subjects(accts, world))
		if err != nil {
			return err
		}
		copt.Clients, copt.Phase, copt.PortalClients, copt.FloodClients = *ctrClients, *ctrPhase, *ctrPortal, *ctrFlood
		copt.Portal, copt.Check, copt.Pdftotext, copt.Server, copt.Progress = h, *check, *pdftotext, server, os.Stdout
		run, err := loadtest.NewCounterRun(copt)
		if err != nil {
			return err
		}
		sum, err := run.Run(ctx)
		if err != nil {
			return err
		}
		sum.Command = command
		loadtest.PrintCounterSummary(os.Stdout, sum)
		if sum.Final, err = h.Final(context.WithoutCancel(ctx), loadtest.FinalOptions{Verify: *verify, Sample: *sample, Log: *logCheck, DataDir: *data}); err != nil {
			return err
		}
		loadtest.PrintFinal(os.Stdout, sum.Final)
		if err := writeJSON(*jsonOut, sum); err != nil {
			return err
		}
		if !sum.OK() {
			return errors.New("FAILED (see above)")
		}
		return nil
	}
	out := loadtest.Summary{Machine: loadtest.DescribeMachine(), Faults: fl, Command: command}
	for _, c := range levels {
		res, err := h.Run(ctx, loadtest.Phase{Concurrency: c, Requests: *requests, Duration: *duration, CrashAfter: *crashAfter, Crashes: *crashes})
		if err != nil {
			return err
		}
		loadtest.PrintResult(os.Stdout, res)
		out.Phases = append(out.Phases, res)
		if ctx.Err() != nil {
			break
		}
	}
	if err := h.ClearFaults(context.WithoutCancel(ctx)); err != nil {
		fmt.Fprintf(os.Stderr, "minwon-loadtest: could not switch the agencies' faults off: %v\n", err)
	}
	if *recordsOut != "" {
		if err := h.SaveRecords(*recordsOut); err != nil {
			return err
		}
		if cp := h.StartCheckpoint(); cp != nil {
			if err := os.WriteFile(*recordsOut+".checkpoint", cp, 0o600); err != nil {
				return err
			}
		}
	}
	final, err := h.Final(context.WithoutCancel(ctx), loadtest.FinalOptions{Verify: *verify, Sample: *sample, Log: *logCheck, DataDir: *data})
	if err != nil {
		return err
	}
	out.Final = final
	loadtest.PrintFinal(os.Stdout, final)
	if err := writeJSON(*jsonOut, out); err != nil {
		return err
	}
	if *tsvOut != "" {
		if err := os.WriteFile(*tsvOut, []byte(out.TSV()), 0o644); err != nil {
			return err
		}
	}
	if !out.OK() {
		return errors.New("FAILED (see above)")
	}
	return nil
}

// findMinwon locates the minwon executable to spawn.
func findMinwon(flagged string) (string, error) {
	if flagged != "" {
		return flagged, nil
	}
	if self, err := os.Executable(); err == nil {
		beside := filepath.Join(filepath.Dir(self), "minwon")
		if fi, err := os.Stat(beside); err == nil && !fi.IsDir() {
			return beside, nil
		}
	}
	if p, err := exec.LookPath("minwon"); err == nil {
		return p, nil
	}
	return "", errors.New("--spawn needs the minwon executable: build it beside this one (go build -o . ./cmd/minwon ./cmd/minwon-loadtest) or pass --minwon PATH")
}

func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
