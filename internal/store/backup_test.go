package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
)

// A SQLite database copies itself into a file that opens and checks; a
// PostgreSQL one refuses (pg_basebackup's job).
func TestBackupTo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := b.Open(t)
		out := filepath.Join(t.TempDir(), "copy.db")
		err := db.BackupTo(ctx, out)
		if b.Name == "postgres" {
			if !errors.Is(err, store.ErrNotSQLite) || !errors.Is(db.IntegrityCheck(ctx), store.ErrNotSQLite) {
				t.Fatalf("a PostgreSQL backup: %v, want ErrNotSQLite", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := db.IntegrityCheck(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := store.OpenSQLite(ctx, out)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.IntegrityCheck(ctx); err != nil {
			t.Errorf("the copy: %v", err)
		}
		if err := db.BackupTo(ctx, out); err == nil {
			t.Error("VACUUM INTO an existing file succeeded")
		}
	})
}
