// Package audit owns the record of who used a citizen's personal data and
// what officials and operators did: one Event per use, written at the place
// it happens, in one call. It never records a resident registration number,
// a password or a token; details name methods and purposes, not values.
package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/ident"
)

// Actor kinds.
const (
	Official = "official" // a counter official, identified by certificate
	Operator = "operator" // an operator on the admin API
	Citizen  = "citizen"  // a portal user acting for someone else
)

// Event is one audited action.
type Event struct {
	At        time.Time
	ActorKind string
	Actor     string // official or operator id, or a login
	Office    string // the official's office, from the certificate
	Action    string // e.g. "counter_issuance", "key_rotate"
	Service   string
	Subject   string // whose personal data, as the opaque subject id
	Number    string // the issuance number, if any
	Detail    string // e.g. "identity_check=resident_card purpose=..."
}

// Store is where events are kept.
type Store interface {
	InsertAudit(ctx context.Context, e Event) error
}

// Log writes events.
type Log struct {
	Store Store
	Now   func() time.Time
}

// ErrPersonalData refuses an event whose text holds an identifier.
var ErrPersonalData = errors.New("audit: an event may not hold a resident registration number")

// Record writes e, stamping its time. An event that carries an RRN in any
// field is refused rather than stored: the audit log must not become a copy
// of the data it watches.
func (l *Log) Record(ctx context.Context, e Event) error {
	if e.ActorKind == "" || e.Actor == "" || e.Action == "" {
		return errors.New("audit: actor kind, actor and action are required")
	}
	// Subject is an opaque id and Number an issuance number (sixteen
	// digits, which the fail-closed finder could mistake for an RRN with a
	// prefix); every text field is scanned.
	for _, s := range []string{e.Actor, e.Office, e.Action, e.Service, e.Detail} {
		if ident.ContainsRRN(s) {
			return ErrPersonalData
		}
	}
	if e.At.IsZero() {
		now := time.Now
		if l.Now != nil {
			now = l.Now
		}
		e.At = now().UTC()
	}
	if err := l.Store.InsertAudit(ctx, e); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
