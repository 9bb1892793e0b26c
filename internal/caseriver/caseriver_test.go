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

// pendingRows is a casework store holding job rows that River does not.
type pendingRows struct {
	casework.Store
	jobs []casework.Job
}

func (p pendingRows) DueJobs(context.Context, time.Time, int) ([]casework.Job, error) {
	return p.jobs, nil
}

func (pendingRows) Application(context.Context, string) (*casework.Application, error) {
	return nil, casework.ErrNotFound
}

func (pendingRows) RetryJob(context.Context, string, time.Time, string) error { return nil }

// Job rows queued before River ran them (the table queue, an upgrade) are
// adopted when a queue starts, once however many nodes start.
func TestStartAdoptsPendingRows(t *testing.T) {
	db := storetest.Postgres(t).Open(t)
	cases := &casework.Service{Store: pendingRows{jobs: []casework.Job{
		{ID: "jb-one", Application: "ap-one", Kind: casework.JobMoveIn, RunAt: time.Now().Add(time.Hour)},
		{ID: "jb-two", Application: "ap-two", Kind: casework.JobEligibility, RunAt: time.Now().Add(time.Hour)},
	}}}
	ctx := context.Background()
	for range 2 {
		q, err := caseriver.New(ctx, db, cases, caseriver.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := q.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.PostgresDB().Query(`SELECT args->>'job' FROM river_job ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		got = append(got, id)
	}
	if len(got) != 2 || got[0] != "jb-one" || got[1] != "jb-two" {
		t.Errorf("River holds %v, want jb-one and jb-two once each", got)
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
