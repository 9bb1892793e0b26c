package doclog

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// RollbackError says the log holds less than a checkpoint the world already
// saw: a restore from an older backup, or a lost disk. Entries Have..Seen-1
// were published (their documents handed out) and are gone.
type RollbackError struct {
	Have, Seen int64
}

func (e *RollbackError) Error() string {
	return fmt.Sprintf("doclog: the log has %d entries but a checkpoint of size %d was already published: %d entries (indexes %d to %d) were lost",
		e.Have, e.Seen, e.Seen-e.Have, e.Have, e.Seen-1)
}

// ForkError says the log disagrees with a checkpoint the world already
// saw: at the seen size its tree has another root (a split view).
type ForkError struct {
	Have, Seen int64
	Reason     string
}

func (e *ForkError) Error() string {
	return fmt.Sprintf("doclog: the log (size %d) is not an extension of the published checkpoint of size %d: %s", e.Have, e.Seen, e.Reason)
}

// CheckSeen compares the log's newest checkpoint with seen, a checkpoint
// the world already saw (signed by this log's key, current or retired). It
// returns a *RollbackError if the log is shorter, a *ForkError if the log's
// tree at seen's size has another root, and nil if the log extends seen.
func (l *Log) CheckSeen(ctx context.Context, seen []byte) error {
	n, err := note.Open(seen, note.VerifierList(append([]note.Verifier{l.verifier}, l.previous...)...))
	if err != nil {
		return fmt.Errorf("doclog: the seen checkpoint is not signed by this log's key: %w", err)
	}
	c, err := ParseCheckpoint(n.Text, l.origin)
	if err != nil {
		return err
	}
	return l.CheckSeenTree(ctx, c.Size, c.Root)
}

// CheckSeenTree is CheckSeen for a tree head already checked elsewhere
// (e.g. the size and root a witness cosigned).
func (l *Log) CheckSeenTree(ctx context.Context, size int64, root Hash) error {
	have, haveRoot, _, err := l.Latest(ctx)
	if err != nil {
		return err
	}
	switch {
	case size > have:
		return &RollbackError{Have: have, Seen: size}
	case size == have:
		if root != haveRoot {
			return &ForkError{Have: have, Seen: size, Reason: "same size, different root"}
		}
		return nil
	}
	proof, err := l.ConsistencyProof(ctx, size, have)
	if err != nil {
		return err
	}
	if err := CheckConsistency(proof, have, haveRoot, size, root); err != nil {
		return &ForkError{Have: have, Seen: size, Reason: "the consistency proof fails"}
	}
	return nil
}

// IsRollback reports whether err says the log lost published entries or
// forked from a published checkpoint.
func IsRollback(err error) bool {
	var r *RollbackError
	var f *ForkError
	return errors.As(err, &r) || errors.As(err, &f)
}

// VerifyHead checks a log at rest, without opening it for appends (a backup
// before it replaces anything): its newest checkpoint verifies with one of
// verifierKeys and for origin, the entries it covers are all there and no
// more, and the Merkle hashes stored give its root. It returns the
// checkpoint.
func VerifyHead(ctx context.Context, db Store, origin string, verifierKeys ...string) (Checkpoint, []byte, error) {
	size, _, signed, err := db.LatestCheckpoint(ctx)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	var vs []note.Verifier
	for _, k := range verifierKeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return Checkpoint{}, nil, fmt.Errorf("doclog: log key: %w", err)
		}
		vs = append(vs, v)
	}
	n, err := note.Open(signed, note.VerifierList(vs...))
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("doclog: the newest checkpoint does not verify with the log key: %w", err)
	}
	c, err := ParseCheckpoint(n.Text, origin)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if c.Size != size {
		return Checkpoint{}, nil, fmt.Errorf("doclog: the newest checkpoint row of size %d says size %d", size, c.Size)
	}
	if size > 0 {
		last, err := db.LogEntries(ctx, size-1, size+1)
		if err != nil {
			return Checkpoint{}, nil, err
		}
		if len(last) != 1 {
			return Checkpoint{}, nil, fmt.Errorf("doclog: the checkpoint covers %d entries but the log holds %d from index %d", size, len(last), size-1)
		}
	}
	root, err := TreeAt(ctx, db, size)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if root != c.Root {
		return Checkpoint{}, nil, fmt.Errorf("doclog: the stored hashes do not give the checkpoint's root at size %d", size)
	}
	return c, signed, nil
}

// TreeAt returns the root of the tree of the first size entries of a log
// at rest, from its stored hashes: whether a backup holds the tree a
// published checkpoint of that size names.
func TreeAt(ctx context.Context, db Store, size int64) (Hash, error) {
	h, err := tlog.TreeHash(size, storeHashes(ctx, db))
	if err != nil {
		return Hash{}, fmt.Errorf("doclog: tree hash at %d: %w", size, err)
	}
	return h, nil
}

func storeHashes(ctx context.Context, db Store) tlog.HashReader {
	return tlog.HashReaderFunc(func(ids []int64) ([]Hash, error) {
		raw, err := db.LogHashes(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make([]Hash, len(raw))
		for i := range raw {
			copy(out[i][:], raw[i])
		}
		return out, nil
	})
}
