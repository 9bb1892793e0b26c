package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/governance"
)

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func timeMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FormVersions implements governance.Store.
func (db *DB) FormVersions(ctx context.Context) ([]governance.Version, error) {
	rows, err := db.query(ctx, `SELECT service, kind, version, state, digest, body, author, created_at, updated_at, checks, canary_started_at, canary_issued, canary_refused FROM form_versions ORDER BY service, kind, version`)
	if err != nil {
		return nil, fmt.Errorf("store: form versions: %w", err)
	}
	defer rows.Close()
	var out []governance.Version
	for rows.Next() {
		var v governance.Version
		var kind, state, body, checks string
		var created, updated, started int64
		if err := rows.Scan(&v.Service, &kind, &v.Number, &state, &v.Digest, &body, &v.Author, &created, &updated, &checks, &started, &v.Canary.Issued, &v.Canary.Refused); err != nil {
			return nil, fmt.Errorf("store: form versions: %w", err)
		}
		v.Kind, v.State, v.Body = governance.Kind(kind), governance.State(state), []byte(body)
		v.CreatedAt, v.UpdatedAt, v.Canary.StartedAt = msTime(created), msTime(updated), msTime(started)
		if checks != "" {
			if err := json.Unmarshal([]byte(checks), &v.Checks); err != nil {
				return nil, fmt.Errorf("store: form version %s v%d checks: %w", v.Service, v.Number, err)
			}
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// InsertFormVersion implements governance.Store.
func (db *DB) InsertFormVersion(ctx context.Context, v governance.Version, e governance.Event) error {
	checks := ""
	if len(v.Checks.Goldens) > 0 || v.Checks.Diff != "" {
		b, err := json.Marshal(v.Checks)
		if err != nil {
			return err
		}
		checks = string(b)
	}
	return db.formTx(ctx, e, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO form_versions (service, kind, version, state, digest, body, author, created_at, updated_at, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			v.Service, string(v.Kind), v.Number, string(v.State), v.Digest, string(v.Body), v.Author, timeMS(v.CreatedAt), timeMS(v.UpdatedAt), checks)
		if isUniqueViolation(err) {
			return governance.ErrExists
		}
		return err
	})
}

// ChangeFormStates implements governance.Store.
func (db *DB) ChangeFormStates(ctx context.Context, changes []governance.Change, e governance.Event) error {
	// A version leaves the active state before another enters it, so
	// that the one-active index holds after every statement.
	ordered := make([]governance.Change, 0, len(changes))
	for _, c := range changes {
		if c.From == governance.Active {
			ordered = append(ordered, c)
		}
	}
	for _, c := range changes {
		if c.From != governance.Active {
			ordered = append(ordered, c)
		}
	}
	return db.formTx(ctx, e, func(tx *sql.Tx) error {
		for _, c := range ordered {
			q := `UPDATE form_versions SET state = ?, updated_at = ? WHERE service = ? AND kind = ? AND version = ? AND state = ?`
			args := []any{string(c.To), timeMS(e.At), c.Service, string(c.Kind), c.Number, string(c.From)}
			if c.To == governance.Canary {
				q = `UPDATE form_versions SET state = ?, updated_at = ?, canary_started_at = ?, canary_issued = 0, canary_refused = 0 WHERE service = ? AND kind = ? AND version = ? AND state = ?`
				args = []any{string(c.To), timeMS(e.At), timeMS(e.At), c.Service, string(c.Kind), c.Number, string(c.From)}
			}
			res, err := tx.ExecContext(ctx, db.rebind(q), args...)
			if isUniqueViolation(err) {
				return governance.ErrStale
			}
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return governance.ErrStale
			}
		}
		return nil
	})
}

// AddFormApproval implements governance.Store.
func (db *DB) AddFormApproval(ctx context.Context, a governance.Approval, e governance.Event) error {
	return db.formTx(ctx, e, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO form_approvals (service, kind, version, approver, role, at) VALUES (?, ?, ?, ?, ?, ?)`),
			a.Service, string(a.Kind), a.Number, a.Approver, string(a.Role), timeMS(a.At))
		if isUniqueViolation(err) {
			return governance.ErrApprovedTwice
		}
		return err
	})
}

// AddFormEvent implements governance.Store.
func (db *DB) AddFormEvent(ctx context.Context, e governance.Event) error {
	return db.formTx(ctx, e, func(*sql.Tx) error { return nil })
}

// formTx runs f and appends e in one transaction.
func (db *DB) formTx(ctx context.Context, e governance.Event, f func(tx *sql.Tx) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = db.formTxOnce(ctx, e, f); err == nil || !isUniqueViolation(err) {
			break
		}
		// Two events of one service numbered at once: number again.
	}
	if err != nil {
		return fmt.Errorf("store: forms: %w", err)
	}
	return nil
}

func (db *DB) formTxOnce(ctx context.Context, e governance.Event, f func(tx *sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, db.rebind(`SELECT COALESCE(MAX(seq), 0) + 1 FROM form_events WHERE service = ?`), e.Service).Scan(&seq); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO form_events (seq, service, kind, version, at, actor, action, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		seq, e.Service, string(e.Kind), e.Number, timeMS(e.At), e.Actor, e.Action, e.Note); err != nil {
		return err
	}
	return tx.Commit()
}

// FormApprovals implements governance.Store.
func (db *DB) FormApprovals(ctx context.Context, service string) ([]governance.Approval, error) {
	rows, err := db.query(ctx, `SELECT service, kind, version, approver, role, at FROM form_approvals WHERE service = ? ORDER BY at`, service)
	if err != nil {
		return nil, fmt.Errorf("store: form approvals: %w", err)
	}
	defer rows.Close()
	var out []governance.Approval
	for rows.Next() {
		var a governance.Approval
		var kind, role string
		var at int64
		if err := rows.Scan(&a.Service, &kind, &a.Number, &a.Approver, &role, &at); err != nil {
			return nil, fmt.Errorf("store: form approvals: %w", err)
		}
		a.Kind, a.Role, a.At = governance.Kind(kind), governance.Role(role), msTime(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// FormEvents implements governance.Store.
func (db *DB) FormEvents(ctx context.Context, service string) ([]governance.Event, error) {
	rows, err := db.query(ctx, `SELECT service, kind, version, at, actor, action, note FROM form_events WHERE service = ? ORDER BY seq`, service)
	if err != nil {
		return nil, fmt.Errorf("store: form events: %w", err)
	}
	defer rows.Close()
	var out []governance.Event
	for rows.Next() {
		var e governance.Event
		var kind string
		var at int64
		if err := rows.Scan(&e.Service, &kind, &e.Number, &at, &e.Actor, &e.Action, &e.Note); err != nil {
			return nil, fmt.Errorf("store: form events: %w", err)
		}
		e.Kind, e.At = governance.Kind(kind), msTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// CountCanary implements governance.Store.
func (db *DB) CountCanary(ctx context.Context, service string, number, issued, refused int) error {
	_, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE form_versions SET canary_issued = canary_issued + ?, canary_refused = canary_refused + ? WHERE service = ? AND kind = 'template' AND version = ?`), issued, refused, service, number)
	if err != nil {
		return fmt.Errorf("store: canary count: %w", err)
	}
	return nil
}

// IssuancesOfTemplate implements governance.Store.
func (db *DB) IssuancesOfTemplate(ctx context.Context, service string, version int, digest string) ([]string, error) {
	rows, err := db.query(ctx, `SELECT number FROM issuances WHERE service = ? AND template_version = ? AND template_digest = ? ORDER BY number`, service, version, digest)
	if err != nil {
		return nil, fmt.Errorf("store: issuances of template: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
