package casework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/minwon/minwon/internal/access"
	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/linkage"
)

// Wake has the worker look for due jobs now rather than at its next tick.
func (s *Service) Wake() {
	if s.wake == nil {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start makes Wake reach Run; call it before Run and Submit run
// concurrently.
func (s *Service) Start() { s.wake = make(chan struct{}, 1) }

func (s *Service) backoff(attempts int) time.Duration {
	d, maxD := s.Backoff, s.MaxBackoff
	if d <= 0 {
		d = time.Second
	}
	if maxD <= 0 {
		maxD = time.Minute
	}
	for i := 1; i < attempts && d < maxD; i++ {
		d *= 2
	}
	return min(d, maxD)
}

// Run works the queue until ctx ends: every interval, or at once when
// Wake is called, it runs every due job, several at once.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	if s.wake == nil {
		s.Start()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := s.RunDue(ctx)
			if err != nil && ctx.Err() == nil && s.Log != nil {
				s.Log.Error("casework jobs", "err", err)
			}
			if n == 0 || err != nil || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// RunDue runs the jobs due now once each and returns how many it ran.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	workers, lease := s.Workers, s.Lease
	if workers <= 0 {
		workers = 8
	}
	if lease <= 0 {
		lease = time.Minute
	}
	now := s.now()
	due, err := s.Store.DueJobs(ctx, now, 4*workers)
	if err != nil {
		return 0, err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		ran   int
		first error
	)
	sem := make(chan struct{}, workers)
	for _, j := range due {
		if s.paused(jobAgency[j.Kind], now) {
			// Its agency is down: leave the job due, unclaimed and
			// unwritten, until the pause ends and a few probe it.
			continue
		}
		ok, err := s.Store.ClaimJob(ctx, j.ID, j.RunAt, now.Add(lease))
		if err != nil {
			return ran, err
		}
		if !ok {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(j Job) {
			defer func() { <-sem; wg.Done() }()
			err := s.runJob(ctx, j)
			mu.Lock()
			defer mu.Unlock()
			ran++
			if err != nil && first == nil {
				first = err
			}
		}(j)
	}
	wg.Wait()
	return ran, first
}

// Waiting counts the submissions waiting for each agency: queued, tried at
// least once and failed (no personal data: counts only).
func (s *Service) Waiting(ctx context.Context) (map[string]int, error) {
	byKind, err := s.Store.WaitingJobs(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for kind, n := range byKind {
		out[jobAgency[kind]] += n
	}
	return out, nil
}

// jobAgency is the agency each kind of job needs.
var jobAgency = map[string]string{JobMoveIn: linkage.Registry, JobEligibility: linkage.Registry}

// pause holds back the jobs for agency until until: while an agency is
// down, a backlog of jobs is not claimed and failed one by one (thousands
// of writes a second for nothing), only probed when the pause ends.
func (s *Service) pause(agency string, until time.Time, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pausedUntil == nil {
		s.pausedUntil, s.pausedFor = map[string]time.Time{}, map[string]string{}
	}
	if until.After(s.pausedUntil[agency]) {
		s.pausedUntil[agency], s.pausedFor[agency] = until, why
	}
}

func (s *Service) paused(agency string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Before(s.pausedUntil[agency])
}

// retryable marks a failure after which the job is tried again later.
type retryable struct{ err error }

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// runJob runs one claimed job of the table queue. A failure worth
// retrying (an agency down or answering unusably) sets the job due again
// with backoff; the outcome of a job is recorded in the transaction that
// marks it done.
func (s *Service) runJob(ctx context.Context, j Job) error {
	err := s.Work(ctx, j)
	if Expected(err) {
		return nil
	}
	return err
}

// Expected reports whether err, from Work, is a failure retried without an
// operator's attention (an agency down or answering unusably) or nil.
func Expected(err error) bool {
	var r *retryable
	return err == nil || errors.As(err, &r)
}

// Work runs job j once: nil when its outcome is recorded, by this run or
// an earlier one. Otherwise it records the failure on the job's row (what
// the status page shows, and when it is tried next), holds back the jobs
// of an agency that is down, and returns the error; the queue tries the
// job again after RetryDelay.
func (s *Service) Work(ctx context.Context, j Job) error {
	err := s.attempt(ctx, j)
	if errors.Is(err, ErrWrongState) {
		// Another worker, whose lease ran out while it still worked,
		// finished it: nothing to do twice.
		return nil
	}
	if err == nil {
		return nil
	}
	// Anything else is tried again later: an agency down, a database
	// hiccup, or our own bug, which an operator sees in the job's error.
	next := s.now().Add(s.backoff(j.Attempts + 1))
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	// Recorded even when the attempt failed because its context ended
	// (River's job timeout).
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if rerr := s.Store.RetryJob(rctx, j.ID, next, msg); rerr != nil {
		return rerr
	}
	var un *linkage.UnavailableError
	if errors.As(err, &un) {
		s.pause(un.Agency, s.now().Add(max(un.RetryAfter, s.backoff(1))), msg)
	}
	var r *retryable
	if errors.As(err, &r) {
		return err
	}
	return fmt.Errorf("casework: job %s: %w", j.ID, err)
}

// RetryDelay is the wait before a job's next attempt after attempts
// failed ones: Backoff, doubled after each further one up to MaxBackoff.
func (s *Service) RetryDelay(attempts int) time.Duration { return s.backoff(attempts) }

// Hold is how much longer j must wait because its agency was found down
// (0: run it now). A wait is recorded on the job's row with the error that
// paused the agency, as a failed attempt is, for the status page.
func (s *Service) Hold(ctx context.Context, j Job) (time.Duration, error) {
	s.mu.Lock()
	agency := jobAgency[j.Kind]
	until, why := s.pausedUntil[agency], s.pausedFor[agency]
	s.mu.Unlock()
	now := s.now()
	if !now.Before(until) {
		return 0, nil
	}
	return until.Sub(now), s.Store.RetryJob(ctx, j.ID, until, why)
}

func (s *Service) attempt(ctx context.Context, j Job) error {
	a, err := s.Store.Application(ctx, j.Application)
	if err != nil {
		return err
	}
	svc := s.Catalog.Service(a.Service)
	if svc == nil {
		return fmt.Errorf("service %s left the catalog", a.Service)
	}
	switch j.Kind {
	case JobMoveIn:
		return s.moveIn(ctx, j, a, svc)
	case JobEligibility:
		return s.eligibility(ctx, j, a, svc)
	}
	return fmt.Errorf("unknown job kind %q", j.Kind)
}

// finish records a job's outcome: the application's transition, what f
// adds, and the job marked done, in one transaction.
func (s *Service) finish(ctx context.Context, j Job, a *Application, e Event, f func(Tx) error) error {
	return s.inTx(ctx, func(tx Tx) error {
		if err := tx.FinishJob(ctx, j.ID, e.At); err != nil {
			return err
		}
		if j.Complete != nil {
			if err := j.Complete(ctx, tx); err != nil {
				return err
			}
		}
		if err := tx.Transition(ctx, a.ID, []string{Queued}, e); err != nil {
			return err
		}
		if f != nil {
			return f(tx)
		}
		return nil
	})
}

func agencyError(err error) error {
	if errors.Is(err, linkage.ErrUnavailable) || errors.Is(err, linkage.ErrMismatch) || errors.Is(err, linkage.ErrIntegrity) {
		return &retryable{err}
	}
	return err
}

// moveIn writes a move-in report to the registry under the application's
// request id: a repeat (a retry, or a job run again after a crash) gets the
// registry's first answer, and the registry changed once.
func (s *Service) moveIn(ctx context.Context, j Job, a *Application, svc *form.Service) error {
	resp, err := s.Links.Write(ctx, linkage.Registry, linkage.WriteRequest{
		RequestID: RequestID(a.ID), Purpose: svc.ID, Subject: a.Subject, Operation: linkage.OpMoveIn, Payload: a.Payload,
	})
	now := s.now()
	var refused *linkage.WriteRefusedError
	if errors.As(err, &refused) {
		return s.finish(ctx, j, a, Event{At: now, Status: Failed, Note: "the registry refused the report: " + refused.Message, Actor: "system"}, func(tx Tx) error {
			return s.notice(ctx, tx, a, "report_failed", svc.TitleKo+" 처리 불가 · Your report was not recorded",
				"주민등록 기관이 신고를 받아들이지 않았습니다 · The registry refused it: "+refused.Message)
		})
	}
	if err != nil {
		return agencyError(err)
	}
	var res linkage.MoveInResult
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		return &retryable{fmt.Errorf("registry answer: %w", err)}
	}
	var in linkage.MoveIn
	json.Unmarshal(a.Payload, &in)
	note := fmt.Sprintf("recorded by the registry: %d moved in on %s (전입), household %s", len(res.Moved), in.MovedIn, res.HouseholdID)
	return s.finish(ctx, j, a, Event{At: now, Status: Completed, Note: note, Actor: "system"}, func(tx Tx) error {
		for _, subj := range res.Moved {
			if err := s.appendAudit(ctx, tx, audit.Event{ActorKind: audit.Citizen, Actor: a.Requester, Role: "reporter", Action: ActMoveIn,
				Service: svc.ID, Subject: subj, Purpose: "move-in report", Detail: "application=" + a.ID + " retroactive=" + fmt.Sprint(a.Retroactive)}); err != nil {
				return err
			}
		}
		if err := s.notice(ctx, tx, a, "report_completed", svc.TitleKo+" 완료 · Your move-in report was recorded",
			"전입일 "+in.MovedIn+"로 새 주소가 주민등록에 기록되었습니다 · The registry recorded your new address from "+in.MovedIn+"."); err != nil {
			return err
		}
		if res.OldHead != "" && res.OldHead != a.RequesterSubject {
			old := *a
			old.RequesterSubject = res.OldHead
			return s.notice(ctx, tx, &old, "household_member_moved", "세대원 전출 알림 · A member left your household",
				fmt.Sprintf("세대원 %d명이 %s 자로 다른 주소로 전입하여 세대에서 빠졌습니다 · %d member(s) of your household moved out on %s.", len(res.Moved), in.MovedIn, len(res.Moved), in.MovedIn))
		}
		return nil
	})
}

// eligibility checks a childcare allowance application against the
// registry: the requester is the parent of the child in their household
// (access rules, from the registry's records), and the child is under the
// age limit. An eligible application goes to an official's review.
func (s *Service) eligibility(ctx context.Context, j Job, a *Application, svc *form.Service) error {
	now := s.now()
	reject := func(why string) error {
		return s.finish(ctx, j, a, Event{At: now, Status: Rejected, Note: why, Actor: "system"}, func(tx Tx) error {
			return s.notice(ctx, tx, a, "application_decision", svc.TitleKo+" 결과 · Decision on your application", "신청이 반려되었습니다 · Your application was rejected: "+why)
		})
	}
	p := auth.Principal{Login: a.Requester, Subject: a.RequesterSubject, Kind: "person"}
	if isOfficial(a.Requester) {
		p = auth.Principal{Login: a.Requester, Kind: auth.KindOfficial}
	}
	if _, err := s.Access.Authorize(ctx, p, svc, a.Subject); err != nil {
		if !errors.Is(err, access.ErrForbidden) {
			return agencyError(err)
		}
		return reject("the child is not your minor child in your household according to the resident registry")
	}
	var birth string
	for _, n := range svc.Needs() {
		if n.Agency != linkage.Registry || n.Dataset != "person" {
			continue
		}
		rec, err := s.Links.Fetch(ctx, svc.ID, n.Agency, n.Dataset, a.Subject, n.Fields)
		if err != nil {
			return agencyError(err)
		}
		p, err := rec.Person()
		if err != nil {
			return &retryable{err}
		}
		birth = p.BirthDate
	}
	b, err := time.ParseInLocation("2006-01-02", birth, kst)
	if err != nil {
		return &retryable{fmt.Errorf("registry birth date: %w", err)}
	}
	months := ageMonths(b, a.CreatedAt.In(kst))
	use := audit.Event{ActorKind: audit.Citizen, Actor: a.Requester, Role: string(form.ParentOfMinor), Action: ActEligibility,
		Service: svc.ID, Subject: a.Subject, Purpose: "eligibility check", Detail: "application=" + a.ID}
	if isOfficial(a.Requester) {
		use.ActorKind, use.Actor, use.Role = audit.Official, a.Requester[len("official:"):], string(form.CounterOfficial)
	}
	if months >= ChildcareMaxMonths {
		return s.finish(ctx, j, a, Event{At: now, Status: Rejected, Actor: "system",
			Note: fmt.Sprintf("not eligible: the child was %d months old when applied for; the allowance is for children under %d months", months, ChildcareMaxMonths)},
			func(tx Tx) error {
				if err := s.appendAudit(ctx, tx, use); err != nil {
					return err
				}
				return s.notice(ctx, tx, a, "application_decision", svc.TitleKo+" 결과 · Decision on your application",
					fmt.Sprintf("아동이 %d개월 이상이어서 신청이 반려되었습니다 · Rejected: the allowance is for children under %d months.", ChildcareMaxMonths, ChildcareMaxMonths))
			})
	}
	return s.finish(ctx, j, a, Event{At: now, Status: InReview, Actor: "system",
		Note: fmt.Sprintf("eligible: the child is %d months old (under %d) and in the applicant's household; waiting for an official's review", months, ChildcareMaxMonths)},
		func(tx Tx) error { return s.appendAudit(ctx, tx, use) })
}

func isOfficial(login string) bool { return len(login) > 9 && login[:9] == "official:" }

// ageMonths is the child's age in whole months on day.
func ageMonths(birth, day time.Time) int {
	m := (day.Year()-birth.Year())*12 + int(day.Month()-birth.Month())
	if day.Day() < birth.Day() {
		m--
	}
	return m
}
