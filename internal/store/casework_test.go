package store_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/casework"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
)

func insertCase(t *testing.T, db *store.DB, id, key string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginCase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	a := &casework.Application{ID: id, Service: "move-in-report", Kind: "report", Requester: "u1", RequesterSubject: "S1", Subject: "S1",
		Payload: []byte(`{"new_address":"서울특별시 관악구 행운로 12"}`), Status: casework.Queued, CreatedAt: at, UpdatedAt: at,
		History: []casework.Event{{At: at, Status: casework.Received, Actor: "citizen"}, {At: at, Status: casework.Queued, Actor: "system"}}}
	if err := tx.InsertApplication(ctx, a, key, "h-"+id); err != nil {
		t.Fatal(err)
	}
	if err := tx.EnqueueJob(ctx, casework.Job{ID: "jb-" + id, Application: id, Kind: casework.JobMoveIn, RunAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// The queue's rules on both backends: an application and its job commit
// together; a claimed job is due again only when its lease ends; a job is
// finished once; a transition from a status that changed is refused;
// payloads are stored sealed.
func TestCaseworkQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := storetest.Protect(t, b.Open(t))
		t0 := time.UnixMilli(1_780_000_000_000).UTC()
		insertCase(t, db, "ap-1", "k1", t0)

		// The same key again is a conflict, and leaves nothing behind.
		tx, _ := db.BeginCase(ctx)
		err := tx.InsertApplication(ctx, &casework.Application{ID: "ap-2", Service: "s", Kind: "report", Requester: "u1", Payload: []byte("{}"), Status: casework.Queued, CreatedAt: t0, UpdatedAt: t0}, "k1", "h")
		tx.Rollback()
		if !errors.Is(err, casework.ErrConflict) {
			t.Fatalf("same key: %v", err)
		}
		if _, err := db.Application(ctx, "ap-2"); !errors.Is(err, casework.ErrNotFound) {
			t.Errorf("conflicting application stored: %v", err)
		}
		a, hash, err := db.ApplicationByKey(ctx, "u1", "k1")
		if err != nil || a.ID != "ap-1" || hash != "h-ap-1" || len(a.History) != 2 || !bytes.Contains(a.Payload, []byte("행운로")) {
			t.Fatalf("by key: %+v %q %v", a, hash, err)
		}

		due, err := db.DueJobs(ctx, t0, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due: %+v %v", due, err)
		}
		lease := t0.Add(time.Minute)
		if ok, err := db.ClaimJob(ctx, due[0].ID, due[0].RunAt, lease); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if ok, _ := db.ClaimJob(ctx, due[0].ID, due[0].RunAt, lease); ok {
			t.Error("claimed twice")
		}
		if d, _ := db.DueJobs(ctx, t0.Add(30*time.Second), 10); len(d) != 0 {
			t.Errorf("due during its lease: %+v", d)
		}
		// The worker died: after the lease it is due again, one attempt more.
		d, _ := db.DueJobs(ctx, lease, 10)
		if len(d) != 1 || d[0].Attempts != 1 {
			t.Fatalf("after the lease: %+v", d)
		}
		if err := db.RetryJob(ctx, d[0].ID, lease.Add(time.Second), "registry unavailable"); err != nil {
			t.Fatal(err)
		}
		if a, _ := db.Application(ctx, "ap-1"); a.Waiting == "" || !a.NextAttempt.Equal(lease.Add(time.Second)) || a.Attempts != 1 {
			t.Errorf("waiting state: %+v", a)
		}

		finish := func() error {
			tx, err := db.BeginCase(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if err := tx.FinishJob(ctx, "jb-ap-1", lease); err != nil {
				return err
			}
			if err := tx.Transition(ctx, "ap-1", []string{casework.Queued}, casework.Event{At: lease, Status: casework.Completed, Note: "done", Actor: "system"}); err != nil {
				return err
			}
			return tx.Commit()
		}
		if err := finish(); err != nil {
			t.Fatal(err)
		}
		if err := finish(); !errors.Is(err, casework.ErrWrongState) {
			t.Errorf("finished twice: %v", err)
		}
		a, err = db.Application(ctx, "ap-1")
		if err != nil || a.Status != casework.Completed || len(a.History) != 3 || a.Waiting != "" {
			t.Errorf("after finishing: %+v %v", a, err)
		}
		counts, _ := db.JobCounts(ctx)
		if counts["done"] != 1 || counts["pending"] != 0 {
			t.Errorf("counts %v", counts)
		}

		// The payload is not in the database in clear.
		raw := b.SQL(t)
		var stored []byte
		if err := raw.QueryRowContext(ctx, `SELECT payload FROM applications WHERE id = 'ap-1'`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, []byte("행운로")) {
			t.Error("payload stored in clear")
		}
		list, err := db.ApplicationsOf(ctx, "u1", 10)
		if err != nil || len(list) != 1 {
			t.Errorf("list %v %v", list, err)
		}
	})
}

// Transactions that append audit records never need a second connection:
// as many concurrent transactions as the pool holds (casework's workers
// each record a job's outcome so) all finish. Before, each prepared the
// audit statements on the pool while holding its own connection, and a
// full pool waited for ever.
func TestAuditInFullPoolOfTransactions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Protect(t, b.Open(t))
		const n = 4
		db.SetMaxOpenConns(n)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tx, err := db.BeginCase(ctx)
				if err != nil {
					errs <- err
					return
				}
				defer tx.Rollback()
				e := audit.Event{ActorKind: audit.Official, Actor: "c0001", Action: casework.ActDecision, Subject: "S" + string(rune('a'+i))}
				if err := audit.Prepare(&e, nil); err != nil {
					errs <- err
					return
				}
				if err := tx.AppendAudit(ctx, e); err != nil {
					errs <- err
					return
				}
				errs <- tx.Commit()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}
