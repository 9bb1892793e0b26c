// Package store owns minwon's own database: accounts and, as minwon grows,
// sessions, issued documents and the transparency log. The SQL lives here,
// next to the code that runs it, with migrations as numbered files embedded
// in the binary.
//
// Two backends run the same SQL and the same migrations: embedded SQLite
// (pure Go, no cgo; the default for demos and single-machine installs) and
// PostgreSQL through pgx (for several app nodes sharing one database). The
// SQL is kept to what both run, with "?" placeholders rebound per dialect.
// Package store never holds agency source records and never logs values.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	_ "modernc.org/sqlite"           // registers the "sqlite" driver

	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/seal"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// DB is minwon's database.
type DB struct {
	sql     *sql.DB
	dialect dialect
	now     func() time.Time
	sealer  atomic.Pointer[seal.Sealer] // set by Protect; documents are never stored without it
	kek     atomic.Pointer[seal.KEK]    // Protect's, to read data keys other nodes add

	stmtMu sync.RWMutex
	stmts  map[string]*sql.Stmt // hot queries, prepared once (parsing was a third of a verification)
}

// maxStmts bounds the prepared-statement cache (queries with IN lists of
// varying length each take a slot).
const maxStmts = 256

// prepared returns the prepared statement for q ("?" placeholders), or nil
// if it cannot be prepared or the cache is full; callers then run q directly.
func (db *DB) prepared(ctx context.Context, q string) *sql.Stmt {
	db.stmtMu.RLock()
	st, ok := db.stmts[q]
	db.stmtMu.RUnlock()
	if ok {
		return st
	}
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if st, ok := db.stmts[q]; ok {
		return st
	}
	if db.stmts == nil {
		db.stmts = map[string]*sql.Stmt{}
	}
	if len(db.stmts) >= maxStmts {
		return nil
	}
	st, err := db.sql.PrepareContext(ctx, db.rebind(q))
	if err != nil {
		return nil
	}
	db.stmts[q] = st
	return st
}

// query runs a hot query through its prepared statement.
func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := db.prepared(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.sql.QueryContext(ctx, db.rebind(q), args...)
}

// queryRow runs a hot one-row query through its prepared statement.
func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := db.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.sql.QueryRowContext(ctx, db.rebind(q), args...)
}

type dialect int

const (
	sqlite dialect = iota + 1
	postgres
)

// Backend names the database behind db: "sqlite" or "postgres".
func (db *DB) Backend() string {
	if db.dialect == postgres {
		return "postgres"
	}
	return "sqlite"
}

// Open opens the database a DSN names: a postgres:// or postgresql:// URL
// opens PostgreSQL, anything else is the path of a SQLite file.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgresDSN(dsn) {
		return OpenPostgres(ctx, dsn, PostgresOptions{})
	}
	return OpenSQLite(ctx, dsn)
}

// IsPostgresDSN reports whether dsn is a PostgreSQL URL.
func IsPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// PostgresOptions tune the connection pool; zero values take the defaults.
type PostgresOptions struct {
	MaxConns int // open connections at most; default 16
	// ApplicationName names this process to the server (pg_stat_activity,
	// LogSequencer); default: the DSN's application_name, if any.
	ApplicationName string
	// IdleInTransactionTimeout has the server end a session of this process
	// that sits idle inside a transaction that long: a frozen or cut-off
	// node then releases the log lock it holds, and another node takes
	// over. minwon's transactions never wait on the client for long.
	// Default 10s, unless the DSN sets idle_in_transaction_session_timeout;
	// negative: leave the server's setting.
	IdleInTransactionTimeout time.Duration
}

// OpenPostgres connects to PostgreSQL (a pgx DSN: URL or key=value form)
// and brings the schema up to date. Several minwon processes may open the
// same database at once: migrations and log appends take advisory locks
// (see lockMigrate and BeginLog), so they never run twice or interleave.
//
// The tables live in the DSN's search_path (its first schema), so one
// database can hold several independent minwons, e.g. one per test.
func OpenPostgres(ctx context.Context, dsn string, opt PostgresOptions) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included.
		return nil, errors.New("store: the PostgreSQL DSN does not parse (expected postgres://user@host:5432/db?sslmode=... or key=value pairs)")
	}
	if opt.ApplicationName != "" {
		cfg.RuntimeParams["application_name"] = opt.ApplicationName
	}
	if _, set := cfg.RuntimeParams["idle_in_transaction_session_timeout"]; !set && opt.IdleInTransactionTimeout >= 0 {
		if opt.IdleInTransactionTimeout == 0 {
			opt.IdleInTransactionTimeout = 10 * time.Second
		}
		cfg.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(opt.IdleInTransactionTimeout.Milliseconds(), 10)
	}
	sdb := stdlib.OpenDB(*cfg)
	if opt.MaxConns <= 0 {
		opt.MaxConns = 16
	}
	sdb.SetMaxOpenConns(opt.MaxConns)
	sdb.SetMaxIdleConns(opt.MaxConns)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("store: connect to postgres: %w", err)
	}
	db := &DB{sql: sdb, dialect: postgres, now: time.Now}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	if err := db.chainLegacyAudit(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	db.warmStatements(ctx)
	return db, nil
}

// Advisory lock keys (PostgreSQL). Each lock is the pair (class, hash of the
// current schema): minwons in different schemas of one database do not
// contend, and a session's locks go with its connection, so a node that
// dies releases what it held.
const (
	lockClassMigrate = 0x6d770001 // "mw" 1: schema migrations
	lockClassLog     = 0x6d770002 // "mw" 2: the transparency log's sequencer
)

// advisoryXactLock returns the statement that takes the transaction-level
// advisory lock of class in the current schema.
func advisoryXactLock(class int) string {
	return fmt.Sprintf("SELECT pg_advisory_xact_lock(%d, hashtext(coalesce(current_schema(), '')))", class)
}

// OpenSQLite opens (creating if needed) the SQLite database at path and
// brings its schema up to date.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := ownerOnly(path); err != nil {
		return nil, err
	}
	// WAL lets readers run beside the one writer; synchronous(FULL) makes a
	// commit durable before it returns; _txlock=immediate takes the write
	// lock at BEGIN, so concurrent writers queue on busy_timeout instead of
	// failing on a lock upgrade; secure_delete zeroes what a purge or the
	// sealing of a document stored in clear leaves behind.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=secure_delete(1)&_txlock=immediate"
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Idle connections are kept as many as may be open: with the default
	// of two, every burst past two readers closed connections and opened
	// new ones, each running the pragmas and preparing its statements
	// again (a tenth of a recall's CPU went to opening connections).
	sdb.SetMaxOpenConns(8)
	sdb.SetMaxIdleConns(8)
	db := &DB{sql: sdb, dialect: sqlite, now: time.Now}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	if err := db.chainLegacyAudit(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	db.warmStatements(ctx)
	return db, nil
}

// ownerOnly creates the SQLite file at path mode 0600 if it does not exist,
// and makes it and its WAL and shared-memory files 0600 if they do (a data
// directory from an earlier minwon). SQLite creates the -wal and -shm
// files with the database file's mode whatever the umask, so they follow.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error { return db.sql.Close() }

// Ping checks that the database answers (for readiness).
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// rebind turns "?" placeholders into the dialect's form.
func (db *DB) rebind(q string) string {
	if db.dialect == sqlite {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// beginLocked starts a transaction that, on PostgreSQL, first takes the
// advisory lock of class; it is held until commit or rollback. On SQLite
// every transaction already holds the database's write lock from BEGIN.
func (db *DB) beginLocked(ctx context.Context, class int) (*sql.Tx, error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if db.dialect == postgres {
		if _, err := tx.ExecContext(ctx, advisoryXactLock(class)); err != nil {
			tx.Rollback()
			return nil, err
		}
	}
	return tx, nil
}

// migrate applies the embedded migrations not yet recorded, each in its own
// transaction under the migration lock: nodes starting together apply each
// migration exactly once.
func (db *DB) migrate(ctx context.Context) error {
	tx, err := db.beginLocked(ctx, lockClassMigrate)
	// SQLite answers BUSY at once, without waiting out busy_timeout, while
	// another process opening the same new file sets up its WAL: nodes
	// started together retry for a while.
	for wait := 10 * time.Millisecond; err != nil && db.dialect == sqlite && strings.Contains(err.Error(), "SQLITE_BUSY") && wait < 5*time.Second; wait *= 2 {
		time.Sleep(wait)
		tx, err = db.beginLocked(ctx, lockClassMigrate)
	}
	if err != nil {
		return fmt.Errorf("store: begin schema_migrations: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("store: list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		num, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("store: migration %s must start with its number", base)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("store: read %s: %w", base, err)
		}
		if err := db.apply(ctx, version, base, string(body)); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) apply(ctx context.Context, version int, name, body string) error {
	tx, err := db.beginLocked(ctx, lockClassMigrate)
	if err != nil {
		return fmt.Errorf("store: begin migration %s: %w", name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, db.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
		return fmt.Errorf("store: check migration %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	for _, stmt := range splitStatements(body) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: migration %s: %w", name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), version, db.now().Unix()); err != nil {
		return fmt.Errorf("store: record migration %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit migration %s: %w", name, err)
	}
	return nil
}

// splitStatements splits a migration on ";" at line ends, dropping "--"
// comment lines. Migrations keep one statement per ";"-terminated block.
func splitStatements(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") || trimmed == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// Meta returns a value from the meta table.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.sql.QueryRowContext(ctx, db.rebind(`SELECT value FROM meta WHERE key = ?`), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: meta %s: %w", key, err)
	}
	return v, nil
}

// errUnknownAccount is both ErrNotFound and auth.ErrUnknownAccount.
var errUnknownAccount = fmt.Errorf("%w: %w", ErrNotFound, auth.ErrUnknownAccount)

// Seed stores the accounts of a freshly generated population and the meta
// entries that record it, in one transaction: a crash leaves either the whole
// seed or none of it.
func (db *DB) Seed(ctx context.Context, meta map[string]string, accounts []auth.Account) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin seed: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, db.rebind(`INSERT INTO accounts (login, password_hash, subject, kind, created_at) VALUES (?, ?, ?, ?, ?)`))
	if err != nil {
		return fmt.Errorf("store: prepare seed: %w", err)
	}
	defer stmt.Close()
	now := db.now().Unix()
	for _, a := range accounts {
		if _, err := stmt.ExecContext(ctx, a.Login, a.PasswordHash, a.Subject, a.Kind, now); err != nil {
			return fmt.Errorf("store: insert account %s: %w", a.Login, err)
		}
	}
	for k, v := range meta {
		if _, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO meta (key, value) VALUES (?, ?)`), k, v); err != nil {
			return fmt.Errorf("store: insert meta %s: %w", k, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit seed: %w", err)
	}
	return nil
}

// Account returns the account with that login.
func (db *DB) Account(ctx context.Context, login string) (auth.Account, error) {
	a := auth.Account{Login: login}
	err := db.queryRow(ctx, `SELECT password_hash, subject, kind FROM accounts WHERE login = ?`, login).Scan(&a.PasswordHash, &a.Subject, &a.Kind)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Account{}, errUnknownAccount
	}
	if err != nil {
		return auth.Account{}, fmt.Errorf("store: account: %w", err)
	}
	return a, nil
}

// CountAccounts returns how many accounts exist.
func (db *DB) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count accounts: %w", err)
	}
	return n, nil
}

// SetMaxOpenConns bounds the connection pool.
func (db *DB) SetMaxOpenConns(n int) {
	db.sql.SetMaxOpenConns(n)
	db.sql.SetMaxIdleConns(n)
}
