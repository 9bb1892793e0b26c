package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/incident"
	"github.com/minwon/minwon/internal/rollback"
	"github.com/minwon/minwon/internal/verify"
	"github.com/minwon/minwon/internal/witness"
)

// ActLogRollbackAccepted is the audit action of an operator starting
// minwon on a log that lost published entries or forked.
const ActLogRollbackAccepted = "log_rollback_accepted"

// ErrLogRollback refuses to serve a log behind or forked from what the
// world already saw, until an operator accepts it.
var ErrLogRollback = errors.New("minwon refuses to serve")

// checkRollback compares the log with the seen checkpoint. It returns the
// finding to record if the operator accepted it, or an error that refuses
// to serve.
func checkRollback(ctx context.Context, log *doclog.Log, cfg Config, cosigner *witness.Cosigner) (error, error) {
	var err error
	if cfg.SeenCheckpoint != "" {
		err = rollback.Check(ctx, log, cfg.SeenCheckpoint)
	}
	if err == nil && cosigner != nil {
		// The witness's own view: a larger tree than the log's, or another
		// one. A witness that does not answer is no finding: its alert is
		// raised by the cosigner, and the start goes on.
		wctx, cancel := context.WithTimeout(ctx, witnessCheckTimeout)
		werr := cosigner.Cosign(wctx)
		cancel()
		if doclog.IsRollback(werr) {
			err = fmt.Errorf("the witness %s: %w", cfg.Witness.URL, werr)
		} else if werr != nil {
			cfg.Log.Warn("the witness could not be asked at start; going on, it is retried in the background", "err", werr)
		}
	}
	switch {
	case err == nil:
		return nil, nil
	case !doclog.IsRollback(err):
		return nil, err
	case !cfg.AcceptLogRollback:
		return nil, fmt.Errorf("%w: %w.\nDocuments already handed out may be missing from this log, and new ones would take their indexes. Restore a newer backup, or, once an operator has decided, start with --accept-log-rollback (recorded as an audit event and a critical incident)",
			ErrLogRollback, err)
	}
	return err, nil
}

// witnessCheckTimeout bounds the start's question to the witness.
const witnessCheckTimeout = 10 * time.Second

// publishedLog is what the log handler and the verifier read checkpoints
// and proofs from: the log, or the log with the witness's cosignatures.
type publishedLog interface {
	Checkpoint() (size int64, root doclog.Hash, signed []byte)
	Latest(ctx context.Context) (size int64, root doclog.Hash, signed []byte, err error)
	InclusionProof(ctx context.Context, index, size int64) ([]doclog.Hash, error)
	Tile(ctx context.Context, path string) ([]byte, error)
}

// newCosigner builds the witness's cosigner, or nil without a witness.
func newCosigner(cfg Config, log *doclog.Log) (*witness.Cosigner, error) {
	if cfg.Witness == nil {
		return nil, nil
	}
	v, err := verify.NewCosignatureVerifier(cfg.Witness.VerifierKey)
	if err != nil {
		return nil, fmt.Errorf("app: witness key: %w", err)
	}
	return &witness.Cosigner{Client: &witness.Client{URL: cfg.Witness.URL, Verifier: v}, Log: log}, nil
}

// recordRollback records an accepted rollback: an audit event, a critical
// incident, and the seen checkpoint kept beside its file before the keeper
// replaces it.
func recordRollback(ctx context.Context, cfg Config, finding error, auditLog *audit.Log, incidents *incident.Service) error {
	operator := cfg.Operator
	if operator == "" {
		operator = "console"
	}
	detail := "log rollback accepted"
	var rb *doclog.RollbackError
	var fk *doclog.ForkError
	switch {
	case errors.As(finding, &rb):
		detail = fmt.Sprintf("log rollback accepted: %d entries lost (indexes %d to %d)", rb.Seen-rb.Have, rb.Have, rb.Seen-1)
	case errors.As(finding, &fk):
		detail = fmt.Sprintf("log fork accepted: size %d disagrees with the published checkpoint of size %d (%s)", fk.Have, fk.Seen, fk.Reason)
	}
	kept, err := rollback.KeepRolledBack(cfg.SeenCheckpoint, time.Now())
	if err != nil {
		return fmt.Errorf("app: keep the rolled-back checkpoint: %w", err)
	}
	if err := auditLog.Record(ctx, audit.Event{ActorKind: audit.Operator, Actor: operator, Action: ActLogRollbackAccepted, Detail: detail}); err != nil {
		return err
	}
	id, err := incidents.OpenIncident(ctx, "log_rollback", incident.GradeCritical, detail, nil)
	if err != nil {
		return err
	}
	cfg.Log.Warn("serving a rolled-back log on an operator's decision", "detail", detail, "incident", id, "kept", kept)
	return nil
}
