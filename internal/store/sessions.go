package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/auth"
)

// errNoSession is both ErrNotFound and the session store's auth.ErrNoSession.
var errNoSession = fmt.Errorf("%w: %w", ErrNotFound, auth.ErrNoSession)

// CreateSession stores a new session.
func (db *DB) CreateSession(ctx context.Context, s auth.Session) error {
	_, err := db.sql.ExecContext(ctx, db.rebind(`INSERT INTO sessions (token_hash, login, created_at, expires_at) VALUES (?, ?, ?, ?)`),
		s.TokenHash, s.Login, s.CreatedAt.UnixMilli(), s.ExpiresAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// ActiveSession returns the session with that token hash if it has not
// ended or expired at now.
func (db *DB) ActiveSession(ctx context.Context, tokenHash string, now time.Time) (auth.Session, error) {
	s := auth.Session{TokenHash: tokenHash}
	var created, expires int64
	err := db.queryRow(ctx, `
		SELECT s.login, a.subject, a.kind, s.created_at, s.expires_at
		FROM sessions s JOIN accounts a ON a.login = s.login
		WHERE s.token_hash = ? AND s.ended_at IS NULL AND s.expires_at > ?`,
		tokenHash, now.UnixMilli()).Scan(&s.Login, &s.Subject, &s.Kind, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Session{}, errNoSession
	}
	if err != nil {
		return auth.Session{}, fmt.Errorf("store: session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = time.UnixMilli(created), time.UnixMilli(expires)
	return s, nil
}

// EndSession marks a session ended; it is a no-op for an unknown or
// already ended session.
func (db *DB) EndSession(ctx context.Context, tokenHash string, now time.Time) error {
	_, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL`), now.UnixMilli(), tokenHash)
	if err != nil {
		return fmt.Errorf("store: end session: %w", err)
	}
	return nil
}

// SetPasswordHash replaces an account's password hash (used to upgrade a
// hash to stronger parameters at login).
func (db *DB) SetPasswordHash(ctx context.Context, login, hash string) error {
	_, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE accounts SET password_hash = ? WHERE login = ?`), hash, login)
	if err != nil {
		return fmt.Errorf("store: set password hash: %w", err)
	}
	return nil
}

// CountSessions counts login's sessions that are live at now, other than
// the one with token hash except.
func (db *DB) CountSessions(ctx context.Context, login, except string, now time.Time) (int, error) {
	var n int
	err := db.queryRow(ctx, `SELECT COUNT(*) FROM sessions WHERE login = ? AND token_hash <> ? AND ended_at IS NULL AND expires_at > ?`,
		login, except, now.UnixMilli()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count sessions: %w", err)
	}
	return n, nil
}

// EndOtherSessions ends login's live sessions other than the one with
// token hash except, and says how many it ended.
func (db *DB) EndOtherSessions(ctx context.Context, login, except string, now time.Time) (int, error) {
	return db.execCount(ctx, "end other sessions", `UPDATE sessions SET ended_at = ? WHERE login = ? AND token_hash <> ? AND ended_at IS NULL AND expires_at > ?`,
		now.UnixMilli(), login, except, now.UnixMilli())
}

// PurgeSessions deletes the sessions that ended or expired before now:
// they can never be used again, and nothing else refers to them.
func (db *DB) PurgeSessions(ctx context.Context, now time.Time) (int, error) {
	return db.execCount(ctx, "purge sessions", `DELETE FROM sessions WHERE expires_at <= ? OR ended_at <= ?`, now.UnixMilli(), now.UnixMilli())
}

// execCount runs a statement and returns how many rows it changed.
func (db *DB) execCount(ctx context.Context, what, query string, args ...any) (int, error) {
	res, err := db.sql.ExecContext(ctx, db.rebind(query), args...)
	if err != nil {
		return 0, fmt.Errorf("store: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: %s: %w", what, err)
	}
	return int(n), nil
}
