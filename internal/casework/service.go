package casework

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/notify"
)

// Services with their own rules.
const (
	MoveInReport       = "move-in-report"
	ChildcareAllowance = "childcare-allowance"
)

// ChildcareMaxMonths is the age limit of the home childcare allowance
// (가정양육수당): paid for a child not in daycare from birth until the
// month before they turn 86 months (영유아보육법 제34조의2, 시행령 제23조의2;
// 보건복지부 보육사업안내 2025: "0~86개월 미만").
const ChildcareMaxMonths = 86

// Audit actions of this package.
const (
	ActLookup          = "lookup"               // a lookup service showed the subject's data
	ActEligibility     = "application_check"    // an application was checked against agency data
	ActDecision        = "application_decision" // an official approved or rejected an application
	ActMoveIn          = "move_in_report"       // the registry recorded a move-in report
	ActRetroactiveCase = "retroactive_entry"    // an official entered paper work afterwards
	systemActor        = "minwon-casework"
)

// agencies is the part of linkage casework uses.
type agencies interface {
	Fetch(ctx context.Context, purpose, agency, dataset, subject string, fields []string) (*linkage.Record, error)
	Write(ctx context.Context, agency string, req linkage.WriteRequest) (*linkage.WriteResponse, error)
}

// authorizer decides who may act for whom (an *access.Resolver).
type authorizer interface {
	Authorize(ctx context.Context, p auth.Principal, svc *form.Service, subject string) (form.Requester, error)
}

// recorder writes audit events in their own transaction (an *audit.Log).
type recorder interface {
	Record(ctx context.Context, e audit.Event) error
}

// Service runs applications, reports and lookups.
type Service struct {
	Catalog *form.Catalog
	Store   Store
	Links   agencies
	Access  authorizer
	Audit   recorder
	Log     *slog.Logger
	Now     func() time.Time

	// Backoff is the wait after a job's first failed attempt, doubled
	// after each further one up to MaxBackoff; defaults 1s and 1m. Jobs
	// are retried until they succeed: an agency may be down for hours.
	Backoff, MaxBackoff time.Duration
	// Lease is how long a claimed job waits before another worker may
	// take it (its worker died); default 1m.
	Lease time.Duration
	// Workers run jobs at once; default 8.
	Workers int
	// Queue, if set, runs the jobs (River on PostgreSQL); nil: the
	// Store's table queue, worked by Run.
	Queue Queue

	wake chan struct{}

	mu          sync.Mutex
	pausedUntil map[string]time.Time // agency → no jobs for it are claimed before
	pausedFor   map[string]string    // agency → the error that paused it
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ErrUnknownService: no such service in the catalog.
var ErrUnknownService = errors.New("no such service")

func badPayload(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadPayload, fmt.Sprintf(format, args...))
}

// Submission is what a citizen (or an official) submits.
type Submission struct {
	Service        string
	Subject        string // "" for the caller themself
	Payload        json.RawMessage
	IdempotencyKey string
	// Retroactive entries (EnterRetroactive) only.
	retroactiveOn time.Time
	official      *Official
}

// Official is an official acting at the counter, from their certificate.
type Official struct {
	ID, Name, Office, Role string
}

// Principal is how access rules know an official.
func (o Official) Principal() auth.Principal {
	return auth.Principal{Login: "official:" + o.ID, Kind: auth.KindOfficial}
}

// kst is the calendar dates are in: a day in Korea.
var kst = time.FixedZone("KST", 9*60*60)

// checkPayload validates and normalises a payload against the service's
// declared fields and its own rules: the payload stored is the one
// returned.
func (s *Service) checkPayload(svc *form.Service, raw json.RawMessage, now time.Time) (json.RawMessage, error) {
	var in map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, badPayload("payload is required: %s", payloadKeys(svc))
	}
	if err := dec.Decode(&in); err != nil || in == nil {
		return nil, badPayload("payload must be a JSON object: %s", payloadKeys(svc))
	}
	out := map[string]any{}
	for _, f := range svc.Payload {
		v, ok := in[f.Key]
		delete(in, f.Key)
		var str string
		if ok && json.Unmarshal(v, &str) != nil {
			return nil, badPayload("%s must be a string", f.Key)
		}
		str = strings.TrimSpace(str)
		if str == "" {
			if f.Required {
				return nil, badPayload("%s (%s) is required", f.Key, f.Label)
			}
			continue
		}
		if f.MaxLen > 0 && utf8.RuneCountInString(str) > f.MaxLen {
			return nil, badPayload("%s is longer than %d characters", f.Key, f.MaxLen)
		}
		switch f.Type {
		case "digits":
			str = strings.ReplaceAll(str, "-", "")
			if str == "" || strings.Trim(str, "0123456789") != "" {
				return nil, badPayload("%s must be digits (hyphens allowed)", f.Key)
			}
		case "date":
			d, err := time.ParseInLocation("2006-01-02", str, kst)
			if err != nil {
				return nil, badPayload("%s must be a date as YYYY-MM-DD", f.Key)
			}
			if d.After(now.In(kst)) {
				return nil, badPayload("%s is in the future; report a move after it happened", f.Key)
			}
			if d.Before(now.In(kst).AddDate(-5, 0, 0)) {
				return nil, badPayload("%s is more than five years ago", f.Key)
			}
		case "text":
			if ident.ContainsRRN(str) {
				return nil, fmt.Errorf("%w (%s)", ErrPersonalData, f.Key)
			}
		}
		out[f.Key] = str
	}
	if svc.ID == MoveInReport {
		addr, err := linkage.ParseAddress(out["new_address"].(string))
		if err != nil {
			return nil, badPayload("new_address: %s", strings.TrimPrefix(err.Error(), linkage.ErrAddressFormat.Error()+": "))
		}
		out["new_address"] = addr
		if v, ok := in["members"]; ok {
			delete(in, "members")
			var members []string
			if json.Unmarshal(v, &members) != nil || len(members) > 20 {
				return nil, badPayload("members must be a list of at most 20 subject ids of your household")
			}
			seen := map[string]bool{}
			for _, m := range members {
				if m == "" || len(m) > 64 || seen[m] {
					return nil, badPayload("members must be distinct subject ids of your household")
				}
				seen[m] = true
			}
			if len(members) > 0 {
				out["members"] = members
			}
		}
	}
	for k := range in {
		return nil, badPayload("unknown payload field %q; expected %s", k, payloadKeys(svc))
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func payloadKeys(svc *form.Service) string {
	var keys []string
	for _, f := range svc.Payload {
		keys = append(keys, f.Key)
	}
	if svc.ID == MoveInReport {
		keys = append(keys, "members (optional)")
	}
	return strings.Join(keys, ", ")
}

// idLetters spell application ids: no digits, so that no run of an id
// can look like a resident registration number to the fail-closed finder
// that guards audit records and notices, and no letters easily confused.
const idLetters = "abcdefghjkmnpqrstuvwxyz"

// newID returns a fresh application id: "ap-" and 20 letters (90 bits).
func newID() string {
	var b [20]byte
	rand.Read(b[:])
	out := []byte("ap-")
	for _, x := range b {
		// 253 = 11·23: drop the three values that would bias the draw.
		for x >= 253 {
			var r [1]byte
			rand.Read(r[:])
			x = r[0]
		}
		out = append(out, idLetters[int(x)%len(idLetters)])
	}
	return string(out)
}

// RequestID is the agency write's idempotency key for an application:
// the same on every attempt of its job, on every node.
func RequestID(applicationID string) string {
	h := sha256.Sum256([]byte("minwon casework request\x00" + applicationID))
	return hex.EncodeToString(h[:16])
}

// Submit accepts an application or report: it is stored with its job in
// one transaction and answered at once (the agency may be down); the
// worker completes it. With an idempotency key, a repeat of the same
// submission returns the first one, a different one with the same key is
// ErrConflict.
func (s *Service) Submit(ctx context.Context, p auth.Principal, in Submission) (*Application, error) {
	svc := s.Catalog.Service(in.Service)
	if svc == nil {
		return nil, ErrUnknownService
	}
	if svc.Kind != form.Application && svc.Kind != form.Report {
		return nil, ErrWrongKind
	}
	now := s.now()
	subject := in.Subject
	if subject == "" {
		subject = p.Subject
	}
	if subject == "" {
		return nil, badPayload("subject is required")
	}
	payload, err := s.checkPayload(svc, in.Payload, now)
	if err != nil {
		return nil, err
	}
	key := in.IdempotencyKey
	if len(key) > 200 {
		return nil, badPayload("Idempotency-Key is at most 200 characters")
	}
	hash := submissionHash(svc.ID, subject, payload, in.retroactiveOn)
	if key != "" {
		if prev, prevHash, err := s.Store.ApplicationByKey(ctx, p.Login, key); err == nil {
			if prevHash != hash {
				return nil, ErrConflict
			}
			return prev, nil
		} else if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	// Who may apply is decided from the registry now if it answers, and
	// again by the job in any case: a registry that is down does not stop
	// a submission.
	relationNote := ""
	if _, err := s.Access.Authorize(ctx, p, svc, subject); errors.Is(err, linkage.ErrUnavailable) {
		relationNote = "; the relation to the subject is checked when the registry answers"
	} else if err != nil {
		return nil, err
	}
	a := &Application{
		ID: newID(), Service: svc.ID, Kind: string(svc.Kind), Requester: p.Login, RequesterSubject: p.Subject,
		Subject: subject, Payload: payload, Status: Queued, CreatedAt: now, UpdatedAt: now,
	}
	actor := "citizen"
	if in.official != nil {
		actor = in.official.ID
		a.RequesterSubject = subject
	}
	a.History = []Event{{At: now, Status: Received, Actor: actor}, {At: now, Status: Queued, Actor: "system", Note: "waiting for " + svc.Agency + relationNote}}
	if !in.retroactiveOn.IsZero() {
		a.Retroactive, a.CreatedAt = true, in.retroactiveOn
		a.History[0] = Event{At: in.retroactiveOn, Status: Received, Actor: actor, Retroactive: true,
			Note: "taken on paper on " + in.retroactiveOn.In(kst).Format("2006-01-02") + " and entered afterwards by official " + in.official.ID + " (" + in.official.Office + ")"}
		a.History[1].Retroactive = true
	}
	job := Job{ID: "jb-" + a.ID[3:], Application: a.ID, Kind: JobEligibility, RunAt: now}
	if svc.ID == MoveInReport {
		job.Kind = JobMoveIn
	}
	err = s.inTx(ctx, func(tx Tx) error {
		if err := tx.InsertApplication(ctx, a, key, hash); err != nil {
			return err
		}
		if in.official != nil {
			e := audit.Event{ActorKind: audit.Official, Actor: in.official.ID, Role: in.official.Role, Office: in.official.Office,
				Action: ActRetroactiveCase, Service: svc.ID, Subject: subject, Purpose: "retroactive entry of paper work",
				Detail: "application=" + a.ID + " original_date=" + in.retroactiveOn.In(kst).Format("2006-01-02") + " retroactive=true"}
			if in.retroactiveOn.IsZero() {
				e.Action, e.Purpose, e.Detail = "counter_application", "counter submission", "application="+a.ID
			}
			if err := s.appendAudit(ctx, tx, e); err != nil {
				return err
			}
		}
		if err := tx.EnqueueJob(ctx, job); err != nil {
			return err
		}
		if s.Queue != nil {
			return s.Queue.Enqueue(ctx, tx, job)
		}
		return nil
	})
	if errors.Is(err, ErrConflict) && key != "" {
		// Another request with the same key won the race.
		prev, prevHash, gerr := s.Store.ApplicationByKey(ctx, p.Login, key)
		if gerr != nil {
			return nil, gerr
		}
		if prevHash != hash {
			return nil, ErrConflict
		}
		return prev, nil
	}
	if err != nil {
		return nil, err
	}
	s.Wake()
	return a, nil
}

func submissionHash(service, subject string, payload json.RawMessage, retro time.Time) string {
	h := sha256.New()
	for _, p := range []string{service, subject, string(payload), retro.UTC().Format(time.RFC3339)} {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// RetroactiveEntry is paper work an official enters afterwards.
type RetroactiveEntry struct {
	Service string
	Subject string // resolved from the citizen's number by the counter
	Payload json.RawMessage
	// On is the day the work was done on paper (YYYY-MM-DD).
	On             string
	IdempotencyKey string
}

// EnterRetroactive enters work an official took on paper during an outage,
// with its original date: it is processed like a submission, and its
// history and audit record say it is retroactive.
func (s *Service) EnterRetroactive(ctx context.Context, o Official, e RetroactiveEntry) (*Application, error) {
	day, err := time.ParseInLocation("2006-01-02", e.On, kst)
	if err != nil {
		return nil, badPayload("the original date must be YYYY-MM-DD")
	}
	now := s.now()
	if day.After(now.In(kst)) || day.Before(now.In(kst).AddDate(-1, 0, 0)) {
		return nil, badPayload("the original date must be within the last year and not in the future")
	}
	if e.Subject == "" {
		return nil, badPayload("the citizen is required")
	}
	return s.Submit(ctx, o.Principal(), Submission{Service: e.Service, Subject: e.Subject, Payload: e.Payload, IdempotencyKey: e.IdempotencyKey, retroactiveOn: day, official: &o})
}

// SubmitAtCounter submits for the citizen in front of an official.
func (s *Service) SubmitAtCounter(ctx context.Context, o Official, in Submission) (*Application, error) {
	in.official, in.retroactiveOn = &o, time.Time{}
	return s.Submit(ctx, o.Principal(), in)
}

// visible: the requester, the subject and (for a citizen's own household
// application) the requester's subject may see an application.
func visible(a *Application, p auth.Principal) bool {
	if p.Kind == auth.KindOfficial {
		return false
	}
	return a.Requester == p.Login || (p.Subject != "" && (a.Subject == p.Subject || a.RequesterSubject == p.Subject))
}

// Get returns one of the caller's applications with its history; another
// person's is ErrNotFound, as if it did not exist.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (*Application, error) {
	if len(id) > 64 {
		return nil, ErrNotFound
	}
	a, err := s.Store.Application(ctx, id)
	if err != nil {
		return nil, err
	}
	if !visible(a, p) {
		return nil, ErrNotFound
	}
	return a, nil
}

// List returns the caller's applications, newest first.
func (s *Service) List(ctx context.Context, p auth.Principal) ([]*Application, error) {
	return s.Store.ApplicationsOf(ctx, p.Login, 200)
}

// ReviewQueue lists the applications waiting for an official, oldest first.
func (s *Service) ReviewQueue(ctx context.Context) ([]*Application, error) {
	return s.Store.ApplicationsIn(ctx, InReview, 200)
}

// ForOfficial returns an application for review.
func (s *Service) ForOfficial(ctx context.Context, id string) (*Application, error) {
	if len(id) > 64 {
		return nil, ErrNotFound
	}
	return s.Store.Application(ctx, id)
}

// Decide approves or rejects an application in review, with a reason (a
// rejection must give one); the decision reaches the citizen's inbox and
// the audit record in the same transaction.
func (s *Service) Decide(ctx context.Context, o Official, id string, approve bool, reason string) (*Application, error) {
	reason = strings.TrimSpace(reason)
	if (!approve && reason == "") || utf8.RuneCountInString(reason) > 500 || strings.ContainsAny(reason, "\r\n") {
		return nil, badPayload("a reason (one line, up to 500 characters) is required to reject")
	}
	if ident.ContainsRRN(reason) {
		return nil, ErrPersonalData
	}
	a, err := s.ForOfficial(ctx, id)
	if err != nil {
		return nil, err
	}
	svc := s.Catalog.Service(a.Service)
	if svc == nil {
		return nil, ErrNotFound
	}
	status, verb := Approved, "승인되었습니다 · was approved"
	if !approve {
		status, verb = Rejected, "반려되었습니다 · was rejected"
	}
	now := s.now()
	note := reason
	if note == "" {
		note = "approved"
	}
	err = s.inTx(ctx, func(tx Tx) error {
		if err := tx.Transition(ctx, a.ID, []string{InReview}, Event{At: now, Status: status, Note: note, Actor: o.ID}); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, audit.Event{ActorKind: audit.Official, Actor: o.ID, Role: o.Role, Office: o.Office,
			Action: ActDecision, Service: a.Service, Subject: a.Subject, Purpose: "review", Detail: "application=" + a.ID + " decision=" + status}); err != nil {
			return err
		}
		body := fmt.Sprintf("%s %s (%s).", svc.TitleKo, verb, svc.Title)
		if reason != "" {
			body += " 사유 · Reason: " + reason
		}
		return s.notice(ctx, tx, a, "application_decision", svc.TitleKo+" 결과 · Decision on your application", body)
	})
	if err != nil {
		return nil, err
	}
	return s.Store.Application(ctx, a.ID)
}

// notice queues a notice to the citizen the application is for (its
// requester's subject), in tx.
func (s *Service) notice(ctx context.Context, tx Tx, a *Application, kind, title, body string) error {
	n := notify.Notice{ID: "cw-" + a.ID[3:] + "-" + kind, Subject: a.RequesterSubject, Kind: kind, Title: title, Body: body}
	if err := notify.Prepare(&n, s.now()); err != nil {
		return err
	}
	return tx.EnqueueNotice(ctx, n, n.At)
}

func (s *Service) appendAudit(ctx context.Context, tx Tx, e audit.Event) error {
	if e.From == "" {
		e.From = audit.Origin(ctx)
	}
	if err := audit.Prepare(&e, s.now); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, e)
}

// inTx runs f in a transaction, committed if f returns nil.
func (s *Service) inTx(ctx context.Context, f func(Tx) error) error {
	tx, err := s.Store.BeginCase(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// LookupResult is a lookup's answer: the service's fields, no document.
type LookupResult struct {
	Service string
	Subject string
	At      time.Time
	Fields  []LookupField
}

// LookupField is one field of a lookup, labelled as the service says.
type LookupField struct {
	Key, Label, LabelKo string
	Value               json.RawMessage
}

// Lookup shows the data of a lookup service about subject ("" for the
// caller): no document is issued and nothing enters the transparency log,
// but the use of the subject's data is in the audit record before any of
// it is returned.
func (s *Service) Lookup(ctx context.Context, p auth.Principal, service, subject string) (*LookupResult, error) {
	svc := s.Catalog.Service(service)
	if svc == nil {
		return nil, ErrUnknownService
	}
	if svc.Kind != form.Lookup {
		return nil, ErrNotLookup
	}
	if subject == "" {
		subject = p.Subject
	}
	rel, err := s.Access.Authorize(ctx, p, svc, subject)
	if err != nil {
		return nil, err
	}
	values := map[string]json.RawMessage{}
	for _, n := range svc.Needs() {
		rec, err := s.Links.Fetch(ctx, svc.ID, n.Agency, n.Dataset, subject, n.Fields)
		if err != nil {
			return nil, err
		}
		for k, v := range rec.Fields {
			values[n.Agency+"."+n.Dataset+"."+k] = v
		}
	}
	if err := s.Audit.Record(ctx, audit.Event{ActorKind: audit.Citizen, Actor: p.Login, Role: string(rel), Action: ActLookup, Service: svc.ID, Subject: subject, Purpose: "lookup"}); err != nil {
		return nil, err
	}
	out := &LookupResult{Service: svc.ID, Subject: subject, At: s.now()}
	for _, f := range svc.Fields {
		out.Fields = append(out.Fields, LookupField{Key: f.Key, Label: f.Label, LabelKo: f.LabelKo, Value: values[f.Source]})
	}
	return out, nil
}

// PayloadView returns the payload's fields as the service labels them,
// for the citizen's own detail page.
func PayloadView(svc *form.Service, payload json.RawMessage) [][2]string {
	var m map[string]any
	json.Unmarshal(payload, &m)
	var out [][2]string
	for _, f := range svc.Payload {
		if v, ok := m[f.Key].(string); ok {
			out = append(out, [2]string{f.Key, v})
		}
	}
	if ms, ok := m["members"].([]any); ok && len(ms) > 0 {
		var names []string
		for _, x := range ms {
			names = append(names, fmt.Sprint(x))
		}
		slices.Sort(names)
		out = append(out, [2]string{"members", strings.Join(names, ", ")})
	}
	return out
}
