package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/minwon/minwon/internal/audit"
)

// Statements of an append, prepared once per connection (SQLite would
// otherwise parse all three for every record, inside the log's one
// sequencer transaction).
const (
	qAuditBump   = `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`
	qAuditInsert = `INSERT INTO audit_events (id, at, actor_kind, actor, role, office, remote, action, service, subject, number, purpose, detail, request_id, seq, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qAuditHead = `UPDATE audit_head SET hash = ? WHERE id = 1`
)

// txStmt is q prepared for tx: the statement prepared on the pool (at
// open, see warmStatements), reused on tx's connection; nil if it is not
// prepared, and the caller runs q itself. It never prepares: that takes a
// second connection from the pool while tx holds one, and transactions
// that each wait for one more connection than the pool has left wait for
// ever (eight casework workers on a pool of six did).
func (db *DB) txStmt(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	db.stmtMu.RLock()
	st := db.stmts[q]
	db.stmtMu.RUnlock()
	if st == nil {
		return nil
	}
	return tx.StmtContext(ctx, st)
}

// warmStatements prepares, while the pool is idle, the statements that
// transactions reuse through txStmt.
func (db *DB) warmStatements(ctx context.Context) {
	for _, q := range []string{qAuditBump, qAuditInsert, qAuditHead} {
		db.prepared(ctx, q)
	}
}

// appendAudit appends e to the audit chain inside tx. Updating the head
// row first takes its lock (PostgreSQL: the row lock; SQLite: the write
// lock every transaction holds from BEGIN) until tx ends: concurrent
// appenders queue there, each reads the head the one before it committed,
// and the chain never forks. A rolled-back tx takes its seq back with it.
func (db *DB) appendAudit(ctx context.Context, tx *sql.Tx, e audit.Event) error {
	var seq int64
	var prev string
	var row *sql.Row
	if st := db.txStmt(ctx, tx, qAuditBump); st != nil {
		row = st.QueryRowContext(ctx)
	} else {
		row = tx.QueryRowContext(ctx, qAuditBump)
	}
	if err := row.Scan(&seq, &prev); err != nil {
		return fmt.Errorf("store: audit head: %w", err)
	}
	e.At = e.At.UTC().Truncate(time.Millisecond)
	hash := audit.ChainHash(prev, seq, e)
	var id [12]byte
	rand.Read(id[:])
	exec := func(q string, args ...any) error {
		var err error
		if st := db.txStmt(ctx, tx, q); st != nil {
			_, err = st.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, db.rebind(q), args...)
		}
		return err
	}
	if err := exec(qAuditInsert, hex.EncodeToString(id[:]), e.At.UnixMilli(), e.ActorKind, e.Actor, e.Role, e.Office, e.From, e.Action,
		e.Service, e.Subject, e.Number, e.Purpose, e.Detail, e.RequestID, seq, prev, hash); err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	if err := exec(qAuditHead, hash); err != nil {
		return fmt.Errorf("store: audit head: %w", err)
	}
	return nil
}

// InsertAudit implements audit.Store: it appends e in its own transaction.
func (db *DB) InsertAudit(ctx context.Context, e audit.Event) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	defer tx.Rollback()
	if err := db.appendAudit(ctx, tx, e); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// AppendAudit appends e to the audit chain inside the transaction: the
// record commits with what it records (an issuance, a revocation) or not
// at all. e must have passed audit.Prepare.
func (t *Tx) AppendAudit(ctx context.Context, e audit.Event) error {
	return t.db.appendAudit(ctx, t.tx, e)
}

// chainLegacyAudit chains the audit records an earlier minwon wrote before
// the chain existed (seq is NULL), oldest first, so that Verify covers
// them from here on.
func (db *DB) chainLegacyAudit(ctx context.Context) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: chain audit: %w", err)
	}
	defer tx.Rollback()
	var seq int64
	var prev string
	// Take the head's lock before reading what to chain.
	if err := tx.QueryRowContext(ctx, `UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash`).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("store: chain audit: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, `+auditCols+` FROM audit_events WHERE seq IS NULL ORDER BY at, id`)
	if err != nil {
		return fmt.Errorf("store: chain audit: %w", err)
	}
	type legacy struct {
		id string
		e  audit.Event
	}
	var todo []legacy
	for rows.Next() {
		var l legacy
		e, err := scanAudit(rows, &l.id)
		if err != nil {
			rows.Close()
			return err
		}
		l.e = e
		todo = append(todo, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: chain audit: %w", err)
	}
	if len(todo) == 0 {
		return nil
	}
	for _, l := range todo {
		seq++
		hash := audit.ChainHash(prev, seq, l.e)
		if _, err := tx.ExecContext(ctx, db.rebind(`UPDATE audit_events SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?`), seq, prev, hash, l.id); err != nil {
			return fmt.Errorf("store: chain audit: %w", err)
		}
		prev = hash
	}
	if _, err := tx.ExecContext(ctx, db.rebind(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`), seq, prev); err != nil {
		return fmt.Errorf("store: chain audit: %w", err)
	}
	return tx.Commit()
}

const auditCols = `at, actor_kind, actor, role, office, remote, action, service, subject, number, purpose, detail, request_id, coalesce(seq, 0), prev_hash, hash`

func scanAudit(row interface{ Scan(...any) error }, extra ...any) (audit.Event, error) {
	var e audit.Event
	var at int64
	dest := append(extra, &at, &e.ActorKind, &e.Actor, &e.Role, &e.Office, &e.From, &e.Action, &e.Service, &e.Subject, &e.Number, &e.Purpose, &e.Detail, &e.RequestID, &e.Seq, &e.PrevHash, &e.Hash)
	if err := row.Scan(dest...); err != nil {
		return audit.Event{}, fmt.Errorf("store: audit: %w", err)
	}
	e.At = time.UnixMilli(at).UTC()
	return e, nil
}

func (db *DB) auditRows(ctx context.Context, q string, args ...any) ([]audit.Event, error) {
	rows, err := db.sql.QueryContext(ctx, db.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	defer rows.Close()
	var out []audit.Event
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditQuery selects audit events; empty fields match everything.
type AuditQuery struct {
	Subject string
	Actor   string
	Limit   int
}

// AuditEvents returns matching events, newest first.
func (db *DB) AuditEvents(ctx context.Context, q AuditQuery) ([]audit.Event, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	return db.auditRows(ctx, `SELECT `+auditCols+` FROM audit_events
		WHERE (? = '' OR subject = ?) AND (? = '' OR actor = ?) ORDER BY at DESC, seq DESC LIMIT ?`, q.Subject, q.Subject, q.Actor, q.Actor, q.Limit)
}

// AuditOfSubject returns the events about subject, newest first: the
// citizen's "who used my data".
func (db *DB) AuditOfSubject(ctx context.Context, subject string, limit int) ([]audit.Event, error) {
	if subject == "" {
		return nil, nil
	}
	events, err := db.AuditEvents(ctx, AuditQuery{Subject: subject, Limit: limit})
	if err != nil {
		return nil, err
	}
	// A recall revokes up to hundreds of thousands of documents; it is
	// attributed in its incident and each revocation is in the
	// transparency log, so the citizen's view reads its documents from
	// there rather than from one audit row each.
	rows, err := db.query(ctx, `SELECT r.approved_at, r.approved_by, r.id, r.incident_id, i.service, i.number
		FROM issuances i JOIN incident_documents d ON d.number = i.number JOIN recalls r ON r.id = d.recall_id
		WHERE i.subject = ? AND d.state = 'revoked' AND r.approved_at IS NOT NULL
		ORDER BY r.approved_at DESC LIMIT ?`, subject, limit)
	if err != nil {
		return nil, fmt.Errorf("store: recalls of subject: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		var e audit.Event
		var recall, inc string
		if err := rows.Scan(&at, &e.Actor, &recall, &inc, &e.Service, &e.Number); err != nil {
			return nil, fmt.Errorf("store: recalls of subject: %w", err)
		}
		e.At, e.ActorKind, e.Action, e.Subject = time.UnixMilli(at).UTC(), audit.Operator, audit.ActRecall, subject
		e.Detail = "recall " + recall + " (incident " + inc + ")"
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].At.After(events[j].At) })
	if len(events) > limit {
		events = events[:limit]
	}
	return events, nil
}

// AuditChain implements audit.ChainReader.
func (db *DB) AuditChain(ctx context.Context, afterSeq int64, limit int) ([]audit.Event, error) {
	return db.auditRows(ctx, `SELECT `+auditCols+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
}

// AuditHead implements audit.ChainReader.
func (db *DB) AuditHead(ctx context.Context) (seq int64, hash string, err error) {
	if err := db.sql.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return 0, "", fmt.Errorf("store: audit head: %w", err)
	}
	return seq, hash, nil
}

// AuditRows implements audit.ChainReader.
func (db *DB) AuditRows(ctx context.Context) (int64, error) {
	var n int64
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: audit: %w", err)
	}
	return n, nil
}

var _ audit.ChainReader = (*DB)(nil)

// SubjectOfIssuance is whom an issued document is about ("" for a number
// the database does not hold).
func (t *Tx) SubjectOfIssuance(ctx context.Context, number string) (string, error) {
	var s string
	err := t.tx.QueryRowContext(ctx, t.db.rebind(`SELECT subject FROM issuances WHERE number = ?`), number).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: issuance subject: %w", err)
	}
	return s, nil
}
