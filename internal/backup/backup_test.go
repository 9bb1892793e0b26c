package backup_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/backup"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/rollback"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/verify"
)

const origin = "minwon.test/log"

func openCopy(ctx context.Context, path string) (backup.Copy, error) {
	return store.OpenSQLite(ctx, path)
}

// logged makes a SQLite database in dir whose log holds n entries from
// first, and returns its path and newest checkpoint.
func logged(t *testing.T, dir string, key ed25519.PrivateKey, first, n int) (string, []byte) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(dir, "minwon.db")
	db, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := doclog.Open(ctx, db, origin, key)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := first; i < first+n; i++ {
		s := fmt.Sprintf("%015d", i)
		e := doclog.Entry{Kind: doclog.KindIssued, Number: s + string(verify.NumberCheckDigit(s)), Service: "resident-registration-copy",
			KeyID: "doc-0123456789ab", SHA256: fmt.Sprintf("%064x", i), Time: time.Unix(1_764_000_000, 0).UTC()}
		if _, err := l.Append(ctx, e, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, _, cp := l.Checkpoint()
	return path, cp
}

// A backup of a log that forked from the checkpoint the world saw (same
// size, other entries) is refused, as is one whose log does not check; a
// backup of the same log restores.
func TestRestoreRefusesForkAndDamage(t *testing.T) {
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	vkey, _ := doclog.VerifierKey(origin, key.Public().(ed25519.PublicKey))
	lg := backup.Log{Origin: origin, VerifierKeys: []string{vkey}}

	live := t.TempDir()
	livePath, seen := logged(t, live, key, 0, 5)
	seenPath := filepath.Join(live, "checkpoint.last")
	if err := rollback.WriteFile(seenPath, seen); err != nil {
		t.Fatal(err)
	}
	opt := backup.Restore{Database: livePath, Dir: live, Seen: seenPath}

	forkPath, _ := logged(t, t.TempDir(), key, 100, 5)
	fork := filepath.Join(t.TempDir(), "fork.backup")
	src, err := store.OpenSQLite(ctx, forkPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := backup.Backup(ctx, src, openCopy, lg, fork, 0, nil)
	src.Close()
	if err != nil || r.LogSize != 5 {
		t.Fatalf("backup: %+v %v", r, err)
	}
	_, err = backup.RestoreFrom(ctx, openCopy, lg, fork, opt, nil)
	var fk *doclog.ForkError
	if !errors.As(err, &fk) {
		t.Fatalf("restoring a fork: %v, want a ForkError", err)
	}

	// A backup whose log is signed by another key is not this log.
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	otherPath, _ := logged(t, t.TempDir(), otherKey, 0, 5)
	if _, err := backup.Check(ctx, openCopy, lg, otherPath); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("a database of another log: %v", err)
	}
	// A damaged file does not check.
	damaged := filepath.Join(t.TempDir(), "damaged.backup")
	raw, _ := os.ReadFile(fork)
	for i := 4096; i < len(raw); i += 97 {
		raw[i] ^= 0xff
	}
	os.WriteFile(damaged, raw, 0o600)
	if _, err := backup.Check(ctx, openCopy, lg, damaged); err == nil {
		t.Error("a damaged backup checks")
	}

	// The live log's own backup restores, and the database it replaced is
	// kept.
	src, err = store.OpenSQLite(ctx, livePath)
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), "good.backup")
	_, err = backup.Backup(ctx, src, openCopy, lg, good, 1, nil)
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	if r, err := backup.RestoreFrom(ctx, openCopy, lg, good, opt, nil); err != nil || r.LogSize != 5 {
		t.Fatalf("restoring the log's own backup: %+v %v", r, err)
	}
	kept, _ := filepath.Glob(livePath + ".before-restore-*")
	if len(kept) == 0 {
		t.Error("the replaced database was not kept")
	}
}
