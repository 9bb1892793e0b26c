// Package caseriver runs casework's jobs on River (github.com/riverqueue/river)
// on PostgreSQL, through its database/sql driver (riverdatabasesql), or on
// SQLite through riversqlite, so that jobs are inserted and completed in the
// store's own transactions.
//
// It owns River's schema (migrated at start with rivermigrate, beside the
// store's migrations), the River client and its one worker. A job is
// inserted with InsertTx in the transaction that stores its application;
// the worker runs it through casework.Service.Work, which records the
// outcome in a transaction that also marks the River job completed
// (JobCompleteTx) and the store's job row done, once: a job run twice (its
// worker killed and the job rescued) completes once. A failed attempt is
// retried with casework's backoff; while an agency is down its jobs are
// snoozed until the pause ends rather than failed one by one.
//
// On SQLite casework keeps the store's table queue by default; River's SQLite
// driver (riversqlite) runs it when asked, to compare (see README).
package caseriver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/minwon/minwon/internal/casework"
)

// jobArgs is a casework job as River stores it (no personal data: ids and
// the kind only).
type jobArgs struct {
	Job         string `json:"job"`
	Application string `json:"application"`
	JobKind     string `json:"kind"`
}

func (jobArgs) Kind() string { return "casework" }

// sqlTx is the store's transaction (store.Tx) as River needs it.
type sqlTx interface{ SQLTx() *sql.Tx }

// Options tune the queue.
type Options struct {
	// Workers run jobs at once; default 8.
	Workers int
	// Poll is how often idle workers look for due jobs (the database/sql
	// driver has no LISTEN); default 500ms.
	Poll time.Duration
	// Lease is how long a job may run; a job whose worker died is rescued
	// and run again after twice that. Default 1m.
	Lease time.Duration
	Log   *slog.Logger
}

// Queue runs casework jobs on River; it implements casework.Queue.
type Queue struct {
	client *river.Client[*sql.Tx]
	cases  *casework.Service
	log    *slog.Logger
	// complete is JobCompleteTx for the driver.
	complete func(ctx context.Context, tx *sql.Tx, job *river.Job[jobArgs]) error
}

// maxAttempts keeps a job retried for days while its agency is down
// (River's column is a smallint).
const maxAttempts = 10000

const fetchCooldown = 5 * time.Millisecond

// DB is the store River runs in (store.DB).
type DB interface {
	// PostgresDB is its PostgreSQL handle.
	PostgresDB() *sql.DB
	// SQLiteDB is its SQLite handle.
	SQLiteDB() *sql.DB
	// Migrating runs f holding the schema-migration lock.
	Migrating(ctx context.Context, f func(ctx context.Context) error) error
}

// New migrates River's schema in db up to date and makes the queue for
// cases; Start runs it.
func New(ctx context.Context, db DB, cases *casework.Service, opt Options) (*Queue, error) {
	var (
		driver   riverdriver.Driver[*sql.Tx]
		complete func(ctx context.Context, tx *sql.Tx, job *river.Job[jobArgs]) error
	)
	if pg := db.PostgresDB(); pg != nil {
		driver = riverdatabasesql.New(pg)
		complete = func(ctx context.Context, tx *sql.Tx, job *river.Job[jobArgs]) error {
			_, err := river.JobCompleteTx[*riverdatabasesql.Driver](ctx, tx, job)
			return err
		}
	} else {
		driver = riversqlite.New(db.SQLiteDB())
		complete = func(ctx context.Context, tx *sql.Tx, job *river.Job[jobArgs]) error {
			_, err := river.JobCompleteTx[*riversqlite.Driver](ctx, tx, job)
			return err
		}
	}
	if err := db.Migrating(ctx, func(ctx context.Context) error { return migrate(ctx, driver) }); err != nil {
		return nil, err
	}
	if opt.Workers <= 0 {
		opt.Workers = 8
	}
	if opt.Poll <= 0 {
		opt.Poll = 500 * time.Millisecond
	}
	if opt.Lease <= 0 {
		opt.Lease = time.Minute
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &Queue{cases: cases, log: log, complete: complete}
	workers := river.NewWorkers()
	river.AddWorker(workers, &worker{q: q})
	client, err := river.NewClient(driver, &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opt.Workers}},
		Workers:           workers,
		FetchPollInterval: opt.Poll,
		// Without LISTEN the workers fetch again as jobs finish, at
		// most once a cooldown: River's default (100ms) caps 8 workers
		// at 80 jobs a second (measured, docs/BENCHMARKS.md).
		FetchCooldown:        fetchCooldown,
		JobTimeout:           opt.Lease,
		RescueStuckJobsAfter: 2 * opt.Lease,
		MaxAttempts:          maxAttempts,
		RetryPolicy:          RetryPolicy{Cases: cases},
		// River logs each failed attempt; while an agency is down those
		// are thousands, and the store's job row already shows them.
		Logger: slog.New(warnOnly{log.Handler()}),
	})
	if err != nil {
		return nil, fmt.Errorf("caseriver: %w", err)
	}
	q.client = client
	return q, nil
}

// migrate brings River's tables up to date.
func migrate(ctx context.Context, driver riverdriver.Driver[*sql.Tx]) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("caseriver: migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("caseriver: migrate: %w", err)
	}
	return nil
}

// Enqueue implements casework.Queue: j is inserted in tx.
func (q *Queue) Enqueue(ctx context.Context, tx casework.Tx, j casework.Job) error {
	t, ok := tx.(sqlTx)
	if !ok {
		return fmt.Errorf("caseriver: a %T is not a database/sql transaction", tx)
	}
	_, err := q.client.InsertTx(ctx, t.SQLTx(), jobArgs{Job: j.ID, Application: j.Application, JobKind: j.Kind}, insertOpts(j))
	if err != nil {
		return fmt.Errorf("caseriver: insert job: %w", err)
	}
	return nil
}

// insertOpts makes a job unique by its id: inserting it again (adopt) is
// a no-op while River holds it, completed or not.
func insertOpts(j casework.Job) *river.InsertOpts {
	return &river.InsertOpts{ScheduledAt: j.RunAt, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// adoptBatch bounds the pending job rows adopted at start.
const adoptBatch = 100_000

// Start adopts the pending job rows River does not hold (queued by the
// table queue before River ran them, e.g. before an upgrade), then runs the
// workers until ctx ends or Stop.
func (q *Queue) Start(ctx context.Context) error {
	pending, err := q.cases.Store.DueJobs(ctx, time.Now().AddDate(100, 0, 0), adoptBatch)
	if err != nil {
		return fmt.Errorf("caseriver: adopt jobs: %w", err)
	}
	if len(pending) > 0 {
		params := make([]river.InsertManyParams, len(pending))
		for i, j := range pending {
			params[i] = river.InsertManyParams{Args: jobArgs{Job: j.ID, Application: j.Application, JobKind: j.Kind}, InsertOpts: insertOpts(j)}
		}
		if _, err := q.client.InsertMany(ctx, params); err != nil {
			return fmt.Errorf("caseriver: adopt jobs: %w", err)
		}
	}
	return q.client.Start(ctx)
}

// Stop waits for running jobs to finish (until ctx ends) and stops.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return q.client.StopAndCancel(context.WithoutCancel(ctx))
	}
	return err
}

// Stopped is closed when the queue has stopped.
func (q *Queue) Stopped() <-chan struct{} { return q.client.Stopped() }

type worker struct {
	river.WorkerDefaults[jobArgs]
	q *Queue
}

func (w *worker) Work(ctx context.Context, job *river.Job[jobArgs]) error {
	j := casework.Job{ID: job.Args.Job, Application: job.Args.Application, Kind: job.Args.JobKind, Attempts: job.Attempt - 1}
	d, err := w.q.cases.Hold(ctx, j)
	if err != nil {
		return err
	}
	if d > 0 {
		// Its agency is down: wait for the pause to end without
		// spending an attempt.
		return river.JobSnooze(d)
	}
	j.Complete = func(ctx context.Context, tx casework.Tx) error {
		t, ok := tx.(sqlTx)
		if !ok {
			return fmt.Errorf("caseriver: a %T is not a database/sql transaction", tx)
		}
		return w.q.complete(ctx, t.SQLTx(), job)
	}
	err = w.q.cases.Work(ctx, j)
	if !casework.Expected(err) {
		w.q.log.Error("casework job", "err", err)
	}
	return err
}

// RetryPolicy is River's retry policy from casework's backoff.
type RetryPolicy struct{ Cases *casework.Service }

// NextRetry implements river.ClientRetryPolicy.
func (p RetryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(p.Cases.RetryDelay(job.Attempt))
}

// warnOnly passes on River's warnings and errors, not its routine logs.
type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnOnly) WithAttrs(a []slog.Attr) slog.Handler { return warnOnly{h.Handler.WithAttrs(a)} }

func (h warnOnly) WithGroup(name string) slog.Handler { return warnOnly{h.Handler.WithGroup(name)} }
