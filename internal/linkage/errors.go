package linkage

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors; the typed errors below match them with errors.Is.
var (
	// ErrUnavailable: the agency did not answer in time, failed, or its
	// circuit breaker is open. Services that need it are degraded.
	ErrUnavailable = errors.New("agency unavailable")
	// ErrMismatch: a validly signed answer belongs to another request or
	// subject. Never render it; it is a possible disclosure.
	ErrMismatch = errors.New("agency answer does not match the request")
	// ErrIntegrity: the answer is unsigned, signed by an unknown key,
	// malformed, or holds other fields than asked for.
	ErrIntegrity = errors.New("agency answer failed integrity checks")
	// ErrNotFound: the agency has no record of that subject.
	ErrNotFound = errors.New("agency has no record for the subject")
	// ErrBadRequest: the request names an unknown agency, dataset or field.
	ErrBadRequest = errors.New("bad linkage request")
)

// UnavailableError says which agency is down and when to try again.
type UnavailableError struct {
	Agency     string
	RetryAfter time.Duration
	Err        error // last failure, if any
}

func (e *UnavailableError) Error() string {
	msg := fmt.Sprintf("agency %s unavailable (retry after %s)", e.Agency, e.RetryAfter.Round(time.Second))
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }
func (e *UnavailableError) Unwrap() error        { return e.Err }

// MismatchError says which echoed value differed. It never carries the
// values themselves: they may be another person's identifiers.
type MismatchError struct {
	Agency string
	What   string // "correlation id", "subject", "dataset" or "agency"
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("agency %s answered with another %s than requested; answer refused", e.Agency, e.What)
}

func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

// IntegrityError says why an answer was not trusted.
type IntegrityError struct {
	Agency string
	Reason string
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("agency %s answer refused: %s", e.Agency, e.Reason)
}

func (e *IntegrityError) Is(target error) bool { return target == ErrIntegrity }
