// Package audit owns the record of who used a citizen's personal data and
// what officials and operators did: one Event per use, written at the place
// it happens, in one call (or, for an issuance, in the transaction that
// stores the document). Events form a hash chain: each stores the hash of
// the one before, so an edited, deleted or reordered record is found by
// Verify. Records are kept at least two years (RetentionMin); minwon has no
// code path that deletes them.
//
// Package audit never records a resident registration number, a password or
// a token: the subject is the opaque subject id the subject index resolves a
// number to, and details name methods and purposes, not values.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/reqid"
)

// Actor kinds.
const (
	Official = "official" // a counter official, identified by certificate
	Operator = "operator" // an operator on the admin API
	Citizen  = "citizen"  // a portal user (Role says for whom: self, household_member, ...)
	// Public is anyone on the public verification page or API: no login,
	// known only by the request's address (Actor names how they got in).
	Public = "public"
)

// CheckCodeHolder is the Public actor who showed a document's number and
// its document-check code (package checkcode): whoever holds the paper.
const CheckCodeHolder = "check_code_holder"

// Actions on a citizen's personal data that the citizen is shown.
const (
	ActIssuance        = "issuance"         // a portal issuance about the subject
	ActCounterIssuance = "counter_issuance" // an official issued a document about the subject
	ActCounterLookup   = "counter_lookup"   // an official found the subject by number
	ActDownload        = "document_download"
	ActRevoke          = "document_revoke"
	ActRecall          = "document_recall" // revoked by a recall (package incident), one record per document
	ActAuditView       = "audit_view"
	ActCheckCodeView   = "document_view_check_code" // the document shown for its number and check code
)

// RetentionMin is how long audit records are kept at the least. Nothing in
// minwon deletes them; a deletion would break the chain (see Verify).
const RetentionMin = 2 * 365 * 24 * time.Hour

// Event is one audited action.
type Event struct {
	At        time.Time
	ActorKind string
	Actor     string // official or operator id, or a login
	Role      string // the relation or role the actor acted under (self, household_member, counter_clerk, ...)
	Office    string // the official's office, from the certificate
	From      string // the network address the request came from
	Action    string // e.g. "counter_issuance", "key_rotate"
	Service   string
	Subject   string // whose personal data, as the opaque subject id
	Number    string // the issuance number, if any
	Purpose   string // why, as the actor stated it
	Detail    string // e.g. "identity_check=resident_card"
	// RequestID is the request the event happened in (package reqid), to
	// find the same request in the logs and the agencies' records.
	RequestID string

	// Set by the store: the event's place in the chain.
	Seq      int64
	PrevHash string
	Hash     string
}

// Store is where events are kept. InsertAudit appends e to the chain in
// its own transaction.
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

// Prepare checks e and stamps its time: the checks every stored event
// passes, whether through Record or inside another transaction.
func Prepare(e *Event, now func() time.Time) error {
	if e.ActorKind == "" || e.Actor == "" || e.Action == "" {
		return errors.New("audit: actor kind, actor and action are required")
	}
	// Subject is an opaque id and Number an issuance number (sixteen
	// digits, which the fail-closed finder could mistake for an RRN with a
	// prefix); every text field is scanned.
	for _, s := range []string{e.Actor, e.Role, e.Office, e.From, e.Action, e.Service, e.Purpose, e.Detail, e.RequestID} {
		if ident.ContainsRRN(s) {
			return ErrPersonalData
		}
	}
	if e.At.IsZero() {
		if now == nil {
			now = time.Now
		}
		e.At = now()
	}
	// The chain hashes milliseconds, which is what the store keeps.
	e.At = e.At.UTC().Truncate(time.Millisecond)
	return nil
}

// Record writes e, stamping its time. An event that carries an RRN in any
// field is refused rather than stored: the audit log must not become a copy
// of the data it watches.
func (l *Log) Record(ctx context.Context, e Event) error {
	Stamp(ctx, &e)
	if err := Prepare(&e, l.Now); err != nil {
		return err
	}
	if err := l.Store.InsertAudit(ctx, e); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// ChainHash is the hash of the event at seq following the event hashed
// prev ("" for the first): SHA-256 over every field, each length-prefixed,
// hex-encoded. An event with a request id is hashed as version 2, with the
// id last; one without keeps version 1, so records written before request
// ids existed still verify. Either way removing, adding or changing the id
// changes the hash.
func ChainHash(prev string, seq int64, e Event) string {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	put := func(s string) {
		n := binary.PutUvarint(buf[:], uint64(len(s)))
		h.Write(buf[:n])
		h.Write([]byte(s))
	}
	if e.RequestID != "" {
		put("minwon-audit-v2")
	} else {
		put("minwon-audit-v1")
	}
	put(prev)
	put(strconv.FormatInt(seq, 10))
	put(strconv.FormatInt(e.At.UnixMilli(), 10))
	for _, s := range []string{e.ActorKind, e.Actor, e.Role, e.Office, e.From, e.Action, e.Service, e.Subject, e.Number, e.Purpose, e.Detail} {
		put(s)
	}
	if e.RequestID != "" {
		put(e.RequestID)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ChainReader reads the chain back: events in seq order after a seq, and
// the head the store says the chain ends at.
type ChainReader interface {
	AuditChain(ctx context.Context, afterSeq int64, limit int) ([]Event, error)
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
	// AuditRows counts every stored record, chained or not: a row
	// slipped in outside the chain shows as one too many.
	AuditRows(ctx context.Context) (int64, error)
}

// Break is the first broken link of a chain.
type Break struct {
	Seq    int64  `json:"seq"` // the first record that does not follow from the one before
	Reason string `json:"reason"`
}

func (b *Break) Error() string { return fmt.Sprintf("audit chain broken at %d: %s", b.Seq, b.Reason) }

// Verify walks the whole chain from its first record and returns how many
// records it checked and the first broken link, or nil if every record
// follows from the one before and the last is the head. An edited record
// fails its hash; a deleted one leaves a gap in seq; reordered records
// fail their hashes (seq is hashed) or their links.
func Verify(ctx context.Context, r ChainReader) (int64, *Break, error) {
	// Read the head first: records appended while we walk are past it.
	headSeq, headHash, err := r.AuditHead(ctx)
	if err != nil {
		return 0, nil, err
	}
	var n int64
	prev := ""
	for done := false; !done; {
		page, err := r.AuditChain(ctx, n, 1000)
		if err != nil {
			return n, nil, err
		}
		done = len(page) == 0
		for _, e := range page {
			if e.Seq > headSeq {
				done = true
				break
			}
			want := n + 1
			switch {
			case e.Seq != want:
				return n, &Break{Seq: want, Reason: fmt.Sprintf("record %d is missing (next is %d)", want, e.Seq)}, nil
			case e.PrevHash != prev:
				return n, &Break{Seq: want, Reason: "does not link to the record before"}, nil
			case ChainHash(prev, e.Seq, e) != e.Hash:
				return n, &Break{Seq: want, Reason: "its content does not match its hash (altered)"}, nil
			}
			prev, n = e.Hash, want
		}
		done = done || n >= headSeq
	}
	if n != headSeq {
		return n, &Break{Seq: n + 1, Reason: fmt.Sprintf("the chain ends at %d but its head says %d", n, headSeq)}, nil
	}
	if prev != headHash {
		return n, &Break{Seq: n, Reason: "the last record does not match the chain's head"}, nil
	}
	rows, err := r.AuditRows(ctx)
	if err != nil {
		return n, nil, err
	}
	// Records appended since the head was read are counted too.
	if latest, _, err := r.AuditHead(ctx); err != nil {
		return n, nil, err
	} else if rows > latest {
		return n, &Break{Seq: n + 1, Reason: fmt.Sprintf("%d records are outside the chain (inserted)", rows-latest)}, nil
	}
	return n, nil, nil
}

type originKey struct{}

// WithOrigin returns ctx carrying the network address a request came from,
// which events recorded under it name as From unless they set their own.
func WithOrigin(ctx context.Context, addr string) context.Context {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return context.WithValue(ctx, originKey{}, addr)
}

// Stamp fills in e's From and RequestID from ctx where e does not set them.
func Stamp(ctx context.Context, e *Event) {
	if e.From == "" {
		e.From = Origin(ctx)
	}
	if e.RequestID == "" {
		e.RequestID = reqid.From(ctx)
	}
}

// Origin is the address WithOrigin put in ctx, or "".
func Origin(ctx context.Context) string {
	s, _ := ctx.Value(originKey{}).(string)
	return s
}

// SubjectReader reads the events about one subject, newest first.
type SubjectReader interface {
	AuditOfSubject(ctx context.Context, subject string, limit int) ([]Event, error)
}

// View is the citizen's side of the audit log: who used their data.
type View struct{ Store SubjectReader }

// AccessLog returns the events about subject, newest first (at most 500):
// issuances about them by anyone, counter look-ups, downloads by others,
// operators' views and revocations.
func (v View) AccessLog(ctx context.Context, subject string) ([]Event, error) {
	if subject == "" {
		return nil, nil
	}
	return v.Store.AuditOfSubject(ctx, subject, 500)
}
