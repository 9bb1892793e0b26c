package issuance

import (
	"errors"
	"time"

	"github.com/minwon/minwon/internal/access"
	"github.com/minwon/minwon/internal/guard"
	"github.com/minwon/minwon/internal/linkage"
)

// Observer is told how issuance requests end; package metrics implements
// it. Its arguments are closed sets (service ids, outcomes, rules), never
// a subject, a number or a login.
type Observer interface {
	// Issued: a request for service ended with outcome (see outcome)
	// after took.
	Issued(service, outcome string, took time.Duration)
	// Refused: pre-issuance verification refused a document under rule.
	Refused(rule string)
	// LogAppended: a document and its log entry became durable after took.
	LogAppended(took time.Duration)
}

// replayKey marks, in an Issue's context, that the answer was an earlier
// issuance under the same idempotency key.
type replayKey struct{}

// Outcomes are every outcome Observer.Issued is told.
var Outcomes = []string{"issued", "replayed", "refused", "not_issuable", "unavailable", "denied", "rate_limited", "bad_request", "error"}

// outcome names how an issuance request ended, for Observer.Issued.
func outcome(err error, replayed bool) string {
	var re *RefusedError
	switch {
	case err == nil && replayed:
		return "replayed"
	case err == nil:
		return "issued"
	case errors.As(err, &re):
		return "refused"
	case errors.Is(err, ErrNotIssuable):
		return "not_issuable"
	case errors.Is(err, linkage.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, access.ErrForbidden), errors.Is(err, guard.ErrBlocked):
		return "denied"
	case errors.Is(err, guard.ErrLimited):
		return "rate_limited"
	case errors.Is(err, ErrBadRequest), errors.Is(err, ErrConflict), errors.Is(err, ErrNotCertificate),
		errors.Is(err, linkage.ErrNotFound), errors.Is(err, ErrUnknownCitizen):
		return "bad_request"
	}
	return "error"
}
