// Package storetest runs tests against every store backend: SQLite in a
// temporary directory, and PostgreSQL when MINWON_TEST_POSTGRES names a
// server (a pgx DSN such as
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). Each test gets
// its own fresh PostgreSQL schema, dropped when the test ends, so tests and
// test runs never see each other's rows.
//
// Without MINWON_TEST_POSTGRES the PostgreSQL half is skipped, except under
// CI=true, where it fails: CI must not pass by silently testing one backend.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/seal"
	"github.com/minwon/minwon/internal/store"
)

// EnvPostgres names the environment variable holding the PostgreSQL DSN.
const EnvPostgres = "MINWON_TEST_POSTGRES"

// Backend is one empty database of one backend, for one test.
type Backend struct {
	Name string // "sqlite" or "postgres"
	// DSN opens this database: the SQLite file's path, or the PostgreSQL
	// DSN with search_path set to the test's own schema.
	DSN string
	// Schema is the test's PostgreSQL schema ("" for SQLite).
	Schema string
}

// Open opens a new handle on b's database (migrating it on first open),
// closed when t ends. Several handles on one Backend act as several minwon
// processes sharing one database.
func (b Backend) Open(t testing.TB) *store.DB {
	t.Helper()
	db, err := b.OpenErr(context.Background())
	if err != nil {
		t.Fatalf("open %s store: %v", b.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenErr opens a new handle on b's database; the caller closes it.
func (b Backend) OpenErr(ctx context.Context) (*store.DB, error) {
	if b.Name == "postgres" {
		// Small pools: many tests share one server's connection limit.
		return store.OpenPostgres(ctx, b.DSN, store.PostgresOptions{MaxConns: 6})
	}
	return store.OpenSQLite(ctx, b.DSN)
}

// SQL opens a plain database/sql handle on b's database, closed when t
// ends: for tests that check tables directly or act on the server (e.g.
// terminate a session). It does not migrate; open a store first.
func (b Backend) SQL(t testing.TB) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if b.Name == "postgres" {
		driver = "pgx"
	}
	db, err := sql.Open(driver, b.DSN)
	if err != nil {
		t.Fatalf("open %s: %v", b.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Open opens a fresh SQLite database for t: the shortcut for tests that
// need a store but test nothing backend-specific.
func Open(t testing.TB) *store.DB {
	t.Helper()
	return SQLite(t).Open(t)
}

// SQLite returns an empty SQLite database in t.TempDir().
func SQLite(t testing.TB) Backend {
	t.Helper()
	return Backend{Name: "sqlite", DSN: filepath.Join(t.TempDir(), "minwon.db")}
}

// Postgres returns an empty schema of the PostgreSQL server that
// MINWON_TEST_POSTGRES names, dropped when t ends. Without the variable it
// skips t, or fails it under CI=true.
func Postgres(t testing.TB) Backend {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set under CI=true: the PostgreSQL half of the store tests must run in CI (.ci/run sets it)", EnvPostgres)
		}
		t.Skipf("PostgreSQL tests skipped: set %s to a DSN, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", EnvPostgres)
	}
	var raw [6]byte
	if _, err := rand.Read(raw[:]); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(raw[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema on %s: %v", redact(base), err)
	}
	// Registered before any handle is opened, so it runs after they close.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("drop test schema: %v", err)
			return
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	return Backend{Name: "postgres", DSN: withSearchPath(base, schema), Schema: schema}
}

// WithApplicationName returns b with the PostgreSQL application_name set,
// so a handle's sessions can be told apart on the server (pg_stat_activity);
// on SQLite it returns b unchanged.
func (b Backend) WithApplicationName(name string) Backend {
	return b.WithSetting("application_name", name)
}

// WithSetting returns b with a PostgreSQL session setting (a run-time
// parameter such as idle_in_transaction_session_timeout) in its DSN; on
// SQLite it returns b unchanged.
func (b Backend) WithSetting(key, value string) Backend {
	if b.Name == "postgres" {
		b.DSN = withParam(b.DSN, key, value)
	}
	return b
}

// withSearchPath sets the session's search_path in a URL or key=value DSN.
func withSearchPath(dsn, schema string) string {
	return withParam(dsn, "search_path", schema)
}

// withParam sets a connection parameter (a plain word) in a URL or
// key=value DSN.
func withParam(dsn, key, value string) string {
	if store.IsPostgresDSN(dsn) {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set(key, value)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return strings.TrimSpace(dsn) + " " + key + "=" + value
}

// redact drops a password from a DSN URL for messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxx")
		}
		return u.String()
	}
	return "the configured server"
}

// Each runs f once per backend, as subtests named "sqlite" and "postgres",
// each with an empty database of its own.
func Each(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { f(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, Postgres(t)) })
}

// testKEK is the key-encryption key of Protect: fixed, so that every handle
// a test opens on one database opens the same data keys.
var testKEK = []byte("minwon storetest data KEK, 32 B!")

// Protect makes db seal documents (store.DB.Protect) under a fixed test
// key-encryption key, as the app does under its key file's.
func Protect(t testing.TB, db *store.DB) *store.DB {
	t.Helper()
	kek, err := seal.NewKEK(testKEK)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Protect(context.Background(), kek); err != nil {
		t.Fatalf("protect store: %v", err)
	}
	return db
}
