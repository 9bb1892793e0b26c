package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/checkcode"
	"github.com/minwon/minwon/internal/issuance"
)

// CheckCodeState implements checkcode.Store.
func (db *DB) CheckCodeState(ctx context.Context, number string) (checkcode.State, error) {
	st := checkcode.State{Number: number}
	var locked int64
	err := db.queryRow(ctx, `SELECT service, subject, check_code_hash, check_failures, check_locked_until FROM issuances WHERE number = ?`, number).
		Scan(&st.Service, &st.Subject, &st.Sum, &st.Failures, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return checkcode.State{}, checkcode.ErrNotFound
	}
	if err != nil {
		return checkcode.State{}, fmt.Errorf("store: check code: %w", err)
	}
	st.LockedUntil = time.UnixMilli(locked).UTC()
	return st, nil
}

// NoteWrongCode implements checkcode.Store: one statement, so concurrent
// guesses each count.
func (db *DB) NoteWrongCode(ctx context.Context, number string, lockAt int, until time.Time) error {
	_, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE issuances SET check_failures = check_failures + 1,
		check_locked_until = CASE WHEN check_failures + 1 >= ? THEN ? ELSE check_locked_until END WHERE number = ?`),
		lockAt, until.UnixMilli(), number)
	if err != nil {
		return fmt.Errorf("store: note wrong check code: %w", err)
	}
	return nil
}

// ClearWrongCodes implements checkcode.Store.
func (db *DB) ClearWrongCodes(ctx context.Context, number string) error {
	if _, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE issuances SET check_failures = 0, check_locked_until = 0 WHERE number = ?`), number); err != nil {
		return fmt.Errorf("store: clear wrong check codes: %w", err)
	}
	return nil
}

// DocumentFiles implements checkcode.Store: the document's PDF and
// data.json, opened, whoever asks (the viewer checked the code).
func (db *DB) DocumentFiles(ctx context.Context, number string) (pdf, data []byte, err error) {
	is, err := db.openedIssuance(ctx, `number = ?`, number)
	switch {
	case errors.Is(err, issuance.ErrNotFound):
		return nil, nil, checkcode.ErrNotFound
	case errors.Is(err, issuance.ErrPurged):
		return nil, nil, checkcode.ErrGone
	case err != nil:
		return nil, nil, err
	}
	return is.PDF, is.DataJSON, nil
}
