package doclog_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/doclog/doclogtest"
)

// memLog opens a log on a fresh in-memory store and appends entries
// first..first+n-1.
func memLog(t *testing.T, key []byte, first, n int) (*doclog.Log, *doclogtest.MemStore) {
	t.Helper()
	m := doclogtest.NewMemStore()
	l, err := doclog.Open(context.Background(), m, origin, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	appendN(t, l, first, n)
	return l, m
}

func appendN(t *testing.T, l *doclog.Log, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		if _, err := l.Append(context.Background(), testEntry(i), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// A log is checked against a checkpoint the world saw: it must extend it.
// A shorter log (a restored backup) says how many entries were lost; a log
// with another tree at that size (a fork) is refused too.
func TestCheckSeen(t *testing.T) {
	ctx := context.Background()
	key := newKey(t)
	a, aStore := memLog(t, key, 0, 5)
	_, _, seen := a.Checkpoint()
	if err := a.CheckSeen(ctx, seen); err != nil {
		t.Fatalf("the log against its own checkpoint: %v", err)
	}
	appendN(t, a, 5, 3)
	if err := a.CheckSeen(ctx, seen); err != nil {
		t.Fatalf("a longer log against an earlier checkpoint: %v", err)
	}
	if _, _, err := doclog.VerifyHead(ctx, aStore, origin, verifierKey(t, key)); err != nil {
		t.Errorf("VerifyHead on a sound log: %v", err)
	}

	short, _ := memLog(t, key, 0, 3)
	err := short.CheckSeen(ctx, seen)
	var rb *doclog.RollbackError
	if !errors.As(err, &rb) || rb.Have != 3 || rb.Seen != 5 || !doclog.IsRollback(err) {
		t.Fatalf("a shorter log: %v, want a RollbackError 3 < 5", err)
	}
	if !strings.Contains(err.Error(), "2 entries (indexes 3 to 4) were lost") {
		t.Errorf("the rollback does not say what was lost: %v", err)
	}

	forked, _ := memLog(t, key, 100, 5)
	var fk *doclog.ForkError
	if err := forked.CheckSeen(ctx, seen); !errors.As(err, &fk) || !doclog.IsRollback(err) {
		t.Fatalf("same size, another root: %v, want a ForkError", err)
	}
	appendN(t, forked, 105, 2)
	if err := forked.CheckSeen(ctx, seen); !errors.As(err, &fk) {
		t.Fatalf("a longer log that does not extend the checkpoint: %v, want a ForkError", err)
	}

	// A checkpoint by another key is not evidence of anything: an error,
	// not a rollback.
	other, _ := memLog(t, newKey(t), 0, 9)
	_, _, foreign := other.Checkpoint()
	if err := a.CheckSeen(ctx, foreign); err == nil || doclog.IsRollback(err) {
		t.Errorf("a checkpoint signed by another key: %v", err)
	}
}

// OnCheckpoint hears every new checkpoint.
func TestOnCheckpoint(t *testing.T) {
	l, _ := memLog(t, newKey(t), 0, 0)
	heard := make(chan struct{}, 10)
	l.OnCheckpoint(func() {
		select {
		case heard <- struct{}{}:
		default:
		}
	})
	appendN(t, l, 0, 1)
	select {
	case <-heard:
	default:
		t.Fatal("no notice of the new checkpoint")
	}
}
