package doclog

import (
	"context"
	"errors"
	"time"
)

// Store is where the log keeps its entries, Merkle hashes and checkpoints.
// Package store implements it on SQLite and PostgreSQL; package doclogtest
// has an in-memory one with failure switches, and TestStore, which every
// implementation must pass.
//
// The log writes only inside a Tx from BeginLog, and reads outside one only
// what is committed: hashes and entries never change once committed.
type Store interface {
	// BeginLog starts a write transaction that holds the log's append lock
	// until it ends: whoever holds it is the log's one sequencer, even with
	// several processes on one store. Read the head with Tx.LatestCheckpoint
	// only after BeginLog returns.
	BeginLog(ctx context.Context) (Tx, error)
	// LatestCheckpoint returns the newest committed checkpoint, or an error
	// matching ErrNoCheckpoint for an empty log.
	LatestCheckpoint(ctx context.Context) (size int64, root, note []byte, err error)
	// LogHashes returns committed hashes by stored-hash index, in the order
	// asked; a missing one is an error.
	LogHashes(ctx context.Context, ids []int64) ([][]byte, error)
	// LogEntries returns the data of entries [start, end), fewer if the log
	// is shorter, never with a gap.
	LogEntries(ctx context.Context, start, end int64) ([][]byte, error)
}

// Tx is one append: a batch of entries, their hashes and the checkpoint
// that covers them, committed together or not at all. The callers' own
// writes (the document an entry is about) happen in the same Tx, so a
// document is stored if and only if it is logged: Append hands each caller's
// pre function this Tx, and the caller type-asserts it to the interface of
// its own writes.
type Tx interface {
	// LatestCheckpoint is the head as this transaction sees it.
	LatestCheckpoint(ctx context.Context) (size int64, root, note []byte, err error)
	// LogHashes reads hashes as this transaction sees them, on its own
	// connection: the committer must never wait for a second one while it
	// holds the append lock.
	LogHashes(ctx context.Context, ids []int64) ([][]byte, error)
	// Savepoint runs fn so that, if fn fails, only fn's writes are undone.
	Savepoint(ctx context.Context, fn func() error) error
	// InsertLogEntries stores entries and the hashes they add.
	InsertLogEntries(ctx context.Context, entries []Record, hashIDs []int64, hashes [][]byte) error
	// InsertCheckpoint stores a signed checkpoint.
	InsertCheckpoint(ctx context.Context, size int64, root, note []byte, at time.Time) error
	// ReplaceCheckpointNote stores a new signature for the checkpoint of
	// size: the same tree head, signed by a rotated key.
	ReplaceCheckpointNote(ctx context.Context, size int64, note []byte) error
	Commit() error
	Rollback() error
}

// Record is one stored log entry: its index, the issuance number and kind
// it is about (for lookups), and its canonical bytes.
type Record struct {
	Index  int64
	Number string
	Kind   string
	Data   []byte
}

// ErrNoCheckpoint is returned by LatestCheckpoint for a log that has none
// yet.
var ErrNoCheckpoint = errors.New("doclog: the log has no checkpoint")
