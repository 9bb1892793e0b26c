package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/minwon/minwon/internal/notify"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/incident"
	"github.com/minwon/minwon/internal/issuance"
)

var (
	errIncidentNotFound                = fmt.Errorf("%w: %w", ErrNotFound, incident.ErrNotFound)
	_                   incident.Store = (*DB)(nil)
)

// matchWhere is the WHERE clause (on issuances aliased i) and its
// arguments for sel.
func matchWhere(sel incident.Selection) (string, []any) {
	var conds []string
	var args []any
	if len(sel.Services) > 0 {
		conds = append(conds, "i.service IN (?"+strings.Repeat(",?", len(sel.Services)-1)+")")
		for _, s := range sel.Services {
			args = append(args, s)
		}
	}
	if sel.Key != "" {
		conds = append(conds, "i.key_id = ?")
		args = append(args, sel.Key)
	}
	if !sel.From.IsZero() {
		conds = append(conds, "i.issued_at >= ?")
		args = append(args, sel.From.UnixMilli())
	}
	if !sel.To.IsZero() {
		conds = append(conds, "i.issued_at < ?")
		args = append(args, sel.To.UnixMilli())
	}
	if sel.TemplateVersion != 0 {
		conds = append(conds, "i.template_version = ?")
		args = append(args, sel.TemplateVersion)
	}
	if len(conds) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(conds, " AND "), args
}

func fromMs(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

type sqlExec interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (db *DB) insertIncident(ctx context.Context, tx sqlExec, inc incident.Incident, first incident.Entry) error {
	if _, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO incidents (id, grade, kind, title, opened_at, opened_by, regulator_due) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		inc.ID, inc.Grade, inc.Kind, inc.Title, inc.OpenedAt.UnixMilli(), inc.OpenedBy, inc.RegulatorDue.UnixMilli()); err != nil {
		return fmt.Errorf("store: insert incident: %w", err)
	}
	return db.insertEntry(ctx, tx, inc.ID, first)
}

func (db *DB) insertEntry(ctx context.Context, tx sqlExec, id string, e incident.Entry) error {
	if _, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO incident_timeline (id, incident_id, at, actor, entry) VALUES (?, ?, ?, ?, ?)`),
		randomID(), id, e.At.UnixNano(), e.Actor, e.Text); err != nil {
		return fmt.Errorf("store: incident timeline: %w", err)
	}
	return nil
}

func randomID() string {
	var b [12]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

// CreateIncident implements incident.Store.
func (db *DB) CreateIncident(ctx context.Context, inc incident.Incident, first incident.Entry, numbers []string, sel *incident.Selection) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if err := db.insertIncident(ctx, tx, inc, first); err != nil {
		return err
	}
	for start := 0; start < len(numbers); start += insertChunk {
		chunk := numbers[start:min(start+insertChunk, len(numbers))]
		args := []any{inc.ID}
		for _, n := range chunk {
			args = append(args, n)
		}
		q := `INSERT INTO incident_documents (incident_id, number) SELECT CAST(? AS TEXT), number FROM issuances WHERE number IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
		if _, err := tx.ExecContext(ctx, db.rebind(q), args...); err != nil {
			return fmt.Errorf("store: incident documents: %w", err)
		}
	}
	if sel != nil {
		where, args := matchWhere(*sel)
		q := `INSERT INTO incident_documents (incident_id, number) SELECT CAST(? AS TEXT), i.number FROM issuances i WHERE ` + where + ` AND i.number NOT IN (SELECT number FROM incident_documents WHERE incident_id = ?)`
		if _, err := tx.ExecContext(ctx, db.rebind(q), append(append([]any{inc.ID}, args...), inc.ID)...); err != nil {
			return fmt.Errorf("store: incident documents: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit incident: %w", err)
	}
	return nil
}

// AddIncidentEntry implements incident.Store.
func (db *DB) AddIncidentEntry(ctx context.Context, id string, e incident.Entry) error {
	return db.insertEntry(ctx, db.sql, id, e)
}

const incidentCols = `id, grade, kind, title, opened_at, opened_by, regulator_due, regulator_reported_at`

func scanIncident(row interface{ Scan(...any) error }) (incident.Incident, error) {
	var inc incident.Incident
	var opened, due int64
	var reported sql.NullInt64
	if err := row.Scan(&inc.ID, &inc.Grade, &inc.Kind, &inc.Title, &opened, &inc.OpenedBy, &due, &reported); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return inc, errIncidentNotFound
		}
		return inc, fmt.Errorf("store: incident: %w", err)
	}
	inc.OpenedAt, inc.RegulatorDue, inc.ReportedAt = time.UnixMilli(opened).UTC(), time.UnixMilli(due).UTC(), fromMs(reported)
	return inc, nil
}

// Incidents implements incident.Store: newest first.
func (db *DB) Incidents(ctx context.Context, limit int) ([]incident.Incident, error) {
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT `+incidentCols+` FROM incidents ORDER BY opened_at DESC, id LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: incidents: %w", err)
	}
	defer rows.Close()
	var out []incident.Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inc)
	}
	return out, rows.Err()
}

// Incident implements incident.Store.
func (db *DB) Incident(ctx context.Context, id string) (incident.Incident, error) {
	return scanIncident(db.sql.QueryRowContext(ctx, db.rebind(`SELECT `+incidentCols+` FROM incidents WHERE id = ?`), id))
}

// IncidentTimeline implements incident.Store: oldest first.
func (db *DB) IncidentTimeline(ctx context.Context, id string) ([]incident.Entry, error) {
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT at, actor, entry FROM incident_timeline WHERE incident_id = ? ORDER BY at, id`), id)
	if err != nil {
		return nil, fmt.Errorf("store: incident timeline: %w", err)
	}
	defer rows.Close()
	var out []incident.Entry
	for rows.Next() {
		var e incident.Entry
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Text); err != nil {
			return nil, fmt.Errorf("store: incident timeline: %w", err)
		}
		e.At = time.Unix(0, at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// IncidentDocumentCount implements incident.Store.
func (db *DB) IncidentDocumentCount(ctx context.Context, id string) (int, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, db.rebind(`SELECT COUNT(*) FROM incident_documents WHERE incident_id = ?`), id).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: incident documents: %w", err)
	}
	return n, nil
}

// IncidentDocuments implements incident.Store.
func (db *DB) IncidentDocuments(ctx context.Context, id string, limit int) ([]incident.Document, error) {
	q := `SELECT i.number, i.service, i.subject, i.requester_login, i.issued_at, d.state FROM incident_documents d JOIN issuances i ON i.number = d.number
		WHERE d.incident_id = ? ORDER BY d.number`
	args := []any{id}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := db.sql.QueryContext(ctx, db.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: incident documents: %w", err)
	}
	defer rows.Close()
	var out []incident.Document
	for rows.Next() {
		var d incident.Document
		var at int64
		if err := rows.Scan(&d.Number, &d.Service, &d.Subject, &d.Requester, &at, &d.State); err != nil {
			return nil, fmt.Errorf("store: incident documents: %w", err)
		}
		d.IssuedAt = time.UnixMilli(at).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// IncidentSubjects implements incident.Store: each affected subject with
// its subject-index entry (an RRN's before a business number's), how many
// of its documents are affected, who received them, and whether its
// notice was queued.
func (db *DB) IncidentSubjects(ctx context.Context, id string) ([]incident.Subject, error) {
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT i.subject, i.requester_login, COUNT(*),
		(SELECT s.digest FROM subject_index s WHERE s.subject = i.subject ORDER BY s.kind DESC LIMIT 1)
		FROM incident_documents d JOIN issuances i ON i.number = d.number
		WHERE d.incident_id = ? GROUP BY i.subject, i.requester_login ORDER BY i.subject, i.requester_login`), id)
	if err != nil {
		return nil, fmt.Errorf("store: incident subjects: %w", err)
	}
	var out []incident.Subject
	at := map[string]int{}
	for rows.Next() {
		var subject, requester string
		var n int
		var digest []byte
		if err := rows.Scan(&subject, &requester, &n, &digest); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: incident subjects: %w", err)
		}
		k, ok := at[subject]
		if !ok {
			k = len(out)
			at[subject] = k
			out = append(out, incident.Subject{Subject: subject, Index: digest})
		}
		out[k].Documents += n
		out[k].Recipients = append(out[k].Recipients, requester)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: incident subjects: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	rows, err = db.sql.QueryContext(ctx, db.rebind(`SELECT subject FROM incident_notices WHERE incident_id = ?`), id)
	if err != nil {
		return nil, fmt.Errorf("store: incident notices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var subject string
		if err := rows.Scan(&subject); err != nil {
			return nil, fmt.Errorf("store: incident notices: %w", err)
		}
		if k, ok := at[subject]; ok {
			out[k].Notified = true
		}
	}
	return out, rows.Err()
}

// MarkReported implements incident.Store.
func (db *DB) MarkReported(ctx context.Context, id string, at time.Time) error {
	res, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE incidents SET regulator_reported_at = ? WHERE id = ? AND regulator_reported_at IS NULL`), at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("store: mark reported: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := db.Incident(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("%w: the report was already filed", incident.ErrBadRequest)
	}
	return nil
}

// MarkNotified implements incident.Store, in one transaction.
// The notices are queued in the same transaction, kept once by id.
func (db *DB) MarkNotified(ctx context.Context, incidentID string, notices []notify.Notice, at time.Time) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	for start := 0; start < len(notices); start += insertChunk {
		chunk := notices[start:min(start+insertChunk, len(notices))]
		args := make([]any, 0, 8*len(chunk))
		for _, n := range chunk {
			args = append(args, n.ID, n.Subject, n.Kind, n.Title, n.Body, n.Number, n.At.UnixMilli(), n.At.UnixMilli())
		}
		q := `INSERT INTO notices (id, subject, kind, title, body, number, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)` +
			strings.Repeat(`, (?, ?, ?, ?, ?, ?, ?, ?)`, len(chunk)-1) + ` ON CONFLICT (id) DO NOTHING`
		if _, err := tx.ExecContext(ctx, db.rebind(q), args...); err != nil {
			return fmt.Errorf("store: incident notices: queue: %w", err)
		}
		args = args[:0]
		for _, n := range chunk {
			args = append(args, incidentID, n.Subject, at.UnixMilli())
		}
		q = `INSERT INTO incident_notices (incident_id, subject, queued_at) VALUES (?, ?, ?)` + strings.Repeat(`, (?, ?, ?)`, len(chunk)-1) + ` ON CONFLICT DO NOTHING`
		if _, err := tx.ExecContext(ctx, db.rebind(q), args...); err != nil {
			return fmt.Errorf("store: incident notices: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: incident notices: %w", err)
	}
	return nil
}

// CountMatching implements incident.Store.
func (db *DB) CountMatching(ctx context.Context, sel incident.Selection, sample int) (int, []incident.Document, error) {
	where, args := matchWhere(sel)
	var n int
	if err := db.sql.QueryRowContext(ctx, db.rebind(`SELECT COUNT(*) FROM issuances i WHERE `+where), args...).Scan(&n); err != nil {
		return 0, nil, fmt.Errorf("store: count matching: %w", err)
	}
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT i.number, i.service, i.subject, i.requester_login, i.issued_at FROM issuances i WHERE `+where+` ORDER BY i.issued_at DESC, i.number LIMIT ?`), append(args, sample)...)
	if err != nil {
		return 0, nil, fmt.Errorf("store: sample matching: %w", err)
	}
	defer rows.Close()
	var out []incident.Document
	for rows.Next() {
		var d incident.Document
		var at int64
		if err := rows.Scan(&d.Number, &d.Service, &d.Subject, &d.Requester, &at); err != nil {
			return 0, nil, fmt.Errorf("store: sample matching: %w", err)
		}
		d.IssuedAt = time.UnixMilli(at).UTC()
		out = append(out, d)
	}
	return n, out, rows.Err()
}

// MatchingNumbers implements incident.Store.
func (db *DB) MatchingNumbers(ctx context.Context, sel incident.Selection, after string, limit int) ([]string, error) {
	where, args := matchWhere(sel)
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT i.number FROM issuances i WHERE `+where+` AND i.number > ? ORDER BY i.number LIMIT ?`), append(args, after, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: matching numbers: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("store: matching numbers: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// CreateRecall implements incident.Store.
func (db *DB) CreateRecall(ctx context.Context, inc incident.Incident, first incident.Entry, r incident.Recall, sel incident.Selection) (int, error) {
	filter, err := json.Marshal(r.Filter)
	if err != nil {
		return 0, err
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if err := db.insertIncident(ctx, tx, inc, first); err != nil {
		return 0, err
	}
	where, args := matchWhere(sel)
	res, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO incident_documents (incident_id, number, recall_id, state) SELECT CAST(? AS TEXT), i.number, CAST(? AS TEXT), 'pending' FROM issuances i WHERE `+where),
		append([]any{inc.ID, r.ID}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("store: recall items: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: recall items: %w", err)
	}
	if _, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO recalls (id, incident_id, filter, reason, state, created_by, created_at, total) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		r.ID, inc.ID, string(filter), r.Reason, incident.Pending, r.CreatedBy, r.CreatedAt.UnixMilli(), n); err != nil {
		return 0, fmt.Errorf("store: insert recall: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: commit recall: %w", err)
	}
	if db.dialect == postgres {
		// A recall can add a hundred thousand items at once; before
		// autovacuum notices, the planner takes the table for small and
		// scans it for every batch's update (a 100,000-document recall
		// took three times as long per document as a 30,000 one).
		if _, err := db.sql.ExecContext(ctx, `ANALYZE incident_documents`); err != nil {
			return 0, fmt.Errorf("store: analyze recall items: %w", err)
		}
	}
	return int(n), nil
}

const recallCols = `id, incident_id, filter, reason, state, created_by, created_at, approved_by, approved_at, finished_at, total`

func (db *DB) scanRecall(row interface{ Scan(...any) error }) (incident.Recall, error) {
	var r incident.Recall
	var filter string
	var created int64
	var approved, finished sql.NullInt64
	if err := row.Scan(&r.ID, &r.IncidentID, &filter, &r.Reason, &r.State, &r.CreatedBy, &created, &r.ApprovedBy, &approved, &finished, &r.Total); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return r, errIncidentNotFound
		}
		return r, fmt.Errorf("store: recall: %w", err)
	}
	if err := json.Unmarshal([]byte(filter), &r.Filter); err != nil {
		return r, fmt.Errorf("store: recall %s filter: %w", r.ID, err)
	}
	r.CreatedAt, r.ApprovedAt, r.FinishedAt = time.UnixMilli(created).UTC(), fromMs(approved), fromMs(finished)
	return r, nil
}

func (db *DB) recallItems(ctx context.Context, r *incident.Recall) error {
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT state, COUNT(*) FROM incident_documents WHERE recall_id = ? GROUP BY state`), r.ID)
	if err != nil {
		return fmt.Errorf("store: recall items: %w", err)
	}
	defer rows.Close()
	r.Items = map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return fmt.Errorf("store: recall items: %w", err)
		}
		r.Items[state] = n
	}
	return rows.Err()
}

// Recall implements incident.Store, with the items counted by state.
func (db *DB) Recall(ctx context.Context, id string) (incident.Recall, error) {
	r, err := db.scanRecall(db.sql.QueryRowContext(ctx, db.rebind(`SELECT `+recallCols+` FROM recalls WHERE id = ?`), id))
	if err != nil {
		return r, err
	}
	return r, db.recallItems(ctx, &r)
}

// Recalls implements incident.Store: those in state ("" for all), oldest
// first, with their items counted.
func (db *DB) Recalls(ctx context.Context, state string) ([]incident.Recall, error) {
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT `+recallCols+` FROM recalls WHERE (? = '' OR state = ?) ORDER BY created_at, id`), state, state)
	if err != nil {
		return nil, fmt.Errorf("store: recalls: %w", err)
	}
	var out []incident.Recall
	for rows.Next() {
		r, err := db.scanRecall(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: recalls: %w", err)
	}
	for i := range out {
		if err := db.recallItems(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ApproveRecall implements incident.Store.
func (db *DB) ApproveRecall(ctx context.Context, id, by string, at time.Time) error {
	res, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE recalls SET state = 'approved', approved_by = ?, approved_at = ? WHERE id = ? AND state = 'pending' AND created_by <> ?`), by, at.UnixMilli(), id, by)
	if err != nil {
		return fmt.Errorf("store: approve recall: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		r, err := db.Recall(ctx, id)
		if err != nil {
			return err
		}
		if r.CreatedBy == by {
			return incident.ErrSameOperator
		}
		return incident.ErrNotPending
	}
	return nil
}

// FinishRecall implements incident.Store.
func (db *DB) FinishRecall(ctx context.Context, id string, at time.Time) error {
	if _, err := db.sql.ExecContext(ctx, db.rebind(`UPDATE recalls SET state = 'done', finished_at = ? WHERE id = ? AND state = 'approved'`), at.UnixMilli(), id); err != nil {
		return fmt.Errorf("store: finish recall: %w", err)
	}
	return nil
}

// PendingRecallItems implements incident.Store.
func (db *DB) PendingRecallItems(ctx context.Context, recallID string, limit int) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT number FROM incident_documents WHERE recall_id = ? AND state = 'pending' ORDER BY number LIMIT ?`), recallID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending recall items: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("store: pending recall items: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func setRecallItem(ctx context.Context, db *DB, tx sqlExec, recallID, number, state string) error {
	if _, err := tx.ExecContext(ctx, db.rebind(`UPDATE incident_documents SET state = ? WHERE recall_id = ? AND number = ?`), state, recallID, number); err != nil {
		return fmt.Errorf("store: recall item: %w", err)
	}
	return nil
}

// SetRecallItem implements incident.Store.
func (db *DB) SetRecallItem(ctx context.Context, recallID, number, state string) error {
	return setRecallItem(ctx, db, db.sql, recallID, number, state)
}

// SetRecallItem marks a recall's item in the log's transaction
// (incident.RecallTx): the item is revoked if and only if its revocation
// entry commits.
func (t *Tx) SetRecallItem(ctx context.Context, recallID, number, state string) error {
	st, err := t.stmt(ctx, `UPDATE incident_documents SET state = ? WHERE recall_id = ? AND number = ?`)
	if err == nil {
		_, err = st.ExecContext(ctx, state, recallID, number)
	}
	if err != nil {
		return fmt.Errorf("store: recall item: %w", err)
	}
	return nil
}

// SubjectNames implements issuance.SubjectNamer: the names each document's
// sealed data.json shows. Purged documents have none to show.
func (db *DB) SubjectNames(ctx context.Context, numbers []string) ([]string, error) {
	if len(numbers) == 0 {
		return nil, nil
	}
	args := make([]any, len(numbers))
	for i, n := range numbers {
		args[i] = n
	}
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT number, data_json, data_key_id FROM issuances WHERE purged_at IS NULL AND number IN (?`+strings.Repeat(",?", len(numbers)-1)+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: subject names: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var is issuance.Issuance
		var keyID string
		if err := rows.Scan(&is.Number, &is.DataJSON, &keyID); err != nil {
			return nil, fmt.Errorf("store: subject names: %w", err)
		}
		if err := db.openData(ctx, &is, keyID); err != nil {
			return nil, err
		}
		ns, err := issuance.SubjectNames(is.DataJSON)
		if err != nil {
			return nil, fmt.Errorf("store: subject names of %s: %w", is.Number, err)
		}
		names = append(names, ns...)
	}
	return names, rows.Err()
}
