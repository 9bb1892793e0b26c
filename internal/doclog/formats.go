package doclog

import (
	"time"

	"github.com/minwon/minwon/internal/verify"
)

// The log's formats (entries, checkpoints, proofs) are package verify's,
// which outside verifiers import without the log; these are its names for
// them here.
type (
	// Hash is a Merkle tree hash.
	Hash = verify.Hash
	// Entry is one record of the log.
	Entry = verify.Entry
	// Checkpoint is a parsed checkpoint body.
	Checkpoint = verify.Checkpoint
)

// Entry kinds.
const (
	KindIssued  = verify.KindIssued
	KindRevoked = verify.KindRevoked
)

var (
	// ErrBadEntry reports log entry bytes that are not a canonical entry.
	ErrBadEntry = verify.ErrBadEntry
)

// ParseEntry decodes canonical entry bytes.
func ParseEntry(data []byte) (Entry, error) { return verify.ParseEntry(data) }

// FormatCheckpoint returns the C2SP tlog-checkpoint body.
func FormatCheckpoint(origin string, size int64, root Hash) string {
	return verify.FormatCheckpoint(origin, size, root)
}

// FormatCheckpointAt returns the checkpoint body with the time it is
// signed at, as an extension line.
func FormatCheckpointAt(origin string, size int64, root Hash, at time.Time) string {
	return verify.FormatCheckpointAt(origin, size, root, at)
}

// ParseCheckpoint parses a C2SP checkpoint body for the expected origin.
func ParseCheckpoint(text, origin string) (Checkpoint, error) {
	return verify.ParseCheckpoint(text, origin)
}

// OpenCheckpoint verifies a signed checkpoint with any of the trusted note
// verifier keys and parses it.
func OpenCheckpoint(signed []byte, verifierKeys ...string) (Checkpoint, error) {
	return verify.OpenCheckpoint(signed, verifierKeys...)
}

// RecordHash is the leaf hash of entry data (RFC 6962).
func RecordHash(data []byte) Hash { return verify.RecordHash(data) }

// CheckInclusion verifies that data is entry index of the tree (size, root).
func CheckInclusion(proof []Hash, size int64, root Hash, index int64, data []byte) error {
	return verify.CheckInclusion(proof, size, root, index, data)
}

// CheckConsistency verifies that tree (oldSize, oldRoot) is a prefix of
// (size, root).
func CheckConsistency(proof []Hash, size int64, root Hash, oldSize int64, oldRoot Hash) error {
	return verify.CheckConsistency(proof, size, root, oldSize, oldRoot)
}
