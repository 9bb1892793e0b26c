package issuance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/keyring"
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

// Revoke logs the revocation of an issued document. From the moment it
// returns, every verifier answers "revoked" with the reason.
func (p *Pipeline) Revoke(ctx context.Context, number, reason string) (*Revocation, error) {
	n, err := ParseNumber(number)
	if err != nil {
		return nil, ErrNotFound
	}
	if err := keyring.CheckReason(reason); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if ident.ContainsRRN(reason) {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, ErrReasonHasPII)
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
	rev.Kind, rev.Reason, rev.Time = doclog.KindRevoked, reason, p.now().UTC().Truncate(time.Millisecond)
	// The check runs inside the log's transaction, so two concurrent
	// revocations cannot both be logged.
	var subject string
	idx, err := p.Log.Append(ctx, rev, inLogTx(func(tx logTx) error {
		done, err := tx.HasLogEntry(context.WithoutCancel(ctx), rev.Number, doclog.KindRevoked)
		if err != nil {
			return err
		}
		if done {
			return ErrAlreadyRevoked
		}
		subject, err = tx.SubjectOfIssuance(context.WithoutCancel(ctx), rev.Number)
		return err
	}))
	if err != nil {
		return nil, err
	}
	return &Revocation{Number: rev.Number, Subject: subject, Reason: reason, At: rev.Time, LogIndex: idx}, nil
}
