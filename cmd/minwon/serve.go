package main

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/app"
	"github.com/minwon/minwon/internal/backup"
	"github.com/minwon/minwon/internal/config"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/httpserve"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/store"
)

func runServe(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveUntilDone(ctx, args, nil)
}

// serveUntilDone runs serve until ctx ends. listening, if not nil, is
// given each listener's name and address once all of them listen.
func serveUntilDone(ctx context.Context, args []string, listening func(map[string]net.Addr)) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	path := fs.String("config", "", "config file (JSON; see docs/POSTGRES.md)")
	listen := fs.String("listen", "", "listen address, overriding the config's (to run several nodes from one file)")
	counterListen := fs.String("counter-listen", "", "the counter's listen address, overriding the config's counter_listen")
	adminListen := fs.String("admin-listen", "", "the admin API's listen address, overriding the config's admin_listen")
	acceptRollback := fs.Bool("accept-log-rollback", false, "serve although the log lost entries or forked from the config's checkpoint_file (an operator's decision: recorded as an audit event and a critical incident)")
	node := fs.String("node", "", "this node's name, shown to PostgreSQL as application_name (default minwon-HOSTNAME)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *path == "" || fs.NArg() > 0 {
		return usageError{errors.New("serve: usage: minwon serve --config FILE [--listen ADDR] [--counter-listen ADDR] [--admin-listen ADDR] [--node NAME]")}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	for _, o := range []struct {
		flag, field string
		value       string
		addr        *string
	}{{"--listen", "listen", *listen, &cfg.Listen}, {"--counter-listen", "counter_listen", *counterListen, &cfg.CounterListen}, {"--admin-listen", "admin_listen", *adminListen, &cfg.AdminListen}} {
		if o.value == "" {
			continue
		}
		if *o.addr == "" {
			return usageError{fmt.Errorf("serve: %s: the config has no %s to override", o.flag, o.field)}
		}
		*o.addr = o.value
	}
	if *node == "" {
		host, _ := os.Hostname()
		*node = "minwon-" + host
	}

	if cfg.Database.SQLite != "" {
		// One server per SQLite data directory; minwon restore checks it.
		unlock, err := backup.Lock(filepath.Dir(cfg.Database.SQLite))
		if err != nil {
			return err
		}
		defer unlock()
	}
	db, err := cfg.OpenStore(ctx, *node)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := cfg.CheckKeyDir(); err != nil {
		return err
	}
	logKey, err := cfg.LogSigningKey()
	if err != nil {
		return err
	}
	var indexKey []byte
	if cfg.CounterListen != "" {
		if indexKey, err = cfg.SubjectIndex(); err != nil {
			return err
		}
	}
	linkageTLS, err := cfg.LinkageTLS()
	if err != nil {
		return err
	}
	if cfg.DocumentCert == "" || cfg.DocumentKey == "" {
		return errors.New("serve: document_cert and document_key are required: the PKI's document-signing certificate every PDF is signed with (minwon pki document --dir DIR issues one)")
	}
	documentCert, err := docsig.LoadCertificate(cfg.DocumentCert, cfg.DocumentKey)
	if err != nil {
		return err
	}
	limits, err := readLimits("bulk_limits", cfg.BulkLimits)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	a, err := app.New(ctx, app.Config{
		DB: db, Agencies: cfg.Endpoints(), KeyDir: cfg.KeyDir, DocumentCert: documentCert, LogKey: logKey, LogOrigin: cfg.LogOrigin,
		PublicURL: cfg.PublicURL, SessionTTL: time.Duration(cfg.SessionTTL), SubjectIndexKey: indexKey,
		Retention:      time.Duration(cfg.RetentionDays) * 24 * time.Hour,
		LinkageOptions: linkage.Options{TLS: linkageTLS},
		Limits:         limits, NotifyDir: cfg.NotifyDir,
		SeenCheckpoint: cfg.CheckpointFile, AcceptLogRollback: *acceptRollback, Operator: operatorName(),
		Witness:          appWitness(cfg.Witness),
		CheckpointMaxAge: time.Duration(cfg.CheckpointMaxAge),
	})
	if err != nil {
		return err
	}
	defer a.Close()
	var checker *pki.Checker
	var servers []httpserve.Listener
	if cfg.PKI != nil {
		if checker, err = cfg.PKI.Checker(); err != nil {
			return err
		}
		roots, err := cfg.PKI.Roots()
		if err != nil {
			return err
		}
		servers, err = listenOfficials([]officialListener{
			{name: "counter", addr: cfg.CounterListen, cred: pki.Credential{CertFile: cfg.CounterCert, KeyFile: cfg.CounterKey}, handler: a.Counter},
			{name: "admin API", addr: cfg.AdminListen, cred: pki.Credential{CertFile: cfg.AdminCert, KeyFile: cfg.AdminKey}, handler: a.Admin},
		}, roots, checker)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	portalTLS, err := portalTLSConfig(cfg.TLS)
	var l net.Listener
	if err == nil {
		l, err = net.Listen("tcp", cfg.Listen)
	}
	if err != nil {
		for _, s := range servers {
			s.Listener.Close()
		}
		return fmt.Errorf("serve: listen on %s: %w", cfg.Listen, err)
	}
	scheme := "http"
	if portalTLS != nil {
		l, scheme = tls.NewListener(l, portalTLS), "https"
	}
	servers = append([]httpserve.Listener{{Name: "portal", Listener: l, Handler: a.Handler}}, servers...)
	size, _, _ := a.Log.Checkpoint()
	fmt.Printf("minwon serve: node %s listening on %s://%s (public URL %s), %s database, log %s at size %d, document key %s\n",
		*node, scheme, l.Addr(), cfg.PublicURL, db.Backend(), cfg.LogOrigin, size, a.Keys.Signer().KeyID)
	addrs := map[string]net.Addr{}
	for _, s := range servers {
		addrs[s.Name] = s.Listener.Addr()
		switch s.Name {
		case "counter":
			fmt.Printf("  counter (mTLS):   https://%s/counter/v1/status\n", s.Listener.Addr())
		case "admin API":
			fmt.Printf("  admin API (mTLS): https://%s/admin/v1/keys  (operators' certificates only)\n", s.Listener.Addr())
		}
	}

	// The checker refreshes the CRL beside the listeners; requests never
	// wait for it. It stops with them, whichever ends first.
	ctx, stopChecker := context.WithCancel(ctx)
	defer stopChecker()
	var wg sync.WaitGroup
	if checker != nil {
		fmt.Printf("  officials' certificates under %s; revocations from %s every %s, grace %s\n",
			cfg.PKI.CA, cfg.PKI.ValidationURL, time.Duration(cfg.PKI.CRLRefresh), time.Duration(cfg.PKI.Grace))
		wg.Go(func() { checker.Run(ctx) })
	}
	if listening != nil {
		listening(addrs)
	}
	err = httpserve.UntilDone(ctx, servers...)
	stopChecker()
	wg.Wait()
	return err
}

// portalTLSConfig is the portal listener's TLS: the configured certificate,
// TLS 1.2 or newer (citizens' browsers), HTTP/1.1. nil without one.
func portalTLSConfig(c *config.TLS) (*tls.Config, error) {
	if c == nil {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}, nil
}

func runKeygen(args []string) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	dir := fs.String("dir", "./minwon-keys", "the key directory (serve's key_dir; created mode 0700, files 0600)")
	origin := fs.String("log-origin", "", "the log's origin, to print the checkpoint verifier key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keygen: unexpected argument %q", fs.Arg(0))
	}
	keys := datadir.KeyDir(*dir)
	signer, err := docsig.LoadOrCreateSigner(keys.DocumentKey())
	if err != nil {
		return err
	}
	logKey, err := keyfile.LoadOrCreate(keys.LogKey())
	if err != nil {
		return err
	}
	if _, err := keyfile.LoadOrCreateSecret(keys.SubjectIndexKey()); err != nil {
		return err
	}
	if _, err := keyfile.LoadOrCreateSecret(keys.DataKEK()); err != nil {
		return err
	}
	if _, err := keyfile.LoadOrCreateSecret(keys.CheckCodeKey()); err != nil {
		return err
	}
	fmt.Printf("key_dir: %s (first document key %s, adopted at the first start)\n", *dir, signer.KeyID)
	fmt.Printf("log_key: %s\n", keys.LogKey())
	fmt.Printf("subject_index_key: %s\n", keys.SubjectIndexKey())
	fmt.Printf("data KEK (seals stored documents; key_dir/data-kek.key): %s\n", keys.DataKEK())
	fmt.Printf("check-code key (hashes documents' check codes; key_dir/check-code.key): %s\n", keys.CheckCodeKey())
	if *origin != "" {
		vkey, err := doclog.VerifierKey(*origin, logKey.Public().(ed25519.PublicKey))
		if err != nil {
			return err
		}
		fmt.Printf("log verifier key (for clients checking checkpoints): %s\n", vkey)
	}
	fmt.Println("Existing files are kept. Give every node the same directory (a shared volume: a key rotation on one node writes the new key there); keep it secret.")
	fmt.Println("Officials (counter, operators) use certificates: see minwon pki.")
	return nil
}

// runAgencies runs the simulated agencies standalone, so `minwon serve`
// has agencies to talk to in a demo: it seeds the population's accounts
// into the minwon database (SQLite in --data, or --postgres), starts each
// agency on its own port from --addr-base and the simulated PKI's
// validation service on the next, and writes a serve config that trusts
// them, with the counter and the admin API on their own listeners.
func runAgencies(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return agenciesUntilDone(ctx, args)
}

// agenciesUntilDone runs the agencies until ctx ends.
func agenciesUntilDone(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("agencies", flag.ContinueOnError)
	data := fs.String("data", "./minwon-data", "data directory (agency keys, PKI, demo-accounts.csv, demo-officials.csv, serve.json; the SQLite database unless --postgres)")
	people := fs.Int("people", 10000, "number of synthetic people")
	seed := fs.Int64("seed", 1, "seed of the synthetic population")
	addrBase := fs.String("addr-base", "127.0.0.1:7100", "first agency's address; the other agencies and the validation service take the next ports (port 0: any free ports)")
	pg := fs.String("postgres", "", "PostgreSQL DSN of minwon's database, to seed accounts into and write into serve.json")
	listen := fs.String("listen", "127.0.0.1:8080", "minwon's listen address, written into serve.json")
	counterListen := fs.String("counter-listen", "127.0.0.1:8443", "the counter's listen address, written into serve.json")
	adminListen := fs.String("admin-listen", "127.0.0.1:8444", "the admin API's listen address, written into serve.json")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("agencies: unexpected argument %q", fs.Arg(0))}
	}
	if *people < 1 || *people > 5_000_000 {
		return usageError{errors.New("agencies: --people must be between 1 and 5000000")}
	}
	host, portStr, err := net.SplitHostPort(*addrBase)
	port, perr := strconv.Atoi(portStr)
	if err != nil || perr != nil || port < 0 || port > 65000 {
		return usageError{fmt.Errorf("agencies: --addr-base %q is not host:port", *addrBase)}
	}
	addr := func(i int) string {
		if port == 0 {
			return net.JoinHostPort(host, "0")
		}
		return net.JoinHostPort(host, strconv.Itoa(port+i))
	}

	dir := datadir.Dir(*data)
	dbCfg := config.Database{SQLite: dir.Database()}
	if *pg != "" {
		dbCfg = config.Database{Postgres: *pg}
	}
	var db *store.DB
	if dbCfg.Postgres != "" {
		db, err = store.OpenPostgres(ctx, dbCfg.Postgres, store.PostgresOptions{MaxConns: 4, ApplicationName: "minwon-agencies"})
	} else {
		db, err = store.OpenSQLite(ctx, dbCfg.SQLite)
	}
	if err != nil {
		return err
	}
	prep, err := demo.Prepare(ctx, db, *data, population.Config{People: *people, Seed: *seed}, os.Stdout)
	db.Close() // the agencies hold the population; minwon's database only the accounts
	if err != nil {
		return err
	}
	keys := dir.Keys()
	cfg := config.Config{
		Database:        dbCfg,
		Listen:          *listen,
		PublicURL:       "http://" + *listen,
		KeyDir:          keys.Path(),
		LogKey:          keys.LogKey(),
		LogOrigin:       demoLogOrigin,
		SessionTTL:      config.Duration(30 * time.Minute),
		CounterListen:   *counterListen,
		AdminListen:     *adminListen,
		SubjectIndexKey: keys.SubjectIndexKey(), // demo.Prepare indexed the accounts under it
	}
	if _, err := docsig.LoadOrCreateSigner(keys.DocumentKey()); err != nil {
		return err
	}
	if _, err := keyfile.LoadOrCreate(cfg.LogKey); err != nil {
		return err
	}
	schema := linkage.DefaultSchema().Agencies()
	// The agencies serve mutual TLS with certificates of the simulated PKI
	// and answer only minwon's system certificate, written into the config.
	sim, err := startSimulatedPKI(*data, addr(len(schema)), serverHosts(*counterListen, *adminListen, addr(0)))
	if err != nil {
		return fmt.Errorf("agencies: %w", err)
	}
	cfg.Linkage = &config.Linkage{Cert: sim.System.CertFile, Key: sim.System.KeyFile, CA: filepath.Join(sim.CA.Dir(), pki.RootCertFile)}
	cfg.DocumentCert, cfg.DocumentKey = sim.Documents.CertFile, sim.Documents.KeyFile
	for i, name := range schema {
		signer, err := agency.LoadOrCreateKey(name, keys.AgencyKey(name))
		if err != nil {
			return err
		}
		srv, err := agency.New(name, prep.World, signer)
		if err != nil {
			return err
		}
		if err := srv.KeepChanges(datadir.Dir(*data).Agencies()); err != nil {
			return err
		}
		agencyTLS, err := sim.AgencyTLS(name)
		if err != nil {
			return err
		}
		url, shutdown, err := agency.Listen(addr(i), srv, agencyTLS)
		if err != nil {
			return err
		}
		defer shutdown(context.Background())
		id, pub := srv.PublicKey()
		cfg.Agencies = append(cfg.Agencies, config.Agency{Name: name, URL: url, Keys: map[string]string{id: base64.StdEncoding.EncodeToString(pub)}})
		fmt.Printf("agency %-10s %s  (mTLS; faults for an operator: %s/_faults)\n", name+":", url, url)
	}
	fmt.Printf("validation:       %s/crl  %s/ocsp  (faults: %s/_faults)\n", sim.ValidationURL, sim.ValidationURL, sim.ValidationURL)
	cfg.PKI = sim.Settings(*data, 10*time.Second)
	cfg.CounterCert, cfg.CounterKey = sim.Counter.CertFile, sim.Counter.KeyFile
	cfg.AdminCert, cfg.AdminKey = sim.Admin.CertFile, sim.Admin.KeyFile
	out, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if _, err := config.Parse(out); err != nil {
		return fmt.Errorf("agencies: the config written would not load: %w", err)
	}
	cfgPath := dir.ServeConfig()
	if err := os.WriteFile(cfgPath, append(out, '\n'), 0o600); err != nil {
		return err
	}
	snippet, _ := json.MarshalIndent(map[string]any{"agencies": cfg.Agencies, "linkage": cfg.Linkage, "pki": cfg.PKI, "document_cert": cfg.DocumentCert, "document_key": cfg.DocumentKey}, "", "  ")
	fmt.Printf("\nserve config written to %s (mode 0600); its agencies, linkage certificate and PKI:\n%s\n", cfgPath, snippet)
	fmt.Printf("Start minwon with:  minwon serve --config %s   (several nodes: add --listen, --counter-listen, --admin-listen and --node)\n", cfgPath)
	fmt.Printf("Demo accounts:      %s\nOfficials:          %s (certificates of %s; revoke with minwon pki revoke --dir %s ID --reason R)\n",
		prep.AccountsPath, dir.Officials(), dir.PKI(), dir.PKI())
	fmt.Println("Press Ctrl-C to stop the agencies and the validation service.")
	err = httpserve.UntilDone(ctx, sim.Validation)
	fmt.Println("stopping...")
	return err
}

// serverHosts are the names the simulated PKI's server certificates are
// issued for: loopback, and the hosts of the listen addresses.
func serverHosts(addrs ...string) []string {
	hosts := []string{"127.0.0.1", "localhost"}
	for _, a := range addrs {
		h, _, err := net.SplitHostPort(a)
		if ip := net.ParseIP(h); err != nil || h == "" || (ip != nil && ip.IsUnspecified()) || slices.Contains(hosts, h) {
			continue
		}
		hosts = append(hosts, h)
	}
	return hosts
}
