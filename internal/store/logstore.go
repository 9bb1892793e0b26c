package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/issuance"
)

// Tx is one write transaction. The transparency log runs many callers'
// writes in one Tx (group commit), each inside its own savepoint.
type Tx struct {
	db    *DB
	tx    *sql.Tx
	sp    int
	stmts map[string]*sql.Stmt // prepared once per transaction: a batch runs them per entry
}

// stmt returns q prepared on the transaction, once per transaction; the
// statements close when it ends.
func (t *Tx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, t.db.rebind(q))
	if err != nil {
		return nil, err
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = st
	return st, nil
}

// Begin starts a write transaction.
func (db *DB) Begin(ctx context.Context) (*Tx, error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	return &Tx{db: db, tx: tx}, nil
}

// BeginLog starts a write transaction that holds the transparency log's
// append lock until it ends, so that whoever holds it is the log's one
// sequencer, even with several minwon processes on one database. On
// PostgreSQL it is a transaction-level advisory lock: it is released at
// commit or rollback, and by the server when the holder's connection dies,
// so another node takes over. On SQLite it is the database write lock every
// transaction takes at BEGIN.
//
// It returns a doclog.Tx so that *DB is a doclog.Store; the value is a *Tx,
// which the log's callers type-assert for their own writes (InsertIssuance,
// HasLogEntry). Read the log's head with Tx.LatestCheckpoint after BeginLog
// returns: only then is it the head this transaction appends to.
func (db *DB) BeginLog(ctx context.Context) (doclog.Tx, error) {
	tx, err := db.beginLocked(ctx, lockClassLog)
	if err != nil {
		return nil, fmt.Errorf("store: begin log append: %w", err)
	}
	return &Tx{db: db, tx: tx}, nil
}

var _ doclog.Store = (*DB)(nil)

// LogSequencer reports which database session holds the log's append lock
// now: its server process id and application_name. It returns ErrNotFound
// when nobody appends at this moment, and on SQLite, which has no sessions
// to name.
func (db *DB) LogSequencer(ctx context.Context) (pid int, application string, err error) {
	if db.dialect != postgres {
		return 0, "", ErrNotFound
	}
	err = db.sql.QueryRowContext(ctx, fmt.Sprintf(`
		SELECT l.pid, coalesce(a.application_name, '')
		FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND l.classid = %d AND l.objid = hashtext(coalesce(current_schema(), ''))::oid AND l.objsubid = 2`, lockClassLog)).Scan(&pid, &application)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", ErrNotFound
	}
	if err != nil {
		return 0, "", fmt.Errorf("store: log sequencer: %w", err)
	}
	return pid, application, nil
}

// Commit commits the transaction.
func (t *Tx) Commit() error {
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Rollback abandons the transaction.
func (t *Tx) Rollback() error { return t.tx.Rollback() }

// Savepoint runs fn inside a savepoint: if fn fails, only its writes are
// undone and the transaction goes on.
func (t *Tx) Savepoint(ctx context.Context, fn func() error) error {
	t.sp++
	name := fmt.Sprintf("sp%d", t.sp)
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return fmt.Errorf("store: savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rerr := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return errors.Join(err, fmt.Errorf("store: rollback to savepoint: %w", rerr))
		}
		t.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name)
		return err
	}
	if _, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return fmt.Errorf("store: release savepoint: %w", err)
	}
	return nil
}

// InsertIssuance stores an issued document inside the transaction.
func (t *Tx) InsertIssuance(ctx context.Context, is issuance.Issuance) error {
	return insertIssuance(ctx, t.db, t.tx, is)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertIssuance stores is with its PDF and data.json sealed (see Protect).
func insertIssuance(ctx context.Context, db *DB, ex execer, is issuance.Issuance) error {
	dataKeyID, pdf, data, err := db.sealDocument(is)
	if err != nil {
		return err
	}
	_, err = ex.ExecContext(ctx, db.rebind(`INSERT INTO issuances (`+issuanceCols+`, pdf, data_json, data_key_id, check_code_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		is.Number, is.RequesterLogin, is.RequesterSubject, is.Subject, is.Service, is.TemplateVersion, is.TemplateDigest,
		is.IssuedAt.UnixMilli(), is.PDFSHA256, is.KeyID, is.IdempotencyKey, is.RequestHash, pdf, data, dataKeyID, is.CheckCodeHash)
	if err != nil {
		if isUniqueViolation(err) {
			return errDuplicateIssuance
		}
		return fmt.Errorf("store: insert issuance: %w", err)
	}
	return nil
}

// insertChunk bounds the rows of one multi-row INSERT (SQLite allows
// 32766 parameters; PostgreSQL 65535).
const insertChunk = 500

// InsertLogEntries stores log entries and the Merkle hashes they add, with
// a few multi-row INSERTs rather than one round trip per row.
func (t *Tx) InsertLogEntries(ctx context.Context, rows []doclog.Record, hashIDs []int64, hashes [][]byte) error {
	for start := 0; start < len(rows); start += insertChunk {
		chunk := rows[start:min(start+insertChunk, len(rows))]
		args := make([]any, 0, 4*len(chunk))
		for _, r := range chunk {
			args = append(args, r.Index, r.Number, r.Kind, r.Data)
		}
		q := `INSERT INTO log_entries (idx, number, kind, data) VALUES (?, ?, ?, ?)` + strings.Repeat(`, (?, ?, ?, ?)`, len(chunk)-1)
		if _, err := t.tx.ExecContext(ctx, t.db.rebind(q), args...); err != nil {
			return fmt.Errorf("store: insert log entries: %w", err)
		}
	}
	for start := 0; start < len(hashIDs); start += insertChunk {
		end := min(start+insertChunk, len(hashIDs))
		args := make([]any, 0, 2*(end-start))
		for i := start; i < end; i++ {
			args = append(args, hashIDs[i], hashes[i])
		}
		q := `INSERT INTO log_hashes (id, hash) VALUES (?, ?)` + strings.Repeat(`, (?, ?)`, end-start-1)
		if _, err := t.tx.ExecContext(ctx, t.db.rebind(q), args...); err != nil {
			return fmt.Errorf("store: insert log hashes: %w", err)
		}
	}
	return nil
}

// InsertCheckpoint stores a signed checkpoint.
func (t *Tx) InsertCheckpoint(ctx context.Context, size int64, root, note []byte, at time.Time) error {
	if _, err := t.tx.ExecContext(ctx, t.db.rebind(`INSERT INTO log_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)`), size, root, note, at.UnixMilli()); err != nil {
		return fmt.Errorf("store: insert checkpoint: %w", err)
	}
	return nil
}

// LogHashes reads stored hashes by id, in the order asked.
func (db *DB) LogHashes(ctx context.Context, ids []int64) ([][]byte, error) {
	return logHashes(ctx, ids, db.query)
}

// LogHashes reads stored hashes inside the transaction, on its own
// connection: the log's committer must never wait for a second pooled
// connection while it holds the write lock (logins waiting for that lock
// can hold every other connection).
func (t *Tx) LogHashes(ctx context.Context, ids []int64) ([][]byte, error) {
	return logHashes(ctx, ids, func(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
		return t.tx.QueryContext(ctx, t.db.rebind(q), args...)
	})
}

func logHashes(ctx context.Context, ids []int64, query func(ctx context.Context, q string, args ...any) (*sql.Rows, error)) ([][]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q := `SELECT id, hash FROM log_hashes WHERE id IN (?` + strings.Repeat(",?", len(ids)-1) + `)`
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: log hashes: %w", err)
	}
	defer rows.Close()
	got := make(map[int64][]byte, len(ids))
	for rows.Next() {
		var id int64
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return nil, fmt.Errorf("store: log hashes: %w", err)
		}
		got[id] = h
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := got[id]
		if !ok {
			return nil, fmt.Errorf("store: log hash %d missing", id)
		}
		out[i] = h
	}
	return out, nil
}

// errNoCheckpoint is both store's ErrNotFound and the log's ErrNoCheckpoint.
var errNoCheckpoint = fmt.Errorf("%w: %w", ErrNotFound, doclog.ErrNoCheckpoint)

// LatestCheckpoint returns the newest checkpoint, or an error matching
// ErrNotFound and doclog.ErrNoCheckpoint for an empty log.
func (db *DB) LatestCheckpoint(ctx context.Context) (size int64, root, note []byte, err error) {
	return latestCheckpoint(ctx, db.sql)
}

// LatestCheckpoint returns the newest checkpoint as this transaction sees
// it. After BeginLog it is the head no other writer can move until this
// transaction ends.
func (t *Tx) LatestCheckpoint(ctx context.Context) (size int64, root, note []byte, err error) {
	return latestCheckpoint(ctx, t.tx)
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func latestCheckpoint(ctx context.Context, q rowQuerier) (size int64, root, note []byte, err error) {
	err = q.QueryRowContext(ctx, `SELECT size, root, note FROM log_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&size, &root, &note)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil, errNoCheckpoint
	}
	if err != nil {
		return 0, nil, nil, fmt.Errorf("store: checkpoint: %w", err)
	}
	return size, root, note, nil
}

// LogEntries returns the data of entries [start, end).
func (db *DB) LogEntries(ctx context.Context, start, end int64) ([][]byte, error) {
	rows, err := db.sql.QueryContext(ctx, db.rebind(`SELECT idx, data FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx`), start, end)
	if err != nil {
		return nil, fmt.Errorf("store: log entries: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	next := start
	for rows.Next() {
		var idx int64
		var d []byte
		if err := rows.Scan(&idx, &d); err != nil {
			return nil, fmt.Errorf("store: log entries: %w", err)
		}
		if idx != next {
			return nil, fmt.Errorf("store: log entry %d missing", next)
		}
		next++
		out = append(out, d)
	}
	return out, rows.Err()
}

// LogEntriesFor returns the entries about an issuance number, oldest first.
func (db *DB) LogEntriesFor(ctx context.Context, number string) ([]doclog.Record, error) {
	rows, err := db.query(ctx, `SELECT idx, kind, data FROM log_entries WHERE number = ? ORDER BY idx`, number)
	if err != nil {
		return nil, fmt.Errorf("store: log entries: %w", err)
	}
	defer rows.Close()
	var out []doclog.Record
	for rows.Next() {
		e := doclog.Record{Number: number}
		if err := rows.Scan(&e.Index, &e.Kind, &e.Data); err != nil {
			return nil, fmt.Errorf("store: log entries: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// UnloggedIssuances lists issued documents that have no log entry: the
// ones a crash interrupted between storing and logging.
func (db *DB) UnloggedIssuances(ctx context.Context) ([]issuance.Issuance, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+issuanceCols+` FROM issuances i WHERE NOT EXISTS (SELECT 1 FROM log_entries e WHERE e.number = i.number AND e.kind = 'issued') ORDER BY issued_at`)
	if err != nil {
		return nil, fmt.Errorf("store: unlogged issuances: %w", err)
	}
	defer rows.Close()
	var out []issuance.Issuance
	for rows.Next() {
		is, err := scanIssuance(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, is)
	}
	return out, rows.Err()
}

// HasLogEntry says whether the log holds an entry of kind about number,
// as seen inside the transaction (so including the batch's own writes).
func (t *Tx) HasLogEntry(ctx context.Context, number, kind string) (bool, error) {
	var n int
	st, err := t.stmt(ctx, `SELECT COUNT(*) FROM log_entries WHERE number = ? AND kind = ?`)
	if err == nil {
		err = st.QueryRowContext(ctx, number, kind).Scan(&n)
	}
	if err != nil {
		return false, fmt.Errorf("store: look up log entry: %w", err)
	}
	return n > 0, nil
}

// ReplaceCheckpointNote stores a new signature for the checkpoint of size
// (the same tree head, signed by a rotated log key).
func (t *Tx) ReplaceCheckpointNote(ctx context.Context, size int64, note []byte) error {
	if _, err := t.tx.ExecContext(ctx, t.db.rebind(`UPDATE log_checkpoints SET note = ? WHERE size = ?`), note, size); err != nil {
		return fmt.Errorf("store: replace checkpoint signature: %w", err)
	}
	return nil
}
