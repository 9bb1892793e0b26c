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
	if err != nil {
		return nil, err
	}
	return &Revocation{Number: rev.Number, Subject: subject, Reason: publicReason, At: rev.Time, LogIndex: idx}, nil
}
