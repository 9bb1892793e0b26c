package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/issuance"
)

// ErrDuplicate is returned when an insert collides with a unique key: the
// same idempotency key for the same requester, or (vanishingly rarely) an
// issuance number already taken.
var ErrDuplicate = errors.New("duplicate")

// The issuance store's errors are also package issuance's.
var (
	errDuplicateIssuance = fmt.Errorf("%w: %w", ErrDuplicate, issuance.ErrDuplicate)
	errIssuanceNotFound  = fmt.Errorf("%w: %w", ErrNotFound, issuance.ErrNotFound)
)

const issuanceCols = `number, requester_login, requester_subject, subject, service, template_version, template_digest, issued_at, pdf_sha256, key_id, idempotency_key, request_hash`

// InsertIssuance stores an issued document in its own transaction.
func (db *DB) InsertIssuance(ctx context.Context, is issuance.Issuance) error {
	return insertIssuance(ctx, db, db.sql, is)
}

func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" // unique_violation
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// scanIssuance scans issuanceCols, then the blobs if withBlobs, then extra.
func scanIssuance(row interface{ Scan(...any) error }, withBlobs bool, extra ...any) (issuance.Issuance, error) {
	var is issuance.Issuance
	var at int64
	dest := []any{&is.Number, &is.RequesterLogin, &is.RequesterSubject, &is.Subject, &is.Service, &is.TemplateVersion, &is.TemplateDigest, &at, &is.PDFSHA256, &is.KeyID, &is.IdempotencyKey, &is.RequestHash}
	if withBlobs {
		dest = append(dest, &is.PDF, &is.DataJSON)
	}
	dest = append(dest, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return issuance.Issuance{}, errIssuanceNotFound
		}
		return issuance.Issuance{}, fmt.Errorf("store: issuance: %w", err)
	}
	is.IssuedAt = time.UnixMilli(at).UTC()
	return is, nil
}

// IssuanceByIdempotencyKey returns the issuance a requester made with key.
func (db *DB) IssuanceByIdempotencyKey(ctx context.Context, login, key string) (issuance.Issuance, error) {
	row := db.queryRow(ctx, `SELECT `+issuanceCols+` FROM issuances WHERE requester_login = ? AND idempotency_key = ?`, login, key)
	return scanIssuance(row, false)
}

// IssuanceVisibleTo returns the issuance with that number if the caller
// requested it or is its subject; otherwise ErrNotFound, exactly as for a
// number that does not exist. withBlobs opens its sealed PDF and data.json;
// a purged document is then issuance.ErrPurged.
func (db *DB) IssuanceVisibleTo(ctx context.Context, number, login, subject string, withBlobs bool) (issuance.Issuance, error) {
	if !withBlobs {
		row := db.queryRow(ctx, `SELECT `+issuanceCols+` FROM issuances WHERE number = ? AND (requester_login = ? OR subject = ?)`, number, login, subject)
		return scanIssuance(row, false)
	}
	return db.openedIssuance(ctx, `number = ? AND (requester_login = ? OR subject = ?)`, number, login, subject)
}

// openedIssuance reads the issuance where cond holds with its PDF and
// data.json opened; a purged one is issuance.ErrPurged.
func (db *DB) openedIssuance(ctx context.Context, cond string, args ...any) (issuance.Issuance, error) {
	var dataKeyID string
	var purgedAt sql.NullInt64
	row := db.queryRow(ctx, `SELECT `+issuanceCols+`, pdf, data_json, data_key_id, purged_at FROM issuances WHERE `+cond, args...)
	is, err := scanIssuance(row, true, &dataKeyID, &purgedAt)
	if err != nil {
		return issuance.Issuance{}, err
	}
	if purgedAt.Valid {
		return issuance.Issuance{}, issuance.ErrPurged
	}
	if err := db.openDocument(ctx, &is, dataKeyID); err != nil {
		return issuance.Issuance{}, err
	}
	return is, nil
}

// IssuancesOf lists what a requester issued, newest first, at most limit,
// each with the index of its log entry (-1 if it has none, which the
// pipeline's one transaction rules out): one query for a whole page.
func (db *DB) IssuancesOf(ctx context.Context, login string, limit int) ([]issuance.Logged, error) {
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT `+issuanceColsOf("i")+`, COALESCE(e.idx, -1)
		FROM issuances i LEFT JOIN log_entries e ON e.number = i.number AND e.kind = 'issued'
		WHERE i.requester_login = ? ORDER BY i.issued_at DESC, i.number DESC LIMIT ?`), login, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list issuances: %w", err)
	}
	defer rows.Close()
	var out []issuance.Logged
	for rows.Next() {
		var l issuance.Logged
		var err error
		if l.Issuance, err = scanIssuance(rows, false, &l.LogIndex); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// issuanceColsOf is issuanceCols qualified by a table alias, for joins.
func issuanceColsOf(alias string) string {
	return alias + "." + strings.ReplaceAll(issuanceCols, ", ", ", "+alias+".")
}

// LogEntriesForNumbers returns the log entries about any of numbers, oldest
// first, in one query: the status of a page of documents.
func (db *DB) LogEntriesForNumbers(ctx context.Context, numbers []string) ([]doclog.Record, error) {
	if len(numbers) == 0 {
		return nil, nil
	}
	args := make([]any, len(numbers))
	for i, n := range numbers {
		args[i] = n
	}
	// Not through the prepared-statement cache: each page size is another
	// statement.
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT idx, number, kind, data FROM log_entries WHERE number IN (?`+strings.Repeat(",?", len(numbers)-1)+`) ORDER BY idx`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: log entries: %w", err)
	}
	defer rows.Close()
	var out []doclog.Record
	for rows.Next() {
		var e doclog.Record
		if err := rows.Scan(&e.Index, &e.Number, &e.Kind, &e.Data); err != nil {
			return nil, fmt.Errorf("store: log entries: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecordAlert stores an alert.
func (db *DB) RecordAlert(ctx context.Context, a issuance.Alert) error {
	var id [12]byte
	rand.Read(id[:])
	_, err := db.sql.ExecContext(ctx, db.rebind(`INSERT INTO alerts (id, at, kind, service, requester_login, detail) VALUES (?, ?, ?, ?, ?, ?)`),
		hex.EncodeToString(id[:]), a.At.UnixMilli(), a.Kind, a.Service, a.RequesterLogin, a.Detail)
	if err != nil {
		return fmt.Errorf("store: record alert: %w", err)
	}
	return nil
}

// Alerts returns the newest alerts, at most limit.
func (db *DB) Alerts(ctx context.Context, limit int) ([]issuance.Alert, error) {
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT at, kind, service, requester_login, detail FROM alerts ORDER BY at DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: alerts: %w", err)
	}
	defer rows.Close()
	var out []issuance.Alert
	for rows.Next() {
		var a issuance.Alert
		var at int64
		if err := rows.Scan(&at, &a.Kind, &a.Service, &a.RequesterLogin, &a.Detail); err != nil {
			return nil, fmt.Errorf("store: alerts: %w", err)
		}
		a.At = time.UnixMilli(at).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}
