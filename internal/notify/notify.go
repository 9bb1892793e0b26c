// Package notify owns the notices minwon sends citizens: a durable outbox
// in the database that is also each citizen's portal inbox, and the worker
// that hands pending notices to an outbound Sender (a file here; SMTP or a
// messaging gateway in production) with retries and backoff.
//
// A notice is queued in the same transaction as what it reports when the
// caller has one (an issuance about someone else: 교부 사실 통보), so it
// exists if and only if the event does. Delivery is at least once from the
// outbox and exactly once at the receiver: every message carries its id and
// a Sender must drop an id it already took (FileSender does), so a worker
// killed between sending and marking sent does not deliver twice.
//
// Package notify never puts a resident registration number in a notice:
// Enqueue refuses one.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minwon/minwon/internal/ident"
)

// Kinds of notice.
const (
	KindIssuedToOther = "issued_to_other" // 교부 사실 통보: someone else was issued a document about you
	KindRecall        = "recall"          // a document about you was recalled
	KindIncident      = "incident"        // an incident affected your data
)

// Notice is one message to one citizen.
type Notice struct {
	ID      string // set by Enqueue if empty; the receiver deduplicates by it
	Subject string // the citizen's opaque subject id (what the subject index resolves a number to)
	Kind    string
	Title   string
	Body    string
	// Number is the issuance number the notice is about, if any. It is
	// kept out of Title and Body: sixteen random digits, which the
	// fail-closed RRN finder that guards the text may take for an RRN.
	Number string
	At     time.Time // set by Enqueue if zero
	Read   bool
}

// Errors.
var (
	ErrPersonalData = errors.New("notify: a notice may not hold a resident registration number")
	ErrBadNotice    = errors.New("notify: a notice needs a subject, a kind, a title and a body")
	ErrNotFound     = errors.New("notify: no such notice")
)

// Queuer is where a notice is queued: the store itself, or a transaction
// of it, so that the notice commits with what it reports.
type Queuer interface {
	EnqueueNotice(ctx context.Context, n Notice, nextAttempt time.Time) error
}

// Prepare checks n and fills in its id and time; Enqueue calls it, and a
// caller that queues inside its own transaction through a Queuer must too.
func Prepare(n *Notice, now time.Time) error {
	if n.Subject == "" || n.Kind == "" || n.Title == "" || n.Body == "" {
		return ErrBadNotice
	}
	if utf8.RuneCountInString(n.Title) > 200 || utf8.RuneCountInString(n.Body) > 4000 {
		return fmt.Errorf("%w (title at most 200 characters, body at most 4000)", ErrBadNotice)
	}
	if ident.ContainsRRN(n.Title) || ident.ContainsRRN(n.Body) {
		return ErrPersonalData
	}
	if len(n.Number) > 20 || strings.Trim(n.Number, "0123456789") != "" {
		return fmt.Errorf("%w (the number must be an issuance number: digits only)", ErrBadNotice)
	}
	if n.ID == "" {
		n.ID = NewID()
	}
	if n.At.IsZero() {
		n.At = now
	}
	n.At = n.At.UTC().Truncate(time.Millisecond)
	return nil
}

// NewID returns a fresh message id.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Enqueue queues n for its subject on q (the store, or a transaction of it:
// then the notice commits or rolls back with it), due for delivery at once.
// Other packages (incident recall, applications) call it.
func (o *Outbox) Enqueue(ctx context.Context, q Queuer, n Notice) error {
	if err := Prepare(&n, o.now()); err != nil {
		return err
	}
	if err := q.EnqueueNotice(ctx, n, n.At); err != nil {
		return fmt.Errorf("notify: enqueue: %w", err)
	}
	return nil
}
