// Package incident owns incident response: incident records (grade, kind,
// timeline, affected documents and subjects, who received their data, the
// 72-hour regulator deadline), recall by filter (a pending recall that a
// second operator approves, revoking in batches, resumable after a crash),
// and the report an official files (JSON and PDF).
//
// It declares the storage it needs (Store) and the notifier it queues
// citizens' notices through (Notifier); package store and package notify
// implement them. It never holds or prints a name or resident registration
// number: subjects are opaque ids with their keyed-hash index entry, and a
// recall's public reason passes issuance.PublicReason.
package incident

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/minwon/minwon/internal/notify"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/render"
)

// RegulatorDeadline is how long after an incident is known the regulator
// (PIPC) must be told of a leak.
const RegulatorDeadline = 72 * time.Hour

// Errors, each mapped to one answer by package httperr.
var (
	ErrNotFound = errors.New("no such incident or recall")
	// ErrBadRequest wraps what is wrong with a request.
	ErrBadRequest = errors.New("bad incident request")
	// ErrSameOperator refuses an approval by the operator who created the recall.
	ErrSameOperator = errors.New("a recall must be approved by a second operator")
	// ErrNotPending refuses approving a recall that is not pending.
	ErrNotPending = errors.New("the recall is not pending approval")
)

// Grades: 1 is the most severe.
const (
	GradeCritical = 1 // personal data leaked at scale, or a signing key lost
	GradeMajor    = 2 // documents issued wrongly, recalled
	GradeMinor    = 3
	GradeNotice   = 4
)

// Incident is one incident record.
type Incident struct {
	ID           string
	Grade        int
	Kind         string // e.g. recall, key_revoked, canary_rollback, bulk_access, manual
	Title        string
	OpenedAt     time.Time
	OpenedBy     string // an operator's id, or "system"
	RegulatorDue time.Time
	ReportedAt   time.Time // zero until the report to the regulator is filed
}

// Entry is one line of an incident's timeline.
type Entry struct {
	At    time.Time
	Actor string
	Text  string
}

// Document is an affected document and who received it.
type Document struct {
	Number    string
	Service   string
	Subject   string // opaque subject id
	Requester string // who received the data: a login or an official
	IssuedAt  time.Time
	State     string // a recall's progress, '' if not recalled
}

// Subject is an affected data subject.
type Subject struct {
	Subject    string
	Index      []byte // the subject index's keyed hash (HMAC-SHA256), nil if not indexed
	Documents  int
	Recipients []string // who received their data
	Notified   bool
}

// Store is what the package needs from the database. Lookups of a missing
// incident or recall return an error matching ErrNotFound.
type Store interface {
	// CreateIncident stores inc with its first timeline entry and the
	// given documents (numbers that were never issued are ignored), and,
	// if sel is not nil, every issued document sel matches.
	CreateIncident(ctx context.Context, inc Incident, first Entry, numbers []string, sel *Selection) error
	AddIncidentEntry(ctx context.Context, incidentID string, e Entry) error
	Incidents(ctx context.Context, limit int) ([]Incident, error)
	Incident(ctx context.Context, id string) (Incident, error)
	IncidentTimeline(ctx context.Context, id string) ([]Entry, error)
	IncidentDocumentCount(ctx context.Context, id string) (int, error)
	// IncidentDocuments lists affected documents by number; limit 0 is all.
	IncidentDocuments(ctx context.Context, id string, limit int) ([]Document, error)
	IncidentSubjects(ctx context.Context, id string) ([]Subject, error)
	MarkReported(ctx context.Context, id string, at time.Time) error
	// MarkNotified queues the notices in the outbox and records their
	// subjects as notified, in one transaction: a notice is queued if and
	// only if its subject is marked.
	MarkNotified(ctx context.Context, incidentID string, notices []notify.Notice, at time.Time) error

	// CountMatching counts the issued documents sel matches and returns
	// up to sample of them, newest first.
	CountMatching(ctx context.Context, sel Selection, sample int) (int, []Document, error)
	// MatchingNumbers pages through the numbers sel matches, in order,
	// after the number after.
	MatchingNumbers(ctx context.Context, sel Selection, after string, limit int) ([]string, error)
	// CreateRecall stores the incident, the pending recall and, as its
	// items, every document sel matches, in one transaction; it returns
	// how many.
	CreateRecall(ctx context.Context, inc Incident, first Entry, r Recall, sel Selection) (int, error)
	Recall(ctx context.Context, id string) (Recall, error)
	Recalls(ctx context.Context, state string) ([]Recall, error)
	// ApproveRecall turns a pending recall approved; ErrNotPending otherwise.
	ApproveRecall(ctx context.Context, id, by string, at time.Time) error
	FinishRecall(ctx context.Context, id string, at time.Time) error
	// PendingRecallItems returns up to limit numbers still pending, in order.
	PendingRecallItems(ctx context.Context, recallID string, limit int) ([]string, error)
	// SetRecallItem records an item's outcome outside the log's transaction.
	SetRecallItem(ctx context.Context, recallID, number, state string) error
}

// RecallTx is what a recall writes in the transparency log's transaction:
// the store's log Tx has it, so an item is marked revoked if and only if
// its revocation is logged.
type RecallTx interface {
	SetRecallItem(ctx context.Context, recallID, number, state string) error
	SetRecallItems(ctx context.Context, recallID string, numbers []string, state string) error
}

// Revoker logs revocations with an already public-safe reason, running
// also in the log's transaction: one document (issuance.Pipeline.RevokeWith)
// or a batch, all or none (RevokeAll, which answers
// issuance.ErrBatchChanged when a document of the batch is not as expected).
type Revoker interface {
	RevokeWith(ctx context.Context, number, publicReason string, also func(doclog.Tx) error) (*issuance.Revocation, error)
	RevokeAll(ctx context.Context, numbers []string, publicReason string, also func(doclog.Tx, []issuance.Revocation) error) ([]issuance.Revocation, error)
}

// Notifier makes the notice to a data subject, addressed by the subject
// index's keyed hash, ready to queue (package notify's Outbox implements
// it); the recall queues a batch of them with MarkNotified.
type Notifier interface {
	SubjectNotice(subject, kind, title, body string) (notify.Notice, error)
}

// Service opens, lists and reports incidents and runs recalls.
type Service struct {
	Store    Store
	Catalog  *form.Catalog
	Revoker  Revoker
	Names    issuance.SubjectNamer // optional: names a recall's reason may not hold
	Notifier Notifier              // nil: notices are not queued, and the timeline says so
	Renderer *render.Renderer      // for the PDF report
	Now      func() time.Time
	Log      *slog.Logger
	// Batch is how many documents a recall revokes in one append of the
	// log (one round of queries for all of them); 0 means 256. Workers is
	// how many such batches are in flight, which the log commits together;
	// 0 means 4.
	Batch   int
	Workers int

	mu      sync.Mutex
	running map[string]bool // recalls being run by this process
	wg      sync.WaitGroup
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// System is the actor of what minwon does by itself.
const System = "system"

// OpenIncident opens an incident automatically (canary rollback, bulk
// access, a revoked key) and returns its id. numbers are the documents
// affected so far, if any. Other packages call it through an interface of
// exactly this signature.
func (s *Service) OpenIncident(ctx context.Context, kind string, grade int, summary string, numbers []string) (string, error) {
	return s.open(ctx, System, kind, grade, summary, numbers, nil)
}

// OpenByHand opens an incident for an operator.
func (s *Service) OpenByHand(ctx context.Context, actor string, grade int, title string) (string, error) {
	return s.open(ctx, actor, "manual", grade, title, nil, nil)
}

// OpenKeyIncident opens the incident of a revoked signing key, with every
// document the key signed as affected.
func (s *Service) OpenKeyIncident(ctx context.Context, actor, keyID, reason string) (string, error) {
	title := "document signing key " + keyID + " revoked: " + reason
	return s.open(ctx, actor, "key_revoked", GradeCritical, title, nil, &Selection{Key: keyID})
}

func (s *Service) open(ctx context.Context, actor, kind string, grade int, title string, numbers []string, sel *Selection) (string, error) {
	if grade < 1 || grade > 4 {
		return "", fmt.Errorf("%w: grade must be 1 to 4", ErrBadRequest)
	}
	if err := checkText(title); err != nil {
		return "", err
	}
	if kind == "" {
		kind = "manual"
	}
	at := s.now()
	inc := Incident{ID: newID("inc-"), Grade: grade, Kind: kind, Title: title, OpenedAt: at, OpenedBy: actor, RegulatorDue: at.Add(RegulatorDeadline)}
	first := Entry{At: at, Actor: actor, Text: "opened (" + kind + ", grade " + fmt.Sprint(grade) + "): " + title}
	if err := s.Store.CreateIncident(ctx, inc, first, numbers, sel); err != nil {
		return "", fmt.Errorf("open incident: %w", err)
	}
	return inc.ID, nil
}

// checkText refuses a title or note that is not public-safe: incident
// reports are filed and passed around.
func checkText(s string) error {
	if strings.TrimSpace(s) == "" || len([]rune(s)) > 300 {
		return fmt.Errorf("%w: a title or note is 1 to 300 characters", ErrBadRequest)
	}
	if _, err := issuance.PublicReason(strings.TrimSpace(s), nil); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return nil
}

// AddNote adds an operator's note to the timeline.
func (s *Service) AddNote(ctx context.Context, actor, id, text string) error {
	if err := checkText(text); err != nil {
		return err
	}
	if _, err := s.Store.Incident(ctx, id); err != nil {
		return err
	}
	return s.Store.AddIncidentEntry(ctx, id, Entry{At: s.now(), Actor: actor, Text: text})
}

// MarkReported records that the report to the regulator was filed.
func (s *Service) MarkReported(ctx context.Context, actor, id string) error {
	at := s.now()
	if err := s.Store.MarkReported(ctx, id, at); err != nil {
		return err
	}
	return s.Store.AddIncidentEntry(ctx, id, Entry{At: at, Actor: actor, Text: "report to the regulator (PIPC) filed"})
}

// List returns the newest incidents.
func (s *Service) List(ctx context.Context, limit int) ([]Summary, error) {
	list, err := s.Store.Incidents(ctx, limit)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Summary, len(list))
	for i, inc := range list {
		out[i] = Summary{Incident: inc, Overdue: overdue(inc, now, 0, 0)}
	}
	return out, nil
}

// Summary is an incident as listed.
type Summary struct {
	Incident
	Overdue []string
}

// overdue says what is late at now: the report to the regulator after 72
// hours, and notices to subjects not yet queued.
func overdue(inc Incident, now time.Time, subjects, notified int) []string {
	if !now.After(inc.RegulatorDue) {
		return nil
	}
	var out []string
	if inc.ReportedAt.IsZero() {
		out = append(out, "report to the regulator (PIPC) was due "+inc.RegulatorDue.Format(time.RFC3339))
	}
	if n := subjects - notified; n > 0 {
		out = append(out, fmt.Sprintf("%d affected subjects not yet notified (due %s)", n, inc.RegulatorDue.Format(time.RFC3339)))
	}
	return out
}

// Detail is an incident with everything an official needs to act on it.
type Detail struct {
	Incident
	Timeline  []Entry
	Documents int        // how many
	Sample    []Document // the first by number
	Subjects  []Subject
	Notified  int
	Recalls   []Recall
	Overdue   []string
	AsOf      time.Time
}

// Show returns an incident with its timeline, affected documents (at most
// sample of them listed), affected subjects and their recipients, its
// recalls and what is overdue.
func (s *Service) Show(ctx context.Context, id string, sample int) (*Detail, error) {
	inc, err := s.Store.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &Detail{Incident: inc, AsOf: s.now()}
	if d.Timeline, err = s.Store.IncidentTimeline(ctx, id); err != nil {
		return nil, err
	}
	if d.Documents, err = s.Store.IncidentDocumentCount(ctx, id); err != nil {
		return nil, err
	}
	if d.Sample, err = s.Store.IncidentDocuments(ctx, id, sample); err != nil {
		return nil, err
	}
	if d.Subjects, err = s.Store.IncidentSubjects(ctx, id); err != nil {
		return nil, err
	}
	for _, sub := range d.Subjects {
		if sub.Notified {
			d.Notified++
		}
	}
	all, err := s.Store.Recalls(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, r := range all {
		if r.IncidentID == id {
			d.Recalls = append(d.Recalls, r)
		}
	}
	d.Overdue = overdue(inc, d.AsOf, len(d.Subjects), d.Notified)
	return d, nil
}
