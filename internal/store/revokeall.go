package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/minwon/minwon/internal/doclog"
)

// The batched forms of a revocation's queries, for a recall that revokes
// its documents a batch at a time (issuance.Pipeline.RevokeAll): one query
// for a batch instead of one per document.

// inList is "?, ?, ..." for n values and numbers as arguments.
func inList(numbers []string) (string, []any) {
	args := make([]any, len(numbers))
	for i, n := range numbers {
		args[i] = n
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(numbers)), ", "), args
}

// queryIn runs q, whose "IN (%s)" takes numbers, in chunks through the
// transaction, handing each row to scan.
func (t *Tx) queryIn(ctx context.Context, q string, numbers []string, scan func(*sql.Rows) error) error {
	for start := 0; start < len(numbers); start += insertChunk {
		list, args := inList(numbers[start:min(start+insertChunk, len(numbers))])
		rows, err := t.tx.QueryContext(ctx, t.db.rebind(fmt.Sprintf(q, list)), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// RevokedAmong returns which of numbers have a revocation entry, read in
// the log's transaction.
func (t *Tx) RevokedAmong(ctx context.Context, numbers []string) ([]string, error) {
	var out []string
	err := t.queryIn(ctx, `SELECT DISTINCT number FROM log_entries WHERE kind = '`+doclog.KindRevoked+`' AND number IN (%s)`, numbers, func(rows *sql.Rows) error {
		var n string
		err := rows.Scan(&n)
		out = append(out, n)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: revoked entries: %w", err)
	}
	return out, nil
}

// SubjectsOfIssuances maps each of numbers to whom its document is about
// (absent where no document is stored), read in the log's transaction.
func (t *Tx) SubjectsOfIssuances(ctx context.Context, numbers []string) (map[string]string, error) {
	out := make(map[string]string, len(numbers))
	err := t.queryIn(ctx, `SELECT number, subject FROM issuances WHERE number IN (%s)`, numbers, func(rows *sql.Rows) error {
		var n, s string
		err := rows.Scan(&n, &s)
		out[n] = s
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: issuance subjects: %w", err)
	}
	return out, nil
}

// SetRecallItems marks a batch of a recall's items in the log's
// transaction (incident.RecallTx): they are revoked if and only if their
// revocation entries commit.
func (t *Tx) SetRecallItems(ctx context.Context, recallID string, numbers []string, state string) error {
	for start := 0; start < len(numbers); start += insertChunk {
		list, args := inList(numbers[start:min(start+insertChunk, len(numbers))])
		args = append([]any{state, recallID}, args...)
		if _, err := t.tx.ExecContext(ctx, t.db.rebind(`UPDATE incident_documents SET state = ? WHERE recall_id = ? AND number IN (`+list+`)`), args...); err != nil {
			return fmt.Errorf("store: recall items: %w", err)
		}
	}
	return nil
}
