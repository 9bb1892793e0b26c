package rollback_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/doclog/doclogtest"
	"github.com/minwon/minwon/internal/rollback"
	"github.com/minwon/minwon/internal/verify"
)

func entry(i int) doclog.Entry {
	s := fmt.Sprintf("%015d", i)
	return doclog.Entry{Kind: doclog.KindIssued, Number: s + string(verify.NumberCheckDigit(s)), Service: "resident-registration-copy",
		KeyID: "doc-0123456789ab", SHA256: fmt.Sprintf("%064x", i), Time: time.Unix(1_764_000_000, 0).UTC()}
}

// The keeper follows the log into the file; a log shorter than the file
// is then a rollback, and no file is no finding.
func TestKeeperAndCheck(t *testing.T) {
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	path := filepath.Join(t.TempDir(), "checkpoint.last")
	l, err := doclog.Open(ctx, doclogtest.NewMemStore(), "minwon.test/log", key)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := rollback.Check(ctx, l, path); err != nil {
		t.Fatalf("no seen checkpoint yet: %v", err)
	}
	k := &rollback.Keeper{Path: path, Log: l, OnError: func(err error) { t.Error(err) }}
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := l.Append(ctx, entry(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	_, _, want := l.Checkpoint()
	for deadline := time.Now().Add(10 * time.Second); ; {
		got, _ := rollback.ReadSeen(path)
		if string(got) == string(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the file holds %q, want the newest checkpoint %q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	k.Close()
	if err := rollback.Check(ctx, l, path); err != nil {
		t.Fatalf("the log against its own file: %v", err)
	}
	short, err := doclog.Open(ctx, doclogtest.NewMemStore(), "minwon.test/log", key)
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	if err := rollback.Check(ctx, short, path); !doclog.IsRollback(err) {
		t.Fatalf("an empty log against a checkpoint of size 3: %v", err)
	}
	kept, err := rollback.KeepRolledBack(path, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(kept); string(b) != string(want) {
		t.Errorf("the kept checkpoint %s holds %q", kept, b)
	}
}
