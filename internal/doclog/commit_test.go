package doclog_test

import (
	"context"
	"github.com/minwon/minwon/internal/doclog"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/storetest"
)

// TestCommitNeedsNoSecondConnection: the committer reads the tree's hashes
// through its own transaction. With the read going through the pool, a pool
// whose other connections all wait for the write lock (a login storm)
// deadlocked the log; here the pool has one connection, so any second
// connection would hang.
func TestCommitNeedsNoSecondConnection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		key := newKey(t)
		l, db := openLog(t, b, key)
		for i := range 7 {
			if _, err := l.Append(ctx, testEntry(i), nil); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
		db.SetMaxOpenConns(1)
		// A fresh Log has a cold hash cache: appending entry 7 must read
		// the hashes of entries 0..6 from the database.
		l, err := doclog.Open(ctx, db, origin, key)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := l.Append(ctx, testEntry(7), nil)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second):
			// Leave the stuck committer behind: closing would wait for it.
			t.Fatal("the log's commit waits for a second connection")
		}
		l.Close()
		db.Close()
	})
}
