package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/seal"
)

// errNotProtected is returned for a document stored or read before Protect:
// the store never writes a document in clear.
var errNotProtected = errors.New("store: documents are sealed, and this store has no data keys (DB.Protect was not called)")

// Protect makes db seal every document it stores (and open every one it
// reads) with the data keys wrapped under kek, creating the first data key
// if needed. Documents stored in clear by an earlier minwon are sealed in
// place first; SQLite's secure_delete zeroes the pages they leave, and a
// checkpoint empties the WAL of them.
func (db *DB) Protect(ctx context.Context, kek *seal.KEK) error {
	s, err := seal.Open(ctx, db, kek, db.now())
	if err != nil {
		return err
	}
	db.kek.Store(kek)
	db.sealer.Store(s)
	n, err := db.sealClearDocuments(ctx, s)
	if err != nil {
		return err
	}
	if n > 0 && db.dialect == sqlite {
		if _, err := db.sql.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("store: checkpoint after sealing: %w", err)
		}
	}
	return nil
}

// sealerWith returns the sealer, holding the data key keyID: another node
// may have made that key (nodes starting together on an empty database
// each make one), and then the keys are read again.
func (db *DB) sealerWith(ctx context.Context, keyID string) (*seal.Sealer, error) {
	s := db.sealer.Load()
	if s == nil {
		return nil, errNotProtected
	}
	if !s.Has(keyID) {
		var err error
		if s, err = seal.Open(ctx, db, db.kek.Load(), db.now()); err != nil {
			return nil, err
		}
		db.sealer.Store(s)
	}
	return s, nil
}

// issuanceRow is the identity a document's seal is bound to: its number.
func issuanceRow(number string) string { return "issuance " + number }

// sealDocument seals an issuance's PDF and data.json for storage.
func (db *DB) sealDocument(is issuance.Issuance) (keyID string, pdf, data []byte, err error) {
	s := db.sealer.Load()
	if s == nil {
		return "", nil, nil, errNotProtected
	}
	row := issuanceRow(is.Number)
	if keyID, pdf, err = s.Seal(row, "pdf", is.PDF); err != nil {
		return "", nil, nil, err
	}
	if _, data, err = s.Seal(row, "data_json", is.DataJSON); err != nil {
		return "", nil, nil, err
	}
	return keyID, pdf, data, nil
}

// openDocument opens what sealDocument stored. A row stored in clear by an
// earlier minwon (keyID "") reads as it is until Protect seals it.
func (db *DB) openDocument(ctx context.Context, is *issuance.Issuance, keyID string) error {
	if keyID == "" {
		return nil
	}
	s, err := db.sealerWith(ctx, keyID)
	if err != nil {
		return err
	}
	row := issuanceRow(is.Number)
	if is.PDF, err = s.Open(keyID, row, "pdf", is.PDF); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if is.DataJSON, err = s.Open(keyID, row, "data_json", is.DataJSON); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// openData opens only the data.json of what sealDocument stored.
func (db *DB) openData(ctx context.Context, is *issuance.Issuance, keyID string) error {
	if keyID == "" {
		return nil
	}
	s, err := db.sealerWith(ctx, keyID)
	if err != nil {
		return err
	}
	if is.DataJSON, err = s.Open(keyID, issuanceRow(is.Number), "data_json", is.DataJSON); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// sealBatch bounds the documents sealed in place per transaction.
const sealBatch = 100

// sealClearDocuments seals, in batches, the documents an earlier minwon
// stored in clear, and returns how many it sealed. Nodes doing it at once
// do not collide: each update applies only to a row still in clear.
func (db *DB) sealClearDocuments(ctx context.Context, s *seal.Sealer) (int, error) {
	total := 0
	for {
		n, err := db.sealClearBatch(ctx, s)
		total += n
		if err != nil || n < sealBatch {
			return total, err
		}
	}
}

func (db *DB) sealClearBatch(ctx context.Context, s *seal.Sealer) (int, error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: seal stored documents: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, db.rebind(`SELECT number, pdf, data_json FROM issuances WHERE data_key_id = '' AND purged_at IS NULL ORDER BY number LIMIT ?`), sealBatch)
	if err != nil {
		return 0, fmt.Errorf("store: seal stored documents: %w", err)
	}
	var clear []issuance.Issuance
	for rows.Next() {
		var is issuance.Issuance
		if err := rows.Scan(&is.Number, &is.PDF, &is.DataJSON); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: seal stored documents: %w", err)
		}
		clear = append(clear, is)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: seal stored documents: %w", err)
	}
	for _, is := range clear {
		keyID, pdf, data, err := db.sealDocument(is)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, db.rebind(`UPDATE issuances SET pdf = ?, data_json = ?, data_key_id = ? WHERE number = ? AND data_key_id = ''`), pdf, data, keyID, is.Number); err != nil {
			return 0, fmt.Errorf("store: seal stored document: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: seal stored documents: %w", err)
	}
	return len(clear), nil
}

// PurgeDocuments deletes the PDF and data.json of every document issued
// before cutoff and returns how many it deleted. The rows keep number,
// hash and key id, and the log its entries: a purged document still
// verifies by number, but can no longer be downloaded.
func (db *DB) PurgeDocuments(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE issuances SET pdf = ?, data_json = ?, data_key_id = '', purged_at = ? WHERE issued_at < ? AND purged_at IS NULL`),
		[]byte{}, []byte{}, db.now().UnixMilli(), cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: purge documents: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: purge documents: %w", err)
	}
	return n, nil
}

// DataKeys implements seal.KeyStore.
func (db *DB) DataKeys(ctx context.Context) ([]seal.WrappedKey, error) {
	return dataKeys(ctx, db.sql)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func dataKeys(ctx context.Context, q querier) ([]seal.WrappedKey, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, kek_id, wrapped, created_at FROM data_keys`)
	if err != nil {
		return nil, fmt.Errorf("store: data keys: %w", err)
	}
	defer rows.Close()
	var out []seal.WrappedKey
	for rows.Next() {
		var k seal.WrappedKey
		var at int64
		if err := rows.Scan(&k.ID, &k.KEKID, &k.Wrapped, &at); err != nil {
			return nil, fmt.Errorf("store: data keys: %w", err)
		}
		k.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddDataKey implements seal.KeyStore.
func (db *DB) AddDataKey(ctx context.Context, k seal.WrappedKey) error {
	if _, err := db.sql.ExecContext(ctx, db.rebind(`INSERT INTO data_keys (id, kek_id, wrapped, created_at) VALUES (?, ?, ?, ?)`), k.ID, k.KEKID, k.Wrapped, k.CreatedAt.UnixMilli()); err != nil {
		return fmt.Errorf("store: add data key: %w", err)
	}
	return nil
}

// RewrapDataKeys implements seal.KeyStore: one transaction for all keys.
func (db *DB) RewrapDataKeys(ctx context.Context, fn func(seal.WrappedKey) (seal.WrappedKey, error)) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: rewrap data keys: %w", err)
	}
	defer tx.Rollback()
	if db.dialect == postgres {
		if _, err := tx.ExecContext(ctx, `LOCK TABLE data_keys IN EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("store: rewrap data keys: %w", err)
		}
	}
	keys, err := dataKeys(ctx, tx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		w, err := fn(k)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.rebind(`UPDATE data_keys SET kek_id = ?, wrapped = ? WHERE id = ?`), w.KEKID, w.Wrapped, k.ID); err != nil {
			return fmt.Errorf("store: rewrap data key %s: %w", k.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: rewrap data keys: %w", err)
	}
	return nil
}
