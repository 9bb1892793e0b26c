package doclogtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/doclog"
)

// TestStore checks that a doclog.Store behaves as the log relies on:
// writes are visible in their transaction and, after commit, to everyone;
// rollback and a failed savepoint undo them; hashes come back in the order
// asked; the newest checkpoint is the largest; and the append lock admits
// one transaction at a time. newStore returns an empty store each call.
func TestStore(t *testing.T, newStore func(t *testing.T) doclog.Store) {
	t.Run("Empty", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		if _, _, _, err := s.LatestCheckpoint(ctx); !errors.Is(err, doclog.ErrNoCheckpoint) {
			t.Fatalf("LatestCheckpoint of an empty log: %v, want ErrNoCheckpoint", err)
		}
		if e, err := s.LogEntries(ctx, 0, 5); err != nil || len(e) != 0 {
			t.Fatalf("LogEntries of an empty log = %q, %v", e, err)
		}
		if _, err := s.LogHashes(ctx, []int64{0}); err == nil {
			t.Fatal("LogHashes of a missing hash: no error")
		}
		tx := begin(t, s)
		defer tx.Rollback()
		if _, _, _, err := tx.LatestCheckpoint(ctx); !errors.Is(err, doclog.ErrNoCheckpoint) {
			t.Fatalf("Tx.LatestCheckpoint of an empty log: %v, want ErrNoCheckpoint", err)
		}
	})
	t.Run("CommitAndRead", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		tx := begin(t, s)
		insert(t, tx, 0, 2)
		checkpointAt(t, tx, 2)
		if size, root, note, err := tx.LatestCheckpoint(ctx); err != nil || size != 2 || string(root) != "root2" || string(note) != "note2" {
			t.Fatalf("Tx.LatestCheckpoint of its own write = %d %q %q %v", size, root, note, err)
		}
		if hs, err := tx.LogHashes(ctx, []int64{1, 0}); err != nil || string(hs[0]) != "h1" || string(hs[1]) != "h0" {
			t.Fatalf("Tx.LogHashes of its own writes = %q, %v", hs, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if size, root, note, err := s.LatestCheckpoint(ctx); err != nil || size != 2 || string(root) != "root2" || string(note) != "note2" {
			t.Fatalf("LatestCheckpoint = %d %q %q %v", size, root, note, err)
		}
		if hs, err := s.LogHashes(ctx, []int64{1, 0, 1}); err != nil || len(hs) != 3 || string(hs[0]) != "h1" || string(hs[1]) != "h0" || string(hs[2]) != "h1" {
			t.Fatalf("LogHashes = %q, %v", hs, err)
		}
		if _, err := s.LogHashes(ctx, []int64{0, 7}); err == nil {
			t.Fatal("LogHashes with a missing hash: no error")
		}
		if e, err := s.LogEntries(ctx, 1, 10); err != nil || len(e) != 1 || string(e[0]) != "e1" {
			t.Fatalf("LogEntries(1, 10) = %q, %v", e, err)
		}
		// A second append goes after the first; the newest checkpoint is
		// the largest.
		tx = begin(t, s)
		insert(t, tx, 2, 3)
		checkpointAt(t, tx, 3)
		if err := tx.ReplaceCheckpointNote(ctx, 2, []byte("note2b")); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if size, _, note, err := s.LatestCheckpoint(ctx); err != nil || size != 3 || string(note) != "note3" {
			t.Fatalf("LatestCheckpoint after two appends = %d %q %v", size, note, err)
		}
		if e, err := s.LogEntries(ctx, 0, 3); err != nil || len(e) != 3 || string(e[0]) != "e0" || string(e[2]) != "e2" {
			t.Fatalf("LogEntries(0, 3) = %q, %v", e, err)
		}
	})
	t.Run("RollbackAndSavepoint", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		tx := begin(t, s)
		insert(t, tx, 0, 1)
		checkpointAt(t, tx, 1)
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := s.LatestCheckpoint(ctx); !errors.Is(err, doclog.ErrNoCheckpoint) {
			t.Fatalf("checkpoint survived a rollback: %v", err)
		}
		if e, err := s.LogEntries(ctx, 0, 5); err != nil || len(e) != 0 {
			t.Fatalf("entries survived a rollback: %q, %v", e, err)
		}
		tx = begin(t, s)
		boom := errors.New("boom")
		if err := tx.Savepoint(ctx, func() error { insert(t, tx, 0, 1); return boom }); !errors.Is(err, boom) {
			t.Fatalf("Savepoint returned %v, want fn's error", err)
		}
		if err := tx.Savepoint(ctx, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		// The failed savepoint's writes are gone: the same rows insert again.
		insert(t, tx, 0, 1)
		checkpointAt(t, tx, 1)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if e, err := s.LogEntries(ctx, 0, 5); err != nil || len(e) != 1 {
			t.Fatalf("entries after a failed savepoint = %q, %v", e, err)
		}
	})
	t.Run("AppendLock", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		tx := begin(t, s)
		got := make(chan error, 1)
		go func() {
			tx2, err := s.BeginLog(ctx)
			if err == nil {
				err = tx2.Rollback()
			}
			got <- err
		}()
		select {
		case err := <-got:
			t.Fatalf("a second BeginLog did not wait for the first: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		tx.Rollback()
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the second BeginLog still waits after the first ended")
		}
	})
}

func begin(t *testing.T, s doclog.Store) doclog.Tx {
	t.Helper()
	tx, err := s.BeginLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// insert stores entries [from, to) with data "e<i>" and hash "h<i>" at the
// same index.
func insert(t *testing.T, tx doclog.Tx, from, to int64) {
	t.Helper()
	var recs []doclog.Record
	var ids []int64
	var hs [][]byte
	for i := from; i < to; i++ {
		recs = append(recs, doclog.Record{Index: i, Number: fmt.Sprintf("%016d", i), Kind: doclog.KindIssued, Data: fmt.Appendf(nil, "e%d", i)})
		ids = append(ids, i)
		hs = append(hs, fmt.Appendf(nil, "h%d", i))
	}
	if err := tx.InsertLogEntries(context.Background(), recs, ids, hs); err != nil {
		t.Fatal(err)
	}
}

func checkpointAt(t *testing.T, tx doclog.Tx, size int64) {
	t.Helper()
	root, note := fmt.Appendf(nil, "root%d", size), fmt.Appendf(nil, "note%d", size)
	if err := tx.InsertCheckpoint(context.Background(), size, root, note, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, _, n, err := tx.LatestCheckpoint(context.Background()); err != nil || !bytes.Equal(n, note) {
		t.Fatalf("Tx.LatestCheckpoint after InsertCheckpoint(%d) = %q, %v", size, n, err)
	}
}
