package store

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
)

func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "minwon.db")
	db, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	db.Close()
	db2, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db2.Close()
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	var n int
	if err := db2.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(files) {
		t.Fatalf("schema_migrations rows = %d, %v; want %d", n, err, len(files))
	}
}

func TestSeedAndAccount(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	accounts := []Account{
		{Login: "citizen000001", PasswordHash: "h1", Subject: "PAAAAAAAAAA", Kind: "person"},
		{Login: "corp000001", PasswordHash: "h2", Subject: "CBBBBBBBBBB", Kind: "corporate"},
	}
	if err := db.Seed(ctx, map[string]string{"population": `{"people":1}`}, accounts); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	a, err := db.Account(ctx, "corp000001")
	if err != nil || a.Subject != "CBBBBBBBBBB" || a.Kind != "corporate" || a.PasswordHash != "h2" {
		t.Fatalf("Account = %+v, %v", a, err)
	}
	if _, err := db.Account(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown login: %v, want ErrNotFound", err)
	}
	if v, err := db.Meta(ctx, "population"); err != nil || v != `{"people":1}` {
		t.Fatalf("Meta = %q, %v", v, err)
	}
	if _, err := db.Meta(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown meta: %v", err)
	}
}

func TestSeedIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	accounts := []Account{
		{Login: "a", PasswordHash: "h", Subject: "P1", Kind: "person"},
		{Login: "a", PasswordHash: "h", Subject: "P2", Kind: "person"}, // duplicate login
	}
	if err := db.Seed(ctx, map[string]string{"population": "x"}, accounts); err == nil {
		t.Fatal("seed with a duplicate login succeeded")
	}
	if n, _ := db.CountAccounts(ctx); n != 0 {
		t.Fatalf("failed seed left %d accounts", n)
	}
	if _, err := db.Meta(ctx, "population"); !errors.Is(err, ErrNotFound) {
		t.Fatal("failed seed left its meta entry")
	}
	bad := []Account{{Login: "b", PasswordHash: "h", Subject: "P3", Kind: "robot"}}
	if err := db.Seed(ctx, nil, bad); err == nil {
		t.Fatal("account of unknown kind stored")
	}
}

func TestSplitStatements(t *testing.T) {
	got := splitStatements("-- c\nCREATE TABLE a (x INT);\n\nCREATE INDEX i ON a (x);\n")
	if len(got) != 2 || got[0] != "CREATE TABLE a (x INT);" || got[1] != "CREATE INDEX i ON a (x);" {
		t.Fatalf("splitStatements = %q", got)
	}
}
