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
func checkRollback(ctx context.Context, log *doclog.Log, cfg Config) (error, error) {
	if cfg.SeenCheckpoint == "" {
		return nil, nil
	}
	err := rollback.Check(ctx, log, cfg.SeenCheckpoint)
	switch {
	case err == nil:
		return nil, nil
	case !doclog.IsRollback(err):
		return nil, err
	case !cfg.AcceptLogRollback:
		return nil, fmt.Errorf("%w: %v.\nDocuments already handed out may be missing from this log, and new ones would take their indexes. Restore a newer backup, or, once an operator has decided, start with --accept-log-rollback (recorded as an audit event and a critical incident): %w",
			ErrLogRollback, err, err)
	}
	return err, nil
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
