package keyring_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/keyring"
	"github.com/minwon/minwon/internal/store"
)

func open(t *testing.T) (*keyring.Ring, *store.DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys := filepath.Join(dir, "keys")
	r, err := keyring.Open(context.Background(), db, keys)
	if err != nil {
		t.Fatal(err)
	}
	return r, db, keys
}

func TestRotateRetiresAndRevokeInvalidates(t *testing.T) {
	ctx := context.Background()
	r, db, dir := open(t)
	first := r.Signer()
	if first.KeyID == "" {
		t.Fatal("no active key after Open")
	}
	signed := first.SignPDFTrailer("1234567890123452", []byte("%PDF-1.7\n"))
	if _, err := docsig.VerifyPDF(signed, r); err != nil {
		t.Fatalf("active key: %v", err)
	}
	second, err := r.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Signer().KeyID != second || second == first.KeyID {
		t.Fatalf("after rotation the signer is %s, want %s", r.Signer().KeyID, second)
	}
	if k, _ := r.Key(first.KeyID); keyring.State(k) != keyring.Retired {
		t.Fatalf("old key state %s", keyring.State(k))
	}
	if _, err := docsig.VerifyPDF(signed, r); err != nil {
		t.Fatalf("a retired key must still verify: %v", err)
	}
	if err := r.Revoke(ctx, first.KeyID, "stolen"); err != nil {
		t.Fatal(err)
	}
	if _, err := docsig.VerifyPDF(signed, r); err == nil {
		t.Fatal("a revoked key still verifies")
	}
	if err := r.Revoke(ctx, first.KeyID, "again"); !errors.Is(err, keyring.ErrAlreadyRevoked) {
		t.Fatalf("second revocation: %v", err)
	}
	if err := r.Revoke(ctx, "doc-000000000000", "x"); !errors.Is(err, keyring.ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
	// A second ring on the same database and directory (another node)
	// agrees, and picks up the active key from its file.
	other, err := keyring.Open(ctx, db, dir)
	if err != nil {
		t.Fatal(err)
	}
	if other.Signer().KeyID != second {
		t.Fatalf("other node signs with %s, want %s", other.Signer().KeyID, second)
	}
	if _, ok := other.PublicKey(first.KeyID); ok {
		t.Fatal("other node trusts the revoked key")
	}
}

func TestRevokingTheActiveKeyKeepsIssuanceGoing(t *testing.T) {
	r, _, _ := open(t)
	active := r.Signer().KeyID
	if err := r.Revoke(context.Background(), active, "compromised"); err != nil {
		t.Fatal(err)
	}
	now := r.Signer()
	if now.KeyID == active || now.Key == nil {
		t.Fatalf("still signing with the revoked key %s", active)
	}
	if _, ok := r.PublicKey(now.KeyID); !ok {
		t.Fatal("the replacement key does not verify")
	}
}

func TestOtherNodesSeeChangesWithinTheRefresh(t *testing.T) {
	ctx := context.Background()
	a, db, dir := open(t)
	b, err := keyring.Open(ctx, db, dir)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	keyring.SetClock(b, func() time.Time { return clock })
	old := a.Signer().KeyID
	if err := a.Revoke(ctx, old, "lost"); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.PublicKey(old); !ok {
		t.Fatal("b reloaded before its refresh interval (test clock is frozen)")
	}
	clock = clock.Add(keyring.RefreshInterval(b) + time.Millisecond)
	if _, ok := b.PublicKey(old); ok {
		t.Fatal("b still trusts a key revoked elsewhere after the refresh interval")
	}
	if b.Signer().KeyID != a.Signer().KeyID {
		t.Fatal("b did not move to the new active key")
	}
}

func TestAdoptsLegacyKey(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	legacy, err := keyfile.LoadOrCreate(filepath.Join(keys, keyring.LegacyDocumentKey))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := keyring.Open(context.Background(), db, keys)
	if err != nil {
		t.Fatal(err)
	}
	if want := docsig.KeyID(legacy.Public().(ed25519.PublicKey)); r.Signer().KeyID != want {
		t.Fatalf("active key %s, want the adopted %s", r.Signer().KeyID, want)
	}
}

func TestRegisterLog(t *testing.T) {
	ctx := context.Background()
	r, _, _ := open(t)
	key, _ := keyfile.Generate()
	id, err := r.RegisterLog(ctx, key)
	if err != nil || !strings.HasPrefix(id, "log-") {
		t.Fatalf("register: %q %v", id, err)
	}
	if again, err := r.RegisterLog(ctx, key); err != nil || again != id {
		t.Fatalf("second register: %q %v", again, err)
	}
	if _, ok := r.PublicKey(id); ok {
		t.Fatal("a log key must not verify documents")
	}
	if err := r.Revoke(ctx, id, "retired log"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RegisterLog(ctx, key); err == nil {
		t.Fatal("a revoked log key was accepted")
	}
}

func TestCheckReason(t *testing.T) {
	for _, tc := range []struct {
		reason string
		ok     bool
	}{
		{"issued from a wrong template", true},
		{"잘못된 양식으로 발급", true},
		{"", false},
		{" padded", false},
		{"two\nlines", false},
		{"tab\there", false},
		{strings.Repeat("가", 200), true},
		{strings.Repeat("가", 201), false},
		{"bad \xff utf8", false},
	} {
		if err := keyring.CheckReason(tc.reason); (err == nil) != tc.ok {
			t.Errorf("CheckReason(%q) = %v, want ok=%v", tc.reason, err, tc.ok)
		}
	}
}

func TestNodeWithoutTheKeyFileFailsInsteadOfInventing(t *testing.T) {
	ctx := context.Background()
	a, db, _ := open(t)
	elsewhere := t.TempDir()
	if _, err := keyring.Open(ctx, db, elsewhere); err == nil {
		t.Fatal("a node without the active key's file opened")
	}
	entries, _ := filepath.Glob(filepath.Join(elsewhere, "*.key"))
	if len(entries) != 0 {
		t.Fatalf("a key file was invented: %v", entries)
	}
	_ = a
}
