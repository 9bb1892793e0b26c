package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/app"
	"github.com/minwon/minwon/internal/config"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/httpserve"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/store"
)

func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	path := fs.String("config", "", "config file (JSON; see docs/POSTGRES.md)")
	listen := fs.String("listen", "", "listen address, overriding the config's (to run several nodes from one file)")
	node := fs.String("node", "", "this node's name, shown to PostgreSQL as application_name (default minwon-HOSTNAME)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 {
		return errors.New("serve: usage: minwon serve --config FILE [--listen ADDR] [--node NAME]")
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *node == "" {
		host, _ := os.Hostname()
		*node = "minwon-" + host
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

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
	a, err := app.New(ctx, app.Config{
		DB: db, Agencies: cfg.Endpoints(), KeyDir: cfg.KeyDir, LogKey: logKey, LogOrigin: cfg.LogOrigin,
		PublicURL: cfg.PublicURL, SessionTTL: time.Duration(cfg.SessionTTL),
	})
	if err != nil {
		return err
	}
	defer a.Close()
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", cfg.Listen, err)
	}
	servers := []httpserve.Listener{{Name: "portal", Listener: l, Handler: a.Handler}}
	size, _, _ := a.Log.Checkpoint()
	fmt.Printf("minwon serve: node %s listening on %s (public URL %s), %s database, log %s at size %d, document key %s\n",
		*node, l.Addr(), cfg.PublicURL, db.Backend(), cfg.LogOrigin, size, a.Keys.Signer().KeyID)
	if cfg.AdminListen != "" {
		// The admin API takes operators' certificates now; serve's PKI
		// settings are not wired yet, and a token-protected admin API
		// must not come back.
		return errors.New("serve: admin_listen needs the PKI settings (not yet supported by serve; use minwon demo)")
	}
	return httpserve.UntilDone(ctx, servers...)
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
	if _, err := loadOrCreateToken(keys.AdminToken()); err != nil {
		return err
	}
	fmt.Printf("key_dir: %s (first document key %s, adopted at the first start)\n", *dir, signer.KeyID)
	fmt.Printf("log_key: %s\n", keys.LogKey())
	fmt.Printf("admin_token: %s\n", keys.AdminToken())
	if *origin != "" {
		vkey, err := doclog.VerifierKey(*origin, logKey.Public().(ed25519.PublicKey))
		if err != nil {
			return err
		}
		fmt.Printf("log verifier key (for clients checking checkpoints): %s\n", vkey)
	}
	fmt.Println("Existing files are kept. Give every node the same directory (a shared volume: a key rotation on one node writes the new key there); keep it secret.")
	return nil
}

// runAgencies runs the simulated agencies standalone, so `minwon serve`
// has agencies to talk to in a demo: it seeds the population's accounts
// into the minwon database (SQLite in --data, or --postgres), starts each
// agency on its own port from --addr-base, and writes a serve config that
// trusts them.
func runAgencies(args []string) error {
	fs := flag.NewFlagSet("agencies", flag.ContinueOnError)
	data := fs.String("data", "./minwon-data", "data directory (agency keys, demo-accounts.csv, serve.json; the SQLite database unless --postgres)")
	people := fs.Int("people", 10000, "number of synthetic people")
	seed := fs.Int64("seed", 1, "seed of the synthetic population")
	addrBase := fs.String("addr-base", "127.0.0.1:7100", "first agency's address; the others take the next ports")
	pg := fs.String("postgres", "", "PostgreSQL DSN of minwon's database, to seed accounts into and write into serve.json")
	listen := fs.String("listen", "127.0.0.1:8080", "minwon's listen address, written into serve.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("agencies: unexpected argument %q", fs.Arg(0))
	}
	if *people < 1 || *people > 5_000_000 {
		return errors.New("agencies: --people must be between 1 and 5000000")
	}
	host, portStr, err := net.SplitHostPort(*addrBase)
	var port int
	if err == nil {
		_, err = fmt.Sscanf(portStr, "%d", &port)
	}
	if err != nil || port < 1 || port > 65000 {
		return fmt.Errorf("agencies: --addr-base %q is not host:port", *addrBase)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

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
		Database:    dbCfg,
		Listen:      *listen,
		PublicURL:   "http://" + *listen,
		KeyDir:      keys.Path(),
		LogKey:      keys.LogKey(),
		LogOrigin:   "minwon.demo/log",
		SessionTTL:  config.Duration(30 * time.Minute),
		AdminListen: "127.0.0.1:0",
		AdminToken:  keys.AdminToken(),
	}
	if _, err := loadOrCreateToken(cfg.AdminToken); err != nil {
		return err
	}
	if _, err := docsig.LoadOrCreateSigner(keys.DocumentKey()); err != nil {
		return err
	}
	if _, err := keyfile.LoadOrCreate(cfg.LogKey); err != nil {
		return err
	}
	for i, name := range linkage.DefaultSchema().Agencies() {
		signer, err := agency.LoadOrCreateKey(name, keys.AgencyKey(name))
		if err != nil {
			return err
		}
		srv, err := agency.New(name, prep.World, signer)
		if err != nil {
			return err
		}
		url, shutdown, err := agency.Listen(net.JoinHostPort(host, fmt.Sprint(port+i)), srv)
		if err != nil {
			return err
		}
		defer shutdown(context.Background())
		id, pub := srv.PublicKey()
		cfg.Agencies = append(cfg.Agencies, config.Agency{Name: name, URL: url, Keys: map[string]string{id: base64.StdEncoding.EncodeToString(pub)}})
		fmt.Printf("agency %-10s %s  (faults: %s/_faults)\n", name+":", url, url)
	}
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
	snippet, _ := json.MarshalIndent(map[string]any{"agencies": cfg.Agencies}, "", "  ")
	fmt.Printf("\nserve config written to %s (mode 0600); its agencies:\n%s\n", cfgPath, snippet)
	fmt.Printf("Start minwon with:  minwon serve --config %s   (several nodes: add --listen ADDR --node NAME)\n", cfgPath)
	fmt.Printf("Demo accounts:      %s\nPress Ctrl-C to stop the agencies.\n", prep.AccountsPath)
	<-ctx.Done()
	fmt.Println("stopping...")
	return nil
}
