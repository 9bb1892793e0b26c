package doclog_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/storetest"
)

// TestQuietLogStaysFresh: a log that appends nothing signs its tree again
// with a later time, so that a proof's checkpoint says how fresh it is,
// and another node sharing the database serves the newer signature.
func TestQuietLogStaysFresh(t *testing.T) {
	storetest.Each(t, testQuietLogStaysFresh)
}

func testQuietLogStaysFresh(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	key := newKey(t)
	l, db := openLog(t, b, key)
	defer db.Close()
	defer l.Close()
	start := time.Now().UTC().Truncate(time.Second)
	clock := start
	l.SetClock(func() time.Time { return clock })
	if _, err := l.Append(ctx, testEntry(1), nil); err != nil {
		t.Fatal(err)
	}
	signedAt := func(l *doclog.Log) (int64, time.Time) {
		t.Helper()
		size, _, cp, err := l.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := doclog.OpenCheckpoint(cp, verifierKey(t, key))
		if err != nil {
			t.Fatal(err)
		}
		if c.Size != size {
			t.Fatalf("checkpoint of %d entries for a log of %d", c.Size, size)
		}
		return c.Size, c.Time
	}
	if size, at := signedAt(l); size != 1 || !at.Equal(start) {
		t.Fatalf("after an append: size %d signed at %v, want 1 at %v", size, at, start)
	}
	clock = start.Add(doclog.FreshEvery / 2)
	l.Freshen(ctx)
	if _, at := signedAt(l); !at.Equal(start) {
		t.Fatalf("signed again before FreshEvery: %v", at)
	}
	clock = start.Add(doclog.FreshEvery + time.Second)
	l.Freshen(ctx)
	if size, at := signedAt(l); size != 1 || !at.Equal(clock) {
		t.Fatalf("a quiet log's checkpoint: size %d signed at %v, want 1 at %v", size, at, clock)
	}
	other, db2 := openLog(t, b, key)
	defer db2.Close()
	defer other.Close()
	if _, at := signedAt(other); !at.Equal(clock) {
		t.Fatalf("another node serves the checkpoint of %v, want %v", at, clock)
	}
}

func verifierKey(t *testing.T, key []byte) string {
	t.Helper()
	v, err := doclog.VerifierKey(origin, key[32:])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.NewVerifier(v); err != nil {
		t.Fatal(err)
	}
	return v
}
