package pgpair_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/minwon/minwon/internal/pgpair"
	"github.com/minwon/minwon/internal/pgpair/pgpairtest"
)

// A row committed on site A is on site B after A is lost and B promoted,
// and B then takes writes without waiting for a standby it no longer has.
func TestLosePrimaryPromoteStandby(t *testing.T) {
	pgpairtest.Require(t)
	ctx := t.Context()
	p, err := pgpair.Start(ctx, pgpair.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := p.SyncState(ctx); got != "sync" {
		t.Fatalf("sync_state %q", got)
	}
	if err := p.CreateDatabase(ctx, "drill"); err != nil {
		t.Fatal(err)
	}
	exec := func(standby bool, q string) error {
		conn, err := pgx.Connect(ctx, p.DSN(standby, "drill"))
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, q)
		return err
	}
	if err := exec(false, "CREATE TABLE t (n int PRIMARY KEY); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := exec(true, "INSERT INTO t VALUES (2)"); err == nil {
		t.Fatal("the standby took a write before promotion")
	}
	if err := p.LosePrimary(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, p.DSN(true, "drill"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t WHERE n = 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("site A's row on site B: %d, %v", n, err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatalf("write on promoted site B: %v", err)
	}
	dir := p.Dir()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the clusters' directory is still there after Close: %v", err)
	}
}
