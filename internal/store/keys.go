package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/keyring"
)

func fromMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64).UTC()
}

// SigningKeys returns the whole inventory, oldest first.
func (db *DB) SigningKeys(ctx context.Context) ([]keyring.SigningKey, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, purpose, public_key, created_at, retired_at, revoked_at, revoke_reason FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: signing keys: %w", err)
	}
	defer rows.Close()
	var out []keyring.SigningKey
	for rows.Next() {
		var k keyring.SigningKey
		var created int64
		var retired, revoked sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Purpose, &k.PublicKey, &created, &retired, &revoked, &k.RevokeReason); err != nil {
			return nil, fmt.Errorf("store: signing keys: %w", err)
		}
		k.CreatedAt = time.UnixMilli(created).UTC()
		k.RetiredAt, k.RevokedAt = fromMillis(retired), fromMillis(revoked)
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddSigningKey makes k the active key of its purpose: the previous active
// key of that purpose is retired (it still verifies what it signed) in the
// same transaction. Adding a key that is already in the inventory is
// ErrDuplicate.
func (db *DB) AddSigningKey(ctx context.Context, k keyring.SigningKey) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin add key: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, db.rebind(`UPDATE signing_keys SET retired_at = ? WHERE purpose = ? AND retired_at IS NULL`), k.CreatedAt.UnixMilli(), k.Purpose); err != nil {
		return fmt.Errorf("store: retire key: %w", err)
	}
	_, err = tx.ExecContext(ctx, db.rebind(`INSERT INTO signing_keys (id, purpose, public_key, created_at, revoke_reason) VALUES (?, ?, ?, ?, '')`), k.ID, k.Purpose, k.PublicKey, k.CreatedAt.UnixMilli())
	if err != nil {
		if isUniqueViolation(err) {
			return errDuplicateKey
		}
		return fmt.Errorf("store: add key: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit add key: %w", err)
	}
	return nil
}

// The key inventory's errors are also the key ring's.
var (
	errDuplicateKey = fmt.Errorf("%w: %w", ErrDuplicate, keyring.ErrDuplicateKey)
	errUnknownKey   = fmt.Errorf("%w: %w", ErrNotFound, keyring.ErrUnknownKey)
)

// RevokeSigningKey marks a key revoked (and retired, if it was active).
func (db *DB) RevokeSigningKey(ctx context.Context, id, reason string, at time.Time) error {
	res, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE signing_keys SET revoked_at = ?, revoke_reason = ?, retired_at = COALESCE(retired_at, ?) WHERE id = ? AND revoked_at IS NULL`),
		at.UnixMilli(), reason, at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("store: revoke key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: revoke key: %w", err)
	} else if n == 0 {
		var one int
		err := db.sql.QueryRowContext(ctx, db.rebind(`SELECT 1 FROM signing_keys WHERE id = ?`), id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return errUnknownKey
		}
		if err != nil {
			return fmt.Errorf("store: revoke key: %w", err)
		}
		return keyring.ErrAlreadyRevoked
	}
	return nil
}
