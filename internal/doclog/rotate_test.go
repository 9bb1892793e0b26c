package doclog_test

import (
	"context"
	"crypto/ed25519"
	"github.com/minwon/minwon/internal/doclog"
	"testing"

	"github.com/minwon/minwon/internal/storetest"
)

// TestKeyRotation replaces the log's checkpoint key: the log opens with the
// new key only when told the old one, signs its head again with the new
// key, and proofs across the rotation still verify.
func TestKeyRotation(t *testing.T) { storetest.Each(t, testKeyRotation) }

func testKeyRotation(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	oldKey, newKey2 := newKey(t), newKey(t)
	l, db := openLog(t, b, oldKey)
	for i := range 5 {
		if _, err := l.Append(ctx, testEntry(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	oldSize, oldRoot, oldCP := l.Checkpoint()
	l.Close()
	db.Close()

	db, err := b.OpenErr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := doclog.Open(ctx, db, origin, newKey2); err == nil {
		t.Fatal("a new key opened a log signed by an unknown key")
	}
	l, err = doclog.Open(ctx, db, origin, newKey2, oldKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("open with the previous key trusted: %v", err)
	}
	defer l.Close()
	newVK, _ := doclog.VerifierKey(origin, newKey2.Public().(ed25519.PublicKey))
	oldVK, _ := doclog.VerifierKey(origin, oldKey.Public().(ed25519.PublicKey))
	size, root, cp := l.Checkpoint()
	if size != oldSize || root != oldRoot {
		t.Fatalf("rotation changed the tree: %d/%x, was %d/%x", size, root, oldSize, oldRoot)
	}
	if _, err := doclog.OpenCheckpoint(cp, newVK); err != nil {
		t.Fatalf("the head is not signed again with the new key: %v", err)
	}
	if _, err := doclog.OpenCheckpoint(oldCP, newVK); err == nil {
		t.Fatal("the old checkpoint verifies with the new key alone")
	}
	if _, err := doclog.OpenCheckpoint(oldCP, newVK, oldVK); err != nil {
		t.Fatalf("the old checkpoint with the old key trusted: %v", err)
	}
	for i := 5; i < 9; i++ {
		if _, err := l.Append(ctx, testEntry(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	size, root, cp = l.Checkpoint()
	if _, err := doclog.OpenCheckpoint(cp, newVK); err != nil {
		t.Fatalf("new checkpoints: %v", err)
	}
	proof, err := l.ConsistencyProof(ctx, oldSize, size)
	if err != nil {
		t.Fatal(err)
	}
	if err := doclog.CheckConsistency(proof, size, root, oldSize, oldRoot); err != nil {
		t.Fatalf("consistency across the rotation: %v", err)
	}
	// Reopening with the new key alone works now that the head is re-signed.
	l.Close()
	l2, err := doclog.Open(ctx, db, origin, newKey2)
	if err != nil {
		t.Fatalf("reopen with the new key alone: %v", err)
	}
	l2.Close()
}
