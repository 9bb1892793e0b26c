package issuance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/doclog"
)

// ErrAlreadyRevoked is returned when revoking a revoked document.
var ErrAlreadyRevoked = errors.New("the document is already revoked")

// ErrReasonHasPII refuses a revocation reason holding an RRN: reasons are
// public, every verifier reads them.
var ErrReasonHasPII = errors.New("the reason contains a resident registration number; reasons are public")

// Revocation is a logged revocation.
type Revocation struct {
	Number   string
	Subject  string // whom the document is about, for the audit record
	Reason   string
	At       time.Time
	LogIndex int64
}

// SubjectNamer finds the names of the subjects of issued documents (from
// their sealed data.json); a purged document's are unknown and left out.
type SubjectNamer interface {
	SubjectNames(ctx context.Context, numbers []string) ([]string, error)
}

// Revoke logs the revocation of an issued document. reason is a standard
// reason's code or a free text that PublicReason accepts, checked against
// the names of the document's subjects where p.Names knows them. From the
// moment it returns, every verifier answers "revoked" with the reason.
func (p *Pipeline) Revoke(ctx context.Context, number, reason string) (*Revocation, error) {
	n, err := ParseNumber(number)
	if err != nil {
		return nil, ErrNotFound
	}
	// An RRN is refused before anything is looked up.
	if _, err := PublicReason(reason, nil); err != nil {
		return nil, err
	}
	var names []string
	if p.Names != nil {
		if names, err = p.Names.SubjectNames(ctx, []string{string(n)}); err != nil {
			return nil, fmt.Errorf("subject names: %w", err)
		}
	}
	public, err := PublicReason(reason, names)
	if err != nil {
		return nil, err
	}
	return p.RevokeWith(ctx, string(n), public, nil)
}

// RevokeWith logs the revocation of number with a reason the caller has
// already made public-safe with PublicReason, and runs also (if not nil) in
// the log's transaction: a recall marks its item done there, so that an
// item is done if and only if its revocation is logged. A document already
// revoked is ErrAlreadyRevoked, and also's writes are then undone.
func (p *Pipeline) RevokeWith(ctx context.Context, number, publicReason string, also func(doclog.Tx) error) (*Revocation, error) {
	n, err := ParseNumber(number)
	if err != nil {
		return nil, ErrNotFound
	}
	entries, err := p.Store.LogEntriesFor(ctx, string(n))
	if err != nil {
		return nil, err
	}
	var issuedEntry *doclog.Entry
	for _, e := range entries {
		if e.Kind != doclog.KindIssued {
			continue
		}
		parsed, err := doclog.ParseEntry(e.Data)
		if err != nil {
			return nil, fmt.Errorf("log entry %d: %w", e.Index, err)
		}
		issuedEntry = &parsed
	}
	if issuedEntry == nil {
		return nil, ErrNotFound
	}
	rev := *issuedEntry
	rev.Kind, rev.Reason, rev.Time = doclog.KindRevoked, publicReason, p.now().UTC().Truncate(time.Millisecond)
	// The check runs inside the log's transaction, so two concurrent
	// revocations cannot both be logged.
	var subject string
	idx, err := p.Log.Append(ctx, rev, func(dtx doclog.Tx) error {
		err := inLogTx(func(tx logTx) error {
			done, err := tx.HasLogEntry(context.WithoutCancel(ctx), rev.Number, doclog.KindRevoked)
			if err != nil {
				return err
			}
			if done {
				return ErrAlreadyRevoked
			}
			subject, err = tx.SubjectOfIssuance(context.WithoutCancel(ctx), rev.Number)
			return err
		})(dtx)
		if err == nil && also != nil {
			err = also(dtx)
		}
		return err
	})
	if errors.Is(err, doclog.ErrDuplicateEntry) {
		return nil, ErrAlreadyRevoked // by a concurrent revocation in the same commit
	}
	if err != nil {
		return nil, err
	}
	return &Revocation{Number: rev.Number, Subject: subject, Reason: publicReason, At: rev.Time, LogIndex: idx}, nil
}

// ErrBatchChanged refuses a batch revocation in which a document was not
// as the caller saw it: missing from the log, or revoked meanwhile. The
// caller revokes that batch's documents one by one instead (RevokeWith),
// which tells each one's case apart.
var ErrBatchChanged = errors.New("a document of the batch is not logged as issued, or was revoked meanwhile")

// batchLog is what RevokeAll needs besides the pipeline's own store: the
// entries of many numbers in one query.
type batchLog interface {
	LogEntriesForNumbers(ctx context.Context, numbers []string) ([]doclog.Record, error)
}

// batchTx is what RevokeAll reads in the log's transaction.
type batchTx interface {
	RevokedAmong(ctx context.Context, numbers []string) ([]string, error)
	SubjectsOfIssuances(ctx context.Context, numbers []string) (map[string]string, error)
}

// RevokeAll logs the revocation of every one of numbers, all or none, with
// a reason already made public-safe, in one append of the log: one round of
// queries for the batch instead of one per document, which is what lets a
// recall of 100,000 documents finish in seconds on PostgreSQL. also runs in
// the log's transaction with the revocations. A number not logged as
// issued, or already revoked, fails the whole batch with ErrBatchChanged
// and nothing is written.
func (p *Pipeline) RevokeAll(ctx context.Context, numbers []string, publicReason string, also func(doclog.Tx, []Revocation) error) ([]Revocation, error) {
	bl, ok := p.Store.(batchLog)
	if !ok {
		return nil, fmt.Errorf("issuance: the store cannot read log entries in batches (%T)", p.Store)
	}
	for _, n := range numbers {
		if _, err := ParseNumber(n); err != nil {
			return nil, ErrBatchChanged
		}
	}
	recs, err := bl.LogEntriesForNumbers(ctx, numbers)
	if err != nil {
		return nil, err
	}
	issued := make(map[string]doclog.Entry, len(numbers))
	for _, rec := range recs {
		switch rec.Kind {
		case doclog.KindRevoked:
			return nil, ErrBatchChanged
		case doclog.KindIssued:
			e, err := doclog.ParseEntry(rec.Data)
			if err != nil {
				return nil, fmt.Errorf("log entry %d: %w", rec.Index, err)
			}
			issued[rec.Number] = e
		}
	}
	at := p.now().UTC().Truncate(time.Millisecond)
	entries := make([]doclog.Entry, len(numbers))
	revs := make([]Revocation, len(numbers))
	for i, n := range numbers {
		e, ok := issued[n]
		if !ok {
			return nil, ErrBatchChanged
		}
		e.Kind, e.Reason, e.Time = doclog.KindRevoked, publicReason, at
		entries[i] = e
		revs[i] = Revocation{Number: n, Reason: publicReason, At: at}
	}
	first, err := p.Log.AppendAll(ctx, entries, func(dtx doclog.Tx) error {
		tx, ok := dtx.(batchTx)
		if !ok {
			return fmt.Errorf("issuance: the log's store cannot revoke in batches (%T)", dtx)
		}
		txCtx := context.WithoutCancel(ctx)
		// Checked again in the transaction: no document is revoked twice
		// by a concurrent revocation.
		if done, err := tx.RevokedAmong(txCtx, numbers); err != nil {
			return err
		} else if len(done) > 0 {
			return ErrBatchChanged
		}
		subjects, err := tx.SubjectsOfIssuances(txCtx, numbers)
		if err != nil {
			return err
		}
		for i := range revs {
			revs[i].Subject = subjects[revs[i].Number]
		}
		if also != nil {
			return also(dtx, revs)
		}
		return nil
	})
	if errors.Is(err, doclog.ErrDuplicateEntry) {
		return nil, ErrBatchChanged // a concurrent revocation in the same commit
	}
	if err != nil {
		return nil, err
	}
	for i := range revs {
		revs[i].LogIndex = first + int64(i)
	}
	return revs, nil
}
