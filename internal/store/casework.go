package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/casework"
)

// applicationRow is the identity an application's sealed payload is bound to.
func applicationRow(id string) string { return "application " + id }

// BeginCase implements casework.Store.
func (db *DB) BeginCase(ctx context.Context) (casework.Tx, error) { return db.Begin(ctx) }

// InsertApplication implements casework.Tx.
func (t *Tx) InsertApplication(ctx context.Context, a *casework.Application, key, hash string) error {
	s := t.db.sealer.Load()
	if s == nil {
		return errNotProtected
	}
	keyID, payload, err := s.Seal(applicationRow(a.ID), "payload", a.Payload)
	if err != nil {
		return err
	}
	if key == "" {
		// Without a key every submission is its own.
		key = "-" + a.ID
	}
	// The key is unique per requester: an insert that finds it taken
	// leaves the transaction usable on PostgreSQL too.
	res, err := t.tx.ExecContext(ctx, t.db.rebind(`INSERT INTO applications (id, service, kind, requester, requester_subject, subject, payload, data_key_id,
		status, retroactive, created_at, updated_at, idempotency_key, request_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (requester, idempotency_key) DO NOTHING`),
		a.ID, a.Service, a.Kind, a.Requester, a.RequesterSubject, a.Subject, payload, keyID, a.Status, boolInt(a.Retroactive),
		a.CreatedAt.UnixMilli(), a.UpdatedAt.UnixMilli(), key, hash)
	if err != nil {
		return fmt.Errorf("store: insert application: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return casework.ErrConflict
	}
	for _, e := range a.History {
		if err := t.appendHistory(ctx, a.ID, e); err != nil {
			return err
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (t *Tx) appendHistory(ctx context.Context, id string, e casework.Event) error {
	_, err := t.tx.ExecContext(ctx, t.db.rebind(`INSERT INTO application_history (application_id, seq, at, status, note, actor, retroactive)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM application_history WHERE application_id = ?), ?, ?, ?, ?, ?)`),
		id, id, e.At.UnixMilli(), e.Status, e.Note, e.Actor, boolInt(e.Retroactive))
	if err != nil {
		return fmt.Errorf("store: application history: %w", err)
	}
	return nil
}

// Transition implements casework.Tx. The conditional update takes the
// row's lock (PostgreSQL) or runs under the write lock (SQLite): of two
// transitions from the same status, one finds it changed.
func (t *Tx) Transition(ctx context.Context, id string, from []string, e casework.Event) error {
	args := []any{e.Status, e.At.UnixMilli(), id}
	for _, f := range from {
		args = append(args, f)
	}
	res, err := t.tx.ExecContext(ctx, t.db.rebind(`UPDATE applications SET status = ?, updated_at = ? WHERE id = ? AND status IN (?`+strings.Repeat(", ?", len(from)-1)+`)`), args...)
	if err != nil {
		return fmt.Errorf("store: application status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s is no longer %s", casework.ErrWrongState, id, strings.Join(from, " or "))
	}
	return t.appendHistory(ctx, id, e)
}

// EnqueueJob implements casework.Tx.
func (t *Tx) EnqueueJob(ctx context.Context, j casework.Job) error {
	_, err := t.tx.ExecContext(ctx, t.db.rebind(`INSERT INTO casework_jobs (id, application_id, kind, run_at) VALUES (?, ?, ?, ?)`),
		j.ID, j.Application, j.Kind, j.RunAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: enqueue job: %w", err)
	}
	return nil
}

// FinishJob implements casework.Tx.
func (t *Tx) FinishJob(ctx context.Context, id string, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, t.db.rebind(`UPDATE casework_jobs SET state = 'done', done_at = ?, last_error = '' WHERE id = ? AND state = 'pending'`), at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("store: finish job: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: job %s is done already", casework.ErrWrongState, id)
	}
	return nil
}

const applicationCols = `a.id, a.service, a.kind, a.requester, a.requester_subject, a.subject, a.payload, a.data_key_id, a.status, a.retroactive,
	a.created_at, a.updated_at, COALESCE(j.attempts, 0), COALESCE(j.run_at, 0), COALESCE(j.last_error, '')`

const applicationFrom = ` FROM applications a LEFT JOIN casework_jobs j ON j.application_id = a.id AND j.state = 'pending'`

func (db *DB) scanApplication(ctx context.Context, row interface{ Scan(...any) error }) (*casework.Application, error) {
	var a casework.Application
	var keyID, lastErr string
	var retro int
	var created, updated, runAt int64
	if err := row.Scan(&a.ID, &a.Service, &a.Kind, &a.Requester, &a.RequesterSubject, &a.Subject, &a.Payload, &keyID, &a.Status, &retro,
		&created, &updated, &a.Attempts, &runAt, &lastErr); err != nil {
		return nil, err
	}
	a.Retroactive = retro != 0
	a.CreatedAt, a.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	if lastErr != "" {
		a.Waiting, a.NextAttempt = lastErr, time.UnixMilli(runAt).UTC()
	}
	s, err := db.sealerWith(ctx, keyID)
	if err != nil {
		return nil, err
	}
	if a.Payload, err = s.Open(keyID, applicationRow(a.ID), "payload", a.Payload); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return &a, nil
}

// Application implements casework.Store.
func (db *DB) Application(ctx context.Context, id string) (*casework.Application, error) {
	a, err := db.scanApplication(ctx, db.queryRow(ctx, `SELECT `+applicationCols+applicationFrom+` WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, casework.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: application: %w", err)
	}
	rows, err := db.query(ctx, `SELECT at, status, note, actor, retroactive FROM application_history WHERE application_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("store: application history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e casework.Event
		var at int64
		var retro int
		if err := rows.Scan(&at, &e.Status, &e.Note, &e.Actor, &retro); err != nil {
			return nil, fmt.Errorf("store: application history: %w", err)
		}
		e.At, e.Retroactive = time.UnixMilli(at).UTC(), retro != 0
		a.History = append(a.History, e)
	}
	return a, rows.Err()
}

// ApplicationByKey implements casework.Store.
func (db *DB) ApplicationByKey(ctx context.Context, requester, key string) (*casework.Application, string, error) {
	var id, hash string
	err := db.queryRow(ctx, `SELECT id, request_hash FROM applications WHERE requester = ? AND idempotency_key = ?`, requester, key).Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", casework.ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("store: application by key: %w", err)
	}
	a, err := db.Application(ctx, id)
	return a, hash, err
}

func (db *DB) applications(ctx context.Context, q string, args ...any) ([]*casework.Application, error) {
	rows, err := db.query(ctx, `SELECT `+applicationCols+applicationFrom+q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: applications: %w", err)
	}
	defer rows.Close()
	var out []*casework.Application
	for rows.Next() {
		a, err := db.scanApplication(ctx, rows)
		if err != nil {
			return nil, fmt.Errorf("store: applications: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ApplicationsOf implements casework.Store.
func (db *DB) ApplicationsOf(ctx context.Context, requester string, limit int) ([]*casework.Application, error) {
	return db.applications(ctx, ` WHERE a.requester = ? ORDER BY a.created_at DESC, a.id DESC LIMIT ?`, requester, limit)
}

// ApplicationsIn implements casework.Store.
func (db *DB) ApplicationsIn(ctx context.Context, status string, limit int) ([]*casework.Application, error) {
	return db.applications(ctx, ` WHERE a.status = ? ORDER BY a.created_at, a.id LIMIT ?`, status, limit)
}

// DueJobs implements casework.Store.
func (db *DB) DueJobs(ctx context.Context, now time.Time, limit int) ([]casework.Job, error) {
	rows, err := db.query(ctx, `SELECT id, application_id, kind, attempts, run_at, last_error FROM casework_jobs
		WHERE state = 'pending' AND run_at <= ? ORDER BY run_at, id LIMIT ?`, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due jobs: %w", err)
	}
	defer rows.Close()
	var out []casework.Job
	for rows.Next() {
		var j casework.Job
		var runAt int64
		if err := rows.Scan(&j.ID, &j.Application, &j.Kind, &j.Attempts, &runAt, &j.LastError); err != nil {
			return nil, fmt.Errorf("store: due jobs: %w", err)
		}
		j.RunAt = time.UnixMilli(runAt).UTC()
		out = append(out, j)
	}
	return out, rows.Err()
}

// ClaimJob implements casework.Store.
func (db *DB) ClaimJob(ctx context.Context, id string, due, leaseUntil time.Time) (bool, error) {
	res, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE casework_jobs SET run_at = ?, attempts = attempts + 1
		WHERE id = ? AND state = 'pending' AND run_at = ?`), leaseUntil.UnixMilli(), id, due.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: claim job: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RetryJob implements casework.Store.
func (db *DB) RetryJob(ctx context.Context, id string, next time.Time, lastError string) error {
	_, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE casework_jobs SET run_at = ?, last_error = ? WHERE id = ? AND state = 'pending'`),
		next.UnixMilli(), lastError, id)
	if err != nil {
		return fmt.Errorf("store: retry job: %w", err)
	}
	return nil
}

// JobCounts implements casework.Store.
func (db *DB) JobCounts(ctx context.Context) (map[string]int, error) {
	return db.countByState(ctx, `SELECT state, COUNT(*) FROM casework_jobs GROUP BY state`, "jobs")
}

// WaitingJobs implements casework.Store.
func (db *DB) WaitingJobs(ctx context.Context) (map[string]int, error) {
	return db.countByState(ctx, `SELECT kind, COUNT(*) FROM casework_jobs WHERE state = 'pending' AND last_error <> '' GROUP BY kind`, "waiting jobs")
}

var (
	_ casework.Store = (*DB)(nil)
	_ casework.Tx    = (*Tx)(nil)
)

// SQLTx is the transaction's database/sql handle, for a job queue that
// inserts and completes its jobs in the store's transactions (River,
// package caseriver).
func (t *Tx) SQLTx() *sql.Tx { return t.tx }

// SQLiteDB is the SQLite handle the store runs on, for River (package
// caseriver); nil on PostgreSQL.
func (db *DB) SQLiteDB() *sql.DB {
	if db.dialect != sqlite {
		return nil
	}
	return db.sql
}

// PostgresDB is the PostgreSQL handle the store runs on, for River (package
// caseriver); nil on SQLite.
func (db *DB) PostgresDB() *sql.DB {
	if db.dialect != postgres {
		return nil
	}
	return db.sql
}

// Migrating runs f holding the schema-migration lock (PostgreSQL), for the
// migrations the store does not run itself (River's, package caseriver):
// nodes that start together run them one at a time.
func (db *DB) Migrating(ctx context.Context, f func(ctx context.Context) error) error {
	if db.dialect != postgres {
		return f(ctx)
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	defer conn.Close()
	key := fmt.Sprintf("%d, hashtext(coalesce(current_schema(), ''))", lockClassMigrate)
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+key+")"); err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+key+")")
	return f(ctx)
}
