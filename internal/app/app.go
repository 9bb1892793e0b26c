// Package app assembles minwon's parts — store, linkage, catalog, sessions,
// access rules, issuance pipeline, API and pages — into one HTTP handler.
// cmd/minwon and the end-to-end tests build minwon the same way through it.
package app

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/access"
	"github.com/minwon/minwon/internal/admin"
	"github.com/minwon/minwon/internal/api"
	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/caseriver"
	"github.com/minwon/minwon/internal/casework"
	"github.com/minwon/minwon/internal/checkcode"
	"github.com/minwon/minwon/internal/counter"
	"github.com/minwon/minwon/internal/credential"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/governance"
	"github.com/minwon/minwon/internal/guard"
	"github.com/minwon/minwon/internal/health"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/incident"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/keyring"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/metrics"
	"github.com/minwon/minwon/internal/notify"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/render"
	"github.com/minwon/minwon/internal/reqid"
	"github.com/minwon/minwon/internal/rollback"
	"github.com/minwon/minwon/internal/sdjwt"
	"github.com/minwon/minwon/internal/seal"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/verification"
	"github.com/minwon/minwon/internal/web"
	"github.com/minwon/minwon/internal/witness"
)

// Config is what the app needs from its environment.
type Config struct {
	DB             *store.DB
	Agencies       []linkage.Endpoint
	LinkageOptions linkage.Options
	KeyDir         string // document-signing key files (see package keyring)
	// DocumentCert is the PKI's document-signing certificate: every PDF
	// gets a standard signature by it (required).
	DocumentCert *docsig.Certificate
	LogKey       ed25519.PrivateKey // signs transparency log checkpoints
	LogOrigin    string             // the log's name in its checkpoints
	PublicURL    string             // e.g. http://127.0.0.1:8080, used in verification URLs
	SessionTTL   time.Duration
	Log          *slog.Logger
	// PortalIssuances bounds the portal's issuances in flight (the
	// counter's are not bounded); 0 means two per core.
	PortalIssuances int
	// VerifyUploads bounds the uploaded PDFs verified at once (the API's
	// and the pages' together); 0 means two per core. An upload that finds
	// no slot within a second is answered 503 with Retry-After.
	VerifyUploads int
	// SubjectIndexKey keys the hashes under which the counter finds
	// citizens by number (32 random bytes; see ident.Indexer). Without it
	// the counter cannot look anyone up.
	SubjectIndexKey []byte
	// DataKEK wraps the data keys that seal stored documents (32 bytes;
	// see package seal). Nil: KeyDir's data-kek.key, created if missing.
	DataKEK []byte
	// CheckCodeKey keys the stored hashes of documents' check codes (32
	// bytes; see package checkcode). Nil: KeyDir's check-code.key, created
	// if missing.
	CheckCodeKey []byte
	// Retention is how long a document's PDF and data.json are kept after
	// issuance; then they are deleted, while its row, hash and log entry
	// stay, so its number still verifies. 0 means DefaultRetention;
	// negative keeps documents forever.
	Retention time.Duration
	// Canary sets how a newly approved template version is tried on a
	// share of requests before it becomes active (see package governance).
	Canary governance.Policy
	// NotifyDir, if set, is where the outbound channel delivers notices
	// (notify.FileSender: NotifyDir/outbox.jsonl); empty, notices reach the
	// portal inbox only.
	NotifyDir string
	// Limits bound each principal's issuances, downloads and counter
	// look-ups (package guard); nil means guard.DefaultLimits.
	Limits *guard.Limits
	// Incidents, if set, has an incident opened whenever a principal is
	// blocked for bulk access; nil: an alert only.
	Incidents guard.IncidentOpener
	// CheckpointMaxAge is how old the log's newest checkpoint may be before
	// /readyz says this node is not ready (a live log signs again every
	// doclog.FreshEvery); 0 means DefaultCheckpointMaxAge.
	CheckpointMaxAge time.Duration
	// SeenCheckpoint, if set, is the file outside the database where the
	// log's newest checkpoint is kept after each new one (package
	// rollback). At start the log must extend it, or minwon refuses to
	// serve: the database lost entries the world already saw.
	SeenCheckpoint string
	// AcceptLogRollback serves a log that is behind or forked from the
	// seen checkpoint (or the witness): an operator's decision, recorded
	// as an audit event and a critical incident, after which the seen
	// checkpoint is replaced (the old one kept beside it).
	AcceptLogRollback bool
	// Operator names who started minwon (for the audit record of an
	// accepted rollback); default "console".
	Operator string
	// Witness, if set, is asked to cosign every new checkpoint (package
	// witness); the published checkpoint carries its cosignature. At
	// start, a witness that holds a larger or another tree refuses the
	// start like the seen checkpoint does.
	Witness *Witness
	// Casework tunes the applications' job queue: backoff after a failed
	// attempt (default 1s doubling to 1m), the lease of a claimed job
	// (default 1m) and the workers (default 8).
	Casework CaseworkOptions
}

// CaseworkOptions tune the applications' job queue (see package casework).
type CaseworkOptions struct {
	Backoff, MaxBackoff, Lease time.Duration
	Workers                    int
	// Poll is how often the queue is looked at when nothing wakes it
	// (another node's submissions, retries coming due); default 500ms.
	Poll time.Duration
	// TableQueue keeps the store's table queue on PostgreSQL too, instead
	// of River (package caseriver), to compare the two; SQLite always
	// uses the table queue unless RiverOnSQLite.
	TableQueue bool
	// RiverOnSQLite runs the jobs on River's SQLite driver (riversqlite)
	// instead of the table queue, to compare the two: it passes the tests
	// but drained a backlog slower (docs/BENCHMARKS.md).
	RiverOnSQLite bool
}

// Witness names a C2SP tlog-witness: its base URL and its cosignature/v1
// verifier key.
type Witness struct {
	URL         string
	VerifierKey string
}

// DefaultCheckpointMaxAge allows a few missed re-signings of an idle log.
const DefaultCheckpointMaxAge = 5 * doclog.FreshEvery

// DefaultRetention keeps a document's files 90 days: long enough to
// download it again after submitting it, short enough that the database
// is not an archive of everyone's RRN. The log and audit records are kept
// forever.
const DefaultRetention = 90 * 24 * time.Hour

// notifyEvery is how often the outbox hands due notices to the sender.
const notifyEvery = 2 * time.Second

// purgeEvery is how often the app deletes the files past retention.
const purgeEvery = time.Hour

// App is a built minwon.
type App struct {
	Catalog  *form.Catalog
	Links    *linkage.Client
	Pipeline *issuance.Pipeline
	Sessions *auth.Sessions
	Log      *doclog.Log
	Keys     *keyring.Ring
	Verifier *verification.Verifier
	Handler  http.Handler
	// Admin is the operators' API; serve it on its own listener with a
	// TLS config from pki.ServerTLS, like the counter.
	Admin func(creds pki.CredentialChecker) http.Handler
	// Counter is the officials' API; serve it on its own listener with a
	// TLS config from pki.ServerTLS. creds decides whether a verified
	// certificate may act (a *pki.Checker).
	Counter func(creds pki.CredentialChecker) http.Handler
	Audit   *audit.Log
	// Forms governs template versions: which one serves each request.
	Forms *governance.Governor
	// Incidents opens incidents and runs recalls; other parts open
	// incidents through its OpenIncident.
	Incidents *incident.Service
	Notify    *notify.Outbox
	// Metrics are minwon's Prometheus metrics, served to operators and
	// auditors at /metrics on the admin listener.
	Metrics *metrics.Metrics
	// Health answers /livez and /readyz on the portal and admin listeners.
	Health *health.Checker
	// Casework takes applications and reports and runs their jobs.
	Casework *casework.Service

	db         *store.DB
	retention  time.Duration
	log        *slog.Logger
	stopPurge  context.CancelFunc
	purgeDone  chan struct{}
	notifyDone chan struct{}
	seen       *rollback.Keeper
	cosigner   *witness.Cosigner
	casesDone  chan struct{}
}

// Close stops the retention purge and the transparency log's committer.
func (a *App) Close() {
	a.stopPurge()
	<-a.purgeDone
	<-a.notifyDone
	<-a.casesDone
	a.Log.Close()
	if a.seen != nil {
		a.seen.Close()
	}
	if a.cosigner != nil {
		a.cosigner.Close()
	}
	// A recall still running stops at its next append, to resume at the
	// next start.
	a.Incidents.Wait()
}

// Purge deletes the files of the documents issued more than the retention
// period before now and returns how many; the app runs it every hour.
func (a *App) Purge(ctx context.Context, now time.Time) (int64, error) {
	if a.retention < 0 {
		return 0, nil
	}
	return a.db.PurgeDocuments(ctx, now.Add(-a.retention))
}

func (a *App) purgeLoop(ctx context.Context) {
	defer close(a.purgeDone)
	t := time.NewTicker(purgeEvery)
	defer t.Stop()
	for {
		if n, err := a.Purge(ctx, time.Now()); err != nil && ctx.Err() == nil {
			a.log.Error("retention purge", "err", err)
		} else if n > 0 {
			a.log.Info("retention purge: deleted the files of documents past retention", "documents", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// New builds the app.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 30 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	schema := linkage.DefaultSchema()
	catalog, err := form.Builtin(schema)
	if err != nil {
		return nil, err
	}
	m := newMetrics(catalog, schema)
	if cfg.LinkageOptions.Observer == nil {
		cfg.LinkageOptions.Observer = m
	}
	links, err := linkage.NewClient(schema, cfg.Agencies, cfg.LinkageOptions)
	if err != nil {
		return nil, err
	}
	renderer, err := render.New()
	if err != nil {
		return nil, fmt.Errorf("app: fonts: %w", err)
	}
	sessions, err := auth.NewSessions(cfg.DB, cfg.SessionTTL)
	if err != nil {
		return nil, err
	}
	sessions.Observer = m
	if cfg.LogOrigin == "" {
		cfg.LogOrigin = "minwon.local/log"
	}
	if cfg.DocumentCert == nil {
		return nil, fmt.Errorf("app: DocumentCert (the PKI's document-signing certificate) is required")
	}
	if cfg.KeyDir == "" {
		return nil, fmt.Errorf("app: KeyDir (where document-signing keys live) is required")
	}
	if cfg.DataKEK == nil {
		if cfg.DataKEK, err = keyfile.LoadOrCreateSecret(datadir.KeyDir(cfg.KeyDir).DataKEK()); err != nil {
			return nil, fmt.Errorf("app: data KEK: %w", err)
		}
	}
	kek, err := seal.NewKEK(cfg.DataKEK)
	if err != nil {
		return nil, err
	}
	if err := cfg.DB.Protect(ctx, kek); err != nil {
		return nil, err
	}
	if cfg.CheckCodeKey == nil {
		if cfg.CheckCodeKey, err = keyfile.LoadOrCreateSecret(datadir.KeyDir(cfg.KeyDir).CheckCodeKey()); err != nil {
			return nil, fmt.Errorf("app: check-code key: %w", err)
		}
	}
	codes, err := checkcode.NewHasher(cfg.CheckCodeKey)
	if err != nil {
		return nil, err
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	ring, err := keyring.Open(ctx, cfg.DB, cfg.KeyDir)
	if err != nil {
		return nil, err
	}
	logKeyID, err := ring.RegisterLog(ctx, cfg.LogKey)
	if err != nil {
		return nil, err
	}
	// After a log key rotation the newest checkpoint may still carry the
	// previous key's signature; the log signs it again with the new one.
	var previousLogKeys []ed25519.PublicKey
	for _, k := range ring.Previous(keyring.Log) {
		previousLogKeys = append(previousLogKeys, k.PublicKey)
	}
	log, err := doclog.Open(ctx, cfg.DB, cfg.LogOrigin, cfg.LogKey, previousLogKeys...)
	if err != nil {
		return nil, err
	}
	cosigner, err := newCosigner(cfg, log)
	if err != nil {
		log.Close()
		return nil, err
	}
	rolledBack, err := checkRollback(ctx, log, cfg, cosigner)
	if err != nil {
		log.Close()
		return nil, err
	}
	// What the log publishes: its checkpoints, with the witness's
	// cosignature once it has cosigned them.
	var published publishedLog = log
	if cosigner != nil {
		published = witness.Published{Log: log, Cosigner: cosigner}
	}
	verifierKey, err := doclog.VerifierKey(cfg.LogOrigin, cfg.LogKey.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	inventory := verification.Inventory{Ring: ring, Log: verification.LogKeyJSON{Origin: cfg.LogOrigin, KeyID: logKeyID, VerifierKey: verifierKey}}
	verifier := &verification.Verifier{Entries: cfg.DB, Log: published, Keys: ring}
	uploads := verification.NewUploads(verifier, cfg.VerifyUploads, time.Second)
	// Cookies are Secure, and the pages send HSTS, when the public URL is
	// https: the listener (or a proxy before it) speaks TLS.
	secure := strings.HasPrefix(cfg.PublicURL, "https://")
	resolver := access.NewResolver(links)
	auditLog := &audit.Log{Store: cfg.DB}
	limits := guard.DefaultLimits()
	if cfg.Limits != nil {
		limits = *cfg.Limits
	}
	bulk, err := guard.New(limits, guard.AlertFunc(func(ctx context.Context, kind, principal, detail string) error {
		return cfg.DB.RecordAlert(ctx, issuance.Alert{At: time.Now(), Kind: kind, RequesterLogin: principal, Detail: detail})
	}))
	if err != nil {
		return nil, err
	}
	bulk.Incidents, bulk.Log = cfg.Incidents, cfg.Log
	outbox := &notify.Outbox{Store: cfg.DB, Log: cfg.Log}
	if cfg.NotifyDir != "" {
		outbox.Sender = &notify.FileSender{Dir: cfg.NotifyDir}
	}
	golden, err := governance.NewGolden(renderer)
	if err != nil {
		return nil, err
	}
	forms := &governance.Governor{Store: cfg.DB, Agencies: schema, Golden: golden, Policy: cfg.Canary, Log: cfg.Log}
	if err := forms.Start(ctx); err != nil {
		return nil, err
	}
	pipeline := &issuance.Pipeline{
		Catalog:      catalog,
		Templates:    forms,
		Links:        links,
		Access:       resolver,
		Renderer:     renderer,
		Keys:         ring,
		DocumentCert: cfg.DocumentCert,
		Store:        cfg.DB,
		Log:          log,
		Names:        cfg.DB,
		Audit:        auditLog,
		Guard:        bulk,
		Metrics:      m,
		VerifyURL:    cfg.PublicURL + "/verify",
		CheckCodes:   codes,
	}
	viewer := &checkcode.Viewer{Store: cfg.DB, Hasher: codes, Audit: auditLog}
	// Wallet credentials are signed by the same PKI certificate as the
	// PDFs, so a verifier trusts one root for both.
	credentials := &credential.Service{
		Documents: pipeline, Store: cfg.DB, BaseURL: cfg.PublicURL,
		Issuer: &sdjwt.Issuer{Key: cfg.DocumentCert.Key, Chain: cfg.DocumentCert.Chain},
	}
	// A canary that draws a privacy refusal revokes what it issued.
	forms.Revoker = pipeline
	// A recall's notices go to each affected citizen's inbox.
	incidents := &incident.Service{Store: cfg.DB, Catalog: catalog, Revoker: pipeline, Names: cfg.DB, Renderer: renderer, Notifier: outbox, Log: cfg.Log}
	// A canary rolled back, a principal blocked for bulk access and a run
	// of swapped agency answers open an incident.
	forms.Incidents = incidents
	pipeline.Swaps = &issuance.SwapWatch{Incidents: incidents}
	if bulk.Incidents == nil {
		bulk.Incidents = incidents
	}
	cases := &casework.Service{
		Catalog: catalog, Store: cfg.DB, Links: links, Access: resolver, Audit: auditLog, Log: cfg.Log,
		Backoff: cfg.Casework.Backoff, MaxBackoff: cfg.Casework.MaxBackoff, Lease: cfg.Casework.Lease, Workers: cfg.Casework.Workers,
	}
	cases.Start()
	poll := cfg.Casework.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	// On PostgreSQL River runs the jobs (on SQLite if asked), its schema
	// migrated here.
	var riverQ *caseriver.Queue
	if (cfg.DB.PostgresDB() != nil && !cfg.Casework.TableQueue) || (cfg.DB.SQLiteDB() != nil && cfg.Casework.RiverOnSQLite) {
		riverQ, err = caseriver.New(ctx, cfg.DB, cases, caseriver.Options{Workers: cfg.Casework.Workers, Poll: poll, Lease: cfg.Casework.Lease, Log: cfg.Log})
		if err != nil {
			return nil, err
		}
		cases.Queue = riverQ
	}
	// The portal's issuances are bounded; the counter's are not, so a
	// flood of citizens cannot starve the officials.
	portalIssuer := pipeline.Admit(cfg.PortalIssuances)
	pages, err := web.New(web.Server{
		Catalog: catalog, Agencies: links, Sessions: sessions, Profiles: resolver, Issuer: portalIssuer, Verifier: verifier, Uploads: uploads, CheckCodes: viewer, Credentials: credentials, Log: cfg.Log,
		Access: audit.View{Store: cfg.DB}, Inbox: outbox, Casework: cases,
		SecureCookies: secure,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", (&api.Server{
		Catalog:  catalog,
		Agencies: links,
		Sessions: sessions,
		Profiles: resolver,
		Issuer:   portalIssuer,
		Verifier: verifier,
		Uploads:  uploads,
		Keys:     inventory,

		CheckCodes:  viewer,
		Credentials: credentials,
		Access:      audit.View{Store: cfg.DB},
		Inbox:       outbox,
		Casework:    cases,
		Log:         cfg.Log,

		SecureCookies: secure,
	}).Handler())
	mux.Handle("/log/", api.LogHandler(published, verifierKey))
	mux.Handle("/", pages.Handler())
	m.Watch(metrics.Sources{
		Breakers:       breakers(links),
		BreakerStates:  []string{string(linkage.Closed), string(linkage.Open), string(linkage.HalfOpen)},
		CheckpointTime: log.CheckpointTime,
		PendingNotices: cfg.DB.PendingNotices,
		WaitingApplications: func(ctx context.Context) (map[string]int, error) {
			// Every agency has a series, 0 while nothing waits for it.
			byAgency, err := cases.Waiting(ctx)
			if err != nil {
				return nil, err
			}
			if byAgency == nil {
				byAgency = map[string]int{}
			}
			for _, e := range cfg.Agencies {
				byAgency[e.Agency] += 0
			}
			return byAgency, nil
		},
	})
	if cfg.CheckpointMaxAge <= 0 {
		cfg.CheckpointMaxAge = DefaultCheckpointMaxAge
	}
	checker := readiness(cfg.DB, ring, log, cfg.CheckpointMaxAge, cfg.Log)
	checker.Register(mux)
	adminHandler := func(creds pki.CredentialChecker) http.Handler {
		srv := &admin.Server{
			Credentials: creds, Keys: inventory, Revoker: pipeline, Alerts: cfg.DB,
			Audit: auditLog, AuditEvents: cfg.DB, Forms: forms, Incidents: incidents, Guard: bulk, Log: cfg.Log,
			Metrics: m.Handler(cfg.Log), Health: checker,
		}
		if c, ok := creds.(*pki.Checker); ok {
			srv.Validation = c
		}
		return observed(m, "admin", srv.Handler())
	}
	counterHandler := func(creds pki.CredentialChecker) http.Handler {
		return observed(m, "counter", (&counter.Server{
			Catalog: catalog, Credentials: creds, Issuer: pipeline, Audit: auditLog, Guard: bulk, Cases: cases, Log: cfg.Log,
			Subjects: counter.Index{Indexer: ident.NewIndexer(cfg.SubjectIndexKey), Store: cfg.DB},
		}).Handler())
	}
	if rolledBack != nil {
		if err := recordRollback(ctx, cfg, rolledBack, auditLog, incidents); err != nil {
			log.Close()
			return nil, err
		}
	}
	var keeper *rollback.Keeper
	if cfg.SeenCheckpoint != "" {
		keeper = &rollback.Keeper{Path: cfg.SeenCheckpoint, Log: log, OnError: func(err error) {
			cfg.Log.Error("keep the seen checkpoint", "err", err)
		}}
		if err := keeper.Start(); err != nil {
			log.Close()
			return nil, err
		}
	}
	if cosigner != nil {
		cosigner.Alert = func(kind, detail string) {
			cfg.Log.Error("witness", "alert", kind, "detail", detail)
			if err := cfg.DB.RecordAlert(context.WithoutCancel(ctx), issuance.Alert{At: time.Now(), Kind: kind, Detail: detail}); err != nil {
				cfg.Log.Error("record a witness alert", "err", err)
			}
		}
		cosigner.Start()
	}
	a := &App{Catalog: catalog, Links: links, Pipeline: pipeline, Sessions: sessions, Log: log, Keys: ring, Verifier: verifier, Handler: observed(m, "portal", mux), Admin: adminHandler, Counter: counterHandler, Audit: auditLog, Forms: forms, Incidents: incidents,
		Metrics: m, Health: checker,
		db: cfg.DB, retention: cfg.Retention, log: cfg.Log, purgeDone: make(chan struct{}), seen: keeper, cosigner: cosigner,
		Casework: cases, casesDone: make(chan struct{})}
	var purgeCtx context.Context
	purgeCtx, a.stopPurge = context.WithCancel(context.WithoutCancel(ctx))
	go a.purgeLoop(purgeCtx)
	// Applications queued before a crash or a restart, and those waiting
	// for an agency, are worked from here on.
	if riverQ != nil {
		// Started apart from purgeCtx: Close stops it gracefully,
		// letting running jobs finish.
		if err := riverQ.Start(context.WithoutCancel(ctx)); err != nil {
			close(a.casesDone)
			a.Close()
			return nil, err
		}
		go func() {
			defer close(a.casesDone)
			<-purgeCtx.Done()
			stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			riverQ.Stop(stop)
			<-riverQ.Stopped()
		}()
	} else {
		go func() {
			defer close(a.casesDone)
			cases.Run(purgeCtx, poll)
		}()
	}
	// A recall approved before a crash or a restart goes on where it was.
	if err := incidents.Resume(ctx); err != nil {
		a.Close()
		return nil, err
	}
	// Approvals and rollbacks made on another node serve here within
	// seconds; canaries are also judged by time.
	go forms.Watch(purgeCtx, 5*time.Second)
	a.Notify, a.notifyDone = outbox, make(chan struct{})
	go func() {
		defer close(a.notifyDone)
		outbox.Run(purgeCtx, notifyEvery)
	}()
	return a, nil
}

// observed gives every request to h on listener a request id and times it.
func observed(m *metrics.Metrics, listener string, h http.Handler) http.Handler {
	return reqid.Handler(m.Middleware(listener, h))
}

// newMetrics creates the metrics with the closed label sets of this
// catalog and schema.
func newMetrics(catalog *form.Catalog, schema *linkage.Schema) *metrics.Metrics {
	var services, rules []string
	for _, svc := range catalog.Services() {
		if svc.Kind == form.Certificate {
			services = append(services, svc.ID)
		}
	}
	for _, r := range issuance.Rules {
		rules = append(rules, string(r))
	}
	return metrics.New(metrics.Known{
		Services: services, Outcomes: issuance.Outcomes, Rules: rules,
		Agencies: schema.Agencies(), LinkageOutcomes: linkage.Outcomes,
	})
}

// breakers reads the agencies' breaker states at scrape time.
func breakers(links *linkage.Client) func() map[string]string {
	return func() map[string]string {
		out := map[string]string{}
		for _, st := range links.Status() {
			out[st.Agency] = string(st.State)
		}
		return out
	}
}

// readiness is what /readyz checks: only what this node owns. The
// agencies are not checked: one agency down degrades the services that
// need it (see /status) and must not take every node out.
func readiness(db *store.DB, ring *keyring.Ring, log *doclog.Log, maxAge time.Duration, logger *slog.Logger) *health.Checker {
	return &health.Checker{Log: logger, Checks: []health.Check{
		{Name: "database", Reason: "the database does not answer", Func: db.Ping},
		{Name: "signing_keys", Reason: "no document-signing key is loaded", Func: func(context.Context) error { return ring.Ready() }},
		{Name: "log_writer", Reason: "the transparency log writer is stopped", Func: func(context.Context) error { return log.Usable() }},
		{Name: "checkpoint", Reason: "the transparency log's newest checkpoint is too old", Func: health.MaxAge(log.CheckpointTime, maxAge, time.Now)},
	}}
}
