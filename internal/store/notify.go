package store

import (
	"context"
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/notify"
)

func enqueueNotice(ctx context.Context, db *DB, ex execer, n notify.Notice, next time.Time) error {
	_, err := ex.ExecContext(ctx, db.rebind(`INSERT INTO notices (id, subject, kind, title, body, number, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`), n.ID, n.Subject, n.Kind, n.Title, n.Body, n.Number, n.At.UnixMilli(), next.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: notice: %w", err)
	}
	return nil
}

// EnqueueNotice implements notify.Queuer; a notice whose id is there
// already is kept as it is.
func (db *DB) EnqueueNotice(ctx context.Context, n notify.Notice, next time.Time) error {
	return enqueueNotice(ctx, db, db.sql, n, next)
}

// EnqueueNotice implements notify.Queuer inside the transaction: the
// notice commits with what it reports.
func (t *Tx) EnqueueNotice(ctx context.Context, n notify.Notice, next time.Time) error {
	return enqueueNotice(ctx, t.db, t.tx, n, next)
}

// Inbox implements notify.Store.
func (db *DB) Inbox(ctx context.Context, subject string, limit int) ([]notify.Notice, error) {
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT id, subject, kind, title, body, number, created_at, read_at IS NOT NULL FROM notices
		WHERE subject = ? ORDER BY created_at DESC, id DESC LIMIT ?`), subject, limit)
	if err != nil {
		return nil, fmt.Errorf("store: inbox: %w", err)
	}
	defer rows.Close()
	var out []notify.Notice
	for rows.Next() {
		var n notify.Notice
		var at int64
		if err := rows.Scan(&n.ID, &n.Subject, &n.Kind, &n.Title, &n.Body, &n.Number, &at, &n.Read); err != nil {
			return nil, fmt.Errorf("store: inbox: %w", err)
		}
		n.At = time.UnixMilli(at).UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}

// MarkNoticeRead implements notify.Store.
func (db *DB) MarkNoticeRead(ctx context.Context, subject, id string, at time.Time) error {
	res, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE notices SET read_at = coalesce(read_at, ?) WHERE id = ? AND subject = ?`), at.UnixMilli(), id, subject)
	if err != nil {
		return fmt.Errorf("store: notice: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notify.ErrNotFound
	}
	return nil
}

// PendingNotices counts the notices not yet delivered (the outbox's
// backlog, for metrics).
func (db *DB) PendingNotices(ctx context.Context) (int64, error) {
	var n int64
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM notices WHERE state = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: pending notices: %w", err)
	}
	return n, nil
}

// DueNotices implements notify.Store.
func (db *DB) DueNotices(ctx context.Context, now time.Time, limit int) ([]notify.Due, error) {
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT id, subject, kind, title, body, number, created_at, attempts, next_attempt_at FROM notices
		WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`), now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due notices: %w", err)
	}
	defer rows.Close()
	var out []notify.Due
	for rows.Next() {
		var d notify.Due
		var at, next int64
		if err := rows.Scan(&d.ID, &d.Subject, &d.Kind, &d.Title, &d.Body, &d.Number, &at, &d.Attempts, &next); err != nil {
			return nil, fmt.Errorf("store: due notices: %w", err)
		}
		d.At, d.NextAt = time.UnixMilli(at).UTC(), time.UnixMilli(next).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// ClaimNotice implements notify.Store.
func (db *DB) ClaimNotice(ctx context.Context, id string, due, leaseUntil time.Time) (bool, error) {
	res, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE notices SET next_attempt_at = ?, attempts = attempts + 1
		WHERE id = ? AND state = 'pending' AND next_attempt_at = ?`), leaseUntil.UnixMilli(), id, due.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: claim notice: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// NoticeSent implements notify.Store.
func (db *DB) NoticeSent(ctx context.Context, id string, at time.Time) error {
	_, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE notices SET state = 'sent', sent_at = ?, last_error = '' WHERE id = ?`), at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("store: notice sent: %w", err)
	}
	return nil
}

// NoticeRetry implements notify.Store.
func (db *DB) NoticeRetry(ctx context.Context, id string, next time.Time, lastError string, final bool) error {
	state := "pending"
	if final {
		state = "failed"
	}
	_, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE notices SET state = ?, next_attempt_at = ?, last_error = ? WHERE id = ? AND state = 'pending'`),
		state, next.UnixMilli(), lastError, id)
	if err != nil {
		return fmt.Errorf("store: notice retry: %w", err)
	}
	return nil
}

// NoticeCounts counts notices by delivery state (for operators and tests).
func (db *DB) NoticeCounts(ctx context.Context) (map[string]int, error) {
	return db.countByState(ctx, `SELECT state, COUNT(*) FROM notices GROUP BY state`, "notices")
}

// countByState runs q, which selects (state, count) rows, into a map.
func (db *DB) countByState(ctx context.Context, q, what string) (map[string]int, error) {
	rows, err := db.sql.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out[s] = n
	}
	return out, rows.Err()
}

var (
	_ notify.Store  = (*DB)(nil)
	_ notify.Queuer = (*Tx)(nil)
)
