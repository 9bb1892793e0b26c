package incident_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/minwon/minwon/internal/notify"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/incident"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
)

var day = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// fixture seeds 12 documents: services of three agencies, two keys, four
// days, four subjects.
func fixture(t *testing.T, e *env) []string {
	t.Helper()
	var docs []doc
	services := []string{"graduation-certificate", "grade-certificate", "resident-registration-copy", "tax-payment-certificate"}
	for i := range 12 {
		docs = append(docs, doc{
			service:   services[i%4],
			key:       []string{"doc-old", "doc-new"}[i/6],
			subject:   []string{"P1", "P2", "P3", "P4"}[i%4],
			requester: []string{"alice", "bob", "counter:c0001"}[i%3],
			name:      []string{"김민준", "이서연", "박지호", "최수아"}[i%4],
			at:        day.Add(time.Duration(i/3) * 24 * time.Hour),
		})
	}
	return e.seed(t, docs)
}

func TestRecallFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b)
		fixture(t, e)
		ctx := context.Background()
		cases := []struct {
			name string
			f    incident.Filter
			want int
			err  error
		}{
			{"service", incident.Filter{Service: "grade-certificate"}, 3, nil},
			{"agency", incident.Filter{Agency: "education"}, 6, nil},
			{"agency and its service", incident.Filter{Agency: "education", Service: "graduation-certificate"}, 3, nil},
			{"key", incident.Filter{Key: "doc-old"}, 6, nil},
			{"window", incident.Filter{From: day.Add(24 * time.Hour), To: day.Add(72 * time.Hour)}, 6, nil},
			{"from only", incident.Filter{From: day.Add(72 * time.Hour)}, 3, nil},
			{"all combined", incident.Filter{Agency: "education", Key: "doc-new", From: day.Add(48 * time.Hour)}, 2, nil},
			{"nothing matches", incident.Filter{Key: "doc-none"}, 0, nil},
			{"template version", incident.Filter{Service: "grade-certificate", TemplateVersion: "1"}, 3, nil},
			{"another template version", incident.Filter{Service: "grade-certificate", TemplateVersion: "2"}, 0, nil},
			{"template version without service", incident.Filter{TemplateVersion: "1"}, 0, incident.ErrBadRequest},
			{"template version not a number", incident.Filter{Service: "grade-certificate", TemplateVersion: "v1"}, 0, incident.ErrBadRequest},
			{"no filter", incident.Filter{}, 0, incident.ErrBadRequest},
			{"unknown service", incident.Filter{Service: "nope"}, 0, incident.ErrBadRequest},
			{"unknown agency", incident.Filter{Agency: "nope"}, 0, incident.ErrBadRequest},
			{"service of another agency", incident.Filter{Agency: "tax", Service: "grade-certificate"}, 0, incident.ErrBadRequest},
			{"empty window", incident.Filter{From: day, To: day}, 0, incident.ErrBadRequest},
		}
		for _, tc := range cases {
			p, err := e.svc.DryRun(ctx, tc.f, "issued_in_error", 2)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Errorf("%s: DryRun = %v, want %v", tc.name, err, tc.err)
				}
				continue
			}
			if err != nil || p.Count != tc.want || len(p.Sample) != min(2, tc.want) {
				t.Errorf("%s: DryRun = %+v, %v; want %d", tc.name, p, err, tc.want)
			}
		}
		// A dry run writes nothing.
		if list, _ := e.svc.List(ctx, 10); len(list) != 0 {
			t.Errorf("a dry run opened %d incidents", len(list))
		}
	})
}

type sentNotice struct {
	index       string
	kind, title string
	body        string
}

type fakeNotifier struct {
	mu   sync.Mutex
	sent []sentNotice
}

func (f *fakeNotifier) SubjectNotice(subject, kind, title, body string) (notify.Notice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentNotice{subject, kind, title, body})
	return (&notify.Outbox{}).SubjectNotice(subject, kind, title, body)
}

func TestRecallApprovedBySecondOperatorRevokesOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b)
		numbers := fixture(t, e)
		ctx := context.Background()
		if err := e.db.PutSubjectIndex(ctx, []store.IndexRow{{Digest: []byte("hmac-P1"), Kind: "rrn", Subject: "P1"}, {Digest: []byte("hmac-P2"), Kind: "rrn", Subject: "P2"}}); err != nil {
			t.Fatal(err)
		}
		// One document of the selection was revoked by hand before.
		if _, err := e.pipeline.Revoke(ctx, numbers[0], "superseded"); err != nil {
			t.Fatal(err)
		}
		// Reasons naming a subject of the selection are refused.
		if _, err := e.svc.CreateRecall(ctx, "op001", incident.Filter{Agency: "education"}, "이서연 성적 오류", 0); !errors.Is(err, issuance.ErrReasonHasName) {
			t.Fatalf("reason with a subject's name: %v", err)
		}
		rc, err := e.svc.CreateRecall(ctx, "op001", incident.Filter{Agency: "education"}, "wrong_fields", 0)
		if err != nil {
			t.Fatal(err)
		}
		if rc.Total != 6 || rc.State != incident.Pending {
			t.Fatalf("recall = %+v", rc)
		}
		// Nothing is revoked before approval, and the creator cannot approve.
		if got := e.revocations(t, numbers); len(got) != 1 {
			t.Fatalf("revoked before approval: %v", got)
		}
		if _, err := e.svc.Approve(ctx, "op001", rc.ID); !errors.Is(err, incident.ErrSameOperator) {
			t.Fatalf("self-approval: %v", err)
		}
		notifier := &fakeNotifier{}
		e.svc.Notifier = notifier
		if _, err := e.svc.Approve(ctx, "op002", rc.ID); err != nil {
			t.Fatal(err)
		}
		e.svc.Wait()
		if _, err := e.svc.Approve(ctx, "op003", rc.ID); !errors.Is(err, incident.ErrNotPending) {
			t.Fatalf("second approval: %v", err)
		}
		got, err := e.svc.RecallStatus(ctx, rc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != incident.Done || got.Items[incident.ItemRevoked] != 5 || got.Items[incident.ItemAlreadyRevoked] != 1 {
			t.Fatalf("recall after run = %+v", got)
		}
		revs := e.revocations(t, numbers)
		for i, n := range numbers {
			want := 0
			if i%4 < 2 { // education services
				want = 1
			}
			if revs[n] != want {
				t.Errorf("document %d (%s) revoked %d times, want %d", i, n, revs[n], want)
			}
		}
		// Running it again changes nothing.
		if err := e.svc.Run(ctx, rc.ID); err != nil {
			t.Fatal(err)
		}
		d, err := e.svc.Show(ctx, rc.IncidentID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if d.Documents != 6 || len(d.Subjects) != 2 {
			t.Fatalf("incident: %d documents, subjects %+v", d.Documents, d.Subjects)
		}
		// Each subject sees the recall of their documents in "who used my
		// data", attributed to the approving operator.
		for _, sub := range d.Subjects {
			events, err := e.db.AuditOfSubject(ctx, sub.Subject, 50)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, ev := range events {
				if ev.Action == audit.ActRecall && ev.Actor == "op002" && strings.Contains(ev.Detail, rc.ID) {
					n++
				}
			}
			if n == 0 {
				t.Errorf("subject %s: no recall in the access log %+v", sub.Subject, events)
			}
			// The notice is in the subject's inbox, once, though the
			// recall ran twice.
			inbox, err := e.db.Inbox(ctx, sub.Subject, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(inbox) != 1 || inbox[0].Kind != incident.NoticeKind {
				t.Errorf("subject %s: inbox %+v, want the one recall notice", sub.Subject, inbox)
			}
		}
		for _, s := range d.Subjects {
			if s.Documents != 3 || len(s.Recipients) != 3 || s.Index == nil || !s.Notified {
				t.Errorf("subject %+v", s)
			}
		}
		if len(notifier.sent) != 2 || notifier.sent[0].kind != incident.NoticeKind {
			t.Errorf("notices = %+v", notifier.sent)
		}
		for _, n := range notifier.sent {
			if strings.Contains(n.body, "김민준") || strings.Contains(n.body, "이서연") {
				t.Errorf("notice holds a name: %q", n.body)
			}
		}
		text := timeline(d)
		for _, want := range []string{"pending a second operator's approval", "approved", "5 revoked, 1 already revoked", "notices queued for 2"} {
			if !strings.Contains(text, want) {
				t.Errorf("timeline lacks %q:\n%s", want, text)
			}
		}
	})
}

func timeline(d *incident.Detail) string {
	var b strings.Builder
	for _, e := range d.Timeline {
		b.WriteString(e.Actor + ": " + e.Text + "\n")
	}
	return b.String()
}

// crashingRevoker stops after limit revocations, as a process killed
// mid-run would. If afterCommit, the last one is logged but reported
// failed: the crash came between the commit and the answer.
type crashingRevoker struct {
	next        incident.Revoker
	limit       int64
	afterCommit bool
	n           atomic.Int64
}

var errCrash = errors.New("crashed")

// RevokeAll crashes at the batch that crosses the limit.
func (c *crashingRevoker) RevokeAll(ctx context.Context, numbers []string, reason string, also func(doclog.Tx, []issuance.Revocation) error) ([]issuance.Revocation, error) {
	k := c.n.Add(int64(len(numbers)))
	if k > c.limit {
		if c.afterCommit && k-int64(len(numbers)) <= c.limit {
			c.next.RevokeAll(ctx, numbers, reason, also)
		}
		return nil, errCrash
	}
	return c.next.RevokeAll(ctx, numbers, reason, also)
}

func (c *crashingRevoker) RevokeWith(ctx context.Context, number, reason string, also func(doclog.Tx) error) (*issuance.Revocation, error) {
	k := c.n.Add(1)
	if k > c.limit {
		if c.afterCommit && k == c.limit+1 {
			c.next.RevokeWith(ctx, number, reason, also)
		}
		return nil, errCrash
	}
	return c.next.RevokeWith(ctx, number, reason, also)
}

func TestRecallResumesAfterCrash(t *testing.T) {
	for _, afterCommit := range []bool{false, true} {
		name := "before commit"
		if afterCommit {
			name = "after commit"
		}
		t.Run(name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, b storetest.Backend) {
				e := newEnv(t, b)
				ctx := context.Background()
				docs := make([]doc, 300)
				for i := range docs {
					docs[i] = doc{service: "grade-certificate", key: "doc-1", subject: "P" + string(rune('a'+i%26)), requester: "alice", name: "김민준", at: day}
				}
				numbers := e.seed(t, docs)
				rc, err := e.svc.CreateRecall(ctx, "op001", incident.Filter{Service: "grade-certificate"}, "wrong_template", 1)
				if err != nil {
					t.Fatal(err)
				}
				crashing := e.service(&crashingRevoker{next: e.pipeline, limit: 120, afterCommit: afterCommit})
				// Small batches, few in flight, so that most of the
				// first 120 commit before the crash cancels the rest.
				crashing.Batch, crashing.Workers = 20, 2
				if _, err := crashing.Approve(ctx, "op002", rc.ID); err != nil {
					t.Fatal(err)
				}
				crashing.Wait()
				mid, err := crashing.RecallStatus(ctx, rc.ID)
				if err != nil {
					t.Fatal(err)
				}
				if mid.State != incident.Approved || mid.Items[incident.ItemPending] == 0 || mid.Items[incident.ItemRevoked] < 100 {
					t.Fatalf("after the crash: %+v", mid)
				}
				// A new process resumes every approved recall.
				restarted := e.service(e.pipeline)
				if err := restarted.Resume(ctx); err != nil {
					t.Fatal(err)
				}
				restarted.Wait()
				done, err := restarted.RecallStatus(ctx, rc.ID)
				if err != nil {
					t.Fatal(err)
				}
				if done.State != incident.Done || done.Items[incident.ItemRevoked]+done.Items[incident.ItemAlreadyRevoked] != 300 || done.Items[incident.ItemPending] != 0 {
					t.Fatalf("after resuming: %+v", done)
				}
				revs := e.revocations(t, numbers)
				for _, n := range numbers {
					if revs[n] != 1 {
						t.Errorf("document %s revoked %d times", n, revs[n])
					}
				}
				if afterCommit && done.Items[incident.ItemAlreadyRevoked] != 0 {
					// The item turned revoked in the revocation's own
					// transaction, so the resumed run never saw it pending.
					t.Errorf("an item logged before the crash was left pending: %+v", done.Items)
				}
				d, err := restarted.Show(ctx, rc.IncidentID, 0)
				if err != nil {
					t.Fatal(err)
				}
				text := timeline(d)
				for _, want := range []string{"stopped by an error", "resumed", "notices NOT queued: no notifier"} {
					if !strings.Contains(text, want) {
						t.Errorf("timeline lacks %q:\n%s", want, text)
					}
				}
			})
		})
	}
}

func TestIncidentDeadlineAndReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b)
		numbers := fixture(t, e)
		ctx := context.Background()
		e.svc.Renderer = newRenderer(t)
		id, err := e.svc.OpenIncident(ctx, "canary_rollback", incident.GradeMajor, "canary of grade-certificate v4 rolled back", append(numbers[:3:3], "9999999999999999"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.OpenIncident(ctx, "x", 5, "grade out of range", nil); !errors.Is(err, incident.ErrBadRequest) {
			t.Errorf("grade 5: %v", err)
		}
		if _, err := e.svc.OpenIncident(ctx, "x", 1, "leak of 900101-1234568", nil); !errors.Is(err, issuance.ErrReasonHasPII) {
			t.Errorf("title with an RRN: %v", err)
		}
		d, err := e.svc.Show(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if d.Documents != 3 || len(d.Subjects) != 3 || len(d.Overdue) != 0 || !d.RegulatorDue.Equal(e.now.Add(72*time.Hour)) {
			t.Fatalf("incident %+v", d)
		}
		e.now = e.now.Add(73 * time.Hour)
		if d, _ = e.svc.Show(ctx, id, 0); len(d.Overdue) != 2 {
			t.Fatalf("overdue after 73 h = %q", d.Overdue)
		}
		if err := e.svc.MarkReported(ctx, "pr001", id); err != nil {
			t.Fatal(err)
		}
		if d, _ = e.svc.Show(ctx, id, 0); len(d.Overdue) != 1 || !strings.Contains(d.Overdue[0], "not yet notified") {
			t.Fatalf("overdue after the report = %q", d.Overdue)
		}
		if _, err := e.svc.Show(ctx, "inc-none", 0); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("unknown incident: %v", err)
		}
		// A revoked key's incident holds everything the key signed.
		kid, err := e.svc.OpenKeyIncident(ctx, "op001", "doc-old", "key_compromise")
		if err != nil {
			t.Fatal(err)
		}
		if kd, _ := e.svc.Show(ctx, kid, 0); kd.Documents != 6 || kd.Grade != incident.GradeCritical {
			t.Errorf("key incident: %d documents, grade %d", kd.Documents, kd.Grade)
		}

		pdf, err := e.svc.ReportPDF(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := exec.LookPath("pdftotext"); err != nil {
			t.Skip("pdftotext (poppler-utils) is not installed")
		}
		cmd := exec.Command("pdftotext", "-layout", "-", "-")
		cmd.Stdin = bytes.NewReader(pdf)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		text := string(out)
		for _, want := range []string{"개인정보 사고 보고서", id, "canary of grade-certificate v4", "Regulator due", "P1", numbers[0], "report to the regulator (PIPC) filed", "not yet notified"} {
			if !strings.Contains(text, want) {
				t.Errorf("the PDF report lacks %q", want)
			}
		}
		for _, name := range []string{"김민준", "이서연"} {
			if strings.Contains(text, name) {
				t.Errorf("the PDF report names %s", name)
			}
		}
		if slices.Contains(strings.Fields(text), "진위확인") {
			t.Errorf("the report claims a verification URL")
		}
	})
}

// TestRevokeAllIsAllOrNone: a batch revocation logs every document of the
// batch with consecutive indexes, or, when one of them is revoked already
// (before or concurrently), none; no document is ever revoked twice.
func TestRevokeAllIsAllOrNone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		docs := make([]doc, 6)
		for i := range docs {
			docs[i] = doc{service: "grade-certificate", key: "doc-1", subject: fmt.Sprint("P", i), requester: "alice", name: "김민준", at: day}
		}
		numbers := e.seed(t, docs)
		if _, err := e.pipeline.RevokeWith(ctx, numbers[2], "wrong_template", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.pipeline.RevokeAll(ctx, numbers[:4], "wrong_template", nil); !errors.Is(err, issuance.ErrBatchChanged) {
			t.Fatalf("batch with a revoked document: %v", err)
		}
		if _, err := e.pipeline.RevokeAll(ctx, []string{numbers[0], "2000000000000001"}, "wrong_template", nil); !errors.Is(err, issuance.ErrBatchChanged) {
			t.Fatalf("batch with an unlogged number: %v", err)
		}
		revs, err := e.pipeline.RevokeAll(ctx, numbers[:2], "wrong_template", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(revs) != 2 || revs[1].LogIndex != revs[0].LogIndex+1 || revs[0].Subject != "P0" || revs[1].Subject != "P1" {
			t.Fatalf("revocations %+v", revs)
		}
		// A batch racing a single revocation of one of its documents.
		var wg sync.WaitGroup
		wg.Go(func() { e.pipeline.RevokeAll(ctx, numbers[3:], "wrong_template", nil) })
		wg.Go(func() { e.pipeline.RevokeWith(ctx, numbers[5], "wrong_template", nil) })
		wg.Wait()
		got := e.revocations(t, numbers)
		for i, n := range numbers {
			want := 1
			if i >= 3 && i < 5 && got[numbers[5]] == 1 && got[n] == 0 {
				want = 0 // the single revocation won; the batch was refused whole
			}
			if got[n] != want {
				t.Errorf("document %d revoked %d times, want %d", i, got[n], want)
			}
		}
	})
}

// TestConcurrentRevocationsLogOnce: four revocations of one document at
// once are logged once. They land in one commit of the log, whose entries
// are written after every request's check ran: before the log refused a
// second entry of the same number and kind in a batch, each document here
// was revoked four times on PostgreSQL.
func TestConcurrentRevocationsLogOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		docs := make([]doc, 20)
		for i := range docs {
			docs[i] = doc{service: "grade-certificate", key: "doc-1", subject: "P", requester: "alice", name: "김민준", at: day}
		}
		numbers := e.seed(t, docs)
		for _, n := range numbers {
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() { e.pipeline.RevokeWith(ctx, n, "wrong_template", nil) })
			}
			wg.Wait()
		}
		got := e.revocations(t, numbers)
		for _, n := range numbers {
			if got[n] != 1 {
				t.Errorf("%s revoked %d times", n, got[n])
			}
		}
	})
}
