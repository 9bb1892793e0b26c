package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrNotSQLite refuses a file backup of a PostgreSQL database: that is
// pg_basebackup's and WAL archiving's job (docs/OPERATIONS.md).
var ErrNotSQLite = errors.New("store: a file backup is for SQLite; back up PostgreSQL with pg_basebackup and WAL archiving (docs/OPERATIONS.md)")

// BackupTo writes a consistent copy of the SQLite database to path, which
// must not exist, while the database stays in use.
//
// It uses VACUUM INTO rather than the online backup API: VACUUM INTO reads
// the whole database in one read transaction, so the copy is exactly one
// committed state, WAL frames included, and in WAL mode writers go on
// meanwhile (the backup API restarts its copy whenever another connection
// writes, which under steady issuance may never finish). The copy is also
// compacted and needs no -wal file beside it. Its cost is one pass that
// cannot report its own progress: the caller watches the file grow.
func (db *DB) BackupTo(ctx context.Context, path string) error {
	if db.dialect != sqlite {
		return ErrNotSQLite
	}
	if strings.ContainsRune(path, 0) {
		return fmt.Errorf("store: backup path holds a NUL byte")
	}
	if _, err := db.sql.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	return nil
}

// IntegrityCheck runs SQLite's full integrity check and returns an error
// that quotes its first findings unless it answers "ok".
func (db *DB) IntegrityCheck(ctx context.Context) error {
	if db.dialect != sqlite {
		return ErrNotSQLite
	}
	rows, err := db.sql.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("store: integrity check: %w", err)
		}
		if s != "ok" && len(found) < 5 {
			found = append(found, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if len(found) > 0 {
		return fmt.Errorf("store: integrity check failed: %s", strings.Join(found, "; "))
	}
	return nil
}
