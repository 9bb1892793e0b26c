package doclog_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/minwon/minwon/internal/doclog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/minwon/minwon/internal/storetest"
)

// TestSeveralNodesOneLog runs three Logs, each on its own store handle (as
// three minwon processes would), opened at once on one empty database and
// appending concurrently. The log must keep one append order: indices
// 0..n-1 each given once, every checkpoint any node signed consistent with
// every later one, and every node able to prove every entry.
func TestSeveralNodesOneLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		key := newKey(t)
		const nodes, workers, perWorker = 3, 4, 30
		logs := make([]*doclog.Log, nodes)
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db, err := b.OpenErr(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				t.Cleanup(func() { db.Close() })
				l, err := doclog.Open(ctx, db, origin, key)
				if err != nil {
					t.Error(err)
					return
				}
				t.Cleanup(l.Close)
				logs[i] = l
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		type cp struct {
			size int64
			root doclog.Hash
		}
		var (
			mu      sync.Mutex
			indexOf = map[string]int64{}
			cps     []cp
		)
		for n := range nodes {
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					l := logs[n]
					for i := range perWorker {
						e := testEntry((n*workers+w)*1000 + i)
						idx, err := l.Append(ctx, e, nil)
						if err != nil {
							t.Error(err)
							return
						}
						size, root, _ := l.Checkpoint()
						mu.Lock()
						indexOf[e.Number] = idx
						cps = append(cps, cp{size, root})
						mu.Unlock()
					}
				}()
			}
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		total := int64(nodes * workers * perWorker)
		seen := make([]bool, total)
		for num, idx := range indexOf {
			if idx < 0 || idx >= total || seen[idx] {
				t.Fatalf("entry %s got index %d (duplicate or out of 0..%d)", num, idx, total-1)
			}
			seen[idx] = true
		}
		// Every node sees the same head once it reads the database.
		size0, root0, _, err := logs[0].Latest(ctx)
		if err != nil || size0 != total {
			t.Fatalf("node 0 latest size %d, %v; want %d", size0, err, total)
		}
		for n, l := range logs {
			size, root, signed, err := l.Latest(ctx)
			if err != nil || size != size0 || root != root0 {
				t.Fatalf("node %d latest = %d %v, %v; node 0 has %d", n, size, root, err, size0)
			}
			if _, err := note.Open(signed, note.VerifierList(l.Verifier())); err != nil {
				t.Fatalf("node %d checkpoint does not verify: %v", n, err)
			}
		}
		// Each entry is provable from a node that did not append it.
		db := b.Open(t)
		for num, idx := range indexOf {
			entries, err := db.LogEntriesFor(ctx, num)
			if err != nil || len(entries) != 1 || entries[0].Index != idx {
				t.Fatalf("entries for %s: %+v, %v", num, entries, err)
			}
			l := logs[int(idx)%nodes]
			proof, err := l.InclusionProof(ctx, idx, size0)
			if err != nil {
				t.Fatal(err)
			}
			if err := doclog.CheckInclusion(proof, size0, root0, idx, entries[0].Data); err != nil {
				t.Fatalf("inclusion of %d: %v", idx, err)
			}
		}
		// Every checkpoint a node returned is a prefix of the final tree.
		for i, c := range cps {
			if i%7 != 0 && i != len(cps)-1 {
				continue // a sample keeps the test quick
			}
			p, err := logs[i%nodes].ConsistencyProof(ctx, c.size, size0)
			if err != nil {
				t.Fatal(err)
			}
			if err := doclog.CheckConsistency(p, size0, root0, c.size, c.root); err != nil {
				t.Fatalf("checkpoint %d is not a prefix of %d: %v", c.size, size0, err)
			}
		}
	})
}

// TestStaleNodeServesNewEntries checks that a node that appended nothing
// recently still proves entries and serves tiles other nodes appended.
func TestStaleNodeServesNewEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		key := newKey(t)
		a, dbA := openLog(t, b, key)
		defer dbA.Close()
		defer a.Close()
		stale, dbB := openLogFollowing(t, b, key, time.Hour) // no background refresh: the cache stays stale
		defer dbB.Close()
		defer stale.Close()
		for i := range 300 {
			if _, err := a.Append(ctx, testEntry(i), nil); err != nil {
				t.Fatal(err)
			}
		}
		if size, _, _ := stale.Checkpoint(); size != 0 {
			t.Fatalf("stale node already knows size %d", size)
		}
		size, root, _ := a.Checkpoint()
		proof, err := stale.InclusionProof(ctx, 299, size)
		if err != nil {
			t.Fatalf("stale node cannot prove a new entry: %v", err)
		}
		if err := doclog.CheckInclusion(proof, size, root, 299, testEntry(299).Marshal()); err != nil {
			t.Fatal(err)
		}
		if _, err := stale.Tile(ctx, "tile/entries/001.p/44"); err != nil {
			t.Fatalf("stale node cannot serve a new tile: %v", err)
		}
		if _, err := stale.Tile(ctx, "tile/entries/001.p/45"); !errors.Is(err, doclog.ErrNoTile) {
			t.Fatalf("tile beyond the log: %v", err)
		}
		// Its next append goes after a's entries, not over them.
		idx, err := stale.Append(ctx, testEntry(1000), nil)
		if err != nil || idx != 300 {
			t.Fatalf("stale node appended at %d, %v; want 300", idx, err)
		}
	})
}

// TestFollowerSeesOtherNodes: a node that appends nothing still sees the
// others' appends in Checkpoint within about followEvery.
func TestFollowerSeesOtherNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		key := newKey(t)
		a, dbA := openLog(t, b, key)
		defer dbA.Close()
		defer a.Close()
		reader, dbB := openLog(t, b, key)
		defer dbB.Close()
		defer reader.Close()
		for i := range 5 {
			if _, err := a.Append(ctx, testEntry(i), nil); err != nil {
				t.Fatal(err)
			}
		}
		want, root, _ := a.Checkpoint()
		deadline := time.Now().Add(5 * doclog.DefaultFollowEvery)
		for {
			size, r, _ := reader.Checkpoint()
			if size == want && r == root {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("reader still at size %d, want %d", size, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestSequencerFailover holds the log lock in a session that then dies (a
// node that crashed or hung mid-append): the other nodes' appends wait
// while it holds the lock and go on once the server ends the session.
func TestSequencerFailover(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		key := newKey(t)
		l, db := openLog(t, b, key)
		defer db.Close()
		defer l.Close()
		if _, err := l.Append(ctx, testEntry(1), nil); err != nil {
			t.Fatal(err)
		}
		dying := b.Open(t)
		tx, err := dying.BeginLog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The dying node got as far as writing an entry.
		if err := tx.InsertLogEntries(ctx, []doclog.Record{{Index: 1, Number: testEntry(99).Number, Kind: doclog.KindIssued, Data: testEntry(99).Marshal()}}, nil, nil); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		var idx int64
		go func() {
			var err error
			idx, err = l.Append(ctx, testEntry(2), nil)
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("append did not wait for the sequencer: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		if b.Name == "postgres" {
			pid, _, err := db.LogSequencer(ctx)
			if err != nil {
				t.Fatalf("LogSequencer: %v", err)
			}
			// Kill the holder's session, as the server does when a node's
			// connection dies.
			if _, err := b.SQL(t).ExecContext(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
				t.Fatal(err)
			}
		} else {
			// SQLite: a dead process's file lock is released by the OS;
			// the nearest in-process stand-in is the rollback.
			tx.Rollback()
		}
		select {
		case err := <-done:
			if err != nil || idx != 1 {
				t.Fatalf("append after fail-over: index %d, %v; want 1", idx, err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("append still waiting after the sequencer died")
		}
		if e, err := db.LogEntriesFor(ctx, testEntry(99).Number); err != nil || len(e) != 0 {
			t.Fatalf("the dead sequencer's entry survived: %+v, %v", e, err)
		}
		size, root, _ := l.Checkpoint()
		proof, err := l.InclusionProof(ctx, 1, size)
		if err != nil || doclog.CheckInclusion(proof, size, root, 1, testEntry(2).Marshal()) != nil {
			t.Fatalf("entry after fail-over not provable: %v", err)
		}
	})
}

// TestSequencerHangFailover: a node that froze (or was cut off) while
// holding the log lock loses it when the server ends its session for idling
// in the transaction (store.PostgresOptions.IdleInTransactionTimeout), and
// the other nodes go on.
func TestSequencerHangFailover(t *testing.T) {
	b := storetest.Postgres(t)
	ctx := context.Background()
	key := newKey(t)
	l, db := openLog(t, b, key)
	defer db.Close()
	defer l.Close()
	frozen := b.WithSetting("idle_in_transaction_session_timeout", "500").Open(t)
	tx, err := frozen.BeginLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	start := time.Now()
	idx, err := l.Append(ctx, testEntry(1), nil) // waits for the frozen node
	if err != nil || idx != 0 {
		t.Fatalf("append after the sequencer froze: %d, %v", idx, err)
	}
	if waited := time.Since(start); waited < 400*time.Millisecond || waited > 10*time.Second {
		t.Fatalf("append waited %v for a frozen sequencer with a 500ms idle timeout", waited)
	}
}

// TestNodeWithOtherKeyCannotAppend: a node configured with another log key
// refuses to append on top of checkpoints it cannot verify.
func TestNodeWithOtherKeyCannotAppend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		good, dbA := openLog(t, b, newKey(t))
		defer dbA.Close()
		defer good.Close()
		dbB := b.Open(t)
		if _, err := doclog.Open(ctx, dbB, origin, newKey(t)); err == nil {
			t.Fatal("a node with another key opened the log")
		}
		if _, err := doclog.Open(ctx, dbB, "other.example/log", newKey(t)); err == nil {
			t.Fatal("a node with another origin opened the log")
		}
	})
}

// BenchmarkAppend measures log appends/s with 64 concurrent appenders
// spread over one or three nodes (Logs on their own store handles).
func BenchmarkAppend(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, nodes := range []int{1, 3} {
			b.Run(fmt.Sprintf("%s/nodes=%d", backend, nodes), func(b *testing.B) {
				be := storetest.SQLite(b)
				if backend == "postgres" {
					be = storetest.Postgres(b)
				}
				key := newKey(b)
				logs := make([]*doclog.Log, nodes)
				for i := range logs {
					db := be.Open(b)
					l, err := doclog.Open(context.Background(), db, origin, key)
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(l.Close)
					logs[i] = l
				}
				var next atomic.Int64
				b.SetParallelism(64 / runtime.GOMAXPROCS(0))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := next.Add(1)
						if _, err := logs[int(i)%nodes].Append(context.Background(), testEntry(int(i)), nil); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			})
		}
	}
}
