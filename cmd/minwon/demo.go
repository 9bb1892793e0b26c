package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/app"
	"github.com/minwon/minwon/internal/backup"
	"github.com/minwon/minwon/internal/config"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/guard"
	"github.com/minwon/minwon/internal/httpserve"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/store"
)

type demoFlags struct {
	addr        string
	adminAddr   string
	counterAddr string
	data        string
	people      int
	seed        int64
	pprof       string
	grace       time.Duration
	crlRefresh  time.Duration
	retention   int // days
	bulkLimits  string
	// acceptRollback serves a log behind its seen checkpoint (an
	// operator's decision, recorded).
	acceptRollback bool
	witness        config.Witness
}

func parseDemoFlags(name string, args []string, withAddr bool) (demoFlags, error) {
	var f demoFlags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if withAddr {
		fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "portal and API listen address")
		fs.StringVar(&f.adminAddr, "admin-addr", "127.0.0.1:0", "operators' admin API listen address (keep it on loopback)")
		fs.StringVar(&f.counterAddr, "counter-addr", "127.0.0.1:0", "officials' counter listen address (mutual TLS with certificates of DIR/pki)")
		fs.DurationVar(&f.grace, "grace", pki.DefaultGrace, "how long counter officials keep working while the validation service is unreachable")
		fs.DurationVar(&f.crlRefresh, "crl-refresh", 10*time.Second, "how often the counter fetches the revocation list")
		fs.StringVar(&f.pprof, "pprof", "", "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060) for profiling")
		fs.IntVar(&f.retention, "retention-days", 90, "days issued documents' files (PDF, data.json) are kept; their log entries stay forever")
		fs.BoolVar(&f.acceptRollback, "accept-log-rollback", false, "serve although the log lost entries or forked from the checkpoint kept in DIR/checkpoint.last (an operator's decision: recorded as an audit event and a critical incident)")
		fs.StringVar(&f.witness.URL, "witness-url", "", "a C2SP tlog-witness to cosign every checkpoint (with --witness-key)")
		fs.StringVar(&f.witness.VerifierKey, "witness-key", "", "the witness's cosignature/v1 verifier key (name+hash+base64)")
		fs.StringVar(&f.bulkLimits, "bulk-limits", "", "JSON file of per-principal limits on issuances, downloads and counter look-ups (see internal/guard); \"off\" for load tests; default: the built-in limits")
	}
	fs.StringVar(&f.data, "data", "./minwon-data", "data directory (SQLite database, keys, demo-accounts.csv)")
	fs.IntVar(&f.people, "people", 10000, "number of synthetic people to seed on first start")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the synthetic population: same seed, same population")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	if withAddr && (f.retention < 1 || f.retention > 3650) {
		return f, fmt.Errorf("%s: --retention-days must be between 1 and 3650", name)
	}
	if f.pprof != "" {
		if !isLoopback(f.pprof) {
			return f, fmt.Errorf("%s: --pprof must be a loopback address such as 127.0.0.1:6060", name)
		}
	}
	if withAddr && (f.grace < time.Minute || f.crlRefresh < time.Second || f.crlRefresh > f.grace) {
		return f, fmt.Errorf("%s: --grace must be at least 1m and --crl-refresh between 1s and the grace", name)
	}
	if (f.witness.URL == "") != (f.witness.VerifierKey == "") {
		return f, fmt.Errorf("%s: --witness-url and --witness-key go together", name)
	}
	if f.people < 1 || f.people > 5_000_000 {
		return f, fmt.Errorf("%s: --people must be between 1 and 5000000", name)
	}
	return f, nil
}

func runSeed(args []string) error {
	f, err := parseDemoFlags("seed", args, false)
	if err != nil {
		return err
	}
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, datadir.Dir(f.data).Database())
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := demo.Prepare(ctx, db, f.data, population.Config{People: f.people, Seed: f.seed}, os.Stdout)
	if err != nil {
		return err
	}
	if !p.Fresh {
		fmt.Printf("%s was already seeded; nothing to do\n", f.data)
	}
	fmt.Printf("accounts: %s\n", p.AccountsPath)
	return nil
}

func runDemo(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return demoUntilDone(ctx, args)
}

// demoUntilDone runs the demo until ctx ends.
func demoUntilDone(ctx context.Context, args []string) error {
	f, err := parseDemoFlags("demo", args, true)
	if err != nil {
		return err
	}

	// The data directory's lock: minwon restore refuses a directory a
	// server holds.
	unlock, err := backup.Lock(f.data)
	if err != nil {
		return err
	}
	defer unlock()
	db, err := store.OpenSQLite(ctx, datadir.Dir(f.data).Database())
	if err != nil {
		return err
	}
	defer db.Close()
	prep, err := demo.Prepare(ctx, db, f.data, population.Config{People: f.people, Seed: f.seed}, os.Stdout)
	if err != nil {
		return err
	}

	dir := datadir.Dir(f.data)
	// The simulated GPKI: its validation service on its own port, and the
	// counter and the operators' API on their own mutual-TLS listeners.
	// The checker fetches the CRL in the background; requests never wait
	// for it. The agencies serve mutual TLS with its certificates.
	sim, err := startSimulatedPKI(f.data, "127.0.0.1:0", []string{"127.0.0.1", "localhost"})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	linkageTLS, err := sim.LinkageTLS()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// The simulated agencies: each its own server, port and signing key.
	schema := linkage.DefaultSchema()
	var endpoints []linkage.Endpoint
	type agencyInfo struct{ name, url string }
	var agencies []agencyInfo
	info := demo.Info{PID: os.Getpid(), People: f.people, Seed: f.seed, Agencies: map[string]string{}}
	for _, name := range schema.Agencies() {
		signer, err := agency.LoadOrCreateKey(name, dir.Keys().AgencyKey(name))
		if err != nil {
			return err
		}
		srv, err := agency.New(name, prep.World, signer)
		if err != nil {
			return err
		}
		if err := srv.KeepChanges(dir.Agencies()); err != nil {
			return err
		}
		agencyTLS, err := sim.AgencyTLS(name)
		if err != nil {
			return err
		}
		url, shutdown, err := agency.Listen("127.0.0.1:0", srv, agencyTLS)
		if err != nil {
			return err
		}
		defer shutdown(context.Background())
		id, pub := srv.PublicKey()
		endpoints = append(endpoints, linkage.Endpoint{Agency: name, BaseURL: url, Keys: map[string]ed25519.PublicKey{id: pub}})
		agencies = append(agencies, agencyInfo{name, url})
		info.Agencies[name] = url
	}
	l, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("demo: listen on %s: %w", f.addr, err)
	}
	base := "http://" + l.Addr().String()
	logKey, err := keyfile.LoadOrCreate(dir.Keys().LogKey())
	if err != nil {
		return err
	}
	indexKey, err := keyfile.LoadOrCreateSecret(dir.Keys().SubjectIndexKey())
	if err != nil {
		return err
	}
	dataKEK, err := keyfile.LoadOrCreateSecret(dir.Keys().DataKEK())
	if err != nil {
		return err
	}
	documentCert, err := docsig.LoadCertificate(sim.Documents.CertFile, sim.Documents.KeyFile)
	if err != nil {
		return err
	}
	limits, err := readLimits("--bulk-limits", f.bulkLimits)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, app.Config{DB: db, Limits: limits, Agencies: endpoints, KeyDir: dir.Keys().Path(), DocumentCert: documentCert, PublicURL: base, LogKey: logKey, LogOrigin: demoLogOrigin, SubjectIndexKey: indexKey,
		SeenCheckpoint: dir.SeenCheckpoint(), AcceptLogRollback: f.acceptRollback, Operator: operatorName(),
		Witness: demoWitness(f.witness),
		DataKEK: dataKEK, Retention: time.Duration(f.retention) * 24 * time.Hour, LinkageOptions: linkage.Options{TLS: linkageTLS},
		NotifyDir: dir.Notify()})
	if err != nil {
		return err
	}
	defer a.Close()
	validationURL := sim.ValidationURL
	counterCerts, err := pki.ReadCerts(sim.Counter.CertFile)
	if err != nil {
		return err
	}
	checker, err := pki.NewChecker(pki.CheckerConfig{
		ValidationURL: validationURL, Issuer: sim.CA.Ministry, Grace: f.grace, Refresh: f.crlRefresh,
		CachePath: dir.CRLCache(), Probe: counterCerts[0],
	})
	if err != nil {
		return err
	}
	officials, err := listenOfficials([]officialListener{
		{name: "counter", addr: f.counterAddr, cred: sim.Counter, handler: a.Counter},
		{name: "admin API", addr: f.adminAddr, cred: sim.Admin, handler: a.Admin},
	}, sim.CA.Pool(), checker)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	counterURL := "https://" + officials[0].Listener.Addr().String()
	adminURL := "https://" + officials[1].Listener.Addr().String()
	servers := append([]httpserve.Listener{{Name: "portal", Listener: l, Handler: a.Handler}, sim.Validation}, officials...)
	if f.pprof != "" {
		pl, err := net.Listen("tcp", f.pprof)
		if err != nil {
			return fmt.Errorf("demo: pprof: %w", err)
		}
		servers = append(servers, httpserve.Listener{Name: "pprof", Listener: pl, Handler: pprofMux()})
		fmt.Printf("  pprof:             http://%s/debug/pprof/\n", pl.Addr())
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- httpserve.UntilDone(ctx, servers...) }()
	// The counter decides from a revocation list it fetched: get the first
	// one before saying the demo is up, then keep it fresh in the
	// background.
	if err := checker.Refresh(ctx); err != nil {
		fmt.Printf("warning: the first revocation list could not be fetched (%v); officials stay locked until one is\n", err)
	}
	go checker.Run(ctx)
	fmt.Printf("\nminwon demo is running (%d people, seed %d, data %s)\n", len(prep.World.People), f.seed, f.data)
	fmt.Printf("  portal:            %s/\n", base)
	fmt.Printf("  API services:      %s/api/v1/services\n", base)
	fmt.Printf("  API login:         POST %s/api/v1/login {\"login\",\"password\"}\n", base)
	fmt.Printf("  API status:        %s/api/v1/status\n", base)
	for _, a := range agencies {
		fmt.Printf("  agency %-10s %s  (mTLS; faults for an operator: %s/_faults)\n", a.name+":", a.url, a.url)
	}
	fmt.Printf("  verify:            %s/verify   API: POST %s/api/v1/verify\n", base, base)
	fmt.Printf("  transparency log:  %s/log/checkpoint\n", base)
	fmt.Printf("  admin API (mTLS):  %s/admin/v1/keys  (minwon admin --data %s --as op001 keys list)\n", adminURL, f.data)
	fmt.Printf("  metrics (mTLS):    %s/metrics  (an operator's or auditor's certificate from %s)\n", adminURL, dir.Officials())
	fmt.Printf("  health:            %s/livez  %s/readyz\n", base, base)
	fmt.Printf("  counter (mTLS):    %s/counter/v1/status  (%d officials' certificates: %s; CA %s)\n", counterURL, len(sim.Officials), dir.Officials(), filepath.Join(dir.PKI(), pki.RootCertFile))
	fmt.Printf("  validation:        %s/crl  %s/ocsp  (faults: %s/_faults)\n", validationURL, validationURL, validationURL)
	fmt.Printf("  demo accounts:     %s\n", prep.AccountsPath)
	info.Portal = base
	if err := demo.WriteInfo(f.data, info, demo.URLs{Portal: base, Admin: adminURL, Counter: counterURL, Validation: validationURL, Agencies: info.Agencies}); err != nil {
		stop()
		<-served
		return err
	}
	fmt.Println("Press Ctrl-C to stop.")

	err = <-served
	fmt.Println("\nstopped")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// readLimits reads the bulk-access limits that setting (demo's
// --bulk-limits, serve's bulk_limits) names: nil for the defaults, no rules
// for "off", otherwise a guard limits file.
func readLimits(setting, arg string) (*guard.Limits, error) {
	switch arg {
	case "":
		return nil, nil
	case "off":
		off := guard.Off()
		return &off, nil
	}
	data, err := os.ReadFile(arg)
	if err != nil {
		return nil, err
	}
	l, err := guard.ParseLimits(data)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", setting, arg, err)
	}
	return &l, nil
}
