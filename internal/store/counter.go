package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// IndexRow is one entry of the subject index: a keyed hash of a number and
// the subject it belongs to.
type IndexRow struct {
	Digest  []byte
	Kind    string // "rrn" or "business_number"
	Subject string
}

// PutSubjectIndex inserts rows, keeping rows already there.
func (db *DB) PutSubjectIndex(ctx context.Context, rows []IndexRow) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: subject index: %w", err)
	}
	defer tx.Rollback()
	const batch = 200
	for start := 0; start < len(rows); start += batch {
		part := rows[start:min(start+batch, len(rows))]
		q := "INSERT INTO subject_index (digest, kind, subject) VALUES "
		args := make([]any, 0, 3*len(part))
		for i, r := range part {
			if i > 0 {
				q += ", "
			}
			q += "(?, ?, ?)"
			args = append(args, r.Digest, r.Kind, r.Subject)
		}
		q += " ON CONFLICT (digest) DO NOTHING"
		if _, err := tx.ExecContext(ctx, db.rebind(q), args...); err != nil {
			return fmt.Errorf("store: subject index: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: subject index: %w", err)
	}
	return nil
}

// LookupSubject finds the subject a number's keyed hash belongs to; found
// is false if the index has no such row.
func (db *DB) LookupSubject(ctx context.Context, kind string, digest []byte) (subject string, found bool, err error) {
	err = db.queryRow(ctx, `SELECT subject FROM subject_index WHERE digest = ? AND kind = ?`, digest, kind).Scan(&subject)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: subject index: %w", err)
	}
	return subject, true, nil
}

// SubjectIndexSize counts the index's rows.
func (db *DB) SubjectIndexSize(ctx context.Context) (int, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM subject_index`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: subject index: %w", err)
	}
	return n, nil
}
