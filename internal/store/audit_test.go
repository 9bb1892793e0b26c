package store_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/notify"
	"github.com/minwon/minwon/internal/reqid"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
)

func appendEvents(t *testing.T, db *store.DB, n int) {
	t.Helper()
	log := &audit.Log{Store: db}
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i := range n {
		// Every other record was written in a request (hashed as v2),
		// the others outside one (v1).
		ctx := t.Context()
		if i%2 == 0 {
			ctx = reqid.With(ctx, fmt.Sprintf("req-%d", i))
		}
		if err := log.Record(ctx, audit.Event{At: t0.Add(time.Duration(i) * time.Second), ActorKind: audit.Citizen, Actor: fmt.Sprintf("user%d", i),
			Role: "household_member", From: "192.0.2.7", Action: audit.ActIssuance, Service: "resident-registration-copy", Subject: "s-1", Number: fmt.Sprint(1000 + i)}); err != nil {
			t.Fatal(err)
		}
	}
}

// Every way of tampering with stored audit rows is found, at the record
// where it happened.
func TestAuditChainFindsTampering(t *testing.T) {
	cases := []struct {
		name    string
		tamper  []string
		at      int64
		because string
	}{
		{"untouched", nil, 0, ""},
		{"edit a field", []string{`UPDATE audit_events SET actor = 'someone-else' WHERE seq = 4`}, 4, "altered"},
		{"edit and rehash one row", []string{`UPDATE audit_events SET subject = 's-2', hash = prev_hash WHERE seq = 7`}, 7, "altered"},
		{"delete a row", []string{`DELETE FROM audit_events WHERE seq = 5`}, 5, "missing"},
		{"reorder two rows", []string{
			`UPDATE audit_events SET seq = -3 WHERE seq = 3`,
			`UPDATE audit_events SET seq = 3 WHERE seq = 6`,
			`UPDATE audit_events SET seq = 6 WHERE seq = -3`}, 3, ""},
		{"edit a request id", []string{`UPDATE audit_events SET request_id = 'req-x' WHERE seq = 3`}, 3, "altered"},
		{"strip a request id", []string{`UPDATE audit_events SET request_id = '' WHERE seq = 5`}, 5, "altered"},
		{"add a request id", []string{`UPDATE audit_events SET request_id = 'req-y' WHERE seq = 4`}, 4, "altered"},
		{"reorder by time only", []string{`UPDATE audit_events SET at = at + 100000 WHERE seq = 2`}, 2, "altered"},
		{"delete the newest row", []string{`DELETE FROM audit_events WHERE seq = 10`}, 10, "head says 10"},
		{"delete the oldest row", []string{`DELETE FROM audit_events WHERE seq = 1`}, 1, "missing"},
		{"insert a row outside the chain", []string{`INSERT INTO audit_events (id, at, actor_kind, actor, action) VALUES ('forged', 1, 'operator', 'op9', 'key_rotate')`}, 11, "outside the chain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, b storetest.Backend) {
				db := b.Open(t)
				appendEvents(t, db, 10)
				raw := b.SQL(t)
				for _, q := range c.tamper {
					if _, err := raw.ExecContext(t.Context(), q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				n, brk, err := audit.Verify(t.Context(), db)
				if err != nil {
					t.Fatal(err)
				}
				if c.at == 0 {
					if brk != nil || n != 10 {
						t.Fatalf("untouched chain: %d records, %v", n, brk)
					}
					evs, err := db.AuditEvents(t.Context(), store.AuditQuery{Limit: 10})
					if err != nil || len(evs) != 10 {
						t.Fatalf("AuditEvents: %d, %v", len(evs), err)
					}
					for _, e := range evs {
						if want := map[bool]string{true: fmt.Sprintf("req-%d", e.Seq-1), false: ""}[(e.Seq-1)%2 == 0]; e.RequestID != want {
							t.Errorf("record %d: request id %q, want %q", e.Seq, e.RequestID, want)
						}
					}
					return
				}
				if brk == nil || brk.Seq != c.at || !strings.Contains(brk.Reason, c.because) {
					t.Fatalf("%s: got %v after %d records, want a break at %d (%s)", c.name, brk, n, c.at, c.because)
				}
			})
		})
	}
}

// Writers on two handles (two minwon processes on one database), some
// appending alone and some inside a larger transaction, never fork the
// chain: every record follows the one before.
func TestAuditChainConcurrentWriters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		dbs := []*store.DB{b.Open(t), b.Open(t)}
		const writers, each = 8, 15
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db := dbs[w%2]
				for i := range each {
					e := audit.Event{ActorKind: audit.Official, Actor: fmt.Sprintf("c%03d", w), Action: audit.ActCounterLookup, Subject: fmt.Sprintf("s-%d", i)}
					if err := audit.Prepare(&e, nil); err != nil {
						errs <- err
						return
					}
					if w%3 == 0 {
						tx, err := db.Begin(t.Context())
						if err != nil {
							errs <- err
							return
						}
						if err := tx.AppendAudit(t.Context(), e); err != nil {
							tx.Rollback()
							errs <- err
							return
						}
						if i%5 == 4 { // a rolled-back append takes its seq back
							tx.Rollback()
							continue
						}
						if err := tx.Commit(); err != nil {
							errs <- err
						}
						continue
					}
					if err := db.InsertAudit(t.Context(), e); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rolledBack := 0
		for w := 0; w < writers; w += 3 {
			rolledBack += each / 5
		}
		n, brk, err := audit.Verify(t.Context(), dbs[0])
		if err != nil || brk != nil || n != int64(writers*each-rolledBack) {
			t.Fatalf("after concurrent appends: %d records (want %d), %v, %v", n, writers*each-rolledBack, brk, err)
		}
	})
}

// Records an earlier minwon wrote before the chain existed are chained at
// the next start, oldest first, and verify.
func TestAuditChainAdoptsEarlierRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		appendEvents(t, db, 2)
		raw := b.SQL(t)
		for i, id := range []string{"old-b", "old-a"} {
			if _, err := raw.ExecContext(t.Context(), store.Rebind(b.Name, `INSERT INTO audit_events (id, at, actor_kind, actor, action) VALUES (?, ?, 'operator', 'op1', 'key_rotate')`), id, int64(1000+i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, brk, _ := audit.Verify(t.Context(), db); brk == nil {
			t.Fatal("unchained rows went unnoticed")
		}
		db = b.Open(t) // the next start
		n, brk, err := audit.Verify(t.Context(), db)
		if err != nil || brk != nil || n != 4 {
			t.Fatalf("after adopting: %d, %v, %v", n, brk, err)
		}
		appendEvents(t, db, 1)
		if n, brk, _ := audit.Verify(t.Context(), db); brk != nil || n != 5 {
			t.Fatalf("appending after adoption: %d, %v", n, brk)
		}
	})
}

// BenchmarkAuditAppend measures what the audit record adds to an issuance.
// An issuance's record is appended in the transparency log's transaction,
// which already writes and syncs: "write" is such a transaction (one row
// written), "write+audit" the same with the record appended; their
// difference is the record's cost. "group64" appends 64 records in one
// transaction, as the log's group commit does under load (ns/record).
// "own_tx" is a record in its own transaction (look-ups, operators).
func BenchmarkAuditAppend(b *testing.B) {
	for _, backend := range []func(testing.TB) storetest.Backend{storetest.SQLite, storetest.Postgres} {
		be := backend(b)
		db := be.Open(b)
		ctx := b.Context()
		e := audit.Event{ActorKind: audit.Citizen, Actor: "user1", Role: "household_member", From: "192.0.2.7", Action: audit.ActIssuance,
			Service: "resident-registration-copy", Subject: "PXGQ8ZJ355Z", Number: "1234567890123452"}
		if err := audit.Prepare(&e, nil); err != nil {
			b.Fatal(err)
		}
		write := func(tx *store.Tx) error {
			return tx.EnqueueNotice(ctx, notify.Notice{ID: notify.NewID(), Subject: "s", Kind: "k", Title: "t", Body: "b", At: e.At}, e.At)
		}
		inTx := func(b *testing.B, fn func(tx *store.Tx) error) {
			tx, err := db.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if err := fn(tx); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(be.Name+"/write", func(b *testing.B) {
			for b.Loop() {
				inTx(b, write)
			}
		})
		b.Run(be.Name+"/write+audit", func(b *testing.B) {
			for b.Loop() {
				inTx(b, func(tx *store.Tx) error {
					if err := write(tx); err != nil {
						return err
					}
					return tx.AppendAudit(ctx, e)
				})
			}
		})
		b.Run(be.Name+"/group64", func(b *testing.B) {
			n := 0
			for b.Loop() {
				inTx(b, func(tx *store.Tx) error {
					for range 64 {
						if err := tx.AppendAudit(ctx, e); err != nil {
							return err
						}
					}
					return nil
				})
				n += 64
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
		})
		b.Run(be.Name+"/own_tx", func(b *testing.B) {
			for b.Loop() {
				if err := db.InsertAudit(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// PendingNotices counts the outbox's backlog; Ping fails once closed.
func TestPendingNoticesAndPing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		ctx := t.Context()
		now := time.Now()
		ids := []string{notify.NewID(), notify.NewID(), notify.NewID()}
		for _, id := range ids {
			if err := db.EnqueueNotice(ctx, notify.Notice{ID: id, Subject: "s", Kind: "k", Title: "t", Body: "b", At: now}, now); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.NoticeSent(ctx, ids[0], now); err != nil {
			t.Fatal(err)
		}
		if n, err := db.PendingNotices(ctx); err != nil || n != 2 {
			t.Errorf("PendingNotices = %d, %v; want 2", n, err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
		db.Close()
		if err := db.Ping(ctx); err == nil {
			t.Error("Ping on a closed database succeeded")
		}
	})
}
