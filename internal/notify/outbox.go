package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Store keeps the outbox; store.DB implements it.
type Store interface {
	Queuer
	// Inbox lists subject's notices, newest first.
	Inbox(ctx context.Context, subject string, limit int) ([]Notice, error)
	// MarkNoticeRead marks one of subject's notices read; ErrNotFound
	// (matched with errors.Is) if subject has no such notice.
	MarkNoticeRead(ctx context.Context, subject, id string, at time.Time) error
	// DueNotices lists pending notices due at now, oldest first.
	DueNotices(ctx context.Context, now time.Time, limit int) ([]Due, error)
	// ClaimNotice takes a due notice for one attempt: if it is still
	// pending and due at due, it becomes due again at leaseUntil (when a
	// worker that died holding it is retried) and its attempts grow by
	// one; claimed is false if another worker took it first.
	ClaimNotice(ctx context.Context, id string, due, leaseUntil time.Time) (claimed bool, err error)
	// NoticeSent marks a notice delivered.
	NoticeSent(ctx context.Context, id string, at time.Time) error
	// NoticeRetry records a failed attempt: due again at next, or failed
	// for good if final.
	NoticeRetry(ctx context.Context, id string, next time.Time, lastError string, final bool) error
}

// Due is a pending notice with its delivery state.
type Due struct {
	Notice
	Attempts int       // attempts made so far
	NextAt   time.Time // when it is due
}

// Message is what a Sender delivers.
type Message struct {
	ID     string    `json:"id"` // the same on every attempt: receivers drop an id they took
	To     string    `json:"to"` // the subject; a real channel resolves it to an address at the agency
	Kind   string    `json:"kind"`
	Title  string    `json:"title"`
	Body   string    `json:"body"`
	Number string    `json:"number,omitempty"`
	At     time.Time `json:"at"`
}

// Sender delivers messages on an outbound channel. Send must be idempotent
// by Message.ID: a message may be handed over again after a crash.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Outbox queues notices, lists inboxes and delivers pending notices.
type Outbox struct {
	Store  Store
	Sender Sender // nil: notices stay in the inbox only
	Log    *slog.Logger
	Now    func() time.Time

	// Backoff is the wait after the first failed attempt, doubled after
	// each further one up to MaxBackoff; defaults 2s and 10m.
	Backoff, MaxBackoff time.Duration
	// MaxAttempts before a notice is marked failed; default 12.
	MaxAttempts int
	// Lease is how long a claimed notice waits before another worker may
	// retry it (its worker died); default 1m.
	Lease time.Duration
}

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Inbox returns subject's notices, newest first.
func (o *Outbox) Inbox(ctx context.Context, subject string) ([]Notice, error) {
	if subject == "" {
		return nil, nil
	}
	return o.Store.Inbox(ctx, subject, 200)
}

// MarkRead marks one of subject's notices read.
func (o *Outbox) MarkRead(ctx context.Context, subject, id string) error {
	return o.Store.MarkNoticeRead(ctx, subject, id, o.now())
}

func (o *Outbox) backoff(attempts int) time.Duration {
	d, maxD := o.Backoff, o.MaxBackoff
	if d <= 0 {
		d = 2 * time.Second
	}
	if maxD <= 0 {
		maxD = 10 * time.Minute
	}
	for i := 1; i < attempts && d < maxD; i++ {
		d *= 2
	}
	return min(d, maxD)
}

// DeliverDue hands every notice due now to the Sender once and returns how
// many were delivered.
func (o *Outbox) DeliverDue(ctx context.Context) (int, error) {
	if o.Sender == nil {
		return 0, nil
	}
	maxAttempts, lease := o.MaxAttempts, o.Lease
	if maxAttempts <= 0 {
		maxAttempts = 12
	}
	if lease <= 0 {
		lease = time.Minute
	}
	now := o.now()
	due, err := o.Store.DueNotices(ctx, now, 100)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range due {
		ok, err := o.Store.ClaimNotice(ctx, d.ID, d.NextAt, now.Add(lease))
		if err != nil {
			return sent, err
		}
		if !ok {
			continue
		}
		serr := o.Sender.Send(ctx, Message{ID: d.ID, To: d.Subject, Kind: d.Kind, Title: d.Title, Body: d.Body, Number: d.Number, At: d.At})
		if serr == nil {
			if err := o.Store.NoticeSent(ctx, d.ID, o.now()); err != nil {
				return sent, err
			}
			sent++
			continue
		}
		attempts := d.Attempts + 1
		final := attempts >= maxAttempts
		if err := o.Store.NoticeRetry(ctx, d.ID, o.now().Add(o.backoff(attempts)), errString(serr), final); err != nil {
			return sent, err
		}
		if o.Log != nil {
			o.Log.Warn("notice delivery failed", "id", d.ID, "attempt", attempts, "final", final, "err", serr)
		}
	}
	return sent, nil
}

// Run delivers due notices every interval until ctx ends.
func (o *Outbox) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := o.DeliverDue(ctx); err != nil && !errors.Is(err, context.Canceled) && o.Log != nil {
			o.Log.Error("notice delivery", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// errString bounds an error's text for storage.
func errString(err error) string {
	s := fmt.Sprint(err)
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

// NotifySubject queues one notice to subject in its own transaction (see
// SubjectNotice).
func (o *Outbox) NotifySubject(ctx context.Context, subject, kind, title, body string) error {
	n, err := o.SubjectNotice(subject, kind, title, body)
	if err != nil {
		return err
	}
	if err := o.Store.EnqueueNotice(ctx, n, n.At); err != nil {
		return fmt.Errorf("notify: enqueue: %w", err)
	}
	return nil
}

// SubjectNotice makes a notice to subject ready to queue (checked, dated),
// with an id made from its content: the same notice queued again (a recall
// resumed after a crash) is kept once. Package incident's recalls queue
// batches of them in their own transactions.
func (o *Outbox) SubjectNotice(subject, kind, title, body string) (Notice, error) {
	sum := sha256.Sum256([]byte(subject + "\x00" + kind + "\x00" + title + "\x00" + body))
	n := Notice{ID: "c-" + hex.EncodeToString(sum[:16]), Subject: subject, Kind: kind, Title: title, Body: body}
	if err := Prepare(&n, o.now()); err != nil {
		return Notice{}, err
	}
	return n, nil
}
