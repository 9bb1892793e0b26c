package caseriver_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/minwon/minwon/internal/caseriver"
	"github.com/minwon/minwon/internal/casework"
	"github.com/minwon/minwon/internal/storetest"
)

// Nodes that start together on one schema migrate River's tables once,
// one at a time, and each gets a queue.
func TestNodesMigrateTogether(t *testing.T) {
	b := storetest.Postgres(t)
	dbs := []caseriver.DB{b.Open(t), b.Open(t), b.Open(t)}
	var wg sync.WaitGroup
	errs := make([]error, len(dbs))
	for i, db := range dbs {
		wg.Go(func() {
			_, errs[i] = caseriver.New(context.Background(), db, &casework.Service{}, caseriver.Options{})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	var n int
	if err := dbs[0].PostgresDB().QueryRow(`SELECT COUNT(*) FROM river_job`).Scan(&n); err != nil || n != 0 {
		t.Errorf("river_job: %d rows, %v", n, err)
	}
}

// River's SQLite driver migrates on SQLite too.
func TestSQLiteMigrates(t *testing.T) {
	db := storetest.Open(t)
	if _, err := caseriver.New(context.Background(), db, &casework.Service{}, caseriver.Options{}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.SQLiteDB().QueryRow(`SELECT COUNT(*) FROM river_job`).Scan(&n); err != nil || n != 0 {
		t.Errorf("river_job: %d rows, %v", n, err)
	}
}

// Retries follow casework's backoff: doubling from Backoff up to MaxBackoff.
func TestRetryPolicyIsCaseworkBackoff(t *testing.T) {
	cases := &casework.Service{Backoff: time.Second, MaxBackoff: 5 * time.Second}
	p := caseriver.RetryPolicy{Cases: cases}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 40: 5 * time.Second} {
		before := time.Now()
		got := p.NextRetry(&rivertype.JobRow{Attempt: attempt}).Sub(before)
		if got < want || got > want+time.Second {
			t.Errorf("attempt %d: next retry in %v, want %v", attempt, got, want)
		}
	}
}
