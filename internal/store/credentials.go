package store

import (
	"context"
	"fmt"
)

// RevokedLogIndexes implements credential.Store: the log's size and the
// index of the issuance entry of every document a later entry revoked.
func (db *DB) RevokedLogIndexes(ctx context.Context) (int64, []int64, error) {
	var size int64
	if err := db.queryRow(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries`).Scan(&size); err != nil {
		return 0, nil, fmt.Errorf("store: log size: %w", err)
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT i.idx FROM log_entries i JOIN log_entries r ON r.number = i.number AND r.kind = 'revoked' WHERE i.kind = 'issued'`)
	if err != nil {
		return 0, nil, fmt.Errorf("store: revoked entries: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var idx int64
		if err := rows.Scan(&idx); err != nil {
			return 0, nil, fmt.Errorf("store: revoked entries: %w", err)
		}
		out = append(out, idx)
	}
	return size, out, rows.Err()
}
