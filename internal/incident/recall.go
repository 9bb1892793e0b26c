package incident

import (
	"context"
	"errors"
	"fmt"
	"github.com/minwon/minwon/internal/notify"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/issuance"
)

// Filter is a recall's selection as an operator asked for it.
type Filter struct {
	Service         string    `json:"service,omitempty"`
	TemplateVersion string    `json:"template_version,omitempty"`
	Agency          string    `json:"agency,omitempty"`
	Key             string    `json:"key,omitempty"`
	From            time.Time `json:"from,omitzero"` // issued at or after
	To              time.Time `json:"to,omitzero"`   // issued before
}

// String is the filter as flags, for timelines and listings.
func (f Filter) String() string {
	var parts []string
	add := func(name, v string) {
		if v != "" {
			parts = append(parts, "--"+name+" "+v)
		}
	}
	add("service", f.Service)
	add("template-version", f.TemplateVersion)
	add("agency", f.Agency)
	add("key", f.Key)
	if !f.From.IsZero() {
		add("from", f.From.UTC().Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		add("to", f.To.UTC().Format(time.RFC3339))
	}
	return strings.Join(parts, " ")
}

// Selection is a filter resolved to what the store matches: issued
// documents of any of Services (all if empty), signed by Key (any if
// empty), issued in [From, To) (open where zero).
type Selection struct {
	Services []string
	// TemplateVersion, if not 0, keeps the documents rendered with that
	// version of the service's template (it needs one service).
	TemplateVersion int
	Key             string
	From, To        time.Time
}

// selection resolves f against the catalog.
func (s *Service) selection(f Filter) (Selection, error) {
	version := 0
	if f.TemplateVersion != "" {
		v, err := strconv.Atoi(f.TemplateVersion)
		if err != nil || v < 1 {
			return Selection{}, fmt.Errorf("%w: --template-version is a version number (see minwon admin forms show SERVICE), not %q", ErrBadRequest, f.TemplateVersion)
		}
		if f.Service == "" {
			return Selection{}, fmt.Errorf("%w: --template-version needs --service: versions are numbered per service", ErrBadRequest)
		}
		version = v
	}
	if f.Service == "" && f.Agency == "" && f.Key == "" && f.From.IsZero() && f.To.IsZero() {
		return Selection{}, fmt.Errorf("%w: a recall needs at least one filter", ErrBadRequest)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return Selection{}, fmt.Errorf("%w: --from must be before --to", ErrBadRequest)
	}
	sel := Selection{Key: f.Key, From: f.From, To: f.To, TemplateVersion: version}
	if f.Service != "" {
		if s.Catalog != nil && s.Catalog.Service(f.Service) == nil {
			return Selection{}, fmt.Errorf("%w: unknown service %q", ErrBadRequest, f.Service)
		}
		sel.Services = []string{f.Service}
	}
	if f.Agency != "" {
		if s.Catalog == nil {
			return Selection{}, fmt.Errorf("%w: no catalog to resolve the agency", ErrBadRequest)
		}
		var ofAgency []string
		for _, svc := range s.Catalog.Services() {
			if svc.Agency == f.Agency {
				ofAgency = append(ofAgency, svc.ID)
			}
		}
		if len(ofAgency) == 0 {
			return Selection{}, fmt.Errorf("%w: no service draws on agency %q", ErrBadRequest, f.Agency)
		}
		if f.Service != "" {
			if !slices.Contains(ofAgency, f.Service) {
				return Selection{}, fmt.Errorf("%w: service %q does not draw on agency %q", ErrBadRequest, f.Service, f.Agency)
			}
		} else {
			sel.Services = ofAgency
		}
	}
	return sel, nil
}

// Recall states.
const (
	Pending  = "pending"
	Approved = "approved"
	Done     = "done"
)

// Item states.
const (
	ItemPending        = "pending"
	ItemRevoked        = "revoked"
	ItemAlreadyRevoked = "already_revoked"
	ItemMissing        = "missing" // no issued log entry: never valid
)

// Recall is a revocation by filter.
type Recall struct {
	ID         string
	IncidentID string
	Filter     Filter
	Reason     string // the public text every revocation carries
	State      string
	CreatedBy  string
	CreatedAt  time.Time
	ApprovedBy string
	ApprovedAt time.Time
	FinishedAt time.Time
	Total      int
	Items      map[string]int // how many items are in each state
}

// Preview is what a dry run shows.
type Preview struct {
	Count  int
	Sample []Document
	Reason string
}

// DryRun counts what f matches and shows a sample; nothing is written.
func (s *Service) DryRun(ctx context.Context, f Filter, reason string, sample int) (*Preview, error) {
	sel, err := s.selection(f)
	if err != nil {
		return nil, err
	}
	n, docs, err := s.Store.CountMatching(ctx, sel, sample)
	if err != nil {
		return nil, err
	}
	numbers := make([]string, len(docs))
	for i, d := range docs {
		numbers[i] = d.Number
	}
	public, err := s.publicReason(ctx, reason, numbers)
	if err != nil {
		return nil, err
	}
	return &Preview{Count: n, Sample: docs, Reason: public}, nil
}

// namesBatch bounds the documents whose names are read at once.
const namesBatch = 500

func (s *Service) publicReason(ctx context.Context, reason string, numbers []string) (string, error) {
	public, err := issuance.PublicReason(reason, nil)
	if _, std := issuance.StandardReasonByCode(reason); std || err != nil || s.Names == nil || len(numbers) == 0 {
		// A standard reason's text names nobody: no document is opened.
		return public, err
	}
	for b := range slices.Chunk(numbers, namesBatch) {
		names, err := s.Names.SubjectNames(ctx, b)
		if err != nil {
			return "", fmt.Errorf("subject names: %w", err)
		}
		if _, err := issuance.PublicReason(reason, names); err != nil {
			return "", err
		}
	}
	return public, nil
}

// CreateRecall opens an incident and a recall pending a second operator's
// approval, with every document f matches as its items. An open-ended
// window is closed at now, so documents issued later are not swept in.
// The reason is checked against the names of every matched document's
// subjects.
func (s *Service) CreateRecall(ctx context.Context, actor string, f Filter, reason string, grade int) (*Recall, error) {
	if grade == 0 {
		grade = GradeMajor
	}
	if grade < 1 || grade > 4 {
		return nil, fmt.Errorf("%w: grade must be 1 to 4", ErrBadRequest)
	}
	at := s.now()
	if f.To.IsZero() {
		f.To = at
	}
	sel, err := s.selection(f)
	if err != nil {
		return nil, err
	}
	var numbers []string
	for after := ""; ; {
		page, err := s.Store.MatchingNumbers(ctx, sel, after, 10000)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		numbers = append(numbers, page...)
		after = page[len(page)-1]
	}
	if len(numbers) == 0 {
		return nil, fmt.Errorf("%w: no issued document matches %s", ErrBadRequest, f)
	}
	public, err := s.publicReason(ctx, reason, numbers)
	if err != nil {
		return nil, err
	}
	r := Recall{ID: newID("rc-"), IncidentID: newID("inc-"), Filter: f, Reason: public, State: Pending, CreatedBy: actor, CreatedAt: at}
	inc := Incident{ID: r.IncidentID, Grade: grade, Kind: "recall", Title: "recall of documents matching " + f.String(), OpenedAt: at, OpenedBy: actor, RegulatorDue: at.Add(RegulatorDeadline)}
	first := Entry{At: at, Actor: actor, Text: fmt.Sprintf("recall %s created, pending a second operator's approval: %d documents matching %s; public reason: %s", r.ID, len(numbers), f, public)}
	if r.Total, err = s.Store.CreateRecall(ctx, inc, first, r, sel); err != nil {
		return nil, fmt.Errorf("create recall: %w", err)
	}
	return &r, nil
}

// Approve approves a pending recall as a second operator and starts it.
// The run goes on in the background (see Wait); its progress is in the
// recall's items and the incident's timeline.
func (s *Service) Approve(ctx context.Context, actor, id string) (*Recall, error) {
	r, err := s.Store.Recall(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.State != Pending {
		return nil, ErrNotPending
	}
	if r.CreatedBy == actor {
		return nil, ErrSameOperator
	}
	at := s.now()
	if err := s.Store.ApproveRecall(ctx, id, actor, at); err != nil {
		return nil, err
	}
	if err := s.Store.AddIncidentEntry(ctx, r.IncidentID, Entry{At: at, Actor: actor, Text: "recall " + id + " approved; revoking"}); err != nil {
		return nil, err
	}
	s.Start(id)
	r.State, r.ApprovedBy, r.ApprovedAt = Approved, actor, at
	return &r, nil
}

// Resume starts every approved recall that has not finished: after a crash
// or a restart, each goes on from the items still pending.
func (s *Service) Resume(ctx context.Context) error {
	list, err := s.Store.Recalls(ctx, Approved)
	if err != nil {
		return err
	}
	for _, r := range list {
		s.Start(r.ID)
	}
	return nil
}

// Start runs a recall in the background unless this process already runs it.
func (s *Service) Start(id string) {
	s.mu.Lock()
	if s.running == nil {
		s.running = map[string]bool{}
	}
	if s.running[id] {
		s.mu.Unlock()
		return
	}
	s.running[id] = true
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.running, id)
			s.mu.Unlock()
		}()
		if err := s.Run(context.Background(), id); err != nil {
			s.log().Error("recall stopped; it resumes at the next start", "recall", id, "err", err)
		}
	}()
}

// Wait waits for the recalls started in the background.
func (s *Service) Wait() { s.wg.Wait() }

// itemBatch is how many pending items are read at once.
const itemBatch = 4096

// Run revokes an approved recall's pending items, then queues the affected
// subjects' notices and marks the recall done. It is safe to run again
// after a crash at any point: an item turns revoked in the transaction that
// logs its revocation, a document revoked meanwhile by another path is
// marked already_revoked and not logged twice, and a subject's notice is
// queued once.
func (s *Service) Run(ctx context.Context, id string) error {
	r, err := s.Store.Recall(ctx, id)
	if err != nil {
		return err
	}
	switch r.State {
	case Done:
		return nil
	case Pending:
		return ErrNotPending
	}
	if r.Items[ItemPending] < r.Total {
		s.entry(ctx, r.IncidentID, fmt.Sprintf("recall %s resumed: %d of %d documents still pending", id, r.Items[ItemPending], r.Total))
	}
	workers, batch := s.Workers, s.Batch
	if workers <= 0 {
		workers = 4
	}
	if batch <= 0 {
		batch = 256
	}
	for {
		numbers, err := s.Store.PendingRecallItems(ctx, id, itemBatch)
		if err != nil {
			return err
		}
		if len(numbers) == 0 {
			break
		}
		if err := s.revokeAll(ctx, r, numbers, batch, workers); err != nil {
			s.entry(context.WithoutCancel(ctx), r.IncidentID, "recall "+id+" stopped by an error; it resumes at the next start")
			return err
		}
	}
	notice, err := s.notify(ctx, r)
	if err != nil {
		return err
	}
	if r, err = s.Store.Recall(ctx, id); err != nil {
		return err
	}
	at := s.now()
	if err := s.Store.FinishRecall(ctx, id, at); err != nil {
		return err
	}
	return s.Store.AddIncidentEntry(ctx, r.IncidentID, Entry{At: at, Actor: System, Text: fmt.Sprintf("recall %s done: %d revoked, %d already revoked, %d never logged; %s",
		id, r.Items[ItemRevoked], r.Items[ItemAlreadyRevoked], r.Items[ItemMissing], notice)})
}

func (s *Service) entry(ctx context.Context, incidentID, text string) {
	if err := s.Store.AddIncidentEntry(ctx, incidentID, Entry{At: s.now(), Actor: System, Text: text}); err != nil {
		s.log().Error("incident timeline", "incident", incidentID, "err", err)
	}
}

// revokeAll revokes numbers in batches of batch, workers batches in
// flight, so the log commits several together; it stops at the first
// error.
func (s *Service) revokeAll(ctx context.Context, r Recall, numbers []string, batch, workers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		once     sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		once.Do(func() { firstErr = err; cancel() })
	}
	next := make(chan []string)
	for range workers {
		wg.Go(func() {
			for b := range next {
				if err := s.revokeBatch(ctx, r, b); err != nil {
					fail(fmt.Errorf("recall %s: %w", r.ID, err))
				}
			}
		})
	}
feed:
	for start := 0; start < len(numbers); start += batch {
		select {
		case next <- numbers[start:min(start+batch, len(numbers))]:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// revokeBatch revokes numbers in one append of the log, marking their
// items in the same transaction. A batch holding a document that was
// revoked meanwhile or never logged is revoked one by one instead, which
// tells each case apart.
func (s *Service) revokeBatch(ctx context.Context, r Recall, numbers []string) error {
	_, err := s.Revoker.RevokeAll(ctx, numbers, r.Reason, func(tx doclog.Tx, _ []issuance.Revocation) error {
		rt, ok := tx.(RecallTx)
		if !ok {
			return fmt.Errorf("incident: the log's store cannot record recalls (%T)", tx)
		}
		return rt.SetRecallItems(context.WithoutCancel(ctx), r.ID, numbers, ItemRevoked)
	})
	if !errors.Is(err, issuance.ErrBatchChanged) {
		return err
	}
	for _, n := range numbers {
		if err := s.revokeOne(ctx, r, n); err != nil {
			return fmt.Errorf("document %s: %w", n, err)
		}
	}
	return nil
}

func (s *Service) revokeOne(ctx context.Context, r Recall, number string) error {
	_, err := s.Revoker.RevokeWith(ctx, number, r.Reason, func(tx doclog.Tx) error {
		rt, ok := tx.(RecallTx)
		if !ok {
			return fmt.Errorf("incident: the log's store cannot record recalls (%T)", tx)
		}
		return rt.SetRecallItem(context.WithoutCancel(ctx), r.ID, number, ItemRevoked)
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, issuance.ErrAlreadyRevoked):
		return s.Store.SetRecallItem(ctx, r.ID, number, ItemAlreadyRevoked)
	case errors.Is(err, issuance.ErrNotFound):
		return s.Store.SetRecallItem(ctx, r.ID, number, ItemMissing)
	}
	return err
}

// Notice kinds and texts: the same for every subject, no personal data.
const (
	NoticeKind  = "document_recalled"
	noticeTitle = "발급된 증명서 취소 안내 (A document about you was revoked)"
)

// notifyBatch is how many notices are queued, and their subjects marked,
// in one transaction (one transaction per notice made a 100,000-document
// recall's 50,000 notices take two minutes on SQLite).
const notifyBatch = 500

// notify queues a notice to each affected subject not yet notified, and
// says what it did.
func (s *Service) notify(ctx context.Context, r Recall) (string, error) {
	subjects, err := s.Store.IncidentSubjects(ctx, r.IncidentID)
	if err != nil {
		return "", err
	}
	if s.Notifier == nil {
		return fmt.Sprintf("%d affected subjects listed; notices NOT queued: no notifier is wired", len(subjects)), nil
	}
	queued := 0
	var batch []notify.Notice
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.Store.MarkNotified(ctx, r.IncidentID, batch, s.now())
		queued += len(batch)
		batch = batch[:0]
		return err
	}
	for _, sub := range subjects {
		if sub.Notified {
			continue
		}
		// The same notice, word for word, on a resumed run: the outbox
		// keys it on its content and keeps it once.
		body := fmt.Sprintf("회원님에 관한 증명서 %d건이 취소되었습니다 (%d document(s) about you were revoked). 사유 (reason): %s. 사고 번호 (incident): %s", sub.Documents, sub.Documents, r.Reason, r.IncidentID)
		n, err := s.Notifier.SubjectNotice(sub.Subject, NoticeKind, noticeTitle, body)
		if err != nil {
			return "", errors.Join(fmt.Errorf("notify subject %s: %w", sub.Subject, err), flush())
		}
		batch = append(batch, n)
		if len(batch) == notifyBatch {
			if err := flush(); err != nil {
				return "", err
			}
		}
	}
	if err := flush(); err != nil {
		return "", err
	}
	out := fmt.Sprintf("%d affected subjects listed; notices queued for %d", len(subjects), queued)
	return out, nil
}

// RecallStatus returns a recall with its items counted by state.
func (s *Service) RecallStatus(ctx context.Context, id string) (*Recall, error) {
	r, err := s.Store.Recall(ctx, id)
	if err != nil {
		return nil, err
	}
	return &r, nil
}
