// Package casework owns the services that are not certificates: applications
// (양육수당, a childcare allowance), reports (전입신고, a move-in report that
// changes the resident registry) and lookups (체납 조회, tax arrears shown
// without a document).
//
// An application or report is a row with a status history and a job on a
// durable queue in minwon's own database, both written in one transaction:
// the submission is accepted (202) whether or not the agency it needs is up,
// and a worker completes it when the agency answers. Jobs are leased, so a
// worker killed mid-job leaves it to be retried after the lease; retries back
// off exponentially. Agency writes carry a request id derived from the
// application, which the agency applies once, and the step that records a
// job's outcome is the transaction that marks the job done, so every
// submission completes exactly once however often its job runs.
//
// Officials review applications on the counter and decide them with a
// reason; the decision and each completed report reach the citizen's inbox
// (package notify) in the transaction that records them. Work done on paper
// during an outage is entered afterwards by an official with its original
// date, marked retroactive in the history and the audit record.
//
// Every read of a citizen's data here goes through package audit. Package
// casework never logs a payload (it holds addresses and account numbers),
// and the store keeps payloads sealed.
package casework

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/notify"
)

// Statuses of an application or report.
const (
	Received  = "received"
	Queued    = "queued"
	InReview  = "in_review"
	Approved  = "approved"
	Rejected  = "rejected"
	Completed = "completed"
	Failed    = "failed"
)

// Final reports whether status is an end state.
func Final(status string) bool {
	return status == Approved || status == Rejected || status == Completed || status == Failed
}

// Errors. Each maps to one answer in package httperr.
var (
	ErrNotFound     = errors.New("no such application")
	ErrBadPayload   = errors.New("bad application")
	ErrWrongKind    = errors.New("this service is not submitted as an application")
	ErrNotLookup    = errors.New("this service is not a lookup")
	ErrConflict     = errors.New("this Idempotency-Key was already used for a different application")
	ErrWrongState   = errors.New("the application is not in that state")
	ErrPersonalData = errors.New("the text may not contain a resident registration number")
)

// Application is one submitted application or report.
type Application struct {
	ID               string
	Service          string
	Kind             string // application or report
	Requester        string // the login (or official:ID) that submitted it
	RequesterSubject string
	Subject          string          // whom it is about
	Payload          json.RawMessage // sealed at rest
	Status           string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	// Retroactive marks work done on paper and entered afterwards;
	// CreatedAt is then the paper's date.
	Retroactive bool
	History     []Event
	// Waiting names the agency a queued job is waiting for, with its
	// last error and next attempt; empty when nothing is waiting.
	Waiting     string
	NextAttempt time.Time
	Attempts    int
}

// Event is one step of an application's history.
type Event struct {
	At          time.Time
	Status      string
	Note        string
	Actor       string // "citizen", "system" or the official's id
	Retroactive bool
}

// Job is one unit of queued work.
type Job struct {
	ID          string
	Application string
	Kind        string // JobMoveIn, JobEligibility
	Attempts    int
	RunAt       time.Time
	LastError   string
	// Complete, set by a Queue, marks the queue's own record of the job
	// done in tx, the transaction that records the job's outcome; nil
	// for the Store's table queue, whose FinishJob does it.
	Complete func(ctx context.Context, tx Tx) error
}

// Queue runs jobs instead of the Store's table queue (River on
// PostgreSQL, package caseriver). The Store still keeps each job's row:
// it is the guard that records an outcome once and what the status page
// shows; the Queue schedules, retries and rescues the job and calls Work.
type Queue interface {
	// Enqueue queues j in tx, the transaction that stores its application.
	Enqueue(ctx context.Context, tx Tx, j Job) error
}

// Job kinds.
const (
	JobMoveIn      = "move_in"     // write the move-in to the registry
	JobEligibility = "eligibility" // check an application against agency data
)

// Store keeps applications and the job queue; store.DB implements it.
type Store interface {
	// BeginCase starts a write transaction.
	BeginCase(ctx context.Context) (Tx, error)
	// Application returns one application with its history, or ErrNotFound.
	Application(ctx context.Context, id string) (*Application, error)
	// ApplicationByKey returns the application requester submitted under
	// an idempotency key and the hash of that request, or ErrNotFound.
	ApplicationByKey(ctx context.Context, requester, key string) (*Application, string, error)
	// ApplicationsOf lists requester's applications, newest first.
	ApplicationsOf(ctx context.Context, requester string, limit int) ([]*Application, error)
	// ApplicationsIn lists applications in status, oldest first.
	ApplicationsIn(ctx context.Context, status string, limit int) ([]*Application, error)
	// DueJobs lists pending jobs due at now, oldest first.
	DueJobs(ctx context.Context, now time.Time, limit int) ([]Job, error)
	// ClaimJob leases a due job for one attempt: if it is still pending
	// and due at due, it becomes due again at leaseUntil (when a worker
	// that died holding it is retried) and its attempts grow by one;
	// false if another worker took it first.
	ClaimJob(ctx context.Context, id string, due, leaseUntil time.Time) (bool, error)
	// RetryJob records a failed attempt: due again at next.
	RetryJob(ctx context.Context, id string, next time.Time, lastError string) error
	// JobCounts counts jobs by state (pending, done).
	JobCounts(ctx context.Context) (map[string]int, error)
	// WaitingJobs counts, by kind, the pending jobs that have failed at
	// least once (they wait for their agency).
	WaitingJobs(ctx context.Context) (map[string]int, error)
}

// Tx is a write transaction of the Store.
type Tx interface {
	notify.Queuer
	// AppendAudit appends a prepared audit event in the transaction.
	AppendAudit(ctx context.Context, e audit.Event) error
	// InsertApplication stores a new application with its first history
	// events; key and hash are its idempotency key ("" for none) and
	// request hash. ErrConflict if requester used key already.
	InsertApplication(ctx context.Context, a *Application, key, hash string) error
	// Transition moves application id from one of the statuses from to
	// e.Status and appends e to its history; ErrWrongState if it is in
	// none of them (another worker or official got there first).
	Transition(ctx context.Context, id string, from []string, e Event) error
	// EnqueueJob queues j.
	EnqueueJob(ctx context.Context, j Job) error
	// FinishJob marks job id done; ErrWrongState if it was done already.
	FinishJob(ctx context.Context, id string, at time.Time) error
	Commit() error
	Rollback() error
}
